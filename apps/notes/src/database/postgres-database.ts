import { Logger } from '@nestjs/common';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { SqlDatabase, SqlExecutor } from './sql-database';

/**
 * A PostgreSQL server through a `pg` connection pool, used when `DATABASE_URL` is set.
 *
 * @example
 * const db = await PostgresDatabase.connect({ connectionString: process.env.DATABASE_URL });
 */
export class PostgresDatabase implements SqlDatabase {
  private readonly logger = new Logger('PostgresDatabase');

  private constructor(
    private readonly pool: Pool,
    readonly description: string,
  ) {
    // An idle connection that breaks would otherwise crash the process; the pool replaces it on next use.
    pool.on('error', (error) => this.logger.warn(`idle PostgreSQL connection failed: ${error.message}`));
  }

  /** Connects once to fail at start, not at the first request, when the server cannot be reached. */
  static async connect(config: PoolConfig): Promise<PostgresDatabase> {
    const pool = new Pool({ connectionTimeoutMillis: 5_000, ...config });
    try {
      (await pool.connect()).release();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresDatabase(pool, `PostgreSQL at ${describe(config.connectionString)}`);
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, [...params])).rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(executorOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function executorOf(client: PoolClient): SqlExecutor {
  return {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, [...params])).rows as Row[],
    exec: async (sql: string) => void (await client.query(sql)),
  };
}

/** host:port/database of a connection string, without user or password. */
function describe(connectionString: string | undefined): string {
  if (!connectionString) return 'the PG* environment settings';
  try {
    const url = new URL(connectionString);
    return `${url.host}${url.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
