import { Transform } from 'class-transformer';
import { registerDecorator } from 'class-validator';

/**
 * Turns a query value of decimal digits into a number and leaves anything else as it is, for `@IsInt()` to
 * refuse: `?limit=` or `?limit=1e3` stays a string instead of becoming 0 or 1000.
 *
 * @example
 * class Query { \@DigitsToNumber() \@IsInt() limit?: number; }
 */
export const DigitsToNumber = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,20}$/.test(value) ? Number(value) : value));

/**
 * Splits a comma-separated query value (`?roles=a,b`, or repeated `?roles=a&roles=b`) into a list; an empty
 * value is an empty list. Anything else stays as it is, for the validator to refuse.
 *
 * @example
 * class Query { \@CommaSeparated() \@IsNameListOf('identity role') roles?: string[]; }
 */
export const CommaSeparated = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    const split = (text: string) => (text === '' ? [] : text.split(','));
    if (typeof value === 'string') return split(value);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.flatMap(split);
    return value;
  });

/**
 * A whole number from `min` to `max`, with one message that says so (instead of one per broken rule).
 *
 * @example
 * class Query { \@DigitsToNumber() \@IsIntegerBetween(1, 1000) limit?: number; }
 */
export function IsIntegerBetween(min: number, max: number): PropertyDecorator {
  return (target: object, property: string | symbol) =>
    registerDecorator({
      name: 'isIntegerBetween',
      target: target.constructor,
      propertyName: property as string,
      validator: {
        validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
        defaultMessage: () => `${String(property)} must be a whole number from ${min} to ${max}`,
      },
    });
}
