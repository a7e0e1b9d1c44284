import { ALL_PERMISSIONS } from './names';
import type { PolicyDocument } from './policy-document';

/**
 * What one decision needs from a policy store, and nothing more: the grants of one subject, the policy roles that
 * the identity's roles map to, the roles the subject holds on the asked resources, and the permissions of every role
 * involved. A store answers it with one read (one indexed query in PostgreSQL), whatever the size of the policy.
 */
export interface DecisionGrants {
  /** The policy's revision when read. */
  readonly revision: number;
  /** Roles of the policy the subject holds. */
  readonly subjectRoles: readonly string[];
  /** Permissions granted to the subject directly. */
  readonly subjectPermissions: readonly string[];
  /** For each of the identity's roles that the policy maps: the policy roles it gives. */
  readonly identityRoles: ReadonlyMap<string, readonly string[]>;
  /**
   * For each asked resource on which the subject holds a role: those roles. They give their permissions on that
   * resource only. Empty when no resource was asked.
   */
  readonly resourceRoles: ReadonlyMap<string, readonly string[]>;
  /** Permissions of every role held above (through the subject, an identity role or a resource). */
  readonly rolePermissions: ReadonlyMap<string, readonly string[]>;
}

/**
 * One way an identity holds a permission, for "why may susan read this?": a direct grant, a role the subject
 * holds, a role given by an identity role from the token, or a role the subject holds on the asked resource.
 * `permission` is the grant as written: the asked permission, or `'*'` (every permission of the policy).
 */
export interface GrantPath {
  readonly via: 'permission' | 'role' | 'identity-role' | 'resource-role';
  readonly permission: string;
  readonly role?: string;
  readonly identityRole?: string;
  readonly resource?: string;
}

/** A policy's resource grants: resource → subject → roles held on it. */
export type ResourceGrantMap = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/**
 * The grants one decision needs, read from a whole document and the policy's resource grants (the in-memory store).
 * `resourceGrants` maps resource → subject → roles.
 */
export function grantsFromDocument(
  document: Required<PolicyDocument>,
  revision: number,
  subject: string,
  identityRoles: readonly string[],
  resources: readonly string[] = [],
  resourceGrants: ResourceGrantMap = {},
): DecisionGrants {
  const grants = Object.hasOwn(document.subjects, subject) ? document.subjects[subject] : undefined;
  const mapped = new Map<string, readonly string[]>();
  for (const identityRole of identityRoles) {
    if (Object.hasOwn(document.identityRoles, identityRole)) mapped.set(identityRole, document.identityRoles[identityRole]);
  }
  const resourceRoles = new Map<string, readonly string[]>();
  for (const resource of resources) {
    const roles = Object.hasOwn(resourceGrants, resource) && Object.hasOwn(resourceGrants[resource], subject) ? resourceGrants[resource][subject] : undefined;
    if (roles && roles.length > 0) resourceRoles.set(resource, roles);
  }
  const rolePermissions = new Map<string, readonly string[]>();
  for (const role of [...(grants?.roles ?? []), ...[...mapped.values()].flat(), ...[...resourceRoles.values()].flat()]) {
    // A role without permissions adds nothing (a database holds no row for it either).
    if (Object.hasOwn(document.roles, role) && document.roles[role].length > 0) rolePermissions.set(role, document.roles[role]);
  }
  return { revision, subjectRoles: grants?.roles ?? [], subjectPermissions: grants?.permissions ?? [], identityRoles: mapped, resourceRoles, rolePermissions };
}

/**
 * Every permission the grants give (may contain `'*'`): type-wide, plus on `resource` when given, the permissions of
 * the roles held on it.
 */
export function resolvePermissions(grants: DecisionGrants, resource?: string): ReadonlySet<string> {
  const granted = new Set(grants.subjectPermissions);
  const add = (role: string) => grants.rolePermissions.get(role)?.forEach((permission) => granted.add(permission));
  grants.subjectRoles.forEach(add);
  for (const roles of grants.identityRoles.values()) roles.forEach(add);
  if (resource !== undefined) grants.resourceRoles.get(resource)?.forEach(add);
  return granted;
}

/** Whether a permission set holds `permission`, directly or through `'*'`. */
export function allows(granted: ReadonlySet<string>, permission: string): boolean {
  return granted.has(ALL_PERMISSIONS) || granted.has(permission);
}

/**
 * Every path by which the grants give `permission` (on `resource`, when given); empty when they do not. Asking
 * about `'*'` itself finds only grants of `'*'`: holding ordinary permissions never amounts to holding all of them.
 *
 * @example
 * explainPermission(grants, 'CanRead'); // [{ via: 'role', role: 'reader', permission: 'CanRead' }]
 * explainPermission(grants, 'CanEdit', noteId); // [{ via: 'resource-role', resource: noteId, role: 'owner', permission: 'CanEdit' }]
 */
export function explainPermission(grants: DecisionGrants, permission: string, resource?: string): GrantPath[] {
  const matches = (granted: string) => granted === permission || granted === ALL_PERMISSIONS;
  const paths: GrantPath[] = grants.subjectPermissions.filter(matches).map((granted) => ({ via: 'permission', permission: granted }));
  const viaRole = (role: string, path: Omit<GrantPath, 'role' | 'permission'>) => {
    for (const granted of grants.rolePermissions.get(role) ?? []) {
      if (matches(granted)) paths.push({ ...path, role, permission: granted });
    }
  };
  grants.subjectRoles.forEach((role) => viaRole(role, { via: 'role' }));
  for (const [identityRole, roles] of grants.identityRoles) roles.forEach((role) => viaRole(role, { via: 'identity-role', identityRole }));
  if (resource !== undefined) grants.resourceRoles.get(resource)?.forEach((role) => viaRole(role, { via: 'resource-role', resource }));
  return paths;
}
