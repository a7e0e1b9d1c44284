import { Matches, ValidateIf } from 'class-validator';

/**
 * Validates the property only when the request has it. Unlike `@IsOptional()` it lets `null` through to the
 * other rules, so `{ "title": null }` is refused instead of silently meaning "unchanged".
 */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

/** PostgreSQL text cannot hold U+0000; refuse it as input (400) instead of failing in the database (500). */
export const NoNulCharacter = (): PropertyDecorator => Matches(/^[^\u0000]*$/, { message: '$property must not contain the NUL character (\\u0000)' });
