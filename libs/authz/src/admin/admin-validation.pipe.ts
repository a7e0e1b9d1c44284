import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/**
 * The admin API's 400 for a body or query that breaks a DTO rule: the first problem, and the field it is in
 * (`field`), in the same shape as the other 400s of the admin API.
 *
 * @example
 * validationFailure(errors); // BadRequestException { statusCode: 400, error: 'Bad Request', message: 'property colour should not exist', field: 'colour' }
 */
export function validationFailure(errors: readonly ValidationError[]): BadRequestException {
  const found = firstProblem(errors, '');
  const field = found?.field ?? 'body';
  const message = found?.message ?? 'the request is not valid';
  // A list rule names the item at fault (`permissions[3] must not be empty`): that item is the field.
  const item = message.startsWith(`${field}[`) ? message.slice(0, message.indexOf(' ')) : undefined;
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, field: item ?? field });
}

function firstProblem(errors: readonly ValidationError[], at: string): { field: string; message: string } | undefined {
  for (const error of errors) {
    const field = at ? `${at}.${error.property}` : error.property;
    const message = error.constraints && Object.values(error.constraints)[0];
    if (message) return { field, message };
    const nested = firstProblem(error.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * Validation of the admin API's bodies and queries, whatever the app's global pipes: unknown fields and wrong
 * types are refused (400 naming the field), never ignored, and nothing is written. A body must be a JSON object.
 *
 * @example
 * \@Put() put(@Body(adminValidationPipe) body: PutRoleDto) {}
 */
export class AdminValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: validationFailure,
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'body must be a JSON object', field: 'body' });
    }
    return super.transform(value, metadata);
  }
}

/**
 * The one instance the admin controllers use (it holds no state).
 *
 * @example
 * \@Get() audit(@Query(adminValidationPipe) query: AuditQueryDto) {}
 */
export const adminValidationPipe = new AdminValidationPipe();
