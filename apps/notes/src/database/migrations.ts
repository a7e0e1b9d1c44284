import type { SqlDatabase, SqlExecutor } from './sql-database';

/** One change to the database, applied once and recorded by name in `schema_migrations`. */
export interface Migration {
  readonly name: string;
  apply(tx: SqlExecutor): Promise<void>;
}

/** The notes schema. Append new migrations; never edit one that has shipped. */
export const SCHEMA_MIGRATIONS: readonly Migration[] = [
  {
    name: '001-create-notes',
    apply: (tx) =>
      tx.exec(`
        CREATE TABLE notes (
          id           uuid        PRIMARY KEY,
          -- Creation order: timestamps can tie (PGlite's clock ticks in milliseconds), this never does.
          position     bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
          title        text        NOT NULL,
          body         text        NOT NULL DEFAULT '',
          confidential boolean     NOT NULL DEFAULT false,
          owner_id     text        NOT NULL,
          created_at   timestamptz NOT NULL DEFAULT now(),
          updated_at   timestamptz NOT NULL DEFAULT now()
        );
      `),
  },
];

// Any fixed number: the advisory lock serialises apps that start at the same time against one server.
const MIGRATION_LOCK = 7_345_001;

/**
 * Applies the migrations a database has not seen yet, in order, in one transaction.
 *
 * @example
 * await migrate(db, SCHEMA_MIGRATIONS);
 */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).map((row) => row.name));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await migration.apply(tx);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [migration.name]);
      applied.push(migration.name);
    }
    return applied;
  });
}
