/**
 * Settlement under load: pre-signed receipts for many sessions, POSTed in batches on loopback to
 * /v1/receipts of a whole system started in-process on the real Postgres (fresh schema) and Redis
 * (own queue and prefix). Measures receipts settled per second, submission → committing momentum
 * latency (p50/p99) and the cold start to the first momentum; compares with a naive baseline that
 * applies and commits one receipt per Postgres transaction.
 *
 * Sizes: ZGAS_BENCH_SESSIONS (200), ZGAS_BENCH_RECEIPTS_PER_SESSION (50), ZGAS_BENCH_BASELINE_RECEIPTS (2,000).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { callHash, makeDomain, receiptDigest, settlementReceipt, signCall, signInvocation, signReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { apply, prepareCall } from '../../contracts/gas/apply.ts';
import { genesisState, genesisToJson } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { concatBytes, u64be, utf8Bytes } from '../../contracts/hex.ts';
import { callToJson, receiptToJson } from '../../contracts/json.ts';
import type { GasReceipt, Hash, Method, SettlementReceipt, SignedCall } from '../../contracts/types.ts';
import { gas, MAX_UINT256, MAX_UINT64, qsr, wholeQsr } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { migrate } from '../../services/db/index.ts';
import type { Db } from '../../services/db/index.ts';
import { openPgDb } from '../../services/db/pg.ts';
import { DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import { momentumHash, ZERO_HASH } from '../../services/host/index.ts';
import { replay } from '../../services/host/replay.ts';
import { resultJson } from '../../services/host/sequence.ts';
import { silentLogger } from '../../services/log.ts';
import { insertMomentum, insertReceipts, receiptCopyKey, saveAll, saveChanged } from '../../services/store/index.ts';
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from '../support/db.ts';
import type { BenchTable } from './harness.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import { dropRedisKeys, REDIS_URL } from '../support/redis.ts';

const envInt = (name: string, fallback: number, max: number): number => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isSafeInteger(v) && v > 0 ? Math.min(v, max) : fallback;
};
const SESSIONS = envInt('ZGAS_BENCH_SESSIONS', 200, 10_000);
const RECEIPTS_PER_SESSION = envInt('ZGAS_BENCH_RECEIPTS_PER_SESSION', 50, 10_000);
const BASELINE_RECEIPTS = envInt('ZGAS_BENCH_BASELINE_RECEIPTS', 2_000, 100_000);
/** Receipts per POST (the API's limit). */
const BATCH = 1_000;
/** POSTs in flight at once. */
const IN_FLIGHT = 4;
const CALL_GAS = 1_000n;
const PRICE = qsr(2_000_000);
/** Bounds of every wait. */
const SETUP_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 180_000;
const BASELINE_TIME_LIMIT_MS = 30_000;
/** The paced run: an offered load below saturation, to read latency without a backlog. */
const PACED_RECEIPTS_PER_SECOND = envInt('ZGAS_BENCH_PACED_RATE', 1_000, 100_000);
const PACED_BATCH = 100;
/**
 * Verification worker processes (`zgas worker`) beside the in-process verifier, as a 2-core
 * deployment runs them: the node process keeps the API and the sequencer, signatures are recovered
 * on the other core too.
 */
const WORKER_PROCESSES = Number(process.env['ZGAS_BENCH_WORKER_PROCESSES'] ?? 1);
const WORKER_CONCURRENCY = 2;
const ZGAS_BIN = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));
/** The zApp module the sessions run (uploaded before RegisterZApp). */
const MODULE = loadZApp('hello');
/** RegisterZApp, TopUp, RegisterProvider: the calls before the sessions. */
const SETUP_CALLS = 3;

interface Setup {
  genesis: Genesis;
  domain: Domain;
  calls: SignedCall[];
  sessionIds: Hash[];
  /** Receipts in submission order: seq-major, so each batch holds consecutive seqs of every session. */
  receipts: SettlementReceipt[];
}

/** The setup calls (zApp, escrow, provider, sessions) and every receipt, signed before the clock starts. */
function prepare(): Setup {
  const genesis = demoGenesis({ timestamp: BigInt(Math.floor(Date.now() / 1000)) });
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const nonces = new Map<string, bigint>();
  const calls: SignedCall[] = [];
  const sign = (who: 'owner' | 'provider', method: Method): SignedCall => {
    const key = DEMO_KEYS[who];
    const nonce = nonces.get(key.address) ?? 0n;
    nonces.set(key.address, nonce + 1n);
    const signed = signCall(domain, { from: key.address, nonce, data: encodeMethod(method) }, key.privateKey);
    calls.push(signed);
    return signed;
  };
  const gasLimit = gas(CALL_GAS * BigInt(RECEIPTS_PER_SESSION) + 1_000n);
  const register = sign('owner', { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: PRICE, maxGasPerSession: gasLimit, openToAll: false, openGasPerDay: gas(0) });
  const zAppId = callHash(domain, register);
  sign('owner', { name: 'TopUp', zAppId, amount: wholeQsr(5_000) });
  sign('provider', { name: 'RegisterProvider', receiptSigner: DEMO_KEYS.providerSigner.address, pricePerMgas: PRICE, upfrontGas: gas(0), stake: wholeQsr(1_000) });
  const sessionIds: Hash[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const open = sign('owner', { name: 'OpenSession', zAppId, provider: DEMO_KEYS.provider.address, user: DEMO_KEYS.alice.address, gasLimit, durationSeconds: 86_400n, maxPricePerMgas: qsr(MAX_UINT256), maxUpfrontGas: gas(MAX_UINT64) });
    sessionIds.push(callHash(domain, open));
  }
  const receipts: SettlementReceipt[] = [];
  const post = (s: Hash, seq: bigint): Hash => sha3(concatBytes(utf8Bytes(s), u64be(seq)));
  for (let seq = 1n; seq <= BigInt(RECEIPTS_PER_SESSION); seq++) {
    for (const sessionId of sessionIds) {
      const fields: GasReceipt = {
        sessionId, seq, callGasLimit: CALL_GAS as Gas, callGas: CALL_GAS as Gas, cumulativeGas: (CALL_GAS * seq) as Gas, inputHash: post(sessionId, seq + 1_000_000n),
        preStateHash: seq === 1n ? EMPTY_STATE_HASH : post(sessionId, seq - 1n), postStateHash: post(sessionId, seq),
        outputHash: post(sessionId, seq + 2_000_000n), status: 1,
      };
      // The provider signs the receipt, the session's user (alice) the invocation it answers.
      receipts.push(settlementReceipt(signReceipt(domain, fields, DEMO_KEYS.providerSigner.privateKey), signInvocation(domain, invocationOf(fields), DEMO_KEYS.alice.privateKey)));
    }
  }
  return { genesis, domain, calls, sessionIds, receipts };
}

async function postJson(url: string, body: unknown): Promise<Response> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 202) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface PipelineResult {
  coldStartToListenMs: number;
  coldStartToFirstMomentumMs: number;
  settled: number;
  applied: number;
  submitMs: number;
  /** First submission → every receipt verified (sampled every 50 ms). */
  verifyMs: number;
  settleMs: number;
  receiptsPerSecond: number;
  latencies: number[];
  momentums: number;
  storeKind: string;
  queueKind: string;
  /** Receipts by state:outcome. */
  outcomes: Record<string, number>;
  /** Whether replaying the store from genesis reproduced every momentum and the state rows, and how long it took. */
  replay: { ok: boolean; ms: number; mismatches: number };
}

interface Load {
  /** Receipts per POST. */
  batch: number;
  inFlight: number;
  /** Open-loop pacing: batch i starts no earlier than i × batch / rate seconds after the first; absent: as fast as answered. */
  receiptsPerSecond?: number;
}

/** Starts a `zgas worker` process on the bench's store and queue; resolves once it consumes. */
function startWorkerProcess(env: Record<string, string>, output: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [ZGAS_BIN, 'worker', '--concurrency', String(WORKER_CONCURRENCY)], { env: { ...process.env, ...env, ZGAS_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start:\n${output.join('').slice(-2000)}`)), SETUP_TIMEOUT_MS);
    const onData = (chunk: string): void => {
      output.push(chunk);
      if (chunk.includes('verification worker running')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited ${code}:\n${output.join('').slice(-2000)}`));
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function pipeline(setup: Setup, load: Load): Promise<PipelineResult> {
  const tag = randomBytes(4).toString('hex');
  const schema = uniqueSchemaName('bench_load');
  const prefix = `zgas-bench-${tag}`;
  const commitAt = new Map<bigint, number>();
  let firstMomentumAt = 0;
  const t0 = performance.now();
  let system: LocalSystem | null = null;
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'zgas-bench-'));
  try {
    system = await startLocalSystem({
      genesis: setup.genesis, log: silentLogger, databaseUrl: TEST_DATABASE_URL, schema, redisUrl: REDIS_URL, queueName: `bench-${tag}`,
      redisPrefix: prefix, apiHost: '127.0.0.1', apiPort: 0, momentumIntervalMs: 100, verifyConcurrency: 2, dashboard: false,
      apiLimits: { rateLimitMax: false },
    });
    const listenAt = performance.now();
    const sys = system;
    sys.bus.subscribe((e) => {
      if (e.type === 'momentum') commitAt.set(BigInt(e.height), performance.now());
    });
    await sys.host.waitForHeight(0n, { timeoutMs: SETUP_TIMEOUT_MS });
    firstMomentumAt = performance.now();
    const genesisFile = path.join(dir, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJson(setup.genesis)));
    const workerEnv = { DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: schema, REDIS_URL, ZGAS_QUEUE_NAME: `bench-${tag}`, ZGAS_REDIS_PREFIX: prefix, ZGAS_GENESIS: genesisFile };
    const output: string[] = [];
    for (let i = 0; i < WORKER_PROCESSES; i++) {
      const child = startWorkerProcess(workerEnv, output);
      children.push(await child);
    }

    // Setup: the zApp, its escrow and the provider, then the sessions (a momentum orders calls by sender,
    // so the sessions wait for the provider), through POST /v1/calls.
    const appliedCall = (hash: Hash) =>
      until('a setup call', SETUP_TIMEOUT_MS, async () => {
        const body = (await (await fetch(`${sys.apiUrl}/v1/calls/${hash}`)).json()) as { status: string; code?: string };
        if (body.status === 'failed') throw new Error(`setup call failed: ${body.code}`);
        return body.status === 'applied';
      });
    const submit = async (c: SignedCall): Promise<Hash> => ((await (await postJson(`${sys.apiUrl}/v1/calls`, callToJson(c))).json()) as { callHash: Hash }).callHash;
    // RegisterZApp needs its module uploaded first.
    const upload = await fetch(`${sys.apiUrl}/v1/modules`, { method: 'PUT', body: Buffer.from(MODULE), headers: { 'content-type': 'application/wasm' } });
    if (upload.status !== 200) throw new Error(`module upload: ${upload.status} ${await upload.text()}`);
    const phases = [setup.calls.slice(0, SETUP_CALLS), setup.calls.slice(SETUP_CALLS)];
    for (const phase of phases) {
      const hashes: Hash[] = [];
      for (const c of phase) hashes.push(await submit(c));
      for (const h of hashes) await appliedCall(h);
    }

    // The load: batches of up to 1,000, IN_FLIGHT at once; each receipt's submission time is its POST's start.
    const submittedAt = new Map<Hash, number>();
    const batches: SettlementReceipt[][] = [];
    for (let i = 0; i < setup.receipts.length; i += load.batch) batches.push(setup.receipts.slice(i, i + load.batch));
    const bodies = batches.map((b) => JSON.stringify({ receipts: b.map(receiptToJson) }));
    const digests = batches.map((b) => b.map((r) => receiptDigest(setup.domain, r)));
    const startAt = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const i = next++;
        if (load.receiptsPerSecond !== undefined) {
          const due = startAt + (i * load.batch * 1000) / load.receiptsPerSecond;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const at = performance.now();
        for (const d of digests[i]!) submittedAt.set(d, at);
        const response = await fetch(`${sys.apiUrl}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i]! });
        if (response.status !== 202) throw new Error(`POST /v1/receipts: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: load.inFlight }, worker));
    const submittedAll = performance.now();
    const total = setup.receipts.length;
    // Stage progress: when every receipt was past verification, and when every one was in a momentum.
    let allVerifiedAt = 0;
    await until('settlement of every receipt', SETTLE_TIMEOUT_MS, async () => {
      const { rows: counts } = await sys.db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM receipts GROUP BY state');
      const by = Object.fromEntries(counts.map((c) => [c.state, Number(c.n)]));
      const done = (by['applied'] ?? 0) + (by['rejected'] ?? 0);
      if (allVerifiedAt === 0 && done + (by['verified'] ?? 0) >= total) allVerifiedAt = performance.now();
      return done >= total;
    }, 50);

    const { rows } = await sys.db.query<{ digest: Hash; momentum_height: string | null; outcome: string | null; state: string; code: string | null }>(
      'SELECT digest, momentum_height, outcome, state, code FROM receipts',
    );
    const outcomes: Record<string, number> = {};
    for (const r of rows) {
      const key = `${r.state}:${r.outcome ?? r.code ?? '-'}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const latencies: number[] = [];
    let settled = 0;
    let applied = 0;
    let lastCommit = startAt;
    for (const r of rows) {
      if (r.state === 'applied') applied++;
      if (r.outcome === 'Settled') settled++;
      const committed = r.momentum_height === null ? undefined : commitAt.get(BigInt(r.momentum_height));
      const submitted = submittedAt.get(r.digest);
      if (committed !== undefined && submitted !== undefined) {
        latencies.push(committed - submitted);
        if (committed > lastCommit) lastCommit = committed;
      }
    }
    latencies.sort((a, b) => a - b);
    const heights = new Set(rows.map((r) => r.momentum_height));
    const replayStart = performance.now();
    const replayed = await replay(sys.db, setup.genesis);
    const replayReport = { ok: replayed.ok, ms: performance.now() - replayStart, mismatches: replayed.mismatches.length };
    return {
      coldStartToListenMs: listenAt - t0, coldStartToFirstMomentumMs: firstMomentumAt - t0, settled, applied,
      submitMs: submittedAll - startAt, verifyMs: allVerifiedAt - startAt, settleMs: lastCommit - startAt, receiptsPerSecond: (applied * 1000) / (lastCommit - startAt),
      latencies, momentums: heights.size, storeKind: sys.db.kind, queueKind: sys.queue.kind, outcomes, replay: replayReport,
    };
  } finally {
    await Promise.all(children.map(stopProcess));
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
    await dropRedisKeys(`${prefix}`);
  }
}

/** The naive baseline: per receipt, verify, apply, and commit the receipt, the state change and a momentum in one transaction. */
async function baseline(setup: Setup): Promise<{ receipts: number; ms: number; receiptsPerSecond: number; latencies: number[] }> {
  const schema = uniqueSchemaName('bench_naive');
  let db: Db | null = null;
  try {
    db = await openPgDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await migrate(db);
    const state = genesisState(setup.genesis);
    let timestamp = setup.genesis.timestamp;
    let height = 0n;
    for (const c of setup.calls) {
      const out = apply(state, { ...prepareCall(setup.domain, c) }, { height: 1n, timestamp });
      if (!out.result.ok) throw new Error(`baseline setup: ${out.result.code}`);
    }
    await saveAll(db, state);
    let prevHash = ZERO_HASH;
    const latencies: number[] = [];
    const start = performance.now();
    let n = 0;
    for (const r of setup.receipts) {
      if (n >= BASELINE_RECEIPTS || performance.now() - start > BASELINE_TIME_LIMIT_MS) break;
      const at = performance.now();
      const v = verifyReceipt(setup.domain, r);
      height += 1n;
      timestamp = BigInt(Math.max(Number(timestamp), Math.floor(Date.now() / 1000)));
      const out = apply(state, { kind: 'receipts', receipts: [v] }, { height, timestamp });
      const fields = { height, prevHash, timestamp, inputs: [{ type: 'receipts', receipts: [receiptToJson(r)] }] as unknown[], results: [resultJson(out.result)] as unknown[], stateDigest: stateDigest(state) };
      const hash = momentumHash(fields as Parameters<typeof momentumHash>[0]);
      await db.transaction(async (tx) => {
        await insertReceipts(tx, [{ receipt: r, digest: v.digest, copyKey: receiptCopyKey(v.digest, r) }], 'baseline');
        await saveChanged(tx, state, out.changed);
        await insertMomentum(tx, { ...fields, hash });
      });
      prevHash = hash;
      latencies.push(performance.now() - at);
      n++;
    }
    const ms = performance.now() - start;
    latencies.sort((a, b) => a - b);
    return { receipts: n, ms, receiptsPerSecond: (n * 1000) / ms, latencies };
  } finally {
    await db?.close();
    await dropSchema(schema);
  }
}

export async function run(): Promise<void> {
  const signStart = performance.now();
  const setup = prepare();
  const signMs = performance.now() - signStart;
  const p = await pipeline(setup, { batch: BATCH, inFlight: IN_FLIGHT });
  const paced = await pipeline(setup, { batch: PACED_BATCH, inFlight: IN_FLIGHT, receiptsPerSecond: PACED_RECEIPTS_PER_SECOND });
  const b = await baseline(setup);

  const load: BenchTable = {
    title: `settlement under load: ${SESSIONS} sessions × ${RECEIPTS_PER_SESSION} receipts = ${setup.receipts.length} pre-signed receipts, batches of ≤ ${BATCH}, ${IN_FLIGHT} in flight`,
    columns: ['path', 'receipts', 'receipts/s', 'p50 ms', 'p99 ms', 'momentums'],
    rows: [
      { path: `burst (${p.storeKind}, ${p.queueKind}, +${WORKER_PROCESSES} worker process)`, receipts: p.applied, 'receipts/s': fmt(p.receiptsPerSecond), 'p50 ms': fmt(percentile(p.latencies, 50), 1), 'p99 ms': fmt(percentile(p.latencies, 99), 1), momentums: p.momentums },
      { path: `paced ${fmt(PACED_RECEIPTS_PER_SECOND)}/s in batches of ${PACED_BATCH}`, receipts: paced.applied, 'receipts/s': fmt(paced.receiptsPerSecond), 'p50 ms': fmt(percentile(paced.latencies, 50), 1), 'p99 ms': fmt(percentile(paced.latencies, 99), 1), momentums: paced.momentums },
      { path: 'naive: 1 tx per receipt', receipts: b.receipts, 'receipts/s': fmt(b.receiptsPerSecond), 'p50 ms': fmt(percentile(b.latencies, 50), 1), 'p99 ms': fmt(percentile(b.latencies, 99), 1), momentums: b.receipts },
      { path: 'ratio pipeline / naive', receipts: '', 'receipts/s': `${fmt(p.receiptsPerSecond / b.receiptsPerSecond, 2)}x`, 'p50 ms': '', 'p99 ms': '', momentums: '' },
    ],
    notes: [
      'receipts/s: receipts applied ÷ (last committing momentum − first submission); latency: POST start → commit of the receipt\'s momentum (bus event).',
      'the first row offers every receipt at once (a burst: latency is mostly backlog); the paced row offers a steady rate.',
      'naive latency is apply + commit of one receipt (no HTTP, no queue). Aims: ≥ 5,000 receipts/s sustained, p99 ≤ 250 ms.',
      `verification: the node's in-process verifier (2 jobs at once) and ${WORKER_PROCESSES} \`zgas worker --concurrency ${WORKER_CONCURRENCY}\` process(es) on the same queue.`,
      `burst stages from the first POST: all answered (stored) ${fmt(p.submitMs)} ms, all verified ${fmt(p.verifyMs)} ms, all in momentums ${fmt(p.settleMs)} ms.`,
      `outcomes ${JSON.stringify(p.outcomes)}; signing the load took ${fmt(signMs)} ms (before the clock).`,
      `replay from genesis (every signature, result, digest and hash, then the state rows): burst ${p.replay.ok ? 'ok' : `FAILED (${p.replay.mismatches} mismatches)`} in ${fmt(p.replay.ms)} ms, paced ${paced.replay.ok ? 'ok' : `FAILED (${paced.replay.mismatches} mismatches)`}.`,
    ],
    data: { pipeline: { ...p, latencies: undefined }, paced: { ...paced, latencies: undefined }, baseline: { ...b, latencies: undefined } },
  };
  const ttm: BenchTable = {
    title: 'time to first momentum (cold start: open the store, migrate, start host, queue, workers, API)',
    columns: ['event', 'ms'],
    rows: [
      { event: 'API listening', ms: fmt(p.coldStartToListenMs) },
      { event: 'first momentum (genesis) committed', ms: fmt(p.coldStartToFirstMomentumMs) },
    ],
  };
  printTable(load);
  printTable(ttm);
  writeResults('settlement-load', [load, ttm]);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
