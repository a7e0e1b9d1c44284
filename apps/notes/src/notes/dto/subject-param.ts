import { BadRequestException, Param, type PipeTransform } from '@nestjs/common';
import { nameProblem } from 'nestjs-authz';

/**
 * The route parameter `subject` (whom a note is shared with), checked with the library's rule for subjects:
 * 1–255 characters, no control characters, no surrounding spaces, no `*`. Refused with a 400 that names the field,
 * in the shape of the DTO validation's answers.
 */
export class SubjectPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const problem = nameProblem(value, 'subject');
    if (problem !== undefined) throw new BadRequestException({ message: [`subject ${problem}`], error: 'Bad Request', statusCode: 400 });
    return value as string;
  }
}

/** `@SubjectParam() subject: string`: the validated `:subject` of the route. */
export const SubjectParam = (): ParameterDecorator => Param('subject', new SubjectPipe());
