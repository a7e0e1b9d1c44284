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
 * Resolved permission sets are remembered per (policy, issuer, subject, identity roles) for `decisionCache.ttlMs`,
 * and dropped at once when the store reports a change to that policy.
 */
@Injectable()
export class DefaultPolicyService extends PolicyService implements OnModuleDestroy {
  private readonly cache?: BoundedCache<string, ReadonlySet<string>>;
  private readonly ttlMs: number;
  private readonly stopListening: () => void;
  private readonly identityKeys = new WeakMap<AuthzIdentity, string>();
  // Bumped on every invalidation so that a lookup that started before a change never stores its stale answer.
  private generation = 0;

  constructor(
    private readonly store: PolicyStore,
    @Inject(AUTHZ_CONFIG) config: AuthzConfig,
  ) {
    super();
    this.ttlMs = config.decisionCache ? config.decisionCache.ttlMs : 0;
    if (config.decisionCache) this.cache = new BoundedCache(config.decisionCache.maxEntries);
    this.stopListening = store.onChange((policy) => this.invalidate(policy));
  }

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string): Promise<boolean> {
    return allows(await this.grantedPermissions(policy, identity), permission);
  }

  override cachedDecision(policy: string, identity: AuthzIdentity, permission: string): boolean | undefined {
    // A subclass that overrides hasPermission may add conditions the cached permission set knows nothing of.
    if (this.hasPermission !== DefaultPolicyService.prototype.hasPermission) return undefined;
    const granted = this.cache?.get(this.cacheKey(policy, identity));
    return granted && allows(granted, permission);
  }

  override async permissionsOf(policy: string, identity: AuthzIdentity, permissions: readonly string[]): Promise<ReadonlySet<string>> {
    const granted = await this.grantedPermissions(policy, identity);
    return new Set(granted.has(ALL_PERMISSIONS) ? permissions : permissions.filter((permission) => granted.has(permission)));
  }

  /** Every permission the identity holds in `policy` (may contain `'*'`). */
  async grantedPermissions(policy: string, identity: AuthzIdentity): Promise<ReadonlySet<string>> {
    const key = this.cacheKey(policy, identity);
    const cached = this.cache?.get(key);
    if (cached) return cached;
    const generation = this.generation;
    const document = await this.store.getPolicy(policy);
    if (!document) throw new UnknownPolicyError(policy);
    const granted = resolvePermissions(document, identity);
    if (this.cache && generation === this.generation) this.cache.set(key, granted, this.ttlMs);
    return granted;
  }

  // JSON keeps the parts apart whatever characters a policy, subject or role name contains. The identity's part is
  // built once per identity object: a remembered token hands the guard the same frozen identity on every request.
  private cacheKey(policy: string, identity: AuthzIdentity): string {
    let identityKey = this.identityKeys.get(identity);
    if (identityKey === undefined) {
      identityKey = JSON.stringify([identity.issuer, identity.subject, [...identity.roles].sort()]);
      this.identityKeys.set(identity, identityKey);
    }
    return JSON.stringify(policy) + identityKey;
  }

  /** Drops remembered decisions for one policy, or for all. Policy stores call this through `onChange`. */
  invalidate(policy?: string): void {
    this.generation++;
    const prefix = JSON.stringify(policy);
    this.cache?.clear(policy === undefined ? undefined : (key) => key.startsWith(prefix));
  }

  onModuleDestroy(): void {
    this.stopListening();
  }
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
