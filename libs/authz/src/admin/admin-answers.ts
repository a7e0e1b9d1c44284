import type { GrantPath } from '../policy/grants';
import type { PolicyDocument } from '../policy/policy-document';
import type { AuditEntry } from '../store/policy-edit';
import type { PolicySummary, SubjectEntry, SubjectResource } from '../store/policy-store';

/**
 * `GET /policies`: every policy's name and revision, by name.
 *
 * @example
 * { "policies": [{ "name": "authz", "revision": 1 }, { "name": "note", "revision": 7 }] }
 */
export interface PolicyListAnswer {
  readonly policies: readonly PolicySummary[];
}

/**
 * `GET /policies/:policy`: the whole policy (also sent as `ETag: "<revision>"`).
 *
 * @example
 * { "name": "note", "revision": 7, "document": { "roles": { "reader": ["CanRead"] }, "subjects": {}, "identityRoles": {} } }
 */
export interface PolicyAnswer {
  readonly name: string;
  readonly revision: number;
  readonly document: Required<PolicyDocument>;
}

/**
 * `PUT /policies/:policy`: the policy's revision after the write, and whether it changed anything.
 *
 * @example
 * { "name": "note", "revision": 8, "changed": true }
 */
export interface PolicyWriteAnswer {
  readonly name: string;
  readonly revision: number;
  readonly changed: boolean;
}

/**
 * `GET /policies/:policy/subjects/:subject`: what the subject holds itself (identity roles from tokens aside).
 *
 * @example
 * { "policy": "note", "subject": "susan", "revision": 7, "roles": ["reader"], "permissions": ["CanReadConfidentialNotes"] }
 */
export interface SubjectGrantsAnswer {
  readonly policy: string;
  readonly subject: string;
  readonly revision: number;
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
}

/**
 * `GET /policies/:policy/subjects`: a page of the subjects holding type-wide grants, in code-unit order; `next`
 * (the last subject) is there when the page is full, to be sent back as `after`.
 *
 * @example
 * { "policy": "note", "revision": 7, "subjects": [{ "subject": "susan", "roles": ["reader"], "permissions": [] }], "next": "susan" }
 */
export interface SubjectPageAnswer {
  readonly policy: string;
  readonly revision: number;
  readonly subjects: readonly SubjectEntry[];
  readonly next?: string;
}

/**
 * `GET /policies/:policy/roles`: the policy without its subjects: roles → permissions and identity role → roles,
 * for a policy too large to read whole (also sent as `ETag: "<revision>"`).
 *
 * @example
 * { "policy": "note", "revision": 7, "roles": { "reader": ["CanRead"] }, "identityRoles": { "notes-admin": ["moderator"] } }
 */
export interface RolesAnswer {
  readonly policy: string;
  readonly revision: number;
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly identityRoles: Readonly<Record<string, readonly string[]>>;
}

/**
 * `GET /policies/:policy/resources/:resource`: who holds which roles on one resource of the policy (also sent as
 * `ETag: "<revision>"`); `subjects` is empty when nobody holds anything on it.
 *
 * @example
 * { "policy": "note", "resource": "42", "revision": 9, "subjects": { "susan": ["owner"], "tom": ["commenter"] } }
 */
export interface ResourceGrantsAnswer {
  readonly policy: string;
  readonly resource: string;
  readonly revision: number;
  readonly subjects: Readonly<Record<string, readonly string[]>>;
}

/**
 * `GET /policies/:policy/subjects/:subject/resources`: a page of the resources on which the subject holds roles,
 * by resource id in code-point order; `next` (the last resource) is there when the page is full, to be sent back
 * as `after`.
 *
 * @example
 * { "policy": "note", "subject": "susan", "resources": [{ "resource": "42", "roles": ["owner"] }], "next": "42" }
 */
export interface SubjectResourcesAnswer {
  readonly policy: string;
  readonly subject: string;
  readonly resources: readonly SubjectResource[];
  readonly next?: string;
}

/**
 * `GET /policies/:policy/explain`: whether the subject (with the given identity roles, on the given resource)
 * holds the permission, and every path that grants it. `resource` echoes the asked resource, when one was asked;
 * roles held on it show as `via: 'resource-role'` paths.
 *
 * @example
 * { "allowed": true, "because": [{ "via": "role", "role": "reader", "permission": "CanRead" }] }
 * { "allowed": true, "resource": "42", "because": [{ "via": "resource-role", "resource": "42", "role": "owner", "permission": "CanEdit" }] }
 */
export interface ExplainAnswer {
  readonly allowed: boolean;
  readonly resource?: string;
  readonly because: readonly GrantPath[];
}

/**
 * `GET /audit`: a page of audit entries (of resource grants too, with target `{ resource, subject }` or
 * `{ resource }`), oldest first or newest first; `next` (the last id) is there when the page is full, to be sent
 * back as `after` (oldest first) or `before` (newest first).
 *
 * @example
 * { "entries": [{ "id": 41, "actor": "carol", "action": "grant-role", "policy": "note", "target": { "subject": "susan" }, ... }], "next": 41 }
 */
export interface AuditPageAnswer {
  readonly entries: readonly AuditEntry[];
  readonly next?: number;
}
