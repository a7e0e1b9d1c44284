import {
  InMemoryPolicyStore,
  type AuditEntry,
  type AuditQuery,
  type DecisionGrants,
  type EditOptions,
  type EditResult,
  type PolicyEdit,
  type PolicySummary,
  type ResourceGrants,
  type ResourcePage,
  type StoredPolicy,
  type SubjectResource,
} from 'nestjs-authz';

/**
 * An in-memory store that fails like a database that went away: with `down`, every call throws a plain Error,
 * except the guard's read of policy `authz` unless `guardDown` is also set.
 */
export class FailingStore extends InMemoryPolicyStore {
  down = false;
  guardDown = false;

  override async grantsFor(policy: string, subject: string, identityRoles: readonly string[], resources?: readonly string[]): Promise<DecisionGrants | undefined> {
    if (policy === 'authz' ? this.guardDown : this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return super.grantsFor(policy, subject, identityRoles, resources);
  }

  override async resourceGrants(policy: string, resource: string): Promise<ResourceGrants | undefined> {
    this.fail();
    return super.resourceGrants(policy, resource);
  }

  override async subjectResources(policy: string, subject: string, page: ResourcePage): Promise<SubjectResource[] | undefined> {
    this.fail();
    return super.subjectResources(policy, subject, page);
  }

  override async listPolicies(): Promise<PolicySummary[]> {
    this.fail();
    return super.listPolicies();
  }

  override async getPolicy(policy: string): Promise<StoredPolicy | undefined> {
    this.fail();
    return super.getPolicy(policy);
  }

  override async edit(edits: readonly PolicyEdit[], options: EditOptions): Promise<EditResult> {
    this.fail();
    return super.edit(edits, options);
  }

  override async audit(query: AuditQuery): Promise<AuditEntry[]> {
    this.fail();
    return super.audit(query);
  }

  private fail(): void {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }
}
