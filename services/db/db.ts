/**
 * The database port. Two adapters implement it: Postgres through a pg Pool (servers) and PGlite in
 * process (the embedded default). Every SQL statement of zgas lives in services/store and runs
 * through this port, so both adapters see exactly the same statements.
 */
export type DbKind = 'pg' | 'pglite';

export interface QueryResult<R> {
  rows: R[];
}

export interface Db {
  readonly kind: DbKind;
  /** One statement with $1… parameters. NUMERIC and BIGINT columns come back as decimal strings. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** BEGIN … COMMIT on one connection; ROLLBACK when fn throws. Called on a transaction, joins it. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs fn's reads on one snapshot of the store (a read-only, repeatable-read transaction), so a
   * commit between two of its statements is seen by neither or by both. Called on a transaction, joins it.
   */
  snapshot<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs fn while holding a session-level advisory lock on a dedicated connection. With
   * `{ wait: false }` (the default) resolves `{ acquired: false }` at once when another holder has it.
   * Keys are scoped to the store (pg: the schema), so stores in different schemas never contend.
   * `signal` aborts when the lock connection is lost: the lock is gone and fn must stop.
   */
  withAdvisoryLock<T>(key: bigint, fn: (signal: AbortSignal) => Promise<T>, opts?: { wait: boolean }): Promise<{ acquired: boolean; value?: T }>;
  /**
   * Runs fn with a raw client on one dedicated connection, for the migration library. Internal to
   * services/db: the store never uses it.
   */
  withMigrationClient<T>(fn: (client: MigrationClient) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotice` after each commit of this store that raised `channel` (`pg_notify(channel,
   * current_schema())` in a statement), until the returned function stops it; `onLost` is told when
   * the listening connection is lost (nothing more arrives then). A notice is a hint, never a
   * record: one may be lost, and several commits may arrive as one.
   */
  listen(channel: StoreChannel, onNotice: () => void, onLost?: (error: Error) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Channels a store raises: INPUTS_CHANNEL when inputs for a momentum were committed (verified receipts, calls). */
export type StoreChannel = typeof INPUTS_CHANNEL;
export const INPUTS_CHANNEL = 'zgas_inputs';

/** The client shape the migration library drives: a text query with optional values (no values: multi-statement). */
export interface MigrationClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface OpenDbOptions {
  /** Postgres connection string: the pg adapter. Absent: PGlite. */
  databaseUrl?: string;
  /** pg only: the schema every connection uses (created when missing). Default "public". */
  schema?: string;
  /** PGlite only: the data directory. Absent: in memory. */
  dataDir?: string;
  /** pg only: pool size. */
  maxConnections?: number;
}

/** Schema names the adapters accept (they are interpolated into SET search_path). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const DEFAULT_POOL_SIZE = 10;
