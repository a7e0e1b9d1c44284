import { Logger } from '@nestjs/common';
import type { DecisionGrants } from '../policy/grants';
import type { PolicyDocument } from '../policy/policy-document';
import type { AuditEntry, AuditQuery, EditOptions, EditResult, PolicyEdit } from './policy-edit';

/**
 * What changed in a store, ids only. No `policy`: anything may have changed (a listener reconnected), so every
 * remembered decision must go. No `subject` and no `resource`: the policy's roles or mappings changed, so all of its
 * decisions go. `resource` without `subject`: every grant on that resource changed (it was deleted).
 */
export interface PolicyChange {
  readonly policy?: string;
  readonly subject?: string;
  /** The resource whose grants changed, for resource grants. */
  readonly resource?: string;
  /** The store's revision after the change, when known. */
  readonly revision?: number;
}

/** Called with every change a store learns of, its own writes and (through its change feed) other instances'. */
export type PolicyChangeListener = (change: PolicyChange) => void;

/** A policy's name and revision. */
export interface PolicySummary {
  readonly name: string;
  /** Grows with every change to the policy; the admin API's `ETag`. */
  readonly revision: number;
}

/** Who holds which roles on one resource of a policy. */
export interface ResourceGrants {
  readonly policy: string;
  readonly resource: string;
  /** The policy's revision when read. */
  readonly revision: number;
  /** Subject → roles held on the resource, subjects in code-unit order; empty when nobody holds anything. */
  readonly subjects: Readonly<Record<string, readonly string[]>>;
}

/** One resource on which a subject holds roles. */
export interface SubjectResource {
  readonly resource: string;
  readonly roles: readonly string[];
}

/** Which page of a subject's resources to read: resource ids after `after` in code-unit order (PostgreSQL: `COLLATE "C"`), at most `limit`. */
export interface ResourcePage {
  readonly after?: string;
  readonly limit: number;
}

/** One subject's type-wide grants, as a page of {@link PolicyStore.listSubjects} lists them. */
export interface SubjectEntry {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
}

/** Which page of a policy's subjects to read: those starting with `prefix`, after `after` in code-unit order, at most `limit`. */
export interface SubjectPage {
  readonly prefix?: string;
  readonly after?: string;
  readonly limit: number;
}

/** A whole policy with its revision. */
export interface StoredPolicy extends PolicySummary {
  readonly document: Required<PolicyDocument>;
}

/**
 * Where the default PolicyService reads grants and the admin API writes them: {@link InMemoryPolicyStore} (the
 * `policies` option, tests) or {@link PostgresPolicyStore} (PostgreSQL or PGlite). Give yours with the module's
 * `policyStore` option.
 *
 * The contract that keeps caches honest: every change is reported to `onChange` listeners, on every instance that
 * reads the store; `feedDownSince()` says when the store cannot promise that (its change feed is down), and the
 * default PolicyService then stops caching once the outage is longer than `decisionCache.ttlMs`.
 *
 * @example
 * AuthzModule.forRootAsync({
 *   useFactory: () => ({ issuer, audience: 'notes-api', policyStore: async () => PostgresPolicyStore.open({ driver: await PgDriver.connect(process.env.DATABASE_URL!) }) }),
 * })
 */
export abstract class PolicyStore {
  /**
   * The grants one decision needs, or `undefined` when the store does not know the policy. With `resources`, also
   * the roles the subject holds on each of them (the batch form asks for many in the same read).
   */
  abstract grantsFor(policy: string, subject: string, identityRoles: readonly string[], resources?: readonly string[]): Promise<DecisionGrants | undefined>;

  /** Who holds which roles on `resource`, or `undefined` when the store does not know the policy. */
  abstract resourceGrants(policy: string, resource: string): Promise<ResourceGrants | undefined>;

  /** A page of the resources on which `subject` holds roles, or `undefined` when the store does not know the policy. */
  abstract subjectResources(policy: string, subject: string, page: ResourcePage): Promise<SubjectResource[] | undefined>;

  /** Subscribes to changes; returns the unsubscribe function. */
  abstract onChange(listener: PolicyChangeListener): () => void;

  /** Every policy's name and revision, by name. */
  abstract listPolicies(): Promise<PolicySummary[]>;

  /**
   * One whole policy (provisioning, the admin API), or `undefined`. Not meant for decisions. With
   * `{ subjects: false }`, its roles and identity roles only (`document.subjects` is empty): a policy with many
   * subjects is then read in pages with {@link listSubjects}.
   */
  abstract getPolicy(policy: string, options?: { readonly subjects?: boolean }): Promise<StoredPolicy | undefined>;

  /** A page of the subjects holding type-wide grants in `policy`, or `undefined` when the store does not know the policy. */
  abstract listSubjects(policy: string, page: SubjectPage): Promise<SubjectEntry[] | undefined>;

  /** Applies the edits in one transaction, all or nothing, each audited. Throws a {@link PolicyStoreError} when refused. */
  abstract edit(edits: readonly PolicyEdit[], options: EditOptions): Promise<EditResult>;

  /** Audit entries, oldest first. */
  abstract audit(query: AuditQuery): Promise<AuditEntry[]>;

  /**
   * Since when (ms since the epoch) changes made elsewhere may go unreported because the change feed is down, or
   * `undefined` while it is up. A store without other writers is always up.
   */
  feedDownSince(): number | undefined {
    return undefined;
  }

  /** Releases connections; the module calls it at shutdown. */
  async close(): Promise<void> {}
}

const logger = new Logger('PolicyStore');

/** Tells every listener; one that throws is logged and neither fails the write nor keeps the others from hearing. */
export function notifyAll(listeners: Iterable<PolicyChangeListener>, change: PolicyChange): void {
  for (const listener of listeners) {
    try {
      listener(change);
    } catch (error) {
      logger.error(`a policy change listener failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
    }
  }
}
