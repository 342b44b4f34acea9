import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genesisToJson } from '../../contracts/gas/genesis.ts';
import { testGenesis } from '../support/chain.ts';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { callHash, receiptDigest, signCall } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import type { Address, Hash, Method, SettlementReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { loadConfig } from '../../services/config.ts';
import { loadGenesis } from '../../services/node/genesis.ts';
import { startNode } from '../../services/node/index.ts';
import type { RunningNode } from '../../services/node/index.ts';
import { silentLogger } from '../../services/log.ts';
import { loadReceipts, receiptCopyKey, receiptCounts } from '../../services/store/index.ts';
import { TEST_DATABASE_URL, freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { REDIS_URL, callJson, domain, keys, randomHash, receiptJson, settlementOf, testTag } from './fixtures.ts';

const copyKeys = (receipts: readonly SettlementReceipt[]): Hash[] => receipts.map((r) => receiptCopyKey(receiptDigest(domain, r), r));
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { freePort } from '../support/net.ts';
import { dropRedisKeys } from '../support/redis.ts';

const tag = testTag();
const queueName = `pipeline-${tag}`;
const redisPrefix = `zgas-test-${tag}`;
const ZGAS = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));
const WAIT_MS = 150_000;

let db: TestDb;
let genesisFile: string;
let node: RunningNode;
let workers: ChildProcess[] = [];
const workerLogs: string[] = [];


let metricsPorts: number[] = [];

async function spawnWorkers(): Promise<ChildProcess[]> {
  metricsPorts = [await freePort(), await freePort()];
  return metricsPorts.map(spawnWorker);
}

/** The sum of a counter over both worker processes' /metrics. */
async function workerCounter(name: string): Promise<number> {
  let total = 0;
  for (const port of metricsPorts) {
    const text = await until(`metrics on ${port}`, async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        return undefined;
      }
    });
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    total += Number(line?.split(' ')[1] ?? 'NaN');
  }
  return total;
}

function spawnWorker(metricsPort: number): ChildProcess {
  const child = spawn(process.execPath, [ZGAS, 'worker', '--concurrency', '2', '--metrics-port', String(metricsPort)], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      ZGAS_DB_SCHEMA: db.schema,
      REDIS_URL,
      ZGAS_QUEUE_NAME: queueName,
      ZGAS_REDIS_PREFIX: redisPrefix,
      ZGAS_LOG_LEVEL: 'info',
      ZGAS_GENESIS: genesisFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (c: string) => workerLogs.push(c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => workerLogs.push(c));
  return child;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
  workers = [];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker output:\n${workerLogs.join('').slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const get = async (url: string) => {
  const res = await node.api.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

async function submit(method: Method, key: string, from: string, nonce: bigint): Promise<Hash> {
  const call = signCall(domain, { from: from as Address, nonce, data: encodeMethod(method) }, key);
  const res = await node.api.inject({ method: 'POST', url: '/v1/calls', payload: callJson(call) });
  expect(res.statusCode, res.body).toBe(202);
  expect(res.json().callHash).toBe(callHash(domain, call));
  return res.json().callHash as Hash;
}

async function applied(hash: Hash): Promise<void> {
  const status = await until(`call ${hash}`, async () => {
    const { body } = await get(`/v1/calls/${hash}`);
    return body.status === 'pending' ? undefined : body;
  });
  expect(status).toMatchObject({ status: 'applied' });
}

/**
 * Settlement receipts seq from..to of one session: a consistent chain (each pre-state the previous
 * post-state), each signed by the receipt signer and its invocation by the session's user.
 */
function chain(sessionId: Hash, from: number, to: number, prevPost: Hash): { receipts: SettlementReceipt[]; lastPost: Hash } {
  const receipts: SettlementReceipt[] = [];
  let pre = prevPost;
  for (let seq = from; seq <= to; seq++) {
    const post = randomHash();
    receipts.push(
      settlementOf(
        {
          sessionId,
          seq: BigInt(seq),
          callGasLimit: 2_000n as Gas,
          callGas: 1_000n as Gas,
          cumulativeGas: BigInt(1_000 * seq) as Gas,
          inputHash: randomHash(),
          preStateHash: pre,
          postStateHash: post,
          outputHash: randomHash(),
          status: 1,
        },
        keys.receiptSigner.privateKey,
        keys.user.privateKey,
      ),
    );
    pre = post;
  }
  return { receipts, lastPost: pre };
}

beforeAll(async () => {
  db = await freshSchema('pipeline');
  const config = loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    ZGAS_DB_SCHEMA: db.schema,
    REDIS_URL,
    ZGAS_QUEUE_NAME: queueName,
    ZGAS_REDIS_PREFIX: redisPrefix,
    ZGAS_MOMENTUM_INTERVAL_MS: '50',
  });
  // A v2 genesis on the vectors' domain; the worker processes and `zgas replay` read the same file.
  const genesis = testGenesis({ owner: '100000000000000', provider: '100000000000000', user: '1000000000000' });
  genesisFile = join(await mkdtemp(join(tmpdir(), 'zgas-pipeline-')), 'genesis.json');
  await writeFile(genesisFile, JSON.stringify(genesisToJson(genesis)));
  expect((await loadGenesis(genesisFile)).genesis).toEqual(genesis);
  // No verification in this process: only the two worker processes verify.
  node = await startNode({ config, genesis, log: silentLogger, listen: false, workers: 0, reconcileIntervalMs: 3_600_000, reconcileAfterMs: 0 });
  // Calls are judged against the committed state: wait until the genesis is.
  await node.host.waitForHeight(0n, { timeoutMs: 120_000 });
  workers = await spawnWorkers();
}, WAIT_MS);

afterAll(async () => {
  await stopWorkers();
  await node?.stop();
  await db?.close();
  await dropRedisKeys(`${redisPrefix}`);
}, WAIT_MS);

describe('settlement pipeline: API → Postgres → BullMQ → two worker processes → sequencer', () => {
  let sessionId: Hash;
  let lastPost: Hash = EMPTY_STATE_HASH;

  it('verifies and settles a batch exactly once in effect, though every job is delivered three times', async () => {
    const wasm = Buffer.from(loadZApp('hello'));
    const put = await node.api.inject({ method: 'PUT', url: '/v1/modules', payload: wasm, headers: { 'content-type': 'application/wasm' } });
    const { moduleHash } = put.json<{ moduleHash: Hash }>();
    const owner = keys.owner;
    const provider = keys.provider;
    const registered = await submit(
      { name: 'RegisterProvider', receiptSigner: keys.receiptSigner.address as Address, pricePerMgas: 1_000_000n as never, upfrontGas: 1_000n as Gas, stake: 200_000_000_000n as never },
      provider.privateKey,
      provider.address,
      0n,
    );
    const zAppId = await submit(
      { name: 'RegisterZApp', moduleHash, maxPricePerMgas: 10_000_000n as never, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas },
      owner.privateKey,
      owner.address,
      0n,
    );
    const topUp = await submit({ name: 'TopUp', zAppId, amount: 1_000_000_000n as never }, owner.privateKey, owner.address, 1n);
    sessionId = await submit(
      { name: 'OpenSession', zAppId, provider: provider.address as Address, user: keys.user.address as Address, gasLimit: 1_000_000n as Gas, durationSeconds: 3_600n, maxPricePerMgas: MAX_UINT256 as Qsr, maxUpfrontGas: MAX_UINT64 as Gas },
      owner.privateKey,
      owner.address,
      2n,
    );
    for (const h of [registered, zAppId, topUp, sessionId]) await applied(h);
    const opened = await get(`/v1/sessions/${sessionId}`);
    expect(opened.body).toMatchObject({ status: 'open', lastSeq: '0', billedGas: '1000' });

    const batch = chain(sessionId, 1, 40, lastPost);
    lastPost = batch.lastPost;
    const res = await node.api.inject({ method: 'POST', url: '/v1/receipts', payload: { receipts: batch.receipts.map(receiptJson) } });
    expect(res.statusCode).toBe(202);
    const { accepted } = res.json<{ accepted: Hash[] }>();
    expect(accepted).toHaveLength(40);
    // Redelivery: the same copies twice more, raced by both worker processes.
    const stored = copyKeys(batch.receipts);
    await node.queue.enqueue(stored);
    await node.queue.enqueue(stored);

    const session = await until('the batch to settle', async () => {
      const { body } = await get(`/v1/sessions/${sessionId}`);
      return body.lastSeq === '40' ? body : undefined;
    });
    expect(session).toMatchObject({ settledGas: '40000', billedGas: '40000', lastPostStateHash: lastPost, status: 'open' });
    const rows = await loadReceipts(db, stored);
    expect(rows.map((r) => [r.digest, r.state, r.signer, r.invocationSigner])).toEqual(accepted.map((d) => [d, 'applied', keys.receiptSigner.address, keys.user.address]));
    // cost(40,000 gas at 1,000,000 per Mgas) = 40,000 base units, charged once: upfront 1,000 + 39,000.
    const providerState = await get(`/v1/providers/${provider.address}`);
    expect(providerState.body.pendingTotal).toBe('40000');
    const zApp = await get(`/v1/zapps/${zAppId}`);
    expect(BigInt(zApp.body.available as string) + BigInt(zApp.body.held as string)).toBe(1_000_000_000n - 40_000n);
    // Every receipt was verified once in effect, whichever process ran which delivery.
    expect(await workerCounter('zgas_receipts_verified_total')).toBe(40);
    expect(await workerCounter('zgas_receipts_rejected_total')).toBe(0);
  }, WAIT_MS);

  it('recovers receipts whose jobs Redis lost after the 202, through the reconciler', async () => {
    await stopWorkers();
    const batch = chain(sessionId, 41, 60, lastPost);
    const res = await node.api.inject({ method: 'POST', url: '/v1/receipts', payload: { receipts: batch.receipts.map(receiptJson) } });
    expect(res.statusCode).toBe(202);
    const { accepted } = res.json<{ accepted: Hash[] }>();
    expect(accepted).toHaveLength(20);
    // Redis loses every job (this test's keys only: the server is shared).
    const redis = new Redis(REDIS_URL);
    const lost = await redis.keys(`${redisPrefix}*`);
    expect(lost.length).toBeGreaterThan(0);
    await redis.del(...lost);
    redis.disconnect();
    expect(await node.queue.depth()).toBe(0);
    expect((await receiptCounts(db)).stored).toBe(20);

    workers = await spawnWorkers();
    expect(await node.reconciler.runOnce()).toBe(20);
    const session = await until('the recovered receipts to settle', async () => {
      const { body } = await get(`/v1/sessions/${sessionId}`);
      return body.lastSeq === '60' ? body : undefined;
    });
    expect(session).toMatchObject({ settledGas: '60000', billedGas: '60000', lastPostStateHash: batch.lastPost });
    expect(await receiptCounts(db)).toMatchObject({ stored: 0, verified: 0, applied: 60 });
  }, WAIT_MS);

  it('streams the momentum that applies a call over SSE, and `zgas replay` reproduces the store', async () => {
    await node.api.listen({ port: 0, host: '127.0.0.1' });
    const { port } = node.api.server.address() as AddressInfo;
    const chunks: string[] = [];
    const req = http.get(`http://127.0.0.1:${port}/v1/events`, (res) => res.setEncoding('utf8').on('data', (c: string) => chunks.push(c)));
    try {
      await until('the stream to open', async () => (chunks.join('').includes('zgas events') ? true : undefined));
      const before = BigInt((await get('/v1/momentums/latest')).body.height as string);
      const transfer = await submit({ name: 'Transfer', to: keys.user.address as Address, amount: 7n as never }, keys.owner.privateKey, keys.owner.address, 3n);
      await applied(transfer);
      const { body: call } = await get(`/v1/calls/${transfer}`);
      const frame = await until('the momentum event', async () => {
        const match = chunks.join('').match(new RegExp(`event: momentum\ndata: (\\{"height":"${String(call.momentumHeight)}"[^\n]*)\n\n`));
        return match?.[1];
      });
      const event = JSON.parse(frame) as { height: string; hash: string; inputCount: number };
      expect(BigInt(event.height)).toBeGreaterThan(before);
      expect(event.inputCount).toBeGreaterThanOrEqual(1);
      expect((await get(`/v1/momentums/${event.height}`)).body.hash).toBe(event.hash);
    } finally {
      req.destroy();
    }

    const replay = spawn(process.execPath, [ZGAS, 'replay'], {
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: db.schema, ZGAS_LOG_LEVEL: 'warn', ZGAS_GENESIS: genesisFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    replay.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    replay.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise<number | null>((resolve) => replay.once('exit', resolve));
    expect(code, out).toBe(0);
    const report = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { ok: boolean; height: string; mismatches: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.mismatches).toEqual([]);
    expect(BigInt(report.height)).toBeGreaterThan(0n);
  }, WAIT_MS);
});
