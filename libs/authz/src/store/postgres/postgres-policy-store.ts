import { AuthzConfigurationError } from '../../authz.exceptions';
import type { DecisionGrants } from '../../policy/grants';
import { checkPolicyDocument, type PolicyDocument, type SubjectGrants } from '../../policy/policy-document';
import { checkEdit, sameState } from '../apply-edit';
import { editTarget, type AuditEntry, type AuditQuery, type EditOptions, type EditResult, type EditState, type PolicyEdit } from '../policy-edit';
import { notifyAll, PolicyStore, type PolicyChange, type PolicyChangeListener, type PolicySummary, type ResourceGrants, type ResourcePage, type StoredPolicy, type SubjectEntry, type SubjectPage, type SubjectResource } from '../policy-store';
import { PolicyNotFoundError, RevisionConflictError, RoleInUseError, RoleNotFoundError } from '../store-errors';
import { ChangeFeed, changePayload, type ChangeFeedTiming } from './change-feed';
import { migrate } from './migrations';
import type { SqlDriver, SqlExecutor } from './sql-driver';

type Document = Required<PolicyDocument>;

/** Options of {@link PostgresPolicyStore.open}. */
export interface PostgresPolicyStoreOptions {
  /** The database: {@link PgDriver} (PostgreSQL server) or {@link PgliteDriver} (embedded, one process). */
  readonly driver: SqlDriver;
  /** Schema of the store's tables, created by its migrations. Default `'authz'`. */
  readonly schema?: string;
  /** How often each instance reads the revision to catch a change its listener missed, in ms. Default 1000. */
  readonly pollIntervalMs?: number;
  /** Backoff of the listener's reconnects, in ms. Default `{ minMs: 100, maxMs: 5000 }`. */
  readonly reconnect?: { readonly minMs?: number; readonly maxMs?: number };
}

interface GrantRow {
  kind: 'policy' | 'subject-role' | 'identity-role' | 'resource-role' | 'subject-permission' | 'role-permission';
  name: string;
  via: string | null;
}

interface DocumentRow {
  kind: 'policy' | 'role' | 'role-permission' | 'subject-role' | 'subject-permission' | 'identity-role';
  a: string;
  b: string | null;
}

interface AuditRow {
  id: string | number;
  at: Date | string;
  actor: string;
  action: PolicyEdit['kind'];
  policy: string;
  target: AuditEntry['target'];
  before: EditState;
  after: EditState;
  revision: string | number;
}

/**
 * Grants in PostgreSQL (or PGlite, the same SQL): one indexed query per decision, transactional edits that bump a
 * revision and write their audit entry in the same transaction, and a change feed (LISTEN/NOTIFY, ids only) that
 * tells every instance which cached decisions to drop. The schema is created and upgraded at start by versioned
 * migrations under an advisory lock.
 *
 * @example
 * AuthzModule.forRoot({
 *   issuer, audience: 'notes-api',
 *   policyStore: async () => PostgresPolicyStore.open({ driver: await PgDriver.connect(process.env.DATABASE_URL!) }),
 * })
 */
export class PostgresPolicyStore extends PolicyStore {
  private readonly listeners = new Set<PolicyChangeListener>();
  private readonly feed: ChangeFeed;
  private readonly channel: string;

  private constructor(
    private readonly driver: SqlDriver,
    private readonly schema: string,
    timing: ChangeFeedTiming,
  ) {
    super();
    this.channel = `${schema}_changes`;
    this.feed = new ChangeFeed(driver, this.channel, () => this.readRevision(driver), timing, (change) => this.publish(change));
  }

  /** Migrates the schema, starts listening for changes, and returns the ready store. */
  static async open(options: PostgresPolicyStoreOptions): Promise<PostgresPolicyStore> {
    const schema = options.schema ?? 'authz';
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) {
      throw new AuthzConfigurationError(`PostgresPolicyStore: schema ${JSON.stringify(schema)} is not a plain lowercase identifier.`, "use letters, digits and '_', starting with a letter or '_', e.g. 'authz'.");
    }
    const pollIntervalMs = checkedMs(options.pollIntervalMs, 'pollIntervalMs', 1_000, 10, 3_600_000);
    const reconnectMinMs = checkedMs(options.reconnect?.minMs, 'reconnect.minMs', 100, 1, 60_000);
    const reconnectMaxMs = checkedMs(options.reconnect?.maxMs, 'reconnect.maxMs', 5_000, reconnectMinMs, 600_000);
    await migrate(options.driver, schema);
    const store = new PostgresPolicyStore(options.driver, schema, { pollIntervalMs, reconnectMinMs, reconnectMaxMs });
    try {
      await store.feed.start();
    } catch (error) {
      await store.feed.close();
      throw error;
    }
    return store;
  }

  async grantsFor(policy: string, subject: string, identityRoles: readonly string[], resources: readonly string[] = []): Promise<DecisionGrants | undefined> {
    const s = this.schema;
    // One statement for type-wide and resource questions alike (one prepared plan); no resources is an empty array.
    const rows = await this.driver.query<GrantRow>(
      `WITH held AS (
         SELECT 'subject-role' AS kind, role, NULL::text AS via FROM ${s}.subject_roles WHERE policy = $1 AND subject = $2
         UNION ALL
         SELECT 'identity-role', role, identity_role FROM ${s}.identity_roles WHERE policy = $1 AND identity_role = ANY($3::text[])
         UNION ALL
         SELECT 'resource-role', role, resource FROM ${s}.resource_roles WHERE policy = $1 AND subject = $2 AND resource = ANY($4::text[])
       )
       SELECT 'policy' AS kind, revision::text AS name, NULL::text AS via FROM ${s}.policies WHERE name = $1
       UNION ALL SELECT kind, role, via FROM held
       UNION ALL SELECT 'subject-permission', permission, NULL FROM ${s}.subject_permissions WHERE policy = $1 AND subject = $2
       UNION ALL SELECT 'role-permission', permission, role FROM ${s}.role_permissions WHERE policy = $1 AND role IN (SELECT role FROM held)`,
      [policy, subject, [...identityRoles], [...resources]],
    );
    const revision = rows.find((row) => row.kind === 'policy');
    if (!revision) return undefined;
    const subjectRoles: string[] = [];
    const subjectPermissions: string[] = [];
    const mapped = new Map<string, string[]>();
    const resourceRoles = new Map<string, string[]>();
    const rolePermissions = new Map<string, string[]>();
    for (const row of rows) {
      if (row.kind === 'subject-role') subjectRoles.push(row.name);
      else if (row.kind === 'subject-permission') subjectPermissions.push(row.name);
      else if (row.kind === 'identity-role') listIn(mapped, row.via!).push(row.name);
      else if (row.kind === 'resource-role') listIn(resourceRoles, row.via!).push(row.name);
      else if (row.kind === 'role-permission') listIn(rolePermissions, row.via!).push(row.name);
    }
    return { revision: Number(revision.name), subjectRoles, subjectPermissions, identityRoles: mapped, resourceRoles, rolePermissions };
  }

  async resourceGrants(policy: string, resource: string): Promise<ResourceGrants | undefined> {
    const rows = await this.driver.query<{ subject: string | null; role: string | null; revision: string }>(
      `SELECT r.subject, r.role, p.revision::text AS revision FROM ${this.schema}.policies p
       LEFT JOIN ${this.schema}.resource_roles r ON r.policy = p.name AND r.resource = $2
       WHERE p.name = $1 ORDER BY r.subject COLLATE "C", r.role COLLATE "C"`,
      [policy, resource],
    );
    if (rows.length === 0) return undefined;
    const subjects = new Map<string, string[]>();
    for (const row of rows) if (row.subject !== null) listIn(subjects, row.subject).push(row.role!);
    return { policy, resource, revision: Number(rows[0].revision), subjects: Object.fromEntries(subjects) };
  }

  async subjectResources(policy: string, subject: string, page: ResourcePage): Promise<SubjectResource[] | undefined> {
    const rows = await this.driver.query<{ resource: string | null; roles: string[] | null }>(
      `SELECT r.resource, r.roles FROM ${this.schema}.policies p
       LEFT JOIN LATERAL (
         SELECT resource, array_agg(role ORDER BY role COLLATE "C") AS roles FROM ${this.schema}.resource_roles
         WHERE policy = p.name AND subject = $2 AND ($3::text IS NULL OR resource COLLATE "C" > $3::text COLLATE "C")
         GROUP BY resource ORDER BY resource COLLATE "C" LIMIT $4
       ) r ON true
       WHERE p.name = $1`,
      [policy, subject, page.after ?? null, page.limit],
    );
    if (rows.length === 0) return undefined;
    return rows.filter((row) => row.resource !== null).map((row) => ({ resource: row.resource!, roles: row.roles! }));
  }

  async listPolicies(): Promise<PolicySummary[]> {
    const rows = await this.driver.query<{ name: string; revision: string }>(`SELECT name, revision FROM ${this.schema}.policies ORDER BY name COLLATE "C"`);
    return rows.map((row) => ({ name: row.name, revision: Number(row.revision) }));
  }

  async getPolicy(policy: string, options: { readonly subjects?: boolean } = {}): Promise<StoredPolicy | undefined> {
    return readPolicy(this.driver, this.schema, policy, options.subjects !== false);
  }

  async listSubjects(policy: string, page: SubjectPage): Promise<SubjectEntry[] | undefined> {
    const s = this.schema;
    const matches = `policy = $1 AND ($2::text IS NULL OR starts_with(subject, $2::text)) AND ($3::text IS NULL OR subject COLLATE "C" > $3::text COLLATE "C")`;
    const rows = await this.driver.query<{ subject: string | null; roles: string[] | null; permissions: string[] | null }>(
      `WITH page AS (
         SELECT subject FROM (SELECT subject FROM ${s}.subject_roles WHERE ${matches} UNION SELECT subject FROM ${s}.subject_permissions WHERE ${matches}) AS named
         ORDER BY subject COLLATE "C" LIMIT $4
       )
       SELECT page.subject,
              (SELECT array_agg(role ORDER BY role COLLATE "C") FROM ${s}.subject_roles r WHERE r.policy = $1 AND r.subject = page.subject) AS roles,
              (SELECT array_agg(permission ORDER BY permission COLLATE "C") FROM ${s}.subject_permissions g WHERE g.policy = $1 AND g.subject = page.subject) AS permissions
       FROM ${s}.policies p LEFT JOIN page ON true WHERE p.name = $1 ORDER BY page.subject COLLATE "C"`,
      [policy, page.prefix ?? null, page.after ?? null, page.limit],
    );
    if (rows.length === 0) return undefined;
    return rows.filter((row) => row.subject !== null).map((row) => ({ subject: row.subject!, roles: row.roles ?? [], permissions: row.permissions ?? [] }));
  }

  async edit(edits: readonly PolicyEdit[], options: EditOptions): Promise<EditResult> {
    edits.forEach(checkEdit);
    const changes: (PolicyChange & { revision: number })[] = [];
    const result = await this.driver.transaction(async (tx) => {
      // Writers queue on the revision row first, whatever policies they touch: no lock-order deadlocks.
      let revision = Number((await tx.query<{ value: string }>(`SELECT value FROM ${this.schema}.revision FOR UPDATE`))[0].value);
      const changed: boolean[] = [];
      const revisions: number[] = [];
      for (const edit of edits) {
        const applied = await this.applyEdit(tx, edit);
        if (applied.unchanged) {
          changed.push(false);
          revisions.push(applied.revision);
          continue;
        }
        revision = Number((await tx.query<{ value: string }>(`UPDATE ${this.schema}.revision SET value = value + 1 RETURNING value`))[0].value);
        await tx.query(`UPDATE ${this.schema}.policies SET revision = $2, updated_at = now() WHERE name = $1`, [edit.policy, revision]);
        const target = editTarget(edit);
        const subject = 'subject' in target ? target.subject : undefined;
        const resource = 'resource' in target ? target.resource : undefined;
        await tx.query(
          `INSERT INTO ${this.schema}.audit (actor, action, policy, subject, resource, target, before, after, revision) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9)`,
          [options.actor, edit.kind, edit.policy, subject ?? null, resource ?? null, JSON.stringify(target), json(applied.before), json(applied.after), revision],
        );
        // Delivered at commit, to every instance; ids only.
        await tx.query('SELECT pg_notify($1, $2)', [this.channel, changePayload({ policy: edit.policy, subject, resource, revision })]);
        changes.push({ policy: edit.policy, subject, resource, revision });
        changed.push(true);
        revisions.push(revision);
      }
      return { revision, changed, revisions };
    });
    // This instance forgets at once, before the caller answers; the others hear of it through NOTIFY.
    changes.forEach((change) => this.feed.report(change));
    return result;
  }

  async audit(query: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.driver.query<AuditRow>(
      `SELECT id, at, actor, action, policy, target, before, after, revision FROM ${this.schema}.audit
       WHERE id > $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR policy = $3) AND ($4::text IS NULL OR subject = $4) AND ($5::text IS NULL OR resource = $5)
       ORDER BY id ${query.order === 'newest-first' ? 'DESC' : 'ASC'} LIMIT $6`,
      [query.after ?? 0, query.before ?? null, query.policy ?? null, query.subject ?? null, query.resource ?? null, query.limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: new Date(row.at).toISOString(),
      actor: row.actor,
      action: row.action,
      policy: row.policy,
      target: row.target,
      before: row.before,
      after: row.after,
      revision: Number(row.revision),
    }));
  }

  onChange(listener: PolicyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  override feedDownSince(): number | undefined {
    return this.feed.downSince();
  }

  override async close(): Promise<void> {
    await this.feed.close();
    await this.driver.close();
  }

  private publish(change: PolicyChange): void {
    notifyAll(this.listeners, change);
  }

  private async readRevision(db: SqlExecutor): Promise<number> {
    return Number((await db.query<{ value: string }>(`SELECT value FROM ${this.schema}.revision`))[0].value);
  }

  /** Applies one edit inside the transaction; returns the touched part before and after, or the revision when unchanged. */
  private async applyEdit(tx: SqlExecutor, edit: PolicyEdit): Promise<{ unchanged: false; before: EditState; after: EditState } | { unchanged: true; revision: number }> {
    const s = this.schema;
    const { policy } = edit;
    // A new policy's row is created first, so that concurrent creators queue on it; FOR UPDATE serialises writers.
    if (edit.kind === 'put-policy') await tx.query(`INSERT INTO ${s}.policies (name, revision) VALUES ($1, 0) ON CONFLICT DO NOTHING`, [policy]);
    const locked = await tx.query<{ revision: string }>(`SELECT revision FROM ${s}.policies WHERE name = $1 FOR UPDATE`, [policy]);
    const current = locked.length === 0 ? 0 : Number(locked[0].revision);
    if (edit.ifRevision !== undefined && edit.ifRevision !== current) throw new RevisionConflictError(policy, edit.ifRevision, current);
    if (locked.length === 0) throw new PolicyNotFoundError(policy);
    const roleExists = async (role: string) => {
      const found = await tx.query(`SELECT 1 FROM ${s}.roles WHERE policy = $1 AND role = $2`, [policy, role]);
      if (found.length === 0) throw new RoleNotFoundError(policy, role);
    };
    let before: EditState;
    let after: EditState;
    switch (edit.kind) {
      case 'put-policy': {
        const document = checkPolicyDocument(edit.document);
        before = current === 0 ? null : (await readPolicy(tx, s, policy))!.document;
        // Resource grants are not part of a document: a role they hold must stay.
        const [dropped] = await tx.query<{ role: string }>(
          `SELECT role FROM ${s}.resource_roles WHERE policy = $1 AND NOT (role = ANY($2::text[])) LIMIT 1`,
          [policy, Object.keys(document.roles)],
        );
        if (dropped) throw new RoleInUseError(policy, dropped.role);
        await writeDocument(tx, s, policy, document);
        after = document;
        break;
      }
      case 'grant-role':
      case 'revoke-role':
      case 'grant-permission':
      case 'revoke-permission': {
        const [table, column, name] = 'role' in edit ? ['subject_roles', 'role', edit.role] : ['subject_permissions', 'permission', edit.permission];
        if ('role' in edit) await roleExists(edit.role);
        before = await readSubject(tx, s, policy, edit.subject);
        await tx.query(
          edit.kind.startsWith('grant')
            ? `INSERT INTO ${s}.${table} (policy, subject, ${column}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
            : `DELETE FROM ${s}.${table} WHERE policy = $1 AND subject = $2 AND ${column} = $3`,
          [policy, edit.subject, name],
        );
        after = await readSubject(tx, s, policy, edit.subject);
        break;
      }
      case 'put-role': {
        const held = await tx.query<{ permission: string | null }>(
          `SELECT p.permission FROM ${s}.roles r LEFT JOIN ${s}.role_permissions p USING (policy, role) WHERE r.policy = $1 AND r.role = $2 ORDER BY p.permission COLLATE "C"`,
          [policy, edit.role],
        );
        before = held.length === 0 ? null : { permissions: held.flatMap((row) => (row.permission === null ? [] : [row.permission])) };
        const permissions = [...new Set(edit.permissions)];
        await tx.query(`INSERT INTO ${s}.roles (policy, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [policy, edit.role]);
        await tx.query(`DELETE FROM ${s}.role_permissions WHERE policy = $1 AND role = $2`, [policy, edit.role]);
        await tx.query(`INSERT INTO ${s}.role_permissions (policy, role, permission) SELECT $1, $2, unnest($3::text[])`, [policy, edit.role, permissions]);
        after = { permissions };
        break;
      }
      case 'delete-role': {
        await roleExists(edit.role);
        const inUse = await tx.query(
          `SELECT 1 FROM ${s}.subject_roles WHERE policy = $1 AND role = $2
           UNION ALL SELECT 1 FROM ${s}.identity_roles WHERE policy = $1 AND role = $2
           UNION ALL SELECT 1 FROM ${s}.resource_roles WHERE policy = $1 AND role = $2 LIMIT 1`,
          [policy, edit.role],
        );
        if (inUse.length > 0) throw new RoleInUseError(policy, edit.role);
        const held = await tx.query<{ permission: string }>(`SELECT permission FROM ${s}.role_permissions WHERE policy = $1 AND role = $2 ORDER BY permission COLLATE "C"`, [policy, edit.role]);
        before = { permissions: held.map((row) => row.permission) };
        await tx.query(`DELETE FROM ${s}.roles WHERE policy = $1 AND role = $2`, [policy, edit.role]);
        after = null;
        break;
      }
      case 'put-identity-role':
      case 'delete-identity-role': {
        const held = await tx.query<{ role: string }>(`SELECT role FROM ${s}.identity_roles WHERE policy = $1 AND identity_role = $2 ORDER BY role COLLATE "C"`, [policy, edit.identityRole]);
        before = held.length === 0 ? null : { roles: held.map((row) => row.role) };
        await tx.query(`DELETE FROM ${s}.identity_roles WHERE policy = $1 AND identity_role = $2`, [policy, edit.identityRole]);
        if (edit.kind === 'put-identity-role') {
          const roles = [...new Set(edit.roles)];
          for (const role of roles) await roleExists(role);
          await tx.query(`INSERT INTO ${s}.identity_roles (policy, identity_role, role) SELECT $1, $2, unnest($3::text[])`, [policy, edit.identityRole, roles]);
          after = { roles };
        } else {
          after = null;
        }
        break;
      }
      case 'grant-resource-role':
      case 'revoke-resource-role': {
        await roleExists(edit.role);
        const params = [policy, edit.subject, edit.resource];
        const rolesOn = async () =>
          (await tx.query<{ role: string }>(`SELECT role FROM ${s}.resource_roles WHERE policy = $1 AND subject = $2 AND resource = $3 ORDER BY role COLLATE "C"`, params)).map((row) => row.role);
        before = { roles: await rolesOn() };
        await tx.query(
          edit.kind === 'grant-resource-role'
            ? `INSERT INTO ${s}.resource_roles (policy, subject, resource, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
            : `DELETE FROM ${s}.resource_roles WHERE policy = $1 AND subject = $2 AND resource = $3 AND role = $4`,
          [...params, edit.role],
        );
        after = { roles: await rolesOn() };
        break;
      }
      case 'delete-resource': {
        const held = await tx.query<{ subject: string; role: string }>(
          `SELECT subject, role FROM ${s}.resource_roles WHERE policy = $1 AND resource = $2 ORDER BY subject COLLATE "C", role COLLATE "C"`,
          [policy, edit.resource],
        );
        await tx.query(`DELETE FROM ${s}.resource_roles WHERE policy = $1 AND resource = $2`, [policy, edit.resource]);
        const subjects = new Map<string, string[]>();
        for (const row of held) listIn(subjects, row.subject).push(row.role);
        before = { subjects: Object.fromEntries(subjects) };
        after = { subjects: {} };
        break;
      }
    }
    // A new policy is a change even when empty; otherwise an edit that leaves things as they were is no change.
    return current !== 0 && sameState(before, after) ? { unchanged: true, revision: current } : { unchanged: false, before, after };
  }
}

/** A whole policy in one statement (one snapshot), lists in a stable order; without its subjects when asked. */
async function readPolicy(db: SqlExecutor, s: string, policy: string, withSubjects = true): Promise<StoredPolicy | undefined> {
  const rows = await db.query<DocumentRow>(
    `SELECT * FROM (
     SELECT 'policy' AS kind, revision::text AS a, NULL::text AS b FROM ${s}.policies WHERE name = $1
     UNION ALL SELECT 'role', role, NULL FROM ${s}.roles WHERE policy = $1
     UNION ALL SELECT 'role-permission', role, permission FROM ${s}.role_permissions WHERE policy = $1
     UNION ALL SELECT 'subject-role', subject, role FROM ${s}.subject_roles WHERE policy = $1 AND $2
     UNION ALL SELECT 'subject-permission', subject, permission FROM ${s}.subject_permissions WHERE policy = $1 AND $2
     UNION ALL SELECT 'identity-role', identity_role, role FROM ${s}.identity_roles WHERE policy = $1
     ) AS parts ORDER BY kind, a COLLATE "C", b COLLATE "C"`,
    [policy, withSubjects],
  );
  const head = rows.find((row) => row.kind === 'policy');
  if (!head) return undefined;
  const roles = new Map<string, string[]>();
  const subjects = new Map<string, Required<SubjectGrants>>();
  const identityRoles = new Map<string, string[]>();
  const subject = (name: string) => subjects.get(name) ?? subjects.set(name, { roles: [], permissions: [] }).get(name)!;
  for (const row of rows) {
    if (row.kind === 'role') listIn(roles, row.a);
    else if (row.kind === 'role-permission') listIn(roles, row.a).push(row.b!);
    else if (row.kind === 'subject-role') subject(row.a).roles.push(row.b!);
    else if (row.kind === 'subject-permission') subject(row.a).permissions.push(row.b!);
    else if (row.kind === 'identity-role') listIn(identityRoles, row.a).push(row.b!);
  }
  const document: Document = { roles: Object.fromEntries(roles), subjects: Object.fromEntries(subjects), identityRoles: Object.fromEntries(identityRoles) };
  return { name: policy, revision: Number(head.a), document };
}

/**
 * Replaces a policy's roles, grants and mappings with those of a checked document. Roles the document keeps are kept
 * (resource grants refer to them); the caller has checked that no resource grant holds a dropped one.
 */
async function writeDocument(tx: SqlExecutor, s: string, policy: string, document: Document): Promise<void> {
  for (const table of ['subject_roles', 'identity_roles', 'subject_permissions', 'role_permissions']) await tx.query(`DELETE FROM ${s}.${table} WHERE policy = $1`, [policy]);
  const roles = Object.entries(document.roles);
  const names = roles.map(([role]) => role);
  await tx.query(`DELETE FROM ${s}.roles WHERE policy = $1 AND NOT (role = ANY($2::text[]))`, [policy, names]);
  await tx.query(`INSERT INTO ${s}.roles (policy, role) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, [policy, names]);
  const pairs = (entries: [string, readonly string[]][]) => [entries.flatMap(([key, list]) => list.map(() => key)), entries.flatMap(([, list]) => list)];
  await tx.query(`INSERT INTO ${s}.role_permissions (policy, role, permission) SELECT $1, * FROM unnest($2::text[], $3::text[])`, [policy, ...pairs(roles)]);
  const subjects = Object.entries(document.subjects);
  await tx.query(`INSERT INTO ${s}.subject_roles (policy, subject, role) SELECT $1, * FROM unnest($2::text[], $3::text[])`, [policy, ...pairs(subjects.map(([name, grants]) => [name, grants.roles ?? []]))]);
  await tx.query(`INSERT INTO ${s}.subject_permissions (policy, subject, permission) SELECT $1, * FROM unnest($2::text[], $3::text[])`, [policy, ...pairs(subjects.map(([name, grants]) => [name, grants.permissions ?? []]))]);
  await tx.query(`INSERT INTO ${s}.identity_roles (policy, identity_role, role) SELECT $1, * FROM unnest($2::text[], $3::text[])`, [policy, ...pairs(Object.entries(document.identityRoles))]);
}

async function readSubject(db: SqlExecutor, s: string, policy: string, subject: string): Promise<Required<SubjectGrants>> {
  const rows = await db.query<{ kind: 'role' | 'permission'; name: string }>(
    `SELECT * FROM (
     SELECT 'role' AS kind, role AS name FROM ${s}.subject_roles WHERE policy = $1 AND subject = $2
     UNION ALL SELECT 'permission', permission FROM ${s}.subject_permissions WHERE policy = $1 AND subject = $2
     ) AS grants ORDER BY kind, name COLLATE "C"`,
    [policy, subject],
  );
  return { roles: rows.filter((row) => row.kind === 'role').map((row) => row.name), permissions: rows.filter((row) => row.kind === 'permission').map((row) => row.name) };
}

function listIn(map: Map<string, string[]>, key: string): string[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

function json(state: EditState): string | null {
  return state === null ? null : JSON.stringify(state);
}

function checkedMs(value: number | undefined, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AuthzConfigurationError(`PostgresPolicyStore: option \`${option}\` is ${JSON.stringify(value)}.`, `give a number of milliseconds from ${min} to ${max}, or leave it out for ${fallback}.`);
  }
  return value;
}
