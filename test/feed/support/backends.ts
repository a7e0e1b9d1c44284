import { PgDriver, PgliteDriver, PostgresPolicyStore, type PostgresPolicyStoreOptions, type SqlDriver } from 'nestjs-authz';
import { pgliteDatabase, TEST_DATABASE_URL } from '../../support/postgres';
import { deafDriver, freshSchema, ServerControl } from './server';

/** Options of a store a suite opens, beside the driver and schema the backend gives. */
export type StoreOptions = Omit<PostgresPolicyStoreOptions, 'driver' | 'schema'> & {
  /** Its listener drops every notification (the control of a suite). */
  readonly deaf?: boolean;
};

/** One database that several stores share, each with a driver of its own. */
export interface SharedDatabase {
  readonly schema: string;
  /** A new store on the shared schema, with its own driver (server: its own pool and listener). */
  openStore(options?: StoreOptions): Promise<PostgresPolicyStore>;
  /** A new driver of its own, for suites that open stores themselves. */
  driver(): Promise<SqlDriver>;
  /** The schema's migration records. */
  migrations(): Promise<{ version: number; name: string }[]>;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /** `pglite`: one instance in this process; `server`: the PostgreSQL server of TEST_DATABASE_URL. */
  readonly kind: 'pglite' | 'server';
  open(label: string): Promise<SharedDatabase>;
}

/** One PGlite instance in this process: every store wraps it (PgliteDriver.wrap), LISTEN/NOTIFY stays in-process. */
async function pglite(): Promise<SharedDatabase> {
  const database = await pgliteDatabase();
  const driver = async () => PgliteDriver.wrap(database.db);
  return shared(database.schema, driver, (sql) => database.db.query(sql).then((result) => result.rows as never), database.dispose);
}

/** The PostgreSQL server of TEST_DATABASE_URL, on a schema of its own, dropped at the end. */
async function server(label: string): Promise<SharedDatabase> {
  const schema = freshSchema(label);
  const control = await ServerControl.connect();
  return shared(
    schema,
    () => PgDriver.connect(TEST_DATABASE_URL!),
    (sql) => control.query(sql),
    async () => {
      await control.dropSchema(schema);
      await control.close();
    },
  );
}

function shared(schema: string, driver: () => Promise<SqlDriver>, query: (sql: string) => Promise<{ version: number; name: string }[]>, dispose: () => Promise<void>): SharedDatabase {
  return {
    schema,
    driver,
    openStore: async ({ deaf, ...options } = {}) => {
      const own = await driver();
      return PostgresPolicyStore.open({ driver: deaf ? deafDriver(own) : own, schema, ...options });
    },
    migrations: async () => (await query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`)).map((row) => ({ version: Number(row.version), name: row.name })),
    dispose,
  };
}

/** PGlite always; the server too when TEST_DATABASE_URL is set. */
export function feedBackends(): Backend[] {
  const backends: Backend[] = [{ name: 'PGlite (one instance, in-process LISTEN/NOTIFY)', kind: 'pglite', open: pglite }];
  if (TEST_DATABASE_URL) backends.push({ name: 'PostgreSQL (TEST_DATABASE_URL)', kind: 'server', open: server });
  return backends;
}
