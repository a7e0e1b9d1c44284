import type { PolicyStore } from 'nestjs-authz';

/** What a refused request must leave as it was: every policy's revision and the length of the audit trail. */
export interface StoreState {
  readonly revisions: Record<string, number>;
  readonly auditLength: number;
}

export async function storeState(store: PolicyStore): Promise<StoreState> {
  const policies = await store.listPolicies();
  const entries = await store.audit({ limit: 100_000 });
  return { revisions: Object.fromEntries(policies.map(({ name, revision }) => [name, revision])), auditLength: entries.length };
}

/** The id of the newest audit entry (0 when there is none), to read only what a test wrote with `after`. */
export async function lastAuditId(store: PolicyStore): Promise<number> {
  const entries = await store.audit({ limit: 100_000 });
  return entries.at(-1)?.id ?? 0;
}
