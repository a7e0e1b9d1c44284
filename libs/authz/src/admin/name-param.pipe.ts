import { BadRequestException, Param, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { nameProblem, type NameKind } from '../policy/names';

/**
 * The route parameters of the admin API that hold names.
 *
 * @example
 * \@NameParam('identityRole') identityRole: string // checked as an identity role
 * \@NameParam('resource') resource: string // checked as a resource id
 */
export type NameParamName = 'policy' | 'subject' | 'role' | 'permission' | 'identityRole' | 'resource';

const KIND_OF: Record<NameParamName, NameKind> = { policy: 'policy', subject: 'subject', role: 'role', permission: 'permission', identityRole: 'identity role', resource: 'resource' };

/**
 * Checks a route parameter with the library's name rules ({@link nameProblem}): 400 naming the parameter, e.g.
 * `role must not contain control characters`. Only a permission may be `*`.
 *
 * @example
 * \@Get(':role') get(@Param('role', new NameParamPipe('role')) role: string) {}
 */
export class NameParamPipe implements PipeTransform<unknown, string> {
  constructor(private readonly kind: NameKind) {}

  transform(value: unknown, metadata: ArgumentMetadata): string {
    const problem = nameProblem(value, this.kind);
    if (problem === undefined) return value as string;
    const field = metadata.data ?? this.kind;
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `${field} ${problem}`, field });
  }
}

/**
 * A route parameter holding a name, checked by {@link NameParamPipe}.
 *
 * @example
 * \@Delete(':policy/roles/:role')
 * deleteRole(@NameParam('policy') policy: string, @NameParam('role') role: string) {}
 */
export const NameParam = (name: NameParamName): ParameterDecorator => Param(name, new NameParamPipe(KIND_OF[name]));
