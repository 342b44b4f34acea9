import pg from 'pg';
import { InvariantViolation, ZgasError } from '../../contracts/errors.ts';
import type { Db, MigrationClient, QueryResult } from './db.ts';
import { DEFAULT_POOL_SIZE, SCHEMA_NAME } from './db.ts';
import { scopedLockKey } from './lock-key.ts';

// NUMERIC and BIGINT stay decimal strings (pg's default); kept explicit because the store relies on it.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 1700 || oid === 20) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Idle time before the pool closes a connection. */
const IDLE_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

export interface PgDbOptions {
  databaseUrl: string;
  schema: string;
  maxConnections?: number;
}

/** The Postgres adapter: a pool whose connections all use the given schema. */
export async function openPgDb(opts: PgDbOptions): Promise<Db> {
  const schema = opts.schema;
  if (!SCHEMA_NAME.test(schema)) throw new ZgasError('InvalidField', { path: 'schema', reason: 'lowercase letters, digits and _, starting with a letter or _, at most 63 characters', schema });
  const clientConfig: pg.ClientConfig = {
    connectionString: opts.databaseUrl,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    types,
  };
  // Create the schema first, on a connection of its own (the pool's connections expect it).
  const setup = new pg.Client({ ...clientConfig, options: '' });
  setup.on('error', () => undefined); // a failure surfaces in connect() or query() below
  await setup.connect();
  try {
    await setup.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two processes creating the same schema at once: one loses the catalog race; the schema exists.
    if (!(error instanceof Error && 'code' in error && (error.code === '23505' || error.code === '42P06'))) throw error;
  } finally {
    await setup.end();
  }
  const pool = new pg.Pool({ ...clientConfig, max: opts.maxConnections ?? DEFAULT_POOL_SIZE, idleTimeoutMillis: IDLE_TIMEOUT_MS });
  // An idle pooled connection that dies is dropped by the pool; without a listener the error would crash the process.
  pool.on('error', () => undefined);
  /** Connections of their own (advisory locks, listeners), ended by close(). */
  const dedicatedClients = new Set<pg.Client>();
  let closed = false;

  /**
   * A pooled connection for work spanning several statements. While it is checked out the pool does
   * not listen to it, so the caller adds its own 'error' listener: a connection that dies then
   * fails the work on it, never the process, and is dropped from the pool on release.
   */
  const checkOut = (): Promise<pg.PoolClient> => pool.connect();

  const run = async <R>(target: Queryable, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const result = await target.query(sql, params);
    return { rows: result.rows as R[] };
  };

  /**
   * Runs fn on a pooled connection of its own; a connection that failed (its 'error' event, or
   * `fail`) is dropped from the pool on release instead of being reused.
   */
  async function withClient<T>(fn: (client: pg.PoolClient, fail: (error: Error) => void) => Promise<T>): Promise<T> {
    const client = await checkOut();
    let broken: Error | undefined = undefined;
    const fail = (error: Error): void => {
      broken = error;
    };
    client.on('error', fail);
    try {
      return await fn(client, fail);
    } finally {
      client.off('error', fail);
      client.release(broken);
    }
  }

  /** One transaction on one pooled connection, opened by `begin`; ROLLBACK when fn throws. */
  function inTransaction<T>(begin: string, fn: (tx: Db) => Promise<T>): Promise<T> {
    return withClient(async (client, fail) => {
      try {
        await client.query(begin);
        const value = await fn(txDb(client, db));
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => fail(rollbackError as Error));
        throw error;
      }
    });
  }

  const db: Db = {
    kind: 'pg',
    query: (sql, params) => run(pool, sql, params),
    transaction: (fn) => inTransaction('BEGIN', fn),
    snapshot: (fn) => inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn),
    async withAdvisoryLock(key, fn, opts = { wait: false }) {
      const lockKey = scopedLockKey(schema, key).toString();
      const client = new pg.Client(clientConfig);
      const controller = new AbortController();
      client.on('error', () => controller.abort());
      client.on('end', () => controller.abort());
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      dedicatedClients.add(client);
      try {
        if (opts.wait) {
          await client.query('SELECT pg_advisory_lock($1::bigint)', [lockKey]);
        } else {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [lockKey]);
          if (rows[0]?.ok !== true) return { acquired: false };
        }
        try {
          const value = await fn(controller.signal);
          return { acquired: true, value };
        } finally {
          if (!controller.signal.aborted) await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]).catch(() => undefined);
        }
      } finally {
        dedicatedClients.delete(client);
        await client.end().catch(() => undefined);
      }
    },
    withMigrationClient: (fn) => withClient((client) => fn(migrationClient(client))),
    async listen(channel, onNotice, onLost) {
      // Named for whoever reads pg_stat_activity (an operator, a test): which store listens.
      const client = new pg.Client({ ...clientConfig, application_name: listenerName(schema) });
      let stopped = false;
      const lost = (error: Error): void => {
        if (stopped || closed) return;
        stopped = true;
        dedicatedClients.delete(client);
        onLost?.(error);
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('the listening connection ended')));
      // Several stores may share a database: each commit names its schema.
      client.on('notification', (notice) => {
        if (!stopped && notice.channel === channel && notice.payload === schema) onNotice();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${channel}`);
      } catch (error) {
        stopped = true;
        await client.end().catch(() => undefined);
        throw error;
      }
      dedicatedClients.add(client);
      return async () => {
        if (stopped) return;
        stopped = true;
        dedicatedClients.delete(client);
        await client.end().catch(() => undefined);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const client of dedicatedClients) await client.end().catch(() => undefined);
      await pool.end();
    },
  };
  return db;

  function txDb(client: pg.PoolClient, root: Db): Db {
    const tx: Db = {
      kind: 'pg',
      query: (sql, params) => run(client, sql, params),
      transaction: (fn) => fn(tx),
      snapshot: (fn) => fn(tx),
      withAdvisoryLock: (key, fn, o) => root.withAdvisoryLock(key, fn, o),
      withMigrationClient: (fn) => fn(migrationClient(client)),
      listen: (channel, onNotice, onLost) => root.listen(channel, onNotice, onLost),
      close: () => Promise.reject(new InvariantViolation('close the database, not a transaction')),
    };
    return tx;
  }
}

function migrationClient(client: pg.PoolClient): MigrationClient {
  return { query: async (text, values) => ({ rows: (await client.query(text, values)).rows as Record<string, unknown>[] }) };
}

/** The application_name of a store's listening connection (at most 63 bytes, as Postgres keeps). */
export function listenerName(schema: string): string {
  return `zgas listen ${schema}`.slice(0, 63);
}

/** Drops a schema and everything in it (a per-run or per-test store); the name is checked first. */
export async function dropPgSchema(databaseUrl: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new ZgasError('InvalidField', { path: 'schema', schema });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
