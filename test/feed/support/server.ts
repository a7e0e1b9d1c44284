import { randomBytes } from 'node:crypto';
import { LISTENER_APPLICATION_NAME, PgDriver, PostgresPolicyStore, type PolicyChange, type PolicyStore, type PostgresPolicyStoreOptions, type SqlDriver } from 'nestjs-authz';
import { TEST_DATABASE_URL } from '../../support/postgres';

/** A schema name of its own, so suites and runs sharing the server never see each other's rows or channel. */
export function freshSchema(label: string): string {
  return `authz_feed_${label}_${randomBytes(5).toString('hex')}`;
}

/**
 * What the suites do to the server beside the stores under test: look at sessions, kill listeners, drop schemas.
 * One connection of its own, never one of a store's.
 */
export class ServerControl {
  private constructor(private readonly driver: PgDriver) {}

  static async connect(): Promise<ServerControl> {
    return new ServerControl(await PgDriver.connect({ connectionString: TEST_DATABASE_URL!, max: 1 }));
  }

  query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.driver.query<Row>(sql, params);
  }

  /**
   * Backend pids of the LISTEN connections of stores on `schema`: `application_name` is the same for every store on
   * the server, but each listener's only statement is `LISTEN "<schema>_changes"`, so other suites' listeners
   * (which may run in parallel) are never counted, nor killed.
   */
  async listenerPids(schema: string): Promise<number[]> {
    const rows = await this.driver.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND query = $2 ORDER BY pid`,
      [LISTENER_APPLICATION_NAME, `LISTEN "${schema}_changes"`],
    );
    return rows.map((row) => row.pid);
  }

  /** Terminates the given backends, as an operator or a failover would; returns those that were terminated. */
  async terminate(pids: readonly number[]): Promise<number[]> {
    const rows = await this.driver.query<{ pid: number; terminated: boolean }>(`SELECT pid, pg_terminate_backend(pid) AS terminated FROM unnest($1::int[]) AS pid`, [[...pids]]);
    return rows.filter((row) => row.terminated).map((row) => row.pid);
  }

  async dropSchema(schema: string): Promise<void> {
    await this.driver.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/** A store on `schema` with a PgDriver of its own (its own pool, its own listener) to `url`. */
export async function openServerStore(schema: string, options: Partial<PostgresPolicyStoreOptions> & { url?: string } = {}): Promise<PostgresPolicyStore> {
  const { url = TEST_DATABASE_URL!, ...rest } = options;
  return PostgresPolicyStore.open({ driver: await PgDriver.connect(url), schema, ...rest });
}

/**
 * A real PgDriver whose listener drops every notification: a store whose change feed is broken while its queries
 * work. The control that shows a warm cache really would keep answering without the feed.
 */
export function deafDriver(driver: SqlDriver): SqlDriver {
  return {
    description: `${driver.description} (notifications dropped)`,
    query: (sql, params) => driver.query(sql, params),
    transaction: (work) => driver.transaction(work),
    listen: (channel) => driver.listen(channel, () => undefined),
    close: () => driver.close(),
  };
}

/** A change the store reports, and when (performance.now()). */
export interface HeardChange {
  readonly change: PolicyChange;
  readonly at: number;
}

/**
 * The next change `store` reports that `matches`, with when it was heard. Subscribe before acting. Rejects after
 * `timeoutMs`: a feed that does not deliver fails the test instead of hanging it.
 */
export function nextChange(store: PolicyStore, matches: (change: PolicyChange) => boolean, timeoutMs: number, what: string): Promise<HeardChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${what}: no matching change reported within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = store.onChange((change) => {
      if (!matches(change)) return;
      clearTimeout(timer);
      stop();
      resolve({ change, at: performance.now() });
    });
  });
}

/** A full flush: the store reconnected (or lost track) and every remembered decision must go. */
export const isFlush = (change: PolicyChange): boolean => change.policy === undefined;

/** Polls `condition` (each try one turn of the event loop apart) until it holds; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
