import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, openSchema, uniqueSchemaName, dropSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import type { Db } from './db.ts';
import { INPUTS_CHANNEL } from './db.ts';
import { NOTIFY_INPUTS } from '../store/notices.ts';
import { untilTrue } from '../../test/support/wait.ts';
import { scopedLockKey } from './lock-key.ts';
import { migrate } from './migrate.ts';
import { listenerName, openPgDb } from './pg.ts';
import { openPgliteDb } from './pglite.ts';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS_DIR } from './migrate.ts';

const MAX_UINT256 = ((1n << 256n) - 1n).toString();
const MIGRATION_NAMES = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();

interface Adapter {
  /** The Db under test (migrated). */
  db: () => Db;
  /** A second handle on the same store: another pool (pg) or the same instance (PGlite). */
  other: () => Db;
}

function describeDb(name: string, adapter: Adapter): void {
  describe(`Db adapter: ${name}`, () => {
    const db = (): Db => adapter.db();

    it('runs queries with parameters and returns rows', async () => {
      const { rows } = await db().query<{ a: number; b: string }>('SELECT $1::int AS a, $2::text AS b', [41, 'x']);
      expect(rows).toEqual([{ a: 41, b: 'x' }]);
    });

    it('round-trips NUMERIC(78,0) and BIGINT as decimal strings, up to 2^256-1', async () => {
      await db().query('CREATE TABLE IF NOT EXISTS t_numeric (id INT PRIMARY KEY, amount NUMERIC(78,0) NOT NULL CHECK (amount >= 0), n BIGINT NOT NULL)');
      await db().query('INSERT INTO t_numeric (id, amount, n) VALUES ($1, $2, $3)', [1, MAX_UINT256, '9223372036854775807']);
      const { rows } = await db().query<{ amount: string; n: string; sum: string }>('SELECT amount, n, amount + 1 AS sum FROM t_numeric WHERE id = 1');
      expect(rows[0]).toEqual({ amount: MAX_UINT256, n: '9223372036854775807', sum: (2n ** 256n).toString() });
      await expect(db().query('INSERT INTO t_numeric (id, amount, n) VALUES (2, -1, 0)')).rejects.toThrow(/check constraint/);
      await expect(db().query('INSERT INTO t_numeric (id, amount, n) VALUES (3, $1, 0)', [(2n ** 256n * 10n ** 10n).toString()])).rejects.toThrow(/overflow/);
    });

    it('commits a transaction, and rolls it back when the function throws', async () => {
      await db().query('CREATE TABLE IF NOT EXISTS t_tx (id INT PRIMARY KEY)');
      await db().transaction(async (tx) => {
        await tx.query('INSERT INTO t_tx (id) VALUES (1)');
        // Nested: the same transaction.
        await tx.transaction((inner) => inner.query('INSERT INTO t_tx (id) VALUES (2)'));
      });
      await expect(
        db().transaction(async (tx) => {
          await tx.query('INSERT INTO t_tx (id) VALUES (3)');
          await tx.transaction((inner) => inner.query('INSERT INTO t_tx (id) VALUES (4)'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await db().query<{ id: number }>('SELECT id FROM t_tx ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([1, 2]);
    });

    it('stays usable after a failed statement, in and out of a transaction', async () => {
      await expect(db().query('SELECT * FROM no_such_table')).rejects.toThrow();
      expect((await db().query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      await expect(
        db().transaction(async (tx) => {
          await tx.query('SELECT * FROM no_such_table');
        }),
      ).rejects.toThrow();
      // Every connection of the adapter is still healthy: run more statements than the pool holds.
      for (let i = 0; i < 12; i++) expect((await db().query<{ v: number }>('SELECT $1::int AS v', [i])).rows[0]?.v).toBe(i);
      await db().transaction(async (tx) => {
        expect((await tx.query<{ two: number }>('SELECT 2 AS two')).rows[0]?.two).toBe(2);
      });
    });

    it('gives an advisory lock to one holder at a time', async () => {
      const key = 424242n;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const first = db().withAdvisoryLock(key, async () => {
        entered();
        await held;
        return 'first';
      });
      await inside;
      expect(await adapter.other().withAdvisoryLock(key, async () => 'second')).toEqual({ acquired: false });
      // A waiter gets it once the holder is done.
      const order: string[] = [];
      const waiter = adapter.other().withAdvisoryLock(key, async () => order.push('waiter'), { wait: true });
      order.push('released');
      release();
      expect(await first).toEqual({ acquired: true, value: 'first' });
      expect((await waiter).acquired).toBe(true);
      expect(order).toEqual(['released', 'waiter']);
      // Free again.
      expect(await adapter.other().withAdvisoryLock(key, async () => 'third')).toEqual({ acquired: true, value: 'third' });
    });

    it('releases an advisory lock when the function throws', async () => {
      await expect(db().withAdvisoryLock(7n, async () => Promise.reject(new Error('inside')))).rejects.toThrow('inside');
      expect((await adapter.other().withAdvisoryLock(7n, async () => 1)).acquired).toBe(true);
    });

    it('tells a listener of each commit that raised its channel, of no rolled-back one, and of nothing once stopped', async () => {
      const notices: string[] = [];
      const stop = await db().listen(INPUTS_CHANNEL, () => notices.push('first'));
      await adapter.other().query(`SELECT ${NOTIFY_INPUTS}`);
      await untilTrue('the first notice', () => notices.length === 1);
      await expect(db().transaction(async (tx) => {
        await tx.query(`SELECT ${NOTIFY_INPUTS}`);
        throw new Error('rolled back');
      })).rejects.toThrow('rolled back');
      // Raised twice in one transaction: delivered once, on commit.
      await db().transaction(async (tx) => {
        await tx.query(`SELECT ${NOTIFY_INPUTS}`);
        await tx.query(`SELECT ${NOTIFY_INPUTS}`);
      });
      await untilTrue('the committed notice', () => notices.length === 2);
      await stop();
      const later: string[] = [];
      const stopLater = await db().listen(INPUTS_CHANNEL, () => later.push('later'));
      await db().query(`SELECT ${NOTIFY_INPUTS}`);
      await untilTrue('the notice after the first listener stopped', () => later.length === 1);
      await stopLater();
      expect(notices).toEqual(['first', 'first']);
    });

    it('applies migrations idempotently', async () => {
      expect(await migrate(db())).toEqual([]);
      const { rows } = await db().query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
      expect(rows.map((r) => r.name)).toEqual(MIGRATION_NAMES);
    });
  });
}

describe('pg', () => {
  let main: TestDb;
  let other: Db;
  beforeAll(async () => {
    main = await freshSchema('db_suite');
    other = await openSchema(main.schema);
  });
  afterAll(async () => {
    await other?.close();
    await main?.close();
  });
  describeDb('pg', { db: () => main, other: () => other });

  it('aborts the lock holder when its connection dies, and another pool can take the lock', async () => {
    const key = 99n;
    const scoped = scopedLockKey(main.schema, key);
    const unsigned = BigInt.asUintN(64, scoped);
    const classid = (unsigned >> 32n).toString();
    const objid = (unsigned & 0xffff_ffffn).toString();
    const outcome = await main.withAdvisoryLock(key, async (signal) => {
      const aborted = new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('aborted')));
      const { rows } = await other.query<{ pid: number }>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid AND granted",
        [classid, objid],
      );
      expect(rows).toHaveLength(1);
      await other.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      return aborted;
    });
    expect(outcome).toEqual({ acquired: true, value: 'aborted' });
    expect((await other.withAdvisoryLock(key, async () => 'taken')).value).toBe('taken');
  });

  it('tells a listener only of its own store: another schema in the database raises its own notices', async () => {
    const elsewhere = await freshSchema('db_suite_notices', { migrate: false });
    const ours: string[] = [];
    const theirs: string[] = [];
    const stopOurs = await main.listen(INPUTS_CHANNEL, () => ours.push('ours'));
    const stopTheirs = await elsewhere.listen(INPUTS_CHANNEL, () => theirs.push('theirs'));
    try {
      await elsewhere.query(`SELECT ${NOTIFY_INPUTS}`);
      await main.query(`SELECT ${NOTIFY_INPUTS}`);
      // Delivered in commit order: once ours has its notice, theirs was seen by every listener.
      await untilTrue('both notices', () => ours.length === 1 && theirs.length === 1);
      expect([ours, theirs]).toEqual([['ours'], ['theirs']]);
    } finally {
      await stopOurs();
      await stopTheirs();
      await elsewhere.close();
    }
  });

  it('tells the listener when its connection is lost', async () => {
    const lost = new Promise<Error>((resolve) => {
      void main.listen(INPUTS_CHANNEL, () => undefined, resolve);
    });
    await untilTrue('the listening connection', async () => {
      const { rows } = await other.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [listenerName(main.schema)]);
      for (const row of rows) await other.query('SELECT pg_terminate_backend($1)', [row.pid]);
      return rows.length > 0;
    });
    expect(await lost).toBeInstanceOf(Error);
  });

  it('keeps locks of different schemas apart', async () => {
    const elsewhere = await freshSchema('db_suite_other', { migrate: false });
    try {
      const nested = await main.withAdvisoryLock(5n, () => elsewhere.withAdvisoryLock(5n, async () => 'both'));
      expect(nested).toEqual({ acquired: true, value: { acquired: true, value: 'both' } });
    } finally {
      await elsewhere.close();
    }
  });

  it('migrates safely when two processes start at once', async () => {
    const schema = uniqueSchemaName('db_race');
    const a = await openPgDb({ databaseUrl: main.databaseUrl, schema });
    const b = await openPgDb({ databaseUrl: main.databaseUrl, schema });
    try {
      const [x, y] = await Promise.all([migrate(a), migrate(b)]);
      expect([...x, ...y].sort()).toEqual(MIGRATION_NAMES);
      const { rows } = await a.query<{ n: string }>('SELECT count(*) AS n FROM pgmigrations');
      expect(rows[0]?.n).toBe(String(MIGRATION_NAMES.length));
      expect(await migrate(a)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });
});

describe('pglite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPgliteDb();
    expect(await migrate(db)).toEqual(MIGRATION_NAMES);
  });
  afterAll(async () => {
    await db?.close();
  });
  describeDb('pglite', { db: () => db, other: () => db });

  it('keeps its data in a data directory across restarts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zgas-pglite-'));
    try {
      const first = await openPgliteDb({ dataDir: dir });
      expect(await migrate(first)).toEqual(MIGRATION_NAMES);
      await first.query("INSERT INTO meta (key, value) VALUES ('k', 'v')");
      await first.close();
      const second = await openPgliteDb({ dataDir: dir });
      try {
        expect(await migrate(second)).toEqual([]);
        expect((await second.query('SELECT value FROM meta WHERE key = $1', ['k'])).rows).toEqual([{ value: 'v' }]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000); // creating a PGlite data directory runs initdb: slow on a busy machine
});
