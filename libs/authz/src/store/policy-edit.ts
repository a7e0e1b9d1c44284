import type { PolicyDocument, SubjectGrants } from '../policy/policy-document';

/**
 * One change to a policy store. Resource edits grant a role on one resource of the policy (`grant-resource-role`,
 * e.g. the owner of note 42), revoke it, or drop every grant on a resource (`delete-resource`, when the record is
 * deleted); the role must exist in the policy. A list of edits is applied in one transaction: all or nothing, with one audit entry
 * per edit that changed something. `ifRevision` makes an edit conditional on the policy's revision (`0`: the
 * policy must not exist yet), so that concurrent writers get a conflict instead of overwriting each other.
 *
 * @example
 * await store.edit([{ kind: 'revoke-permission', policy: 'note', subject: 'susan', permission: 'CanReadConfidentialNotes' }], { actor: 'carol' });
 */
export type PolicyEdit = (
  | { readonly kind: 'put-policy'; readonly policy: string; readonly document: PolicyDocument }
  | { readonly kind: 'grant-role' | 'revoke-role'; readonly policy: string; readonly subject: string; readonly role: string }
  | { readonly kind: 'grant-permission' | 'revoke-permission'; readonly policy: string; readonly subject: string; readonly permission: string }
  | { readonly kind: 'put-role'; readonly policy: string; readonly role: string; readonly permissions: readonly string[] }
  | { readonly kind: 'delete-role'; readonly policy: string; readonly role: string }
  | { readonly kind: 'put-identity-role'; readonly policy: string; readonly identityRole: string; readonly roles: readonly string[] }
  | { readonly kind: 'delete-identity-role'; readonly policy: string; readonly identityRole: string }
  | { readonly kind: 'grant-resource-role' | 'revoke-resource-role'; readonly policy: string; readonly resource: string; readonly subject: string; readonly role: string }
  | { readonly kind: 'delete-resource'; readonly policy: string; readonly resource: string }
) & { readonly ifRevision?: number };

/** Who makes the edits: the admin's subject from the verified token, or a tool's name (`policy-cli`, `bootstrap`). */
export interface EditOptions {
  readonly actor: string;
}

/** What a list of edits did. */
export interface EditResult {
  /** The store's revision after the edits (unchanged when nothing changed). */
  readonly revision: number;
  /** Per edit, in order: whether it changed anything (granting a role already held changes nothing). */
  readonly changed: readonly boolean[];
  /** Per edit, in order: the policy's revision after it (changed or not), e.g. for an `ETag`. */
  readonly revisions: readonly number[];
}

/** What an edit touched: the part of the policy an audit entry shows before and after. */
export type EditTarget =
  | { readonly subject: string }
  | { readonly role: string }
  | { readonly identityRole: string }
  | { readonly resource: string; readonly subject: string }
  | { readonly resource: string }
  | Record<string, never>;

/**
 * The part of a policy an edit touches, as the audit trail shows it (`null`: absent). A subject's roles on a
 * resource are `{ roles }`; a deleted resource's grants are `{ subjects }` (subject → roles).
 */
export type EditState =
  | PolicyDocument
  | Required<SubjectGrants>
  | { readonly permissions: readonly string[] }
  | { readonly roles: readonly string[] }
  | { readonly subjects: Readonly<Record<string, readonly string[]>> }
  | null;

/** Who changed what, when: written in the same transaction as the change. */
export interface AuditEntry {
  /** Increasing: page with `after`. */
  readonly id: number;
  /** ISO 8601 time of the change. */
  readonly at: string;
  readonly actor: string;
  readonly action: PolicyEdit['kind'];
  readonly policy: string;
  readonly target: EditTarget;
  readonly before: EditState;
  readonly after: EditState;
  /** The store's revision the change produced. */
  readonly revision: number;
}

/**
 * Which audit entries to read, at most `limit`: oldest first after the id `after` (the default order), or newest
 * first before the id `before` (`order: 'newest-first'`).
 */
export interface AuditQuery {
  readonly policy?: string;
  readonly subject?: string;
  readonly resource?: string;
  readonly order?: 'oldest-first' | 'newest-first';
  readonly after?: number;
  readonly before?: number;
  readonly limit: number;
}

/** The target of an edit, for audit entries and change notifications. */
export function editTarget(edit: PolicyEdit): EditTarget {
  switch (edit.kind) {
    case 'grant-role':
    case 'revoke-role':
    case 'grant-permission':
    case 'revoke-permission':
      return { subject: edit.subject };
    case 'put-role':
    case 'delete-role':
      return { role: edit.role };
    case 'put-identity-role':
    case 'delete-identity-role':
      return { identityRole: edit.identityRole };
    case 'grant-resource-role':
    case 'revoke-resource-role':
      return { resource: edit.resource, subject: edit.subject };
    case 'delete-resource':
      return { resource: edit.resource };
    case 'put-policy':
      return {};
  }
}
