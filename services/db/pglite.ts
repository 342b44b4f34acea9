import { PGlite, types } from '@electric-sql/pglite';
import type { PGliteOptions, Transaction } from '@electric-sql/pglite';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
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
export async function openPgliteDb(opts: { dataDir?: string; templateDir?: string | null } = {}): Promise<Db> {
  // NUMERIC and BIGINT as decimal strings, exactly like the pg adapter.
  const parsers = { [types.NUMERIC]: (value: string) => value, [types.INT8]: (value: string) => value };
  const pglite = opts.dataDir !== undefined
    ? await PGlite.create({ dataDir: opts.dataDir, parsers })
    : await createInMemory(parsers, opts.templateDir === undefined ? DEFAULT_TEMPLATE_DIR : opts.templateDir);
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
    // One process, one statement at a time: a transaction is a snapshot already.
    snapshot: (fn) => pglite.transaction((tx) => fn(txDb(tx, db))),
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
    async listen(channel, onNotice) {
      // One process, one connection: a notice is raised by this very instance, on commit.
      const { rows } = await pglite.query<{ schema: string }>('SELECT current_schema() AS schema');
      const schema = rows[0]?.schema;
      const unlisten = await pglite.listen(channel, (payload) => {
        if (payload === schema) onNotice();
      });
      return async () => {
        if (!closed) await unlisten();
      };
    },
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
    snapshot: (fn) => fn(db),
    withAdvisoryLock: (key, fn, o) => root.withAdvisoryLock(key, fn, o),
    withMigrationClient: (fn) => fn(migrationClient(tx)),
    listen: (channel, onNotice, onLost) => root.listen(channel, onNotice, onLost),
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

/**
 * Where a fresh, empty cluster is kept as a tarball. Creating a PGlite cluster runs initdb inside
 * WebAssembly (seconds, tens of seconds on a loaded machine); loading the tarball of an untouched
 * one is several times faster and gives the same empty database.
 */
export const DEFAULT_TEMPLATE_DIR = path.join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'zgas');

function pgliteVersion(): string {
  try {
    // The package's exports map hides package.json; find it beside the resolved entry point.
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const manifest = path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function createInMemory(parsers: NonNullable<PGliteOptions['parsers']>, templateDir: string | null): Promise<PGlite> {
  if (templateDir === null) return PGlite.create({ parsers });
  const template = path.join(templateDir, `pglite-${pgliteVersion()}-empty.tar.gz`);
  let bytes: Buffer | null = null;
  try {
    bytes = readFileSync(template);
  } catch {
    // No template yet: create the cluster the slow way once and keep it.
  }
  if (bytes !== null) {
    try {
      return await PGlite.create({ parsers, loadDataDir: new Blob([new Uint8Array(bytes)]) });
    } catch {
      // A damaged template is only a cache: fall through and rebuild it.
    }
  }
  const fresh = await PGlite.create({ parsers });
  try {
    const dump = await fresh.dumpDataDir('gzip');
    mkdirSync(templateDir, { recursive: true });
    const partial = `${template}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, template); // atomic: concurrent starters never read half a file
  } catch {
    // A read-only install runs without the cache.
  }
  return fresh;
}
