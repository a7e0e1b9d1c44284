import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor } from './sql-database';

type PGliteQueries = Pick<PGlite, 'query' | 'exec'>;

/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly) with its files in `dataDir`, so `npm start`
 * needs no database server. One process at a time may open a data directory.
 *
 * @example
 * const db = await PgliteDatabase.open('.data/pglite');
 */
export class PgliteDatabase implements SqlDatabase {
  private constructor(
    private readonly db: PGlite,
    readonly description: string,
  ) {}

  static async open(dataDir: string): Promise<PgliteDatabase> {
    await mkdir(dataDir, { recursive: true });
    const db = await PGlite.create({ dataDir });
    return new PgliteDatabase(db, `embedded PostgreSQL (PGlite) in ${dataDir}`);
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

  close(): Promise<void> {
    return this.db.close();
  }
}

async function queryWith<Row>(db: PGliteQueries, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return (await db.query<Row>(sql, [...params])).rows;
}
