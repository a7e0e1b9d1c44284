import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AuthzConfig } from '../authz.config';
import { AuthzConfigurationError, PolicyUnavailableException } from '../authz.exceptions';
import { DecisionDeadline } from '../guards/decision-deadline';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { BoundedCache } from '../cache/bounded-cache';
import type { AuthzIdentity } from '../identity/identity';
import { InMemoryPolicyStore } from '../store/in-memory-policy-store';
import { PolicyStore, type PolicyChange } from '../store/policy-store';
import { allows, resolvePermissions, type DecisionGrants } from './grants';
import { ALL_PERMISSIONS } from './names';
import { PolicyService, type DecisionOptions } from './policy.service';

/** Thrown when asked about a policy the store does not know; the guard answers 503 and logs it. */
export class UnknownPolicyError extends Error {
  override readonly name = this.constructor.name;
  constructor(readonly policy: string) {
    super(`Policy '${policy}' is not defined in the policy store. Add it to the store (the module's \`policies\` option, or the admin API) or fix the name in @Policy().`);
  }
}

/**
 * The PolicyService the module provides unless told otherwise. Per policy it resolves an identity's
 * permissions from its subject grants (roles and direct permissions), from its identity roles mapped to
 * policy roles and, asked about a resource, from the roles the subject holds on that resource, reading from the
 * {@link PolicyStore} only what that one decision needs. A `'*'` permission grants everything in its policy.
 *
 * Resolved permission sets are remembered per (policy, subject, issuer, identity roles[, resource]) for at most
 * `decisionCache.ttlMs` from the moment the store was read. A change the store reports drops exactly the answers it
 * touches (one subject's, one resource's, or a whole policy's); when the store's change feed has been down for longer
 * than the TTL, nothing is remembered until it is back. Concurrent questions that miss the cache for the same key
 * share one read; `allowedResources` reads all the resources it does not remember in one.
 *
 * A store that fails or takes longer than `policyTimeoutMs` makes every caller (the guard, and business code calling
 * `hasPermission` or `permissionsOf`) get a {@link PolicyUnavailableException}: 503, never 500, never allow.
 *
 * Subclasses: conditions added by overriding `hasPermission` apply to `permissionsOf` and `allowedResources` too
 * (they then ask `hasPermission` per permission or resource) and turn `cachedDecision` off; overriding
 * `grantedPermissions` reaches every path.
 */
@Injectable()
export class DefaultPolicyService extends PolicyService implements OnModuleDestroy {
  private readonly memory?: DecisionMemory;
  private readonly ttlMs: number;
  private readonly stopListening: () => void;
  private readonly logger = new Logger('DefaultPolicyService');
  private readonly deadline: DecisionDeadline;
  private readonly timeoutMs: number;
  /** Store reads under way, by answer key: concurrent misses for one key share one read. */
  private readonly reading = new Map<string, Promise<ReadonlySet<string>>>();
  // Bumped on every invalidation so that a lookup that started before a change never stores its stale answer.
  private generation = 0;

  constructor(
    private readonly store: PolicyStore,
    @Inject(AUTHZ_CONFIG) config: AuthzConfig,
  ) {
    super();
    this.ttlMs = config.decisionCache ? config.decisionCache.ttlMs : 0;
    this.timeoutMs = config.policyTimeoutMs;
    this.deadline = new DecisionDeadline(config.policyTimeoutMs);
    if (config.decisionCache) {
      const { maxEntries } = config.decisionCache;
      this.memory = { answers: new BoundedCache(maxEntries), identityKeys: new BoundedCache(maxEntries) };
    }
    this.stopListening = store.onChange((change) => this.invalidate(change));
  }

  /** Number of remembered answers (bounded by `decisionCache.maxEntries`). */
  get rememberedCount(): number {
    return this.memory?.answers.size ?? 0;
  }

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string, options?: DecisionOptions): Promise<boolean> {
    requireIdentity(identity, 'hasPermission');
    return allows(await this.grantedPermissions(policy, identity, options?.resource), permission);
  }

  override cachedDecision(policy: string, identity: AuthzIdentity, permission: string, resource?: string): boolean | undefined {
    requireIdentity(identity, 'cachedDecision');
    // A subclass that overrides a deciding method may add conditions the cached permission set knows nothing of.
    if (this.customized()) return undefined;
    const memory = this.memory;
    const key = memory && answerKey(memory, policy, identity);
    const typeWide = key === undefined ? undefined : memory!.answers.get(key);
    // A type-wide grant holds on every resource; only without one does the resource's own answer matter.
    if (typeWide && (resource === undefined || allows(typeWide, permission))) return allows(typeWide, permission);
    const onResource = key === undefined || resource === undefined ? undefined : memory!.answers.get(key + resourceSuffix(resource));
    if (onResource) return allows(onResource, permission);
    const now = this.decideNow(policy, identity, resource, key);
    return now && allows(now, permission);
  }

  /**
   * An in-memory store answers without I/O: read it synchronously (and remember the answer as a store read would),
   * so that a new identity costs no turn of the event loop. Other stores: `undefined`, ask through a promise.
   */
  private decideNow(policy: string, identity: AuthzIdentity, resource: string | undefined, base: string | undefined): ReadonlySet<string> | undefined {
    // Only the store's own reads: a subclass that overrides grantsFor (a condition, a fault) is asked through it.
    if (!(this.store instanceof InMemoryPolicyStore) || this.store.grantsFor !== InMemoryPolicyStore.prototype.grantsFor) return undefined;
    const grants = this.store.grantsNow(policy, identity.subject, identity.roles, resource === undefined ? [] : [resource]);
    // An unknown policy is the promise path's to report (logged, 503).
    if (!grants) return undefined;
    const readAt = Date.now();
    const typeWide = resolvePermissions(grants);
    if (base !== undefined) this.remember(base, typeWide, readAt, this.generation);
    if (resource === undefined) return typeWide;
    const granted = resolvePermissions(grants, resource);
    if (base !== undefined) this.remember(base + resourceSuffix(resource), granted, readAt, this.generation);
    return granted;
  }

  override async permissionsOf(policy: string, identity: AuthzIdentity, permissions: readonly string[], options?: DecisionOptions): Promise<ReadonlySet<string>> {
    requireIdentity(identity, 'permissionsOf');
    // An overridden hasPermission decides each permission, so its conditions hold here as in the guard.
    if (this.hasPermission !== DefaultPolicyService.prototype.hasPermission) return super.permissionsOf(policy, identity, permissions, options);
    const granted = await this.grantedPermissions(policy, identity, options?.resource);
    return new Set(granted.has(ALL_PERMISSIONS) ? permissions : permissions.filter((permission) => granted.has(permission)));
  }

  override async allowedResources(
    policy: string,
    identity: AuthzIdentity,
    permission: string,
    resources: readonly string[],
    options?: Omit<DecisionOptions, 'resource'>,
  ): Promise<ReadonlySet<string>> {
    requireIdentity(identity, 'allowedResources');
    // A subclass's conditions apply per resource, as in the guard.
    if (this.customized()) return super.allowedResources(policy, identity, permission, resources, options);
    const unique = [...new Set(resources)];
    const memory = this.memory;
    const key = memory && answerKey(memory, policy, identity);
    const typeWide = key === undefined ? undefined : memory!.answers.get(key);
    if (typeWide && allows(typeWide, permission)) return new Set(unique);
    const allowed = new Set<string>();
    const unknown: string[] = [];
    for (const resource of unique) {
      const remembered = key === undefined ? undefined : memory!.answers.get(key + resourceSuffix(resource));
      if (remembered === undefined) unknown.push(resource);
      else if (allows(remembered, permission)) allowed.add(resource);
    }
    if (unknown.length === 0) return allowed;
    // Every resource not remembered, in one store read.
    const generation = this.generation;
    const readAt = Date.now();
    const grants = await this.readGrants(policy, identity, unknown);
    if (key !== undefined) this.remember(key, resolvePermissions(grants), readAt, generation);
    for (const resource of unknown) {
      const granted = resolvePermissions(grants, resource);
      if (key !== undefined) this.remember(key + resourceSuffix(resource), granted, readAt, generation);
      if (allows(granted, permission)) allowed.add(resource);
    }
    return allowed;
  }

  /** Every permission the identity holds in `policy` (may contain `'*'`), on `resource` when given. */
  async grantedPermissions(policy: string, identity: AuthzIdentity, resource?: string): Promise<ReadonlySet<string>> {
    requireIdentity(identity, 'grantedPermissions');
    const memory = this.memory;
    const base = memory && answerKey(memory, policy, identity);
    if (base === undefined) return this.read(policy, identity, resource, undefined);
    const key = resource === undefined ? base : base + resourceSuffix(resource);
    const cached = memory!.answers.get(key);
    if (cached) return cached;
    const joined = this.reading.get(key);
    if (joined) return joined;
    const reading: Promise<ReadonlySet<string>> = this.read(policy, identity, resource, base).finally(() => {
      if (this.reading.get(key) === reading) this.reading.delete(key);
    });
    this.reading.set(key, reading);
    return reading;
  }

  /** One store read; remembers the type-wide answer under `base`, and the resource's under its own key. */
  private async read(policy: string, identity: AuthzIdentity, resource: string | undefined, base: string | undefined): Promise<ReadonlySet<string>> {
    const generation = this.generation;
    const readAt = Date.now();
    const grants = await this.readGrants(policy, identity, resource === undefined ? [] : [resource]);
    const typeWide = resolvePermissions(grants);
    if (base !== undefined) this.remember(base, typeWide, readAt, generation);
    if (resource === undefined) return typeWide;
    const granted = resolvePermissions(grants, resource);
    if (base !== undefined) this.remember(base + resourceSuffix(resource), granted, readAt, generation);
    return granted;
  }

  /** The store's grants within policyTimeoutMs; failures become PolicyUnavailableException (logged once, here). */
  private async readGrants(policy: string, identity: AuthzIdentity, resources: readonly string[]): Promise<DecisionGrants> {
    let grants: DecisionGrants | undefined;
    try {
      grants = await this.deadline.race(this.store.grantsFor(policy, identity.subject, identity.roles, resources), () => new Error(`the policy store gave no answer within ${this.timeoutMs} ms`));
    } catch (error) {
      this.logger.error(`the policy store failed for policy '${policy}', subject '${identity.subject}'`, (error as Error)?.stack ?? String(error));
      throw new PolicyUnavailableException(policy);
    }
    if (!grants) {
      this.logger.error(new UnknownPolicyError(policy).message);
      throw new PolicyUnavailableException(policy);
    }
    return grants;
  }

  /** Remembers an answer read at `readAt`, unless a change came in since (`generation`) or the feed is not trusted. */
  private remember(key: string, granted: ReadonlySet<string>, readAt: number, generation: number): void {
    if (generation !== this.generation || !this.feedTrusted(readAt)) return;
    // Believed for ttlMs from the read, not from now: a slow read does not stretch the bound.
    const ttlMs = readAt + this.ttlMs - Date.now();
    if (ttlMs > 0) this.memory!.answers.set(key, granted, ttlMs);
  }

  private customized(): boolean {
    return this.hasPermission !== DefaultPolicyService.prototype.hasPermission || this.grantedPermissions !== DefaultPolicyService.prototype.grantedPermissions;
  }

  /**
   * Drops remembered answers: all, one policy's, one subject's in one policy, or every answer about one resource.
   * The store calls it through `onChange` for every change, on every instance.
   */
  invalidate(change: PolicyChange = {}): void {
    this.generation++;
    // A read under way may have started before the change: later callers must not join it.
    this.reading.clear();
    const memory = this.memory;
    if (!memory) return;
    if (change.policy === undefined) return memory.answers.clear();
    if (change.subject !== undefined) {
      // A subject's grant, type-wide or on a resource: all of that subject's answers go.
      const prefix = subjectPrefix(change.policy, JSON.stringify(change.subject));
      return memory.answers.clear((key) => key.startsWith(prefix));
    }
    const prefix = policyPrefix(change.policy);
    if (change.resource === undefined) return memory.answers.clear((key) => key.startsWith(prefix));
    // Every grant on one resource (it was deleted): its answers, whoever asked; type-wide answers stay.
    const suffix = resourceSuffix(change.resource);
    memory.answers.clear((key) => key.startsWith(prefix) && key.endsWith(suffix));
  }

  onModuleDestroy(): void {
    this.stopListening();
  }

  /** Whether an answer read at `readAt` may be remembered: not while the store's feed has been down longer than the TTL. */
  private feedTrusted(readAt: number): boolean {
    const downSince = this.store.feedDownSince();
    return downSince === undefined || readAt - downSince < this.ttlMs;
  }
}

/** What the service remembers, all bounded by `decisionCache.maxEntries`. */
interface DecisionMemory {
  /** Permission sets by policy, subject and the rest of the identity. */
  readonly answers: BoundedCache<string, ReadonlySet<string>>;
  /**
   * The identity's parts of answer keys, per identity object: a remembered token hands the guard the same frozen
   * identity on every request. A bounded map, not a WeakMap: a WeakMap insert measured about 1 µs per new identity
   * (ephemeron bookkeeping in the garbage collector); building the key on every request cost about 1 µs of CPU per
   * request over HTTP (npm run bench, scenario 3 on Fastify).
   */
  readonly identityKeys: BoundedCache<AuthzIdentity, IdentityKey>;
}

interface IdentityKey {
  /** The subject as JSON. */
  readonly subject: string;
  /** Issuer and sorted identity roles as JSON. */
  readonly rest: string;
}

/**
 * Business code that asks without an identity runs on a route AuthzGuard never saw (no APP_GUARD, or a `@Public()`
 * route). That is a mistake in the app, not in the request: an {@link AuthzConfigurationError}, answered 500 by
 * Nest and logged with this message; never a TypeError, never an answer.
 */
function requireIdentity(identity: AuthzIdentity | undefined, method: string): void {
  if (identity !== null && typeof identity === 'object' && typeof identity.subject === 'string') return;
  throw new AuthzConfigurationError(
    `PolicyService.${method}() was called without an identity (got ${identity === null ? 'null' : typeof identity === 'object' ? 'an object without `subject`' : String(identity)}): the route's handler ran without AuthzGuard having verified a token, or on a @Public() route.`,
    'turn the guard on for every route with `{ provide: APP_GUARD, useClass: AuthzGuard }` in your AppModule (or @UseGuards(AuthzGuard)), ' +
      'and pass the identity of `@CurrentIdentity()` on a route that is not @Public().',
  );
}

// Keys are `[policy,subject]` + `[issuer,roles]` in JSON, and for a resource also `"resource"`. JSON keeps the parts
// apart whatever characters they contain, and lets a change drop one policy's answers (prefix `[policy,`), one
// subject's (prefix `[policy,subject]`) or one resource's (suffix `"resource"`; another resource whose JSON ends the
// same way is dropped too, which only costs a read).
function answerKey(memory: DecisionMemory, policy: string, identity: AuthzIdentity): string {
  let parts = memory.identityKeys.get(identity);
  if (parts === undefined) {
    parts = { subject: JSON.stringify(identity.subject), rest: JSON.stringify([identity.issuer, [...identity.roles].sort()]) };
    memory.identityKeys.set(identity, parts);
  }
  return subjectPrefix(policy, parts.subject) + parts.rest;
}

function resourceSuffix(resource: string): string {
  return JSON.stringify(resource);
}

function policyPrefix(policy: string): string {
  return `[${JSON.stringify(policy)},`;
}

function subjectPrefix(policy: string, subjectJson: string): string {
  return `[${JSON.stringify(policy)},${subjectJson}]`;
}
