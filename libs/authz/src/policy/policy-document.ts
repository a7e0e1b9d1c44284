import { AuthzConfigurationError } from '../authz.exceptions';
import { ALL_PERMISSIONS, nameProblem, type NameKind } from './names';

export { ALL_PERMISSIONS };

/** Grants one subject holds in a policy. */
export interface SubjectGrants {
  /** Roles of the policy the subject holds. */
  roles?: string[];
  /** Permissions granted directly. */
  permissions?: string[];
}

/**
 * One policy (e.g. `note`): its roles, who holds what, and how identity roles from the token map to its roles.
 * `'*'` in a permission list grants every permission of the policy; it is allowed nowhere else.
 *
 * @example
 * const note: PolicyDocument = {
 *   roles: { reader: ['CanRead'], moderator: ['*'] },
 *   subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] } },
 *   identityRoles: { 'notes-admin': ['moderator'] },
 * };
 */
export interface PolicyDocument {
  /** Role name → permissions. */
  roles?: Record<string, string[]>;
  /** Subject (`sub`) → roles and direct permissions. */
  subjects?: Record<string, SubjectGrants>;
  /** Identity role (from the token) → roles of this policy. */
  identityRoles?: Record<string, string[]>;
}

/** Policy name → policy. */
export type PolicyDocuments = Record<string, PolicyDocument>;

/** Policy data that breaks a rule; `field` is the path of the offending value, e.g. `roles.reader[0]`. */
export class InvalidPolicyError extends Error {
  override readonly name = this.constructor.name;
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/**
 * Checks one policy document (names, types, every referenced role defined) and returns a normalised copy
 * (every part present, lists without duplicates). Throws {@link InvalidPolicyError} naming the field at fault.
 *
 * @example
 * const note = checkPolicyDocument(JSON.parse(body)); // throws InvalidPolicyError('roles.reader[0]', 'must not be empty')
 */
export function checkPolicyDocument(document: unknown, at = ''): Required<PolicyDocument> {
  const field = (path: string) => (at ? `${at}.${path}` : path);
  if (!isRecord(document)) throw new InvalidPolicyError(at || 'policy', 'must be an object with roles, subjects and identityRoles');
  for (const key of Object.keys(document)) {
    if (key !== 'roles' && key !== 'subjects' && key !== 'identityRoles') throw new InvalidPolicyError(field(key), 'is not a part of a policy (roles, subjects, identityRoles)');
  }
  const roles = nameLists(document.roles, field('roles'), 'role', 'permission');
  const known = (role: string, where: string) => {
    if (!Object.hasOwn(roles, role)) throw new InvalidPolicyError(where, `refers to role '${role}', which \`${field('roles')}\` does not define`);
  };
  // Entries, then Object.fromEntries: a key such as `__proto__` (JSON.parse makes it an own key) stays a plain key.
  const subjects: [string, SubjectGrants][] = [];
  if (document.subjects !== undefined) {
    if (!isRecord(document.subjects)) throw new InvalidPolicyError(field('subjects'), 'must be an object of subject → { roles, permissions }');
    for (const [subject, grants] of Object.entries(document.subjects)) {
      const path = `${field('subjects')}.${subject}`;
      checkName(subject, 'subject', path);
      if (!isRecord(grants)) throw new InvalidPolicyError(path, 'must be { roles?, permissions? }');
      for (const key of Object.keys(grants)) if (key !== 'roles' && key !== 'permissions') throw new InvalidPolicyError(`${path}.${key}`, 'is not a part of subject grants (roles, permissions)');
      const subjectRoles = nameList(grants.roles, `${path}.roles`, 'role');
      subjectRoles.forEach((role, index) => known(role, `${path}.roles[${index}]`));
      const permissions = nameList(grants.permissions, `${path}.permissions`, 'permission');
      // A subject without grants is the same as an absent one (a store keeps no row for it).
      if (subjectRoles.length > 0 || permissions.length > 0) subjects.push([subject, { roles: subjectRoles, permissions }]);
    }
  }
  const identityRoles = nameLists(document.identityRoles, field('identityRoles'), 'identity role', 'role');
  for (const [identityRole, mapped] of Object.entries(identityRoles)) mapped.forEach((role, index) => known(role, `${field('identityRoles')}.${identityRole}[${index}]`));
  return { roles, subjects: Object.fromEntries(subjects), identityRoles };
}

/** Checks the module's `policies` option at start; a problem stops the app with {@link AuthzConfigurationError}. */
export function validatePolicyDocuments(documents: unknown): PolicyDocuments {
  if (!isRecord(documents)) {
    throw new AuthzConfigurationError('`policies` must be an object of policy name → policy.', "e.g. { note: { roles: { reader: ['CanRead'] } } }");
  }
  try {
    return Object.fromEntries(Object.entries(documents).map(([policy, document]) => [checkName(policy, 'policy', `policies.${policy}`), checkPolicyDocument(document, `policies.${policy}`)]));
  } catch (error) {
    if (!(error instanceof InvalidPolicyError)) throw error;
    throw new AuthzConfigurationError(`\`${error.field}\` ${error.problem}.`, "fix the policy data, e.g. { note: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } } }");
  }
}

/** Throws {@link InvalidPolicyError} unless `name` is a valid name of `kind`. */
export function checkName(name: unknown, kind: NameKind, field: string): string {
  const problem = nameProblem(name, kind);
  if (problem) throw new InvalidPolicyError(field, problem);
  return name as string;
}

function nameLists(value: unknown, at: string, keyKind: NameKind, itemKind: NameKind): Record<string, string[]> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new InvalidPolicyError(at, 'must be an object of name → list of names');
  return Object.fromEntries(Object.entries(value).map(([key, list]) => [checkName(key, keyKind, `${at}.${key}`), nameList(list, `${at}.${key}`, itemKind)]));
}

function nameList(value: unknown, at: string, kind: NameKind): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidPolicyError(at, 'must be a list of names');
  value.forEach((name, index) => checkName(name, kind, `${at}[${index}]`));
  return [...new Set(value as string[])];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
