/**
 * The settlement benchmark's harness: plans (genesis, setup calls, pre-signed receipts), a whole
 * local system on the real Postgres (own schema) and Redis (own queue and prefix) with `zgas
 * worker` processes beside it, setup through POST /v1/calls, load through POST /v1/receipts,
 * collection of rates and latencies from the store, the replay check, and the naive baseline.
 * Scenarios (settlement-load.bench.ts) read as short scripts over these; everything goes through
 * public entry points (startLocalSystem, the HTTP API, store functions) so it keeps measuring the
 * pipeline whatever its internals become.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { addressOf, callHash, makeDomain, receiptDigest, settlementReceipt, signCall, signInvocation, signReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { apply, prepareCall } from '../../contracts/gas/apply.ts';
import { genesisState, genesisToJson, MAX_GENESIS_ACCOUNTS } from '../../contracts/gas/genesis.ts';
import type { Genesis, GenesisAccount } from '../../contracts/gas/genesis.ts';
import type { State } from '../../contracts/gas/state.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { addressFromBytes, concatBytes, hexToBytes, u64be, utf8Bytes } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { callToJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, GasReceipt, Hash, Hex, Method, SettlementReceipt, SignedCall, VerifiedReceipt } from '../../contracts/types.ts';
import { gas, MAX_UINT256, MAX_UINT64, qsr, wholeQsr } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { migrate } from '../../services/db/index.ts';
import type { Db } from '../../services/db/index.ts';
import { openPgDb } from '../../services/db/pg.ts';
import { DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import { momentumHash, replay, ZERO_HASH } from '../../services/host/index.ts';
import { resultJson } from '../../services/host/sequence.ts';
import { silentLogger } from '../../services/log.ts';
import { insertMomentum, insertReceipts, loadReceipts, loadState, MAX_RECEIPTS_PER_CALL, receiptCopyKey, receiptCounts, saveAll, saveChanged } from '../../services/store/index.ts';
import type { StoredReceipt } from '../../services/store/index.ts';
import { systemClock } from '../../unikernel-runner/clock.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from '../support/db.ts';
import { dropRedisKeys, REDIS_URL } from '../support/redis.ts';
import { billingView } from './billing.ts';
import type { BillingView } from './billing.ts';
import { percentile } from './harness.ts';
import { cpuBetween, sampleCpu, shareOfCores } from './process-cpu.ts';
import type { CpuParts } from './process-cpu.ts';

export const envInt = (name: string, fallback: number, max: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  return Number.isSafeInteger(v) && v >= 0 ? Math.min(v, max) : fallback;
};

const CALL_GAS = 1_000n;
const PRICE = qsr(2_000_000);
/** Bounds of every wait. */
export const SETUP_TIMEOUT_MS = 600_000;
const SETTLE_TIMEOUT_MS = 300_000;
/** How often a run's end is also checked by counting the store's copies (a scan of all of them). */
const STORE_COUNT_EVERY_MS = 2_000;
/** How often the verifications waiting for a momentum are counted, for the time all were verified. */
const VERIFIED_PROBE_EVERY_MS = 250;
const WORKER_CONCURRENCY = 2;
/** The zApp module the sessions run (uploaded before RegisterZApp). */
const MODULE = loadZApp('hello');
const ZGAS_BIN = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));
/** The longest back-off after a 503 (the API asks for 2 s; a client polling sooner only gets refused again). */
const MAX_BACKOFF_MS = 2_000;
/** Concurrent POST /v1/calls of the seeding (one sender each, so their nonces never race). */
const SEED_IN_FLIGHT = 16;

export interface PlanOptions {
  /** Sessions the load settles receipts of (opened by the zApp owner). */
  sessions: number;
  /** Calls per session (seq 1..n), each answered by a receipt. */
  receiptsPerSession: number;
  /**
   * Receipts signed: those whose seq is a multiple of this, and each session's last (default 1:
   * every one). The others carry no signatures: a runner that coalesces every `signEvery` calls
   * never pushes them, and only the in-process reference (`everyCallBilling`) applies them.
   */
  signEvery?: number;
}

/** The signatures of a receipt no runner pushes (see PlanOptions.signEvery). */
export const UNSIGNED: Hex = `0x${'00'.repeat(65)}`;

export interface Plan {
  genesis: Genesis;
  domain: Domain;
  /** Calls before the sessions: zApps, escrow, providers (one sender after another). */
  before: SignedCall[];
  /** The load's OpenSession calls (one sender: the zApp owner). */
  opens: SignedCall[];
  /** Open sessions already in the state before the load: OpenSession calls, each from its own user. */
  seeds: SignedCall[];
  sessionIds: Hash[];
  /** receipts[seq - 1][i]: the receipt with that seq of session i. */
  receipts: SettlementReceipt[][];
  signMs: number;
}

type Key = { address: Address; privateKey: Hex };
const seedKey = (i: number): Hex => sha3(utf8Bytes(`zgas bench seed key: ${i}`));
/** Accounts without sessions only need an address. */
const seedAddress = (i: number): Address => addressFromBytes(hexToBytes(sha3(utf8Bytes(`zgas bench seed account: ${i}`))).subarray(12));

function signer(domain: Domain): (key: Key, method: Method) => SignedCall {
  const nonces = new Map<string, bigint>();
  return (key, method) => {
    const nonce = nonces.get(key.address) ?? 0n;
    nonces.set(key.address, nonce + 1n);
    return signCall(domain, { from: key.address, nonce, data: encodeMethod(method) }, key.privateKey);
  };
}

/** The genesis, the setup calls and every receipt, signed before any clock starts. */
export function plan(opts: PlanOptions): Plan {
  const started = performance.now();
  const genesis = demoGenesis({ timestamp: systemClock() });
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const sign = signer(domain);
  const gasLimit = gas(CALL_GAS * BigInt(opts.receiptsPerSession) + 1_000n);
  const before: SignedCall[] = [];
  const register = sign(DEMO_KEYS.owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: PRICE, maxGasPerSession: gasLimit, openToAll: false, openGasPerDay: gas(0) });
  const zAppId = callHash(domain, register);
  before.push(register, sign(DEMO_KEYS.owner, { name: 'TopUp', zAppId, amount: wholeQsr(4_000) }));
  before.push(sign(DEMO_KEYS.provider, { name: 'RegisterProvider', receiptSigner: DEMO_KEYS.providerSigner.address, pricePerMgas: PRICE, upfrontGas: gas(0), stake: wholeQsr(1_000) }));
  const opens: SignedCall[] = [];
  const sessionIds: Hash[] = [];
  for (let i = 0; i < opts.sessions; i++) {
    const open = sign(DEMO_KEYS.owner, { name: 'OpenSession', zAppId, provider: DEMO_KEYS.provider.address, user: DEMO_KEYS.alice.address, gasLimit, durationSeconds: 86_400n, maxPricePerMgas: qsr(MAX_UINT256), maxUpfrontGas: gas(MAX_UINT64) });
    opens.push(open);
    sessionIds.push(callHash(domain, open));
  }
  const receipts: SettlementReceipt[][] = [];
  const post = (s: Hash, seq: bigint): Hash => sha3(concatBytes(utf8Bytes(s), u64be(seq)));
  const every = BigInt(Math.max(1, opts.signEvery ?? 1));
  const last = BigInt(opts.receiptsPerSession);
  for (let seq = 1n; seq <= last; seq++) {
    const signed = seq % every === 0n || seq === last;
    const row: SettlementReceipt[] = [];
    for (const sessionId of sessionIds) {
      const fields: GasReceipt = {
        sessionId, seq, callGasLimit: CALL_GAS as Gas, callGas: CALL_GAS as Gas, cumulativeGas: (CALL_GAS * seq) as Gas, inputHash: post(sessionId, seq + 1_000_000n),
        preStateHash: seq === 1n ? EMPTY_STATE_HASH : post(sessionId, seq - 1n), postStateHash: post(sessionId, seq),
        outputHash: post(sessionId, seq + 2_000_000n), status: 1,
      };
      // The provider signs the receipt, the session's user (alice) the invocation it answers.
      row.push(signed
        ? settlementReceipt(signReceipt(domain, fields, DEMO_KEYS.providerSigner.privateKey), signInvocation(domain, invocationOf(fields), DEMO_KEYS.alice.privateKey))
        : { ...fields, signature: UNSIGNED, invocationSignature: UNSIGNED });
    }
    receipts.push(row);
  }
  return { genesis, domain, before, opens, seeds: [], sessionIds, receipts, signMs: performance.now() - started };
}

/**
 * The same load on a large state: `accounts` more funded accounts in the genesis (a genesis file
 * holds at most MAX_GENESIS_ACCOUNTS: past that, only a system without worker processes, which read
 * the file, can start on it; startBenchSystem refuses otherwise) and `sessions` open
 * sessions, each opened by one of those accounts for itself, of another zApp (registered by
 * another owner, so the load's session ids and receipts stay the same) with another provider (a
 * provider serves at most 100,000 live sessions).
 */
export function withSeeds(base: Plan, sessions: number, accounts: number): Plan {
  const started = performance.now();
  const n = Math.max(accounts, sessions);
  const keys: Key[] = [];
  const extra: GenesisAccount[] = [];
  for (let i = 0; i < n; i++) {
    if (i < sessions) {
      const privateKey = seedKey(i);
      keys.push({ address: addressOf(privateKey), privateKey });
    }
    extra.push({ address: i < sessions ? keys[i]!.address : seedAddress(i), balance: wholeQsr(1) });
  }
  const genesis: Genesis = { ...base.genesis, accounts: [...base.genesis.accounts, ...extra] };
  const { domain } = base;
  const sign = signer(domain);
  const seedGas = gas(CALL_GAS);
  const register = sign(DEMO_KEYS.mallory, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: PRICE, maxGasPerSession: seedGas, openToAll: true, openGasPerDay: gas(CALL_GAS * BigInt(Math.max(1, sessions))) });
  const zAppId = callHash(domain, register);
  const before = [
    ...base.before, register, sign(DEMO_KEYS.mallory, { name: 'TopUp', zAppId, amount: wholeQsr(1_000) }),
    sign(DEMO_KEYS.dishonest, { name: 'RegisterProvider', receiptSigner: DEMO_KEYS.dishonestSigner.address, pricePerMgas: PRICE, upfrontGas: gas(0), stake: wholeQsr(1_000) }),
  ];
  const seeds = keys.map((user) => sign(user, { name: 'OpenSession', zAppId, provider: DEMO_KEYS.dishonest.address, user: user.address, gasLimit: seedGas, durationSeconds: 86_400n, maxPricePerMgas: qsr(MAX_UINT256), maxUpfrontGas: gas(MAX_UINT64) }));
  return { ...base, genesis, before, seeds, signMs: performance.now() - started };
}

/** Every receipt with seq ≤ upTo, seq-major (each batch holds consecutive seqs of every session): raw settlement. */
export function everyReceipt(p: Plan, upTo = p.receipts.length): SettlementReceipt[] {
  return p.receipts.slice(0, upTo).flat();
}

/** What coalescing runners push: every `flushEvery` calls, only the newest receipt of each session (and the last one). */
export function coalesced(p: Plan, flushEvery: number): SettlementReceipt[] {
  const out: SettlementReceipt[] = [];
  const n = p.receipts.length;
  for (let seq = flushEvery; seq < n + flushEvery; seq += flushEvery) out.push(...p.receipts[Math.min(seq, n) - 1]!);
  return out;
}

/** POSTs JSON; a 503 (admission control) is sent again after the wait it asks for, as a client does. */
async function postJson(url: string, body: unknown): Promise<Response> {
  for (;;) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status === 202) return response;
    const text = await response.text();
    if (response.status !== 503) throw new Error(`${url}: ${response.status} ${text}`);
    await new Promise((r) => setTimeout(r, retryAfterMs(response)));
  }
}

function retryAfterMs(response: Response): number {
  return Math.min(Number(response.headers.get('retry-after') ?? 1) * 1000, MAX_BACKOFF_MS);
}

export async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
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

export interface BenchSystemOptions {
  /** `zgas worker` processes beside the node's in-process verifier. */
  workerProcesses: number;
  /** Verification jobs the node runs at once itself (0: none, receipts stay stored unless worker processes run). */
  verifyConcurrency: number;
}

export interface BenchSystem {
  sys: LocalSystem;
  plan: Plan;
  schema: string;
  /** performance.now() of each momentum's commit (bus event). */
  commitAt: Map<bigint, number>;
  /** Receipt copies the committed momentums carried so far (bus events). */
  inMomentums: { receipts: number };
  /** Start → the genesis momentum committed and the API listening (startLocalSystem returns then). */
  coldStartMs: number;
  /** Intake keys of every receipt copy submitted so far. */
  submitted: Hash[];
  /** Process ids of the `zgas worker` processes. */
  workerPids: number[];
  close(): Promise<void>;
}

/** A whole local system on a fresh schema, queue and prefix, its genesis committed, worker processes consuming. */
export async function startBenchSystem(p: Plan, opts: BenchSystemOptions): Promise<BenchSystem> {
  const tag = randomBytes(4).toString('hex');
  const schema = uniqueSchemaName('bench_load');
  const prefix = `zgas-bench-${tag}`;
  const commitAt = new Map<bigint, number>();
  const inMomentums = { receipts: 0 };
  const children: ChildProcess[] = [];
  if (opts.workerProcesses > 0 && p.genesis.accounts.length > MAX_GENESIS_ACCOUNTS) {
    throw new Error(`worker processes read the genesis file, which holds at most ${MAX_GENESIS_ACCOUNTS} accounts (this one: ${p.genesis.accounts.length})`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'zgas-bench-'));
  let sys: LocalSystem | null = null;
  const close = async (): Promise<void> => {
    await Promise.all(children.map(stopProcess));
    await sys?.close();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
    await dropRedisKeys(prefix);
  };
  try {
    const t0 = performance.now();
    sys = await startLocalSystem({
      genesis: p.genesis, log: silentLogger, databaseUrl: TEST_DATABASE_URL, schema, redisUrl: REDIS_URL, queueName: `bench-${tag}`,
      redisPrefix: prefix, apiHost: '127.0.0.1', apiPort: 0, momentumIntervalMs: 100, verifyConcurrency: opts.verifyConcurrency, dashboard: false,
      apiLimits: { rateLimitMax: false, intakeCopiesPerSubmitter: 10_000_000, intakeBytesPerSubmitter: 16 * 1024 * 1024 * 1024 },
    });
    // startLocalSystem returns once the genesis momentum is committed and the API listens.
    const firstMomentumAt = performance.now();
    const s = sys;
    s.bus.subscribe((e) => {
      if (e.type !== 'momentum') return;
      commitAt.set(BigInt(e.height), performance.now());
      inMomentums.receipts += e.receiptCount ?? 0;
    });
    const genesisFile = path.join(dir, 'genesis.json');
    if (opts.workerProcesses > 0) writeFileSync(genesisFile, JSON.stringify(genesisToJson(p.genesis)));
    const workerEnv = { DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: schema, REDIS_URL, ZGAS_QUEUE_NAME: `bench-${tag}`, ZGAS_REDIS_PREFIX: prefix, ZGAS_GENESIS: genesisFile };
    const output: string[] = [];
    for (let i = 0; i < opts.workerProcesses; i++) children.push(await startWorkerProcess(workerEnv, output));
    return {
      sys: s, plan: p, schema, commitAt, inMomentums, coldStartMs: firstMomentumAt - t0, submitted: [], close,
      workerPids: children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined),
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function callCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM calls GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Posts calls and waits until every one is applied; fails loudly on any failed call. */
async function postCalls(b: BenchSystem, lanes: SignedCall[][], inFlight: number): Promise<void> {
  const url = `${b.sys.apiUrl}/v1/calls`;
  const queue = lanes.filter((l) => l.length > 0).map((l) => [...l]);
  let total = 0;
  for (const l of queue) total += l.length;
  const before = await callCounts(b.sys.db);
  // Each lane is one sender's calls in nonce order: posted one after another; lanes run side by side.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const lane = queue[next++]!;
      for (const c of lane) await postJson(url, callToJson(c));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, queue.length) }, worker));
  const target = (before['applied'] ?? 0) + total;
  await until('setup calls applied', SETUP_TIMEOUT_MS, async () => {
    const now = await callCounts(b.sys.db);
    if ((now['failed'] ?? 0) > 0) throw new Error(`setup calls failed: ${JSON.stringify(now)}`);
    return (now['applied'] ?? 0) >= target;
  }, 50);
}

/** The zApps, providers, the load's sessions and the seed sessions, through the API; returns the seeding time. */
export async function setUp(b: BenchSystem): Promise<{ setupMs: number; seedMs: number }> {
  const started = performance.now();
  const upload = await fetch(`${b.sys.apiUrl}/v1/modules`, { method: 'PUT', body: Buffer.from(MODULE), headers: { 'content-type': 'application/wasm' } });
  if (upload.status !== 200) throw new Error(`module upload: ${upload.status} ${await upload.text()}`);
  // One sender after another: a momentum orders calls by sender, and the sessions need the zApps and providers.
  for (const c of b.plan.before) await postCalls(b, [[c]], 1);
  const seedStart = performance.now();
  // Seeds: one sender each, many at once; the load's sessions: the owner's lane.
  const seedLanes = b.plan.seeds.map((c) => [c]);
  await postCalls(b, [b.plan.opens, ...seedLanes], SEED_IN_FLIGHT);
  const seedMs = performance.now() - seedStart;
  return { setupMs: performance.now() - started, seedMs };
}

export interface Load {
  /** Receipts per POST. */
  batch: number;
  inFlight: number;
  /** Open-loop pacing: batch i starts no earlier than i × batch / rate seconds after the first; absent: as fast as answered. */
  receiptsPerSecond?: number;
}

export interface RunResult {
  receipts: number;
  applied: number;
  settled: number;
  /** Calls billed by the settled receipts (a receipt with seq n that settles after seq m bills n − m). */
  billedCalls: number;
  submitMs: number;
  /** First submission → every receipt past verification (sampled every 250 ms; receipts rejected at verification count up to 2 s late). */
  verifyMs: number;
  /** First submission → last committing momentum. */
  settleMs: number;
  receiptsPerSecond: number;
  billedCallsPerSecond: number;
  p50: number;
  p99: number;
  momentums: number;
  /** Receipts by state:outcome. */
  outcomes: Record<string, number>;
  /** CPU per settled receipt, µs, of each part of the run (process-cpu.ts); `self` also holds the client's POSTs. */
  cpuUsPerReceipt: CpuParts;
  /** The parts' CPU over the run as a share of the machine's cores over the same wall time (null: not all parts readable). */
  cpuShareOfCores: number | null;
  loadAverage: number[];
  /** POSTs refused by admission control (503 Overloaded) and sent again after the wait it asked for. */
  refused: number;
}

/** POSTs the receipts to /v1/receipts and waits for every one to be applied or rejected. */
export async function submit(b: BenchSystem, receipts: SettlementReceipt[], load: Load): Promise<RunResult> {
  const { sys } = b;
  const earlier = [...b.submitted];
  const before = await receiptCounts(sys.db);
  const already = before.stored + before.verified + before.applied + before.rejected;
  const inMomentumsBefore = b.inMomentums.receipts;
  const submittedAt = new Map<Hash, number>();
  const batches: SettlementReceipt[][] = [];
  for (let i = 0; i < receipts.length; i += load.batch) batches.push(receipts.slice(i, i + load.batch));
  const bodies = batches.map((x) => JSON.stringify({ receipts: x.map(receiptToJson) }));
  const digests = batches.map((x) => x.map((r) => receiptDigest(b.plan.domain, r)));
  const copyKeys = batches.flatMap((x, i) => x.map((r, j) => receiptCopyKey(digests[i]![j]!, r)));
  b.submitted.push(...copyKeys);
  const parts0 = sampleCpu(b.workerPids);
  const startAt = performance.now();
  let refused = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const i = next++;
      if (load.receiptsPerSecond !== undefined) {
        const wait = startAt + (i * load.batch * 1000) / load.receiptsPerSecond - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const at = performance.now();
      for (const d of digests[i]!) submittedAt.set(d, at);
      for (;;) {
        const response = await fetch(`${sys.apiUrl}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i]! });
        if (response.status === 202) {
          await response.arrayBuffer();
          break;
        }
        const text = await response.text();
        if (response.status !== 503) throw new Error(`POST /v1/receipts: ${response.status} ${text}`);
        // Admission control: back off as told, as a runner does; the receipt's latency keeps counting.
        refused++;
        await new Promise((r) => setTimeout(r, retryAfterMs(response)));
      }
    }
  };
  await Promise.all(Array.from({ length: load.inFlight }, worker));
  const submitMs = performance.now() - startAt;
  const total = already + receipts.length;
  let verifyMs = 0;
  let countedAt = performance.now();
  // Progress from the momentum events, and now and then from the verifications waiting for one:
  // counting every copy in the store (a scan of all of them) every 50 ms took a good part of a core
  // from the run it measured. The store is counted every STORE_COUNT_EVERY_MS only for copies
  // rejected at verification (they never reach a momentum).
  let probedAt = -Infinity;
  await until('settlement of every receipt', SETTLE_TIMEOUT_MS, async () => {
    const settled = b.inMomentums.receipts - inMomentumsBefore;
    if (settled >= receipts.length) return true;
    if (verifyMs === 0 && performance.now() - probedAt >= VERIFIED_PROBE_EVERY_MS) {
      probedAt = performance.now();
      if (settled + (await waitingVerified(sys.db)) >= receipts.length) verifyMs = performance.now() - startAt;
    }
    if (performance.now() - countedAt < STORE_COUNT_EVERY_MS) return false;
    countedAt = performance.now();
    const by = await receiptCounts(sys.db);
    if (verifyMs === 0 && by.applied + by.rejected + by.verified >= total) verifyMs = performance.now() - startAt;
    return by.applied + by.rejected >= total;
  }, 50);
  const parts1 = sampleCpu(b.workerPids);
  const wallMs = performance.now() - startAt;
  const ours = await stored(sys.db, copyKeys);
  const outcomes: Record<string, number> = {};
  const latencies: number[] = [];
  let settled = 0;
  let applied = 0;
  let lastCommit = startAt;
  const heights = new Set<bigint>();
  for (const r of ours) {
    const key = `${r.state}:${r.outcome ?? r.code ?? '-'}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (r.state === 'applied') applied++;
    if (r.outcome === 'Settled') settled++;
    if (r.momentumHeight !== null) heights.add(r.momentumHeight);
    const committed = r.momentumHeight === null ? undefined : b.commitAt.get(r.momentumHeight);
    if (committed !== undefined) {
      latencies.push(committed - submittedAt.get(r.digest)!);
      if (committed > lastCommit) lastCommit = committed;
    }
  }
  latencies.sort((x, y) => x - y);
  const settledOf = (rs: StoredReceipt[], ours: boolean) => rs.filter((r) => r.outcome === 'Settled').map((r) => ({ sessionId: r.receipt.sessionId, seq: r.receipt.seq, ours }));
  const billedCalls = billed([...settledOf(ours, true), ...settledOf(await stored(sys.db, earlier), false)]);
  const settleMs = lastCommit - startAt;
  return {
    receipts: receipts.length, applied, settled, billedCalls, submitMs, verifyMs, settleMs,
    receiptsPerSecond: (applied * 1000) / settleMs, billedCallsPerSecond: (billedCalls * 1000) / settleMs,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), momentums: heights.size, outcomes,
    loadAverage: loadAverage(), refused,
    cpuUsPerReceipt: cpuBetween(parts0, parts1, applied), cpuShareOfCores: shareOfCores(parts0, parts1, wallMs),
  };
}

/** Verified copies waiting for a momentum (a small table: the sequencer consumes it). */
async function waitingVerified(db: Db): Promise<number> {
  const { rows: [row] } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM receipt_verifications');
  return Number(row?.n ?? '0');
}

/** The stored copies by intake key, through the store (a lookup takes at most MAX_RECEIPTS_PER_CALL). */
async function stored(db: Db, copyKeys: readonly Hash[]): Promise<StoredReceipt[]> {
  const out: StoredReceipt[] = [];
  for (let i = 0; i < copyKeys.length; i += MAX_RECEIPTS_PER_CALL) out.push(...(await loadReceipts(db, copyKeys.slice(i, i + MAX_RECEIPTS_PER_CALL))));
  return out;
}

/** Calls billed by this run's settled receipts: per session, its newest settled seq minus the newest one settled before the run. */
function billed(rows: { sessionId: string; seq: bigint; ours: boolean }[]): number {
  const newest = new Map<string, bigint>();
  const earlier = new Map<string, bigint>();
  for (const r of rows) {
    const m = r.ours ? newest : earlier;
    if ((m.get(r.sessionId) ?? 0n) < r.seq) m.set(r.sessionId, r.seq);
  }
  let n = 0n;
  for (const [s, seq] of newest) n += seq - (earlier.get(s) ?? 0n);
  return Number(n);
}

export function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Replays the store from genesis: every signature, result, digest and hash, then the state rows. */
export async function replayCheck(b: BenchSystem): Promise<{ ok: boolean; ms: number; mismatches: number }> {
  const started = performance.now();
  const r = await replay(b.sys.db, b.plan.genesis);
  return { ok: r.ok, ms: performance.now() - started, mismatches: r.mismatches.length };
}

/** The genesis state with the plan's setup calls and session openings applied by the contract in process (all at height 1, at the genesis time). */
export function setUpInProcess(p: Plan): State {
  const state = genesisState(p.genesis);
  for (const c of [...p.before, ...p.opens]) {
    const out = apply(state, prepareCall(p.domain, c), { height: 1n, timestamp: p.genesis.timestamp });
    if (!out.result.ok) throw new Error(`in-process setup: ${out.result.code}`);
  }
  return state;
}

/**
 * The billed state settling every call's receipt leaves: the plan's setup and then every receipt,
 * a Settle batch per seq, applied in process by the contract with the signers taken as verified
 * (the unsigned receipts of a coalescing plan have no signatures to recover). Their identity is a
 * stand-in hash for the unsigned ones: only the last receipt's, which is signed, stays in the state.
 */
export function everyCallBilling(p: Plan): BillingView {
  const state = setUpInProcess(p);
  const timestamp = p.genesis.timestamp;
  let height = 1n;
  for (const row of p.receipts) {
    height += 1n;
    const verified = row.map((receipt): VerifiedReceipt => ({
      receipt, signer: DEMO_KEYS.providerSigner.address, invocationSigner: DEMO_KEYS.alice.address,
      digest: receipt.signature === UNSIGNED ? sha3(concatBytes(utf8Bytes(`unsigned ${receipt.sessionId}`), u64be(receipt.seq))) : receiptDigest(p.domain, receipt),
    }));
    for (let i = 0; i < verified.length; i += MAX_RECEIPTS_PER_CALL) {
      const out = apply(state, { kind: 'receipts', receipts: verified.slice(i, i + MAX_RECEIPTS_PER_CALL) }, { height, timestamp });
      if (!out.result.ok) throw new Error(`reference settlement: ${out.result.code}`);
      const refused = out.result.outcomes?.find((o) => o.outcome === 'Rejected');
      if (refused !== undefined) throw new Error(`reference settlement refused a receipt: ${JSON.stringify(refused)}`);
    }
  }
  return billingView(state);
}

/** The committed contract state, as the store holds it. */
export async function committedState(b: BenchSystem): Promise<State> {
  return loadState(b.sys.db, genesisState(b.plan.genesis));
}

/** The naive baseline: per receipt, verify, apply, and commit the receipt, the state change and a momentum in one transaction. */
export async function naiveBaseline(p: Plan, receipts: SettlementReceipt[], limits: { receipts: number; ms: number }): Promise<{ receipts: number; ms: number; receiptsPerSecond: number; p50: number; p99: number }> {
  const schema = uniqueSchemaName('bench_naive');
  let db: Db | null = null;
  try {
    db = await openPgDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await migrate(db);
    const state = setUpInProcess(p);
    let timestamp = p.genesis.timestamp;
    let height = 0n;
    await saveAll(db, state);
    let prevHash = ZERO_HASH;
    const latencies: number[] = [];
    const start = performance.now();
    let n = 0;
    for (const r of receipts) {
      if (n >= limits.receipts || performance.now() - start > limits.ms) break;
      const at = performance.now();
      const v = verifyReceipt(p.domain, r);
      height += 1n;
      const now = systemClock();
      if (now > timestamp) timestamp = now;
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
    return { receipts: n, ms, receiptsPerSecond: (n * 1000) / ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await db?.close();
    await dropSchema(schema);
  }
}
