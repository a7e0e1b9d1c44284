import type { SqlDriver } from 'nestjs-authz';

/** Runs SQL: a database, or one transaction of it. Both backends speak the same PostgreSQL dialect. */
export interface SqlExecutor {
  /** One statement with `$1`-style parameters; returns its rows. */
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements without parameters (schema migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The notes app's view of its database: embedded PostgreSQL (PGlite) or a PostgreSQL server. The repository and
 * the migrations use only this, so both backends run the same SQL.
 */
export interface SqlDatabase extends SqlExecutor {
  /** Human-readable, without secrets: what `npm start` prints. */
  readonly description: string;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * The library's driver on this same database, for the policy store, which closes it: on PGlite the same instance
   * (one process), on a server a pool of its own.
   */
  storeDriver(): SqlDriver | Promise<SqlDriver>;
  close(): Promise<void>;
}

/** Injection token of the app's {@link SqlDatabase}. */
export const SQL_DATABASE = Symbol('SQL_DATABASE');
