import { migrate, SCHEMA_MIGRATIONS, type Migration } from './migrations';
import { PgliteDatabase, pgliteDirIn } from './pglite-database';
import { PostgresDatabase } from './postgres-database';
import type { SqlDatabase } from './sql-database';

/** Which database the app uses. */
export interface DatabaseSettings {
  /** A PostgreSQL server; without it, the embedded database in `dataDir`. */
  readonly databaseUrl?: string;
  /** Directory of the embedded database (its files go to `<dataDir>/pglite`). */
  readonly dataDir: string;
  /** Migrations to run after the schema (e.g. demo data). */
  readonly extraMigrations?: readonly Migration[];
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(settings: DatabaseSettings): Promise<SqlDatabase> {
  const db = settings.databaseUrl
    ? await PostgresDatabase.connect({ connectionString: settings.databaseUrl })
    : await PgliteDatabase.open(pgliteDirIn(settings.dataDir));
  try {
    await migrate(db, [...SCHEMA_MIGRATIONS, ...(settings.extraMigrations ?? [])]);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
