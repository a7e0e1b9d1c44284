import { Injectable } from '@nestjs/common';
import { explainPermission } from '../policy/grants';
import type { PolicyDocument } from '../policy/policy-document';
import type { AuditQuery, PolicyEdit } from '../store/policy-edit';
import { PolicyStore } from '../store/policy-store';
import { PolicyNotFoundError } from '../store/store-errors';
import type { AuditPageAnswer, ExplainAnswer, PolicyAnswer, PolicyListAnswer, ResourceGrantsAnswer, RolesAnswer, SubjectGrantsAnswer, SubjectPageAnswer, SubjectResourcesAnswer } from './admin-answers';

/**
 * What one write did: the policy's revision after it (its `ETag`), and whether it changed anything.
 *
 * @example
 * { revision: 8, changed: true }
 */
export interface WriteOutcome {
  readonly revision: number;
  readonly changed: boolean;
}

/**
 * A write as the admin routes make it: one edit without `ifRevision` (that comes from `If-Match`).
 *
 * @example
 * const edit: AdminEdit = { kind: 'delete-role', policy: 'note', role: 'unused' };
 */
export type AdminEdit = PolicyEdit extends infer Edit ? (Edit extends PolicyEdit ? Omit<Edit, 'ifRevision'> : never) : never;

/**
 * What the admin routes do with the {@link PolicyStore}, apart from HTTP: one edit per write, each audited under the
 * caller's subject; reads shaped as the API answers them. Errors of the store go up unchanged (the filter maps them).
 *
 * @example
 * const { revision } = await admin.write({ kind: 'grant-role', policy: 'note', subject: 'susan', role: 'reader' }, 7, 'carol');
 */
@Injectable()
export class PolicyAdmin {
  constructor(private readonly store: PolicyStore) {}

  async list(): Promise<PolicyListAnswer> {
    return { policies: await this.store.listPolicies() };
  }

  async get(policy: string): Promise<PolicyAnswer> {
    const stored = await this.store.getPolicy(policy);
    if (!stored) throw new PolicyNotFoundError(policy);
    return { name: stored.name, revision: stored.revision, document: stored.document };
  }

  async putPolicy(policy: string, document: PolicyDocument, ifRevision: number | undefined, actor: string): Promise<WriteOutcome> {
    return this.write({ kind: 'put-policy', policy, document }, ifRevision, actor);
  }

  /** Applies one edit; `ifRevision` (from `If-Match`) makes it conditional on the policy's revision. */
  async write(edit: AdminEdit, ifRevision: number | undefined, actor: string): Promise<WriteOutcome> {
    const conditional: PolicyEdit = ifRevision === undefined ? edit : { ...edit, ifRevision };
    const result = await this.store.edit([conditional], { actor });
    return { revision: result.revisions[0], changed: result.changed[0] };
  }

  /** The policy without its subjects (one read, whatever their number). */
  async roles(policy: string): Promise<RolesAnswer> {
    const stored = await this.store.getPolicy(policy, { subjects: false });
    if (!stored) throw new PolicyNotFoundError(policy);
    return { policy, revision: stored.revision, roles: stored.document.roles, identityRoles: stored.document.identityRoles };
  }

  /** A page of subjects; `revision` is the policy's when the page was read. */
  async subjects(policy: string, page: { prefix?: string; after?: string; limit: number }): Promise<SubjectPageAnswer> {
    const [subjects, summary] = await Promise.all([this.store.listSubjects(policy, page), this.store.listPolicies().then((all) => all.find((held) => held.name === policy))]);
    if (!subjects || !summary) throw new PolicyNotFoundError(policy);
    return subjects.length >= page.limit && subjects.length > 0
      ? { policy, revision: summary.revision, subjects, next: subjects[subjects.length - 1].subject }
      : { policy, revision: summary.revision, subjects };
  }

  async subject(policy: string, subject: string): Promise<SubjectGrantsAnswer> {
    const grants = await this.store.grantsFor(policy, subject, []);
    if (!grants) throw new PolicyNotFoundError(policy);
    return { policy, subject, revision: grants.revision, roles: grants.subjectRoles, permissions: grants.subjectPermissions };
  }

  async resource(policy: string, resource: string): Promise<ResourceGrantsAnswer> {
    const grants = await this.store.resourceGrants(policy, resource);
    if (!grants) throw new PolicyNotFoundError(policy);
    return { policy, resource, revision: grants.revision, subjects: grants.subjects };
  }

  async subjectResources(policy: string, subject: string, page: { after?: string; limit: number }): Promise<SubjectResourcesAnswer> {
    const resources = await this.store.subjectResources(policy, subject, page.after === undefined ? { limit: page.limit } : { after: page.after, limit: page.limit });
    if (!resources) throw new PolicyNotFoundError(policy);
    return resources.length >= page.limit && resources.length > 0 ? { policy, subject, resources, next: resources[resources.length - 1].resource } : { policy, subject, resources };
  }

  /** With `resource`, the roles the subject holds on it count too (and the answer names it). */
  async explain(policy: string, subject: string, permission: string, identityRoles: readonly string[], resource?: string): Promise<ExplainAnswer> {
    const grants = resource === undefined ? await this.store.grantsFor(policy, subject, identityRoles) : await this.store.grantsFor(policy, subject, identityRoles, [resource]);
    if (!grants) throw new PolicyNotFoundError(policy);
    // Every path that grants it, so "allowed" is exactly "there is a path" (as the default PolicyService decides).
    const because = explainPermission(grants, permission, resource);
    return resource === undefined ? { allowed: because.length > 0, because } : { allowed: because.length > 0, resource, because };
  }

  async audit(query: AuditQuery): Promise<AuditPageAnswer> {
    const entries = await this.store.audit(query);
    return entries.length >= query.limit && entries.length > 0 ? { entries, next: entries[entries.length - 1].id } : { entries };
  }
}
