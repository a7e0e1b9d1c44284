import type { GrantPath } from '../policy/grants';
import type { PolicyDocument } from '../policy/policy-document';
import type { AuditEntry } from '../store/policy-edit';
import type { PolicySummary } from '../store/policy-store';

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
 * `GET /policies/:policy/explain`: whether the subject (with the given identity roles) holds the permission, and
 * every path that grants it.
 *
 * @example
 * { "allowed": true, "because": [{ "via": "role", "role": "reader", "permission": "CanRead" }] }
 */
export interface ExplainAnswer {
  readonly allowed: boolean;
  readonly because: readonly GrantPath[];
}

/**
 * `GET /audit`: a page of audit entries, oldest first; `next` (the last id) is there when the page is full,
 * to be sent back as `after`.
 *
 * @example
 * { "entries": [{ "id": 41, "actor": "carol", "action": "grant-role", "policy": "note", "target": { "subject": "susan" }, ... }], "next": 41 }
 */
export interface AuditPageAnswer {
  readonly entries: readonly AuditEntry[];
  readonly next?: number;
}
