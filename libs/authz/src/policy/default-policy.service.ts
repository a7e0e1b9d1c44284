import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { AuthzConfig } from '../authz.config';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { BoundedCache } from '../cache/bounded-cache';
import type { AuthzIdentity } from '../identity/identity';
import { ALL_PERMISSIONS, type PolicyDocument } from './policy-document';
import { PolicyStore } from './policy-store';
import { PolicyService } from './policy.service';

/** Thrown when asked about a policy the store does not know; the guard answers 503 and logs it. */
export class UnknownPolicyError extends Error {
  override readonly name = this.constructor.name;
  constructor(readonly policy: string) {
    super(`Policy '${policy}' is not defined in the policy store. Add it to the module's \`policies\` option or fix the name in @Policy().`);
  }
}

/**
 * The PolicyService the module provides unless told otherwise. Per policy it resolves an identity's
 * permissions from its subject grants (roles and direct permissions) and from its identity roles mapped to
 * policy roles. A `'*'` permission grants everything in its policy.
 *
 * Resolved permission sets are remembered per (policy, issuer, subject, identity roles), and so is each policy
 * document read from the store, so that a new identity is decided without waiting on the store. Both are kept for
 * at most `decisionCache.ttlMs` from the moment the store was read, and dropped at once when the store reports a
 * change to that policy.
 */
@Injectable()
export class DefaultPolicyService extends PolicyService implements OnModuleDestroy {
  private readonly memory?: DecisionMemory;
  private readonly ttlMs: number;
  private readonly stopListening: () => void;
  // Bumped on every invalidation so that a lookup that started before a change never stores its stale answer.
  private generation = 0;

  constructor(
    private readonly store: PolicyStore,
    @Inject(AUTHZ_CONFIG) config: AuthzConfig,
  ) {
    super();
    this.ttlMs = config.decisionCache ? config.decisionCache.ttlMs : 0;
    if (config.decisionCache) {
      const { maxEntries } = config.decisionCache;
      this.memory = { answers: new BoundedCache(maxEntries), documents: new BoundedCache(maxEntries), identityKeys: new BoundedCache(maxEntries) };
    }
    this.stopListening = store.onChange((policy) => this.invalidate(policy));
  }

  /** Number of remembered answers (bounded by `decisionCache.maxEntries`). */
  get rememberedCount(): number {
    return this.memory?.answers.size ?? 0;
  }

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string): Promise<boolean> {
    return allows(await this.grantedPermissions(policy, identity), permission);
  }

  override cachedDecision(policy: string, identity: AuthzIdentity, permission: string): boolean | undefined {
    // A subclass that overrides hasPermission may add conditions the cached permission set knows nothing of.
    if (this.hasPermission !== DefaultPolicyService.prototype.hasPermission) return undefined;
    const granted = this.cachedGrants(policy, identity);
    return granted && allows(granted, permission);
  }

  override async permissionsOf(policy: string, identity: AuthzIdentity, permissions: readonly string[]): Promise<ReadonlySet<string>> {
    const granted = await this.grantedPermissions(policy, identity);
    return new Set(granted.has(ALL_PERMISSIONS) ? permissions : permissions.filter((permission) => granted.has(permission)));
  }

  /** Every permission the identity holds in `policy` (may contain `'*'`). */
  async grantedPermissions(policy: string, identity: AuthzIdentity): Promise<ReadonlySet<string>> {
    const cached = this.cachedGrants(policy, identity);
    if (cached) return cached;
    const generation = this.generation;
    const readAt = Date.now();
    const document = await this.store.getPolicy(policy);
    if (!document) throw new UnknownPolicyError(policy);
    const granted = resolvePermissions(document, identity);
    if (this.memory && generation === this.generation) {
      const source = { document, expiresAt: readAt + this.ttlMs };
      const ttlMs = source.expiresAt - Date.now();
      if (ttlMs > 0) this.memory.documents.set(policy, source, ttlMs);
      this.remember(this.memory, cacheKey(this.memory, policy, identity), granted, source);
    }
    return granted;
  }

  /** The identity's permissions from a remembered answer or a remembered policy document, without the store. */
  private cachedGrants(policy: string, identity: AuthzIdentity): ReadonlySet<string> | undefined {
    const memory = this.memory;
    if (!memory) return undefined;
    const key = cacheKey(memory, policy, identity);
    const granted = memory.answers.get(key);
    if (granted) return granted;
    const remembered = memory.documents.get(policy);
    return remembered && this.remember(memory, key, resolvePermissions(remembered.document, identity), remembered);
  }

  /** Remembers an answer no longer than the document it comes from, so staleness stays within one `ttlMs`. */
  private remember(memory: DecisionMemory, key: string, granted: ReadonlySet<string>, source: RememberedDocument): ReadonlySet<string> {
    const ttlMs = source.expiresAt - Date.now();
    if (ttlMs > 0) memory.answers.set(key, granted, ttlMs);
    return granted;
  }

  /** Drops remembered decisions and documents for one policy, or for all. Policy stores call this through `onChange`. */
  invalidate(policy?: string): void {
    this.generation++;
    // Keys start with the policy name as a JSON string (see cacheKey).
    const prefix = JSON.stringify(policy);
    this.memory?.answers.clear(policy === undefined ? undefined : (key) => key.startsWith(prefix));
    this.memory?.documents.clear(policy === undefined ? undefined : (name) => name === policy);
  }

  onModuleDestroy(): void {
    this.stopListening();
  }
}

/** What the service remembers, all bounded by `decisionCache.maxEntries`. */
interface DecisionMemory {
  /** Permission sets by policy and identity key. */
  readonly answers: BoundedCache<string, ReadonlySet<string>>;
  readonly documents: BoundedCache<string, RememberedDocument>;
  /**
   * The identity part of answer keys, per identity object: a remembered token hands the guard the same frozen
   * identity on every request. A bounded map, not a WeakMap: a WeakMap insert measured about 1 µs per new identity
   * (ephemeron bookkeeping in the garbage collector); building the key on every request cost about 1 µs of CPU per
   * request over HTTP (npm run bench, scenario 3 on Fastify).
   */
  readonly identityKeys: BoundedCache<AuthzIdentity, string>;
}

interface RememberedDocument {
  readonly document: PolicyDocument;
  /** When the store was read plus `ttlMs`: answers derived from the document expire with it. */
  readonly expiresAt: number;
}

// JSON keeps the parts apart whatever characters a policy, subject or role name contains.
function cacheKey(memory: DecisionMemory, policy: string, identity: AuthzIdentity): string {
  let identityKey = memory.identityKeys.get(identity);
  if (identityKey === undefined) {
    identityKey = JSON.stringify([identity.issuer, identity.subject, [...identity.roles].sort()]);
    memory.identityKeys.set(identity, identityKey);
  }
  return JSON.stringify(policy) + identityKey;
}

function allows(granted: ReadonlySet<string>, permission: string): boolean {
  return granted.has(ALL_PERMISSIONS) || granted.has(permission);
}

function resolvePermissions(document: PolicyDocument, identity: AuthzIdentity): ReadonlySet<string> {
  const roles = document.roles ?? {};
  const grants = Object.hasOwn(document.subjects ?? {}, identity.subject) ? document.subjects![identity.subject] : undefined;
  const heldRoles = new Set(grants?.roles ?? []);
  for (const identityRole of identity.roles) {
    if (Object.hasOwn(document.identityRoles ?? {}, identityRole)) document.identityRoles![identityRole].forEach((role) => heldRoles.add(role));
  }
  const granted = new Set(grants?.permissions ?? []);
  for (const role of heldRoles) {
    if (Object.hasOwn(roles, role)) roles[role].forEach((permission) => granted.add(permission));
  }
  return granted;
}
