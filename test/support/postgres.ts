import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PgDriver, PgliteDriver, PostgresPolicyStore, type PostgresPolicyStoreOptions, type SqlDriver } from 'nestjs-authz';
import { freshDataDir } from './embedded-postgres';

/**
 * A PostgreSQL server for the suites that need one, e.g. postgres://postgres@127.0.0.1:5432/postgres. `.ci/run`
 * starts a throwaway cluster and sets it; without it, only the PGlite variants run.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** A database for one suite and how to remove it afterwards. */
export interface TestDatabase {
  readonly driver: SqlDriver;
  /** The schema the store uses (unique per suite on the server, so suites can share it). */
  readonly schema: string;
  dispose(): Promise<void>;
}

/** PGlite in a fresh data directory (a copy of a template cluster: well under a second). */
export async function pgliteDatabase(): Promise<TestDatabase & { readonly db: PGlite }> {
  const data = await freshDataDir();
  const db = await PGlite.create({ dataDir: join(data.dataDir, 'pglite') });
  return {
    db,
    driver: PgliteDriver.wrap(db),
    schema: 'authz',
    dispose: async () => {
      if (!db.closed) await db.close();
      await data.remove();
    },
  };
}

/** A schema of its own on the test server, dropped at the end. */
export async function serverDatabase(): Promise<TestDatabase> {
  const schema = `authz_test_${randomBytes(6).toString('hex')}`;
  const driver = await PgDriver.connect(TEST_DATABASE_URL!);
  return {
    driver,
    schema,
    dispose: async () => {
      const admin = await PgDriver.connect(TEST_DATABASE_URL!);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** The backends a suite runs on: PGlite always, the server when TEST_DATABASE_URL is set. */
export function databaseBackends(): [string, () => Promise<TestDatabase>][] {
  const backends: [string, () => Promise<TestDatabase>][] = [['PGlite', pgliteDatabase]];
  if (TEST_DATABASE_URL) backends.push(['PostgreSQL (TEST_DATABASE_URL)', serverDatabase]);
  return backends;
}

/** Opens a store on the database; the store owns the driver (closing the store closes a PgDriver's pool). */
export function openStore(database: TestDatabase, options: Partial<PostgresPolicyStoreOptions> = {}): Promise<PostgresPolicyStore> {
  return PostgresPolicyStore.open({ driver: database.driver, schema: database.schema, ...options });
}
