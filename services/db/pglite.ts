import { PGlite, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { InvariantViolation } from '../../contracts/errors.ts';
import type { Db, MigrationClient, QueryResult } from './db.ts';
import { assertLockKey } from './lock-key.ts';

const TX_CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END)\s*;?\s*$/i;

interface LockState {
  held: boolean;
  waiters: (() => void)[];
}

/**
 * The embedded adapter on PGlite's own in-process API. PGlite is one connection: its query,
 * exec and transaction calls run one at a time, so a transaction never interleaves with other
 * statements. Advisory locks are in-process (there is only one process on the database).
 */
export async function openPgliteDb(opts: { dataDir?: string } = {}): Promise<Db> {
  const pglite = await PGlite.create({
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    // NUMERIC and BIGINT as decimal strings, exactly like the pg adapter.
    parsers: { [types.NUMERIC]: (value: string) => value, [types.INT8]: (value: string) => value },
  });
  const locks = new Map<bigint, LockState>();
  const controllers = new Set<AbortController>();
  let closed = false;

  const acquire = async (key: bigint, wait: boolean): Promise<boolean> => {
    let state = locks.get(key);
    if (state === undefined) {
      state = { held: false, waiters: [] };
      locks.set(key, state);
    }
    if (!state.held) {
      state.held = true;
      return true;
    }
    if (!wait) return false;
    await new Promise<void>((resolve) => state.waiters.push(resolve));
    return true; // ownership handed over by release()
  };
  const release = (key: bigint): void => {
    const state = locks.get(key);
    if (state === undefined) return;
    const next = state.waiters.shift();
    if (next !== undefined) next();
    else locks.delete(key);
  };

  const db: Db = {
    kind: 'pglite',
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await pglite.query<R>(sql, params);
      return { rows: result.rows };
    },
    transaction: (fn) => pglite.transaction((tx) => fn(txDb(tx, db))),
    async withAdvisoryLock(key, fn, o = { wait: false }) {
      assertLockKey(key);
      if (!(await acquire(key, o.wait))) return { acquired: false };
      const controller = new AbortController();
      controllers.add(controller);
      try {
        return { acquired: true, value: await fn(controller.signal) };
      } finally {
        controllers.delete(controller);
        release(key);
      }
    },
    // The migration runs inside one PGlite transaction; its own BEGIN/COMMIT become no-ops.
    withMigrationClient: (fn) => pglite.transaction((tx) => fn(migrationClient(tx))),
    async close() {
      if (closed) return;
      closed = true;
      for (const controller of controllers) controller.abort();
      await pglite.close();
    },
  };
  return db;
}

function txDb(tx: Transaction, root: Db): Db {
  const db: Db = {
    kind: 'pglite',
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await tx.query<R>(sql, params);
      return { rows: result.rows };
    },
    transaction: (fn) => fn(db),
    withAdvisoryLock: (key, fn, o) => root.withAdvisoryLock(key, fn, o),
    withMigrationClient: (fn) => fn(migrationClient(tx)),
    close: () => Promise.reject(new InvariantViolation('close the database, not a transaction')),
  };
  return db;
}

function migrationClient(tx: Transaction): MigrationClient {
  return {
    async query(text, values) {
      if (TX_CONTROL.test(text)) return { rows: [] };
      if (values === undefined || values.length === 0) {
        // No parameters: may hold several statements (a whole .sql migration file).
        const results = await tx.exec(text);
        return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
      }
      return { rows: (await tx.query<Record<string, unknown>>(text, values)).rows };
    },
  };
}
