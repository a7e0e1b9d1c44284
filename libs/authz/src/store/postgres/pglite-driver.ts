import type { PGlite } from '@electric-sql/pglite';
import type { Listening, SqlDriver, SqlExecutor } from './sql-driver';

type Queries = Pick<PGlite, 'query'>;

/**
 * Embedded PostgreSQL (PGlite, an optional peer dependency) for one process: the app and the policy store share one
 * PGlite instance, and LISTEN/NOTIFY works within that process only. Several app instances need a PostgreSQL
 * server ({@link PgDriver}).
 *
 * @example
 * const db = await PGlite.create({ dataDir: '.data/pglite' });
 * const store = await PostgresPolicyStore.open({ driver: PgliteDriver.wrap(db) });
 */
export class PgliteDriver implements SqlDriver {
  private constructor(
    private readonly db: PGlite,
    readonly description: string,
  ) {}

  /** Uses a PGlite instance the app owns (and closes). */
  static wrap(db: PGlite, description = 'embedded PostgreSQL (PGlite)'): PgliteDriver {
    return new PgliteDriver(db, description);
  }

  query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return queryWith<Row>(this.db, sql, params);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work({ query: (sql, params = []) => queryWith(tx, sql, params) }));
  }

  async listen(channel: string, onNotification: (payload: string) => void): Promise<Listening> {
    const unlisten = await this.db.listen(channel, onNotification);
    let settle!: (error: Error | undefined) => void;
    // In one process there is no connection to lose: it ends only when closed.
    const lost = new Promise<Error | undefined>((resolve) => (settle = resolve));
    return {
      lost,
      close: async () => {
        if (!this.db.closed) await unlisten();
        settle(undefined);
      },
    };
  }

  /** The PGlite instance belongs to whoever created it; nothing to release here. */
  async close(): Promise<void> {}
}

async function queryWith<Row>(db: Queries, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return (await db.query<Row>(sql, [...params])).rows;
}
