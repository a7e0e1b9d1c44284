import type { ResourceGrantMap } from '../policy/grants';
import { checkName, checkPolicyDocument, type PolicyDocument, type SubjectGrants } from '../policy/policy-document';
import type { EditState, PolicyEdit } from './policy-edit';
import { RoleInUseError, RoleNotFoundError } from './store-errors';

type Document = Required<PolicyDocument>;

/** An edit applied to a policy: the new document and resource grants, and the touched part before and after. */
export interface AppliedEdit {
  readonly document: Document;
  readonly resources: ResourceGrantMap;
  readonly before: EditState;
  readonly after: EditState;
}

/**
 * Checks an edit's names (InvalidPolicyError) before any store is touched, so that both stores refuse the same
 * input with the same message.
 */
export function checkEdit(edit: PolicyEdit): void {
  checkName(edit.policy, 'policy', 'policy');
  switch (edit.kind) {
    case 'put-policy':
      checkPolicyDocument(edit.document);
      return;
    case 'grant-role':
    case 'revoke-role':
      checkName(edit.subject, 'subject', 'subject');
      checkName(edit.role, 'role', 'role');
      return;
    case 'grant-permission':
    case 'revoke-permission':
      checkName(edit.subject, 'subject', 'subject');
      checkName(edit.permission, 'permission', 'permission');
      return;
    case 'put-role':
      checkName(edit.role, 'role', 'role');
      edit.permissions.forEach((permission, index) => checkName(permission, 'permission', `permissions[${index}]`));
      return;
    case 'delete-role':
      checkName(edit.role, 'role', 'role');
      return;
    case 'put-identity-role':
      checkName(edit.identityRole, 'identity role', 'identityRole');
      edit.roles.forEach((role, index) => checkName(role, 'role', `roles[${index}]`));
      return;
    case 'delete-identity-role':
      checkName(edit.identityRole, 'identity role', 'identityRole');
      return;
    case 'grant-resource-role':
    case 'revoke-resource-role':
      checkName(edit.resource, 'resource', 'resource');
      checkName(edit.subject, 'subject', 'subject');
      checkName(edit.role, 'role', 'role');
      return;
    case 'delete-resource':
      checkName(edit.resource, 'resource', 'resource');
  }
}

/**
 * Applies a checked edit to a policy's document and resource grants (`undefined`: the policy does not exist, which
 * only `put-policy` accepts). Pure: the input is not changed. Throws RoleNotFoundError / RoleInUseError like the
 * PostgreSQL store.
 */
export function applyEdit(existing: Document | undefined, edit: PolicyEdit, resources: ResourceGrantMap = {}): AppliedEdit {
  const current = existing ?? EMPTY_DOCUMENT;
  const knownRole = (role: string) => {
    if (!Object.hasOwn(current.roles, role)) throw new RoleNotFoundError(edit.policy, role);
  };
  const onResources = (role: string) => Object.values(resources).some((subjects) => Object.values(subjects).some((roles) => roles.includes(role)));
  const documentEdit = (document: Document, before: EditState, after: EditState): AppliedEdit => ({ document, resources, before, after });
  switch (edit.kind) {
    case 'put-policy': {
      const document = checkPolicyDocument(edit.document);
      // Resource grants are not part of a document: a role they hold must stay.
      const dropped = Object.keys(current.roles).find((role) => !Object.hasOwn(document.roles, role) && onResources(role));
      if (dropped !== undefined) throw new RoleInUseError(edit.policy, dropped);
      return documentEdit(document, existing ?? null, document);
    }
    case 'grant-role':
    case 'revoke-role':
    case 'grant-permission':
    case 'revoke-permission': {
      const before = subjectGrants(current, edit.subject);
      const list = 'role' in edit ? 'roles' : 'permissions';
      const name = 'role' in edit ? edit.role : edit.permission;
      if ('role' in edit) knownRole(edit.role);
      const granting = edit.kind.startsWith('grant');
      const names = granting ? [...new Set([...before[list], name])] : before[list].filter((held) => held !== name);
      const after = { ...before, [list]: names };
      const subjects = after.roles.length > 0 || after.permissions.length > 0 ? withEntry(current.subjects, edit.subject, after) : withoutEntry(current.subjects, edit.subject);
      return documentEdit({ ...current, subjects }, before, after);
    }
    case 'put-role': {
      const before = Object.hasOwn(current.roles, edit.role) ? { permissions: current.roles[edit.role] } : null;
      const permissions = [...new Set(edit.permissions)];
      return documentEdit({ ...current, roles: withEntry(current.roles, edit.role, permissions) }, before, { permissions });
    }
    case 'delete-role': {
      knownRole(edit.role);
      const held =
        Object.values(current.subjects).some((grants) => grants.roles?.includes(edit.role)) ||
        Object.values(current.identityRoles).some((roles) => roles.includes(edit.role)) ||
        onResources(edit.role);
      if (held) throw new RoleInUseError(edit.policy, edit.role);
      return documentEdit({ ...current, roles: withoutEntry(current.roles, edit.role) }, { permissions: current.roles[edit.role] }, null);
    }
    case 'put-identity-role': {
      edit.roles.forEach(knownRole);
      const before = Object.hasOwn(current.identityRoles, edit.identityRole) ? { roles: current.identityRoles[edit.identityRole] } : null;
      const roles = [...new Set(edit.roles)];
      return documentEdit({ ...current, identityRoles: withEntry(current.identityRoles, edit.identityRole, roles) }, before, { roles });
    }
    case 'delete-identity-role': {
      const before = Object.hasOwn(current.identityRoles, edit.identityRole) ? { roles: current.identityRoles[edit.identityRole] } : null;
      return documentEdit({ ...current, identityRoles: withoutEntry(current.identityRoles, edit.identityRole) }, before, null);
    }
    case 'grant-resource-role':
    case 'revoke-resource-role': {
      knownRole(edit.role);
      const subjects: Readonly<Record<string, readonly string[]>> = Object.hasOwn(resources, edit.resource) ? resources[edit.resource] : {};
      const held = Object.hasOwn(subjects, edit.subject) ? subjects[edit.subject] : [];
      const roles: readonly string[] = edit.kind === 'grant-resource-role' ? [...new Set([...held, edit.role])] : held.filter((role) => role !== edit.role);
      const nextSubjects = roles.length > 0 ? withEntry(subjects, edit.subject, roles) : withoutEntry(subjects, edit.subject);
      const next = Object.keys(nextSubjects).length > 0 ? withEntry(resources, edit.resource, nextSubjects) : withoutEntry(resources, edit.resource);
      return { document: current, resources: next, before: { roles: held }, after: { roles } };
    }
    case 'delete-resource': {
      const subjects = Object.hasOwn(resources, edit.resource) ? resources[edit.resource] : {};
      // Nothing held on it: no change (and no audit entry).
      return { document: current, resources: withoutEntry(resources, edit.resource), before: { subjects }, after: { subjects: {} } };
    }
  }
}

/** A subject's grants, empty lists when it holds nothing. */
export function subjectGrants(document: Document, subject: string): Required<SubjectGrants> {
  const grants = Object.hasOwn(document.subjects, subject) ? document.subjects[subject] : undefined;
  return { roles: grants?.roles ?? [], permissions: grants?.permissions ?? [] };
}

const EMPTY_DOCUMENT: Document = Object.freeze({ roles: {}, subjects: {}, identityRoles: {} });

function withEntry<V>(record: Readonly<Record<string, V>>, key: string, value: NoInfer<V>): Record<string, V> {
  return Object.fromEntries([...Object.entries(record).filter(([name]) => name !== key), [key, value]]);
}

function withoutEntry<V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

/** Whether two audit states say the same, whatever the order of keys and list items. */
export function sameState(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with sorted keys and sorted lists of names: equal for equal grants. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical).sort();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, item]) => [key, canonical(item)]));
  }
  return value;
}
