import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hash } from '../../contracts/types.ts';
import { TEST_DATABASE_URL, freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { freePort } from '../support/net.ts';
import { startTcpProxy } from '../support/proxy.ts';
import type { TcpProxy } from '../support/proxy.ts';
import { spawnZgas, until } from '../support/zgas-process.ts';
import type { ZgasProcess } from '../support/zgas-process.ts';
import { REDIS_URL, callJson, randomHash, receipt, receiptJson, testTag, transferCall } from './fixtures.ts';
import { dropRedisKeys } from '../support/redis.ts';

/**
 * A real `zgas node` whose Postgres and Redis connections run through proxies the test cuts and
 * restores: the node must ride out each outage and resume by itself, and clients must get a
 * retryable 503 while it lasts. The shared servers themselves are never touched.
 */
const WAIT_MS = 120_000;
const tag = testTag();
const redisPrefix = `zgas-test-${tag}`;
let db: TestDb;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let node: ZgasProcess;
let base: string;
let nonce = 0n;

const output = (): string => node.output();

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Submits the owner's next transfer; retries while the node answers 503 (the outage the client sees). */
async function transferApplied(): Promise<Hash> {
  const call = transferCall(nonce);
  const res = await until(
    'the transfer to be accepted',
    async () => {
      const r = await post('/v1/calls', callJson(call));
      return r.status === 503 ? undefined : r;
    },
    WAIT_MS,
    output,
  );
  expect(res.status, await res.clone().text()).toBe(202);
  nonce++;
  const { callHash } = (await res.json()) as { callHash: Hash };
  await until(
    `call ${callHash} to be applied`,
    async () => {
      const r = await fetch(`${base}/v1/calls/${callHash}`);
      if (r.status !== 200) return undefined;
      const body = (await r.json()) as { status: string };
      return body.status === 'applied' ? body : undefined;
    },
    WAIT_MS,
    output,
  );
  return callHash;
}

/**
 * Keeps calls and receipt batches flowing until stopped, so every cut lands on transactions in
 * flight; 202'd calls advance the nonce. Returns the stop function.
 */
function load(): () => Promise<void> {
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const r = await post('/v1/calls', callJson(transferCall(nonce)));
        if (r.status === 202) nonce++;
        await post('/v1/receipts', { receipts: [1n, 2n, 3n].map((seq) => receiptJson(receipt(randomHash(), seq))) });
      } catch {
        // the node may refuse connections for a moment; the test checks it stays up
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const running = loop();
  return async () => {
    stopped = true;
    await running;
  };
}

/** Waits `ms`, failing at once if the node exits meanwhile. */
async function staysUp(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(node.alive(), output()).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = await freshSchema('outage');
  const target = new URL(TEST_DATABASE_URL);
  pgProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const redisTarget = new URL(REDIS_URL);
  redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  target.host = pgProxy.address;
  redisTarget.host = redisProxy.address;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  node = spawnZgas(['node', '--port', String(port), '--workers', '1'], {
    DATABASE_URL: target.toString(),
    ZGAS_DB_SCHEMA: db.schema,
    REDIS_URL: redisTarget.toString(),
    ZGAS_QUEUE_NAME: `outage-${tag}`,
    ZGAS_REDIS_PREFIX: redisPrefix,
    ZGAS_MOMENTUM_INTERVAL_MS: '50',
  });
  await until('the node to listen', async () => (output().includes('zgas node listening') ? true : undefined), WAIT_MS, output);
  // Calls are judged against the committed state: wait until the genesis is.
  await until('the genesis to be committed', async () => ((await fetch(`${base}/v1/momentums/0`)).status === 200 ? true : undefined), WAIT_MS, output);
}, WAIT_MS);

afterAll(async () => {
  await node?.stop();
  await pgProxy?.close();
  await redisProxy?.close();
  await db?.close();
  await dropRedisKeys(`${redisPrefix}`);
}, WAIT_MS);

describe('zgas node through a database outage', () => {
  it('rides out 3-second Postgres cuts under load and applies calls afterwards', async () => {
    await transferApplied();
    const stop = load();
    try {
      for (let i = 0; i < 3; i++) {
        await staysUp(1_000);
        pgProxy.cut();
        await staysUp(3_000);
        pgProxy.restore();
      }
      await staysUp(2_000);
    } finally {
      await stop();
    }
    await transferApplied();
    expect(node.alive(), output()).toBe(true);
  }, WAIT_MS);

  it('answers POSTs with a retryable 503 and /readyz not ready while Postgres is away, then serves again', async () => {
    pgProxy.cut();
    try {
      const res = await until(
        'a refusal during the outage',
        async () => {
          const r = await post('/v1/calls', callJson(transferCall(nonce)));
          return r.status === 202 ? undefined : r;
        },
        WAIT_MS,
        output,
      );
      const text = await res.text();
      expect(res.status, text).toBe(503);
      expect((JSON.parse(text) as { code: string }).code).toBe('NotReady');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const receipts = await post('/v1/receipts', { receipts: [receiptJson(receipt(randomHash(), 1n))] });
      expect(receipts.status, await receipts.clone().text()).toBe(503);
      expect(receipts.headers.get('retry-after')).not.toBeNull();
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).not.toBeNull();
      // Every POST of the outage: never a 500.
      for (let i = 0; i < 5; i++) {
        const r = await post('/v1/calls', callJson(transferCall(nonce)));
        expect(r.status, await r.text()).toBe(503);
      }
    } finally {
      pgProxy.restore();
    }
    await until('the node to be ready again', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), WAIT_MS, output);
    await transferApplied();
    expect(node.alive(), output()).toBe(true);
  }, WAIT_MS);

  it('rides out a 20-second Postgres cut and a 10-second Redis cut under load, then settles new work', async () => {
    const stop = load();
    try {
      pgProxy.cut();
      await staysUp(20_000);
      pgProxy.restore();
      await staysUp(2_000);
      redisProxy.cut();
      await staysUp(10_000);
      redisProxy.restore();
      await staysUp(2_000);
    } finally {
      await stop();
    }
    await transferApplied();
    // Receipts stored during the Redis cut were verified and settled once Redis came back.
    const batch = await post('/v1/receipts', { receipts: [receiptJson(receipt(randomHash(), 1n))] });
    expect(batch.status).toBe(202);
    const [digest] = ((await batch.json()) as { accepted: Hash[] }).accepted;
    await until(
      'the receipt to settle',
      async () => {
        const r = (await (await fetch(`${base}/v1/receipts/${digest}`)).json()) as { state: string };
        return r.state === 'rejected' || r.state === 'applied' ? r : undefined;
      },
      WAIT_MS,
      output,
    );
    expect(node.alive(), output()).toBe(true);
  }, WAIT_MS);
});
