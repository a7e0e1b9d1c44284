import { AuthzConfigurationError } from '../authz.exceptions';

/** Grants one subject holds in a policy. */
export interface SubjectGrants {
  /** Roles of the policy the subject holds. */
  roles?: string[];
  /** Permissions granted directly. */
  permissions?: string[];
}

/**
 * One policy (e.g. `note`): its roles, who holds what, and how identity roles from the token map to its roles.
 * `'*'` in a permission list grants every permission of the policy; it means nothing anywhere else.
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

/** The wildcard permission: grants every permission of its policy, and only where written. */
export const ALL_PERMISSIONS = '*';

/** Checks policy data at start: every referenced role exists, every name is a non-empty string. Returns a copy. */
export function validatePolicyDocuments(documents: unknown): PolicyDocuments {
  if (!isRecord(documents)) {
    fail('`policies` must be an object of policy name → policy.', "e.g. { note: { roles: { reader: ['CanRead'] } } }");
  }
  const copy: PolicyDocuments = {};
  for (const [policy, document] of Object.entries(documents)) {
    const at = `policies.${policy}`;
    if (!isRecord(document)) fail(`\`${at}\` must be an object with roles, subjects and identityRoles.`, "e.g. { roles: { reader: ['CanRead'] } }");
    const roles = nameLists(document.roles, `${at}.roles`);
    const known = (role: string, where: string) => {
      if (!Object.hasOwn(roles, role)) fail(`\`${where}\` refers to role '${role}', which \`${at}.roles\` does not define.`, `define the role in \`${at}.roles\` or fix its name.`);
    };
    const subjects: Record<string, SubjectGrants> = {};
    if (document.subjects !== undefined) {
      if (!isRecord(document.subjects)) fail(`\`${at}.subjects\` must be an object of subject → grants.`, "e.g. { susan: { roles: ['reader'] } }");
      for (const [subject, grants] of Object.entries(document.subjects)) {
        if (!isRecord(grants)) fail(`\`${at}.subjects.${subject}\` must be { roles?, permissions? }.`, "e.g. { roles: ['reader'], permissions: ['CanRead'] }");
        const subjectRoles = nameList(grants.roles, `${at}.subjects.${subject}.roles`);
        subjectRoles.forEach((role) => known(role, `${at}.subjects.${subject}.roles`));
        subjects[subject] = { roles: subjectRoles, permissions: nameList(grants.permissions, `${at}.subjects.${subject}.permissions`) };
      }
    }
    const identityRoles = nameLists(document.identityRoles, `${at}.identityRoles`);
    for (const [identityRole, mapped] of Object.entries(identityRoles)) mapped.forEach((role) => known(role, `${at}.identityRoles.${identityRole}`));
    copy[policy] = { roles, subjects, identityRoles };
  }
  return copy;
}

function nameLists(value: unknown, at: string): Record<string, string[]> {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(`\`${at}\` must be an object of name → list of names.`, "e.g. { reader: ['CanRead'] }");
  return Object.fromEntries(Object.entries(value).map(([key, list]) => [key, nameList(list, `${at}.${key}`)]));
}

function nameList(value: unknown, at: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name.trim() === '')) {
    fail(`\`${at}\` must be a list of non-empty names.`, "e.g. ['CanRead', 'CanWrite']");
  }
  return [...value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(problem: string, fix: string): never {
  throw new AuthzConfigurationError(problem, fix);
}
