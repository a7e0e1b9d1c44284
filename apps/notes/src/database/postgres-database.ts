import { PgDriver, type SqlDriver } from 'nestjs-authz';
import type { PoolConfig } from 'pg';
import type { SqlDatabase, SqlExecutor } from './sql-database';

/**
 * A PostgreSQL server, used when `DATABASE_URL` is set: the library's `PgDriver` (a `pg` pool) with `exec` for
 * migrations. The policy store gets a pool of its own on the same database ({@link storeDriver}).
 *
 * @example
 * const db = await PostgresDatabase.connect({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresDatabase implements SqlDatabase {
  private constructor(
    private readonly driver: PgDriver,
    private readonly config: PoolConfig,
  ) {}

  /** Connects once to fail at start, not at the first request, when the server cannot be reached. */
  static async connect(config: PoolConfig): Promise<PostgresDatabase> {
    return new PostgresDatabase(await PgDriver.connect(config), config);
  }

  get description(): string {
    return this.driver.description;
  }

  query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.driver.query<Row>(sql, params);
  }

  // Without parameters `pg` uses the simple query protocol, which runs several statements.
  async exec(sql: string): Promise<void> {
    await this.driver.query(sql);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.driver.transaction((tx) => work({ query: (sql, params) => tx.query(sql, params), exec: async (sql) => void (await tx.query(sql)) }));
  }

  /** A new `PgDriver` on the same database, for the policy store (which closes it). */
  storeDriver(): Promise<SqlDriver> {
    return PgDriver.connect(this.config);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
