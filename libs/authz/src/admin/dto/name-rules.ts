import { registerDecorator, ValidateIf, type ValidationArguments } from 'class-validator';
import { nameProblem, type NameKind } from '../../policy/names';
import { MAX_LIST_ITEMS } from '../admin.constants';

/**
 * Why `value` is not a list of names of `kind` (at most {@link MAX_LIST_ITEMS}), naming the item at fault, or
 * `undefined` when it is one.
 *
 * @example
 * nameListProblem(['CanRead', ''], 'permission', 'permissions'); // 'permissions[1] must not be empty'
 */
export function nameListProblem(value: unknown, kind: NameKind, field: string): string | undefined {
  if (value === undefined) return `${field} is required`;
  if (!Array.isArray(value)) return `${field} must be a list of names`;
  if (value.length > MAX_LIST_ITEMS) return `${field} must hold at most ${MAX_LIST_ITEMS} items, not ${value.length}`;
  for (let index = 0; index < value.length; index++) {
    const problem = nameProblem(value[index], kind);
    if (problem) return `${field}[${index}] ${problem}`;
  }
  return undefined;
}

/**
 * A DTO property holding one name of `kind` (the library's name rules, see `nameProblem`).
 *
 * @example
 * class Query { \@IsNameOf('subject') subject!: string; }
 */
export function IsNameOf(kind: NameKind): PropertyDecorator {
  return (target: object, property: string | symbol) =>
    registerDecorator({
      name: 'isName',
      target: target.constructor,
      propertyName: property as string,
      validator: {
        validate: (value: unknown) => nameProblem(value, kind) === undefined,
        defaultMessage: (args?: ValidationArguments) => (args?.value === undefined ? `${args?.property} is required` : `${args?.property} ${nameProblem(args?.value, kind)}`),
      },
    });
}

/**
 * A DTO property holding a list of names of `kind`, at most {@link MAX_LIST_ITEMS}; the message names the item.
 *
 * @example
 * class PutRoleDto { \@IsNameListOf('permission') permissions!: string[]; }
 */
export function IsNameListOf(kind: NameKind): PropertyDecorator {
  return (target: object, property: string | symbol) =>
    registerDecorator({
      name: 'isNameList',
      target: target.constructor,
      propertyName: property as string,
      validator: {
        validate: (value: unknown) => nameListProblem(value, kind, property as string) === undefined,
        defaultMessage: (args?: ValidationArguments) => nameListProblem(args?.value, kind, property as string) ?? `${String(property)} must be a list of names`,
      },
    });
}

/**
 * Validates the property only when the request has it (unlike `@IsOptional()`, `null` is still refused).
 *
 * @example
 * class Query { \@IfPresent() \@IsNameOf('policy') policy?: string; }
 */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);
