import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Client, ClientConfig, Pool, PoolClient, PoolConfig, QueryConfig } from 'pg';
import { AuthzConfigurationError } from '../../authz.exceptions';
import type { Listening, SqlDriver, SqlExecutor } from './sql-driver';

type PgModule = typeof import('pg');

/** `application_name` of the LISTEN connection, so operators can find it in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'nestjs-authz-listener';

/**
 * A PostgreSQL server through `pg` (an optional peer dependency: `npm install pg`): a pool for queries and
 * transactions, plus one dedicated client per LISTEN.
 *
 * @example
 * const store = await PostgresPolicyStore.open({ driver: await PgDriver.connect(process.env.DATABASE_URL!) });
 */
export class PgDriver implements SqlDriver {
  private readonly logger = new Logger('PgDriver');

  private constructor(
    private readonly pg: PgModule,
    private readonly pool: Pool,
    private readonly config: PoolConfig,
    readonly description: string,
  ) {
    // An idle connection that breaks would otherwise crash the process; the pool replaces it on next use.
    pool.on('error', (error) => this.logger.warn(`idle PostgreSQL connection failed: ${error.message}`));
  }

  /** Connects once, so that a wrong URL or an unreachable server stops the app at start rather than at the first request. */
  static async connect(config: string | PoolConfig): Promise<PgDriver> {
    const pg = await loadPg();
    const poolConfig: PoolConfig = typeof config === 'string' ? { connectionString: config } : config;
    const pool = new pg.Pool({ connectionTimeoutMillis: 5_000, ...poolConfig });
    try {
      (await pool.connect()).release();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PgDriver(pg, pool, poolConfig, `PostgreSQL at ${describe(poolConfig)}`);
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(prepared(sql, params))).rows as Row[];
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(executorOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      // A connection that could not roll back is not given back to the pool.
      client.release(broken);
    }
  }

  async listen(channel: string, onNotification: (payload: string) => void): Promise<Listening> {
    const client: Client = new this.pg.Client({ ...(this.config as ClientConfig), application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    let settle!: (error: Error | undefined) => void;
    const lost = new Promise<Error | undefined>((resolve) => (settle = resolve));
    client.on('error', (error) => settle(error));
    client.on('end', () => settle(undefined));
    client.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onNotification(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return { lost, close: () => client.end().catch(() => undefined) };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

async function loadPg(): Promise<PgModule> {
  try {
    const pg = (await import('pg')) as PgModule & { default?: PgModule };
    return pg.default ?? pg;
  } catch {
    throw new AuthzConfigurationError('PgDriver needs the `pg` package, which is not installed.', 'run `npm install pg`, or use PgliteDriver for an embedded database.');
  }
}

function executorOf(client: PoolClient): SqlExecutor {
  return { query: async <Row>(sql: string, params: readonly unknown[] = []) => (await client.query(prepared(sql, params))).rows as Row[] };
}

// The store sends a few dozen fixed statements. Named, each is parsed and planned once per connection instead of
// on every call: planning the decision query cost more than running it (0.15 against 0.08 ms), and naming halved
// the median decision on PostgreSQL (npm run bench, store part). Bounded, in case a caller sends ad-hoc SQL.
const MAX_NAMED_STATEMENTS = 256;
const statementNames = new Map<string, string>();

function prepared(text: string, params: readonly unknown[]): QueryConfig | string {
  // Without parameters, the simple protocol: it also runs several statements at once (migrations), which a
  // prepared statement cannot.
  if (params.length === 0) return text;
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `nestjs_authz_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { text, values: [...params], name };
}

/** A double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** host:port/database, without user or password. */
function describe(config: PoolConfig): string {
  if (!config.connectionString) return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
  try {
    const url = new URL(config.connectionString);
    return `${url.host}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}
