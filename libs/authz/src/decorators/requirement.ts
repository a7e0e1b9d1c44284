import { AuthzConfigurationError } from '../authz.exceptions';

/** One decorator application: names that must all be held, or of which any one suffices. */
export interface RequirementGroup {
  readonly mode: 'all' | 'any';
  readonly names: readonly string[];
}

// RFC 6749 §3.3 scope-token characters; permission names follow the same rule so they print safely everywhere.
const NAME = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Builds a class-or-method decorator that appends one requirement group under `key`. Stacked decorators and
 * class + handler decorators add up (every group must hold), so `@Scopes('a')` on the class and
 * `@Scopes.anyOf('b', 'c')` on the handler mean "a, and b or c".
 */
export function requirementDecorator(key: string, mode: RequirementGroup['mode'], names: string[], decorator: string): ClassDecorator & MethodDecorator {
  if (names.length === 0) {
    throw new AuthzConfigurationError(`${decorator}() was given no names.`, `name at least one, e.g. ${decorator}('notes:read'); use @Public() for routes without requirements.`);
  }
  for (const name of names) {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new AuthzConfigurationError(`${decorator}() was given ${JSON.stringify(name)}.`, 'names are non-empty printable ASCII without spaces, quotes or backslashes.');
    }
  }
  const group: RequirementGroup = Object.freeze({ mode, names: Object.freeze([...new Set(names)]) });
  return (target: object, _property?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = descriptor ? descriptor.value : target;
    const groups: RequirementGroup[] = Reflect.getOwnMetadata(key, holder) ?? [];
    Reflect.defineMetadata(key, [...groups, group], holder);
  };
}
