import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilTrue } from '../../test/support/wait.ts';
import { TEST_DATABASE_URL, dropSchema, uniqueSchemaName } from '../../test/support/db.ts';
import { startTcpProxy } from '../../test/support/proxy.ts';
import type { TcpProxy } from '../../test/support/proxy.ts';
import type { Db } from './db.ts';
import { openPgDb } from './pg.ts';

/**
 * The Postgres adapter through a TCP proxy the test cuts: every connection that dies, whether idle,
 * in a transaction, held for migrations or holding an advisory lock, fails the work on it and
 * never the process; after the cut the same Db works again.
 */
const schema = uniqueSchemaName('db_outage');
let proxy: TcpProxy;
let db: Db;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => {
  uncaught.push(err);
};

beforeAll(async () => {
  const target = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.host = proxy.address;
  db = await openPgDb({ databaseUrl: target.toString(), schema });
  process.on('uncaughtException', onUncaught);
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await db?.close();
  await proxy?.close();
  await dropSchema(schema);
});

/** Waits until the server runs `sql` (a statement unique to this file): the work is in flight. */
async function running(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await untilTrue(`${sql} to run`, async () => (await client.query('SELECT 1 FROM pg_stat_activity WHERE query = $1', [sql])).rows.length > 0);
  } finally {
    await client.end();
  }
}

async function recovers(): Promise<void> {
  proxy.restore();
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const { rows } = await db.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('Postgres adapter: a cut connection', () => {
  it('fails a transaction in flight, not the process, and serves again after the cut', async () => {
    const sql = `SELECT pg_sleep(30) AS tx_${schema}`;
    const inFlight = db.transaction((tx) => tx.query(sql));
    await running(sql);
    proxy.cut();
    await expect(inFlight).rejects.toThrow();
    expect(uncaught).toEqual([]);
    await recovers();
  });

  it('fails a migration client in flight, not the process', async () => {
    const sql = `SELECT pg_sleep(30) AS migration_${schema}`;
    const inFlight = db.withMigrationClient((client) => client.query(sql));
    await running(sql);
    proxy.cut();
    await expect(inFlight).rejects.toThrow();
    expect(uncaught).toEqual([]);
    await recovers();
  });

  it('aborts the holder of an advisory lock whose connection dies, and the lock can be taken again', async () => {
    let holding = false;
    const held = db.withAdvisoryLock(42n, (signal) => {
      holding = true;
      return new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('aborted')));
    });
    await untilTrue('the lock to be held', () => holding);
    proxy.cut();
    await expect(held).resolves.toEqual({ acquired: true, value: 'aborted' });
    expect(uncaught).toEqual([]);
    await recovers();
    await expect(db.withAdvisoryLock(42n, async () => 'again')).resolves.toEqual({ acquired: true, value: 'again' });
  });

  it('fails queries at once while the database is unreachable (no hang), then serves again', async () => {
    proxy.cut();
    const started = Date.now();
    await expect(db.query('SELECT 1')).rejects.toThrow();
    await expect(db.transaction((tx) => tx.query('SELECT 1'))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(uncaught).toEqual([]);
    await recovers();
  });
});
