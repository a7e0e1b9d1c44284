import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteDriver, type SqlDriver } from 'nestjs-authz';
import { lockDataDir, type HeldLock } from './data-dir-lock';
import type { SqlDatabase, SqlExecutor } from './sql-database';

type PGliteQueries = Pick<PGlite, 'query' | 'exec'>;

/** The embedded database's directory in DATA_DIR. */
export const pgliteDirIn = (dataDir: string): string => join(dataDir, 'pglite');

/** The lock file next to a PGlite data directory: `.data/pglite` → `.data/pglite.pid`. */
export const lockFileOf = (dataDir: string): string => `${dataDir}.pid`;

/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly) with its files in `dataDir`, so `npm start`
 * needs no database server. One process at a time may open a data directory: `open()` takes the lock file
 * `<dataDir>.pid` (see {@link lockDataDir}) and `close()` gives it back.
 *
 * The one PGlite instance serves the notes and, through {@link storeDriver}, the policy store; it is closed when
 * both have closed, in whichever order the app's shutdown hooks run.
 *
 * @example
 * const db = await PgliteDatabase.open('.data/pglite');
 * const store = await PostgresPolicyStore.open({ driver: db.storeDriver() });
 */
export class PgliteDatabase implements SqlDatabase {
  /** Holders of the instance: this database, plus each store driver not closed yet. */
  private users = 1;
  private ownerDone = false;
  private closing?: Promise<void>;

  private constructor(
    private readonly db: PGlite,
    private readonly lock: HeldLock,
    readonly description: string,
  ) {}

  /** Opens (or creates) the database in `dataDir`; `command` names this process in the lock file, e.g. `the notes app`. */
  static async open(dataDir: string, command = 'the notes app'): Promise<PgliteDatabase> {
    await mkdir(dataDir, { recursive: true });
    const lock = await lockDataDir(lockFileOf(dataDir), dataDir, command);
    try {
      const db = await PGlite.create({ dataDir });
      return new PgliteDatabase(db, lock, `embedded PostgreSQL (PGlite) in ${dataDir}`);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Whether the PGlite instance has been closed. */
  get closed(): boolean {
    return this.db.closed;
  }

  query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return queryWith<Row>(this.db, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work({ query: (sql, params = []) => queryWith(tx, sql, params), exec: async (sql) => void (await tx.exec(sql)) }));
  }

  /**
   * The library's driver on this same PGlite instance, for the policy store: its `close()` (which the store calls)
   * lets go of the instance, which closes once this database is closed too.
   */
  storeDriver(): SqlDriver {
    const driver = PgliteDriver.wrap(this.db, this.description);
    this.users++;
    let released = false;
    return {
      description: driver.description,
      query: (sql, params) => driver.query(sql, params),
      transaction: (work) => driver.transaction(work),
      listen: (channel, onNotification) => driver.listen(channel, onNotification),
      close: async () => {
        if (released) return;
        released = true;
        await this.letGo();
      },
    };
  }

  /** Lets go of the instance (closed once the store drivers have let go too) and, then, of the lock file. */
  close(): Promise<void> {
    if (this.ownerDone) return this.closing ?? Promise.resolve();
    this.ownerDone = true;
    return this.letGo();
  }

  private letGo(): Promise<void> {
    this.users--;
    if (this.users > 0) return Promise.resolve();
    this.closing ??= (async () => {
      try {
        await this.db.close();
      } finally {
        await this.lock.release();
      }
    })();
    return this.closing;
  }
}

async function queryWith<Row>(db: PGliteQueries, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return (await db.query<Row>(sql, [...params])).rows;
}
