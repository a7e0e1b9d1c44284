import type { SqlDriver } from './sql-driver';

/** One version of the store's schema. Append new versions; never edit one that has shipped. */
interface Migration {
  readonly version: number;
  readonly name: string;
  /** The statements, with `{schema}` standing for the store's schema name (a checked identifier). */
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'policies, roles, grants, identity roles, revision, audit',
    sql: `
      -- The store's revision: bumped by every change, read by the change feed's poll.
      CREATE TABLE {schema}.revision (
        id    boolean PRIMARY KEY DEFAULT true CHECK (id),
        value bigint  NOT NULL
      );
      INSERT INTO {schema}.revision (value) VALUES (0);

      CREATE TABLE {schema}.policies (
        name       text        PRIMARY KEY,
        revision   bigint      NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE {schema}.roles (
        policy text NOT NULL REFERENCES {schema}.policies (name) ON DELETE CASCADE,
        role   text NOT NULL,
        PRIMARY KEY (policy, role)
      );

      CREATE TABLE {schema}.role_permissions (
        policy     text NOT NULL,
        role       text NOT NULL,
        permission text NOT NULL,
        PRIMARY KEY (policy, role, permission),
        FOREIGN KEY (policy, role) REFERENCES {schema}.roles (policy, role) ON DELETE CASCADE
      );

      -- No cascade from roles: a role that is still held cannot be deleted (RoleInUseError).
      CREATE TABLE {schema}.subject_roles (
        policy  text NOT NULL,
        subject text NOT NULL,
        role    text NOT NULL,
        PRIMARY KEY (policy, subject, role),
        FOREIGN KEY (policy, role) REFERENCES {schema}.roles (policy, role)
      );
      CREATE INDEX ON {schema}.subject_roles (policy, role);

      CREATE TABLE {schema}.subject_permissions (
        policy     text NOT NULL REFERENCES {schema}.policies (name) ON DELETE CASCADE,
        subject    text NOT NULL,
        permission text NOT NULL,
        PRIMARY KEY (policy, subject, permission)
      );

      CREATE TABLE {schema}.identity_roles (
        policy        text NOT NULL,
        identity_role text NOT NULL,
        role          text NOT NULL,
        PRIMARY KEY (policy, identity_role, role),
        FOREIGN KEY (policy, role) REFERENCES {schema}.roles (policy, role)
      );
      CREATE INDEX ON {schema}.identity_roles (policy, role);

      CREATE TABLE {schema}.audit (
        id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at       timestamptz NOT NULL DEFAULT now(),
        actor    text        NOT NULL,
        action   text        NOT NULL,
        policy   text        NOT NULL,
        subject  text,
        target   jsonb       NOT NULL,
        before   jsonb,
        after    jsonb,
        revision bigint      NOT NULL
      );
      CREATE INDEX ON {schema}.audit (policy, id);
      CREATE INDEX ON {schema}.audit (subject, id) WHERE subject IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'resource roles',
    sql: `
      -- A role held on one resource of a policy (owner of note 42). Decisions read it by subject and resource; deleting
      -- a resource reads it by resource. No cascade from roles, as for subject_roles.
      CREATE TABLE {schema}.resource_roles (
        policy   text NOT NULL,
        subject  text NOT NULL,
        resource text NOT NULL,
        role     text NOT NULL,
        PRIMARY KEY (policy, subject, resource, role),
        FOREIGN KEY (policy, role) REFERENCES {schema}.roles (policy, role)
      );
      CREATE INDEX ON {schema}.resource_roles (policy, resource);
      CREATE INDEX ON {schema}.resource_roles (policy, role);

      ALTER TABLE {schema}.audit ADD COLUMN resource text;
      CREATE INDEX ON {schema}.audit (resource, id) WHERE resource IS NOT NULL;
    `,
  },
];

/**
 * Brings the schema up to date in one transaction under an advisory lock, so that instances starting together
 * migrate once: the first applies, the others wait and find nothing to do. Returns the versions applied.
 */
export async function migrate(driver: SqlDriver, schema: string): Promise<number[]> {
  return driver.transaction(async (tx) => {
    // Taken before anything else: even CREATE SCHEMA IF NOT EXISTS fails when two sessions race on it.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nestjs-authz:${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of statements(migration.sql.replaceAll('{schema}', schema))) await tx.query(statement);
      await tx.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** The statements of a migration (they contain no `;` inside literals), without comments. */
function statements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
