/**
 * Longest policy, role, subject, identity-role, permission or resource name the library accepts: 255, the longest
 * `sub` OpenID Connect allows (Core 1.0 §2).
 */
export const MAX_NAME_LENGTH = 255;

/** The wildcard permission: grants every permission of its policy, and only where written. */
export const ALL_PERMISSIONS = '*';

/** What a name stands for; only a permission may be the wildcard `'*'`. */
export type NameKind = 'policy' | 'role' | 'subject' | 'identity role' | 'permission' | 'resource';

// Control characters (NUL included) break logs, headers and terminals; they are never part of a real name.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `name` cannot be a name of `kind`, or `undefined` when it can. One rule set for the `policies` option, the
 * stores and the admin API: 1 to 255 characters, no control characters, no leading or trailing spaces, and `*`
 * only as the whole permission `'*'`.
 *
 * @example
 * nameProblem('reader', 'role'); // undefined
 * nameProblem('*', 'subject');   // "must not contain '*' (only a permission may be '*')"
 */
export function nameProblem(name: unknown, kind: NameKind): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.trim().length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  if (name.trim() !== name) return 'must not start or end with spaces';
  if (name.includes(ALL_PERMISSIONS) && !(kind === 'permission' && name === ALL_PERMISSIONS)) {
    return `must not contain '*' (only a permission may be '*', meaning every permission of its policy)`;
  }
  return undefined;
}
