import { grantsFromDocument, type DecisionGrants, type ResourceGrantMap } from '../policy/grants';
import { validatePolicyDocuments, type PolicyDocument, type PolicyDocuments } from '../policy/policy-document';
import { deepFreeze } from '../deep-freeze';
import { applyEdit, checkEdit, sameState } from './apply-edit';
import { editTarget, type AuditEntry, type AuditQuery, type EditOptions, type EditResult, type PolicyEdit } from './policy-edit';
import { notifyAll, PolicyStore, type PolicyChange, type PolicyChangeListener, type PolicySummary, type ResourceGrants, type ResourcePage, type StoredPolicy, type SubjectEntry, type SubjectPage, type SubjectResource } from './policy-store';
import { PolicyNotFoundError, RevisionConflictError } from './store-errors';

type Document = Required<PolicyDocument>;

interface HeldPolicy {
  readonly document: Document;
  readonly resources: ResourceGrantMap;
  readonly revision: number;
}

const NO_RESOURCES: ResourceGrantMap = Object.freeze({});

/** Audit entries an in-memory store keeps; older ones are dropped (a database keeps them all). */
const MAX_AUDIT_ENTRIES = 10_000;

/**
 * Policies held in memory: what the module's `policies` option gives the default PolicyService, and a store for
 * tests. Edits, revisions, audit and change notifications behave as in {@link PostgresPolicyStore}, within one
 * process; nothing survives a restart.
 *
 * @example
 * const store = new InMemoryPolicyStore({ note: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } } });
 * await store.edit([{ kind: 'revoke-role', policy: 'note', subject: 'susan', role: 'reader' }], { actor: 'test' });
 */
export class InMemoryPolicyStore extends PolicyStore {
  private policies = new Map<string, HeldPolicy>();
  private revision = 0;
  private readonly entries: AuditEntry[] = [];
  private nextAuditId = 1;
  private readonly subscribers = new Set<PolicyChangeListener>();

  constructor(documents: PolicyDocuments = {}) {
    super();
    this.load(validatePolicyDocuments(documents));
  }

  async grantsFor(policy: string, subject: string, identityRoles: readonly string[], resources: readonly string[] = []): Promise<DecisionGrants | undefined> {
    return this.grantsNow(policy, subject, identityRoles, resources);
  }

  /**
   * The answer of {@link grantsFor}, synchronously: everything is in memory. The default PolicyService uses it to
   * decide a new identity without waiting for a promise.
   */
  grantsNow(policy: string, subject: string, identityRoles: readonly string[], resources: readonly string[] = []): DecisionGrants | undefined {
    const held = this.policies.get(policy);
    return held && grantsFromDocument(held.document, held.revision, subject, identityRoles, resources, held.resources);
  }

  async resourceGrants(policy: string, resource: string): Promise<ResourceGrants | undefined> {
    const held = this.policies.get(policy);
    if (!held) return undefined;
    const subjects = Object.hasOwn(held.resources, resource) ? held.resources[resource] : {};
    return { policy, resource, revision: held.revision, subjects: Object.fromEntries(Object.entries(subjects).sort(([a], [b]) => (a < b ? -1 : 1))) };
  }

  async subjectResources(policy: string, subject: string, page: ResourcePage): Promise<SubjectResource[] | undefined> {
    const held = this.policies.get(policy);
    if (!held) return undefined;
    return Object.entries(held.resources)
      .filter(([resource, subjects]) => (page.after === undefined || resource > page.after) && Object.hasOwn(subjects, subject))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, page.limit)
      .map(([resource, subjects]) => ({ resource, roles: subjects[subject] }));
  }

  async listPolicies(): Promise<PolicySummary[]> {
    return [...this.policies].map(([name, { revision }]) => ({ name, revision })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getPolicy(policy: string, options: { readonly subjects?: boolean } = {}): Promise<StoredPolicy | undefined> {
    const held = this.policies.get(policy);
    if (!held) return undefined;
    const document = options.subjects === false ? { ...held.document, subjects: {} } : held.document;
    return { name: policy, revision: held.revision, document };
  }

  async listSubjects(policy: string, page: SubjectPage): Promise<SubjectEntry[] | undefined> {
    const held = this.policies.get(policy);
    if (!held) return undefined;
    return Object.entries(held.document.subjects)
      .filter(([subject]) => (page.prefix === undefined || subject.startsWith(page.prefix)) && (page.after === undefined || subject > page.after))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, page.limit)
      .map(([subject, grants]) => ({ subject, roles: grants.roles ?? [], permissions: grants.permissions ?? [] }));
  }

  /** Names of the policies held (the boot check uses it to catch typos in `@Policy()`). */
  policyNames(): string[] {
    return [...this.policies.keys()];
  }

  async edit(edits: readonly PolicyEdit[], options: EditOptions): Promise<EditResult> {
    edits.forEach(checkEdit);
    // Applied to a copy first: one refused edit leaves the store as it was (a transaction).
    const next = new Map(this.policies);
    let revision = this.revision;
    const entries: AuditEntry[] = [];
    const changes: PolicyChange[] = [];
    const revisions: number[] = [];
    const changed = edits.map((edit) => {
      const held = next.get(edit.policy);
      if (edit.ifRevision !== undefined && edit.ifRevision !== (held?.revision ?? 0)) throw new RevisionConflictError(edit.policy, edit.ifRevision, held?.revision ?? 0);
      if (!held && edit.kind !== 'put-policy') throw new PolicyNotFoundError(edit.policy);
      const applied = applyEdit(held?.document, edit, held?.resources);
      if (held && sameState(applied.before, applied.after)) {
        revisions.push(held.revision);
        return false;
      }
      revision++;
      // Frozen: answers hand out the stored objects, which no caller may change.
      next.set(edit.policy, { document: deepFreeze(applied.document), resources: deepFreeze(applied.resources), revision });
      const target = editTarget(edit);
      entries.push({ id: 0, at: new Date().toISOString(), actor: options.actor, action: edit.kind, policy: edit.policy, target, before: applied.before, after: applied.after, revision });
      changes.push({ policy: edit.policy, subject: 'subject' in target ? target.subject : undefined, resource: 'resource' in target ? target.resource : undefined, revision });
      revisions.push(revision);
      return true;
    });
    this.policies = next;
    this.revision = revision;
    for (const entry of entries) this.entries.push(deepFreeze({ ...entry, id: this.nextAuditId++ }));
    if (this.entries.length > MAX_AUDIT_ENTRIES) this.entries.splice(0, this.entries.length - MAX_AUDIT_ENTRIES);
    changes.forEach((change) => this.publish(change));
    return { revision, changed, revisions };
  }

  async audit(query: AuditQuery): Promise<AuditEntry[]> {
    const newestFirst = query.order === 'newest-first';
    return (newestFirst ? [...this.entries].reverse() : this.entries)
      .filter((entry) => entry.id > (query.after ?? 0) && (query.before === undefined || entry.id < query.before))
      .filter((entry) => query.policy === undefined || entry.policy === query.policy)
      .filter((entry) => query.subject === undefined || ('subject' in entry.target && entry.target.subject === query.subject))
      .filter((entry) => query.resource === undefined || ('resource' in entry.target && entry.target.resource === query.resource))
      .slice(0, query.limit);
  }

  /**
   * Replaces every policy at once, unaudited (tests, reloading the `policies` option), and drops every resource grant.
   * Invalid data throws and changes nothing.
   */
  replace(documents: PolicyDocuments): void {
    const valid = validatePolicyDocuments(documents);
    const before = [...this.policies.keys()];
    this.load(valid);
    for (const policy of new Set([...before, ...Object.keys(valid)])) this.publish({ policy, revision: this.revision });
  }

  onChange(listener: PolicyChangeListener): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  private load(documents: PolicyDocuments): void {
    this.revision++;
    this.policies = new Map(Object.entries(documents).map(([name, document]) => [name, { document: deepFreeze(document as Document), resources: NO_RESOURCES, revision: this.revision }]));
  }

  private publish(change: PolicyChange): void {
    notifyAll(this.subscribers, change);
  }
}
