/** Runs one SQL statement with `$1`-style parameters and returns its rows. */
export interface SqlExecutor {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** A LISTEN connection: `lost` settles when it ends (with the error, if any); `close()` ends it on purpose. */
export interface Listening {
  readonly lost: Promise<Error | undefined>;
  close(): Promise<void>;
}

/**
 * What {@link PostgresPolicyStore} needs from a database: queries, transactions and one LISTEN connection. Two
 * adapters speak it with the same SQL: {@link PgDriver} (a PostgreSQL server through `pg`) and
 * {@link PgliteDriver} (embedded PostgreSQL, one process).
 *
 * @example
 * const driver: SqlDriver = await PgDriver.connect(process.env.DATABASE_URL!);
 */
export interface SqlDriver extends SqlExecutor {
  /** Human-readable, without secrets. */
  readonly description: string;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Opens a connection of its own that LISTENs on `channel`; resolves once it listens. */
  listen(channel: string, onNotification: (payload: string) => void): Promise<Listening>;
  /** Releases what the driver opened (never a connection or database it was handed). */
  close(): Promise<void>;
}
