import { ValidateIf } from 'class-validator';

/**
 * Validates the property only when the request has it. Unlike `@IsOptional()` it lets `null` through to the
 * other rules, so `{ "title": null }` is refused instead of silently meaning "unchanged".
 */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);
