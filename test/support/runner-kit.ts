/**
 * Test support for the runner: a runner on an in-memory ledger driven through inject(), and a
 * user's client that signs invocations acknowledging the previous receipt and keeps the session's
 * state from the returned writes, as a client must
 * (docs/protocol.md §What the user's client checks).
 */
import type { Clock } from '../../unikernel-runner/clock.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import type { FastifyInstance } from 'fastify';
import vectors from '../vectors/vectors.json' with { type: 'json' };
import { encodeMethod } from '../../contracts/abi/methods.ts';
import { makeDomain, nobleBackend, privateKeyBytes, signCall, signInvocationRequest } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import { callToJson, invocationToJson, receiptFromJson, writesFromJson } from '../../contracts/json.ts';
import type { Address, Hash, Hex, SettlementReceipt, StateWrite } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { WorkerPool } from '../../unikernel-runner/runtime/pool.ts';
import type { SessionLog } from '../../unikernel-runner/runtime/session-log.ts';
import { applyWrites } from '../../unikernel-runner/runtime/sessions.ts';
import { EMPTY_STATE, hashState } from '../../unikernel-runner/runtime/state.ts';
import type { State } from '../../unikernel-runner/runtime/state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { ZAppName } from '../../unikernel-runner/zapps/load.ts';
import { buildRunner } from '../../unikernel-runner/server/app.ts';
import { loadRunnerConfig } from '../../unikernel-runner/server/config.ts';
import type { RunnerConfig } from '../../unikernel-runner/server/config.ts';
import { startRunner } from '../../unikernel-runner/server/main.ts';
import type { StartedRunner } from '../../unikernel-runner/server/main.ts';
import { CallService } from '../../unikernel-runner/server/calls.ts';
import type { CallServiceDeps } from '../../unikernel-runner/server/calls.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import type { LedgerSession } from '../../unikernel-runner/server/ledger.ts';

export const { keys } = vectors;
export const testDomain: Domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
export const DEFAULT_TEST_CALL_GAS_LIMIT = gas(50_000_000n);

export interface TestRunner {
  app: FastifyInstance;
  calls: CallService;
  pool: WorkerPool;
  ledger: MemoryLedger;
  close(): Promise<void>;
}

export type TestRunnerOptions = Partial<Pick<CallServiceDeps, 'maxCallGasLimit' | 'maxInputBytes' | 'push'>> & {
  ledger?: MemoryLedger;
  log?: SessionLog;
  pool?: WorkerPool;
  /** Unix seconds the runner compares with a session's expiresAt; default the system clock. */
  clock?: Clock;
};

/** A runner for the vectors' provider and receipt signer over an in-memory ledger. */
export async function testRunner(options: TestRunnerOptions = {}): Promise<TestRunner> {
  const ledger = options.ledger ?? new MemoryLedger();
  const ownPool = options.pool === undefined;
  const pool = options.pool ?? new WorkerPool({ size: 1 });
  const calls = new CallService({
    ledger,
    pool,
    table: gasTableByName(),
    domain: testDomain,
    receiptKey: privateKeyBytes(keys.receiptSigner.privateKey),
    receiptSigner: keys.receiptSigner.address as Address,
    provider: keys.provider.address as Address,
    backend: nobleBackend,
    maxCallGasLimit: options.maxCallGasLimit ?? gas(10_000_000_000n),
    maxInputBytes: options.maxInputBytes ?? 1024 * 1024,
    maxStateBytes: DEFAULT_MAX_STATE_BYTES,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.push === undefined ? {} : { push: options.push }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const app = await buildRunner({ calls, pool });
  return {
    app,
    calls,
    pool,
    ledger,
    async close() {
      await app.close();
      await calls.close();
      if (ownPool) await pool.close();
    },
  };
}

/**
 * The configuration of a listening runner for the vectors' provider and receipt signer: a free
 * port, one worker, the pure signature backend and no settlement API to reach (tests give it an
 * in-memory ledger). `env` adds or overrides ZGAS_* variables, read by the runner's own loader.
 */
export function testRunnerConfig(env: Record<string, string> = {}): RunnerConfig {
  return loadRunnerConfig({
    ZGAS_API_URL: 'http://127.0.0.1:1',
    ZGAS_RUNNER_PORT: '0',
    ZGAS_RECEIPT_KEY: keys.receiptSigner.privateKey,
    ZGAS_PROVIDER_ADDRESS: keys.provider.address,
    ZGAS_RUNNER_WORKERS: '1',
    ZGAS_SIGNATURE_BACKEND: 'noble',
    ...env,
  });
}

/** A listening runner on testRunnerConfig(env) over an in-memory ledger, quiet, serving the OpenAPI JSON only. */
export async function startTestRunner(ledger: MemoryLedger, env: Record<string, string> = {}): Promise<StartedRunner> {
  return startRunner(testRunnerConfig(env), { ledger, log: () => undefined, docsUi: false });
}

let sessionCount = 0;

/** A test session's expiresAt unless told: 2100-01-01, past any test's clock. */
export const TEST_SESSION_EXPIRES_AT = 4_102_444_800n;

/** Opens a session of the vectors' user on the ledger with a fresh id. */
export function openTestSession(ledger: MemoryLedger, zApp: ZAppName, overrides: Partial<LedgerSession> = {}): Hash {
  sessionCount++;
  const sessionId = sha3(utf8Bytes(`session ${sessionCount} ${process.pid} ${Math.random()}`));
  ledger.putSession({
    id: sessionId,
    status: 'open',
    stopCall: false,
    user: keys.user.address as Address,
    provider: keys.provider.address as Address,
    zAppId: sha3(utf8Bytes(`zapp ${zApp}`)),
    zAppOwner: keys.owner.address as Address,
    moduleHash: ledger.putModule(loadZApp(zApp)),
    gasLimit: gas(10n ** 15n),
    settledGas: gas(0n),
    lastSeq: 0n,
    receiptSigner: keys.receiptSigner.address as Address,
    expiresAt: TEST_SESSION_EXPIRES_AT,
    ...overrides,
  });
  return sessionId;
}

export interface CallAnswer {
  status: number;
  json: { output: Hex; receipt: unknown; writes: unknown; code?: string; latest?: unknown };
}

/** The user's side of one session: signs the next invocation and keeps the state from the writes. */
export class TestClient {
  seq = 0n;
  ackedGas: Gas = gas(0n);
  preStateHash: Hash = EMPTY_STATE_HASH;
  state: State = EMPTY_STATE;
  readonly receipts: SettlementReceipt[] = [];

  constructor(
    readonly app: FastifyInstance,
    readonly sessionId: Hash,
    private readonly key: string = keys.user.privateKey,
  ) {}

  /** The signed invocation JSON for the next seq (or the given fields). */
  invocation(input: string | Uint8Array, callGasLimit: Gas = DEFAULT_TEST_CALL_GAS_LIMIT, overrides: { seq?: bigint; key?: string; preStateHash?: Hash; ackedGas?: Gas } = {}) {
    const bytes = typeof input === 'string' ? utf8Bytes(input) : input;
    const signed = signInvocationRequest(
      testDomain,
      {
        sessionId: this.sessionId,
        seq: overrides.seq ?? this.seq + 1n,
        callGasLimit,
        input: bytesToHex(bytes),
        preStateHash: overrides.preStateHash ?? this.preStateHash,
        ackedGas: overrides.ackedGas ?? this.ackedGas,
      },
      overrides.key ?? this.key,
      nobleBackend,
    );
    return invocationToJson(signed);
  }

  async post(body: unknown): Promise<CallAnswer> {
    const res = await this.app.inject({ method: 'POST', url: `/v1/sessions/${this.sessionId}/calls`, payload: body as Record<string, unknown> });
    return { status: res.statusCode, json: res.json() };
  }

  /** Sends the next invocation; on success applies the writes and acknowledges the receipt. */
  async call(input: string | Uint8Array, callGasLimit: Gas = DEFAULT_TEST_CALL_GAS_LIMIT): Promise<CallAnswer & { receipt?: SettlementReceipt; writes?: StateWrite[] }> {
    const answer = await this.post(this.invocation(input, callGasLimit));
    if (answer.status !== 200) return answer;
    const receipt = receiptFromJson(answer.json.receipt);
    const writes = writesFromJson(answer.json.writes);
    this.accept(receipt, writes);
    return { ...answer, receipt, writes };
  }

  /** Applies a receipt's writes and acknowledges it (the checks of docs/protocol.md §What the user's client checks are the test's to make). */
  accept(receipt: SettlementReceipt, writes: readonly StateWrite[]): void {
    this.state = applyWrites(this.state, writes);
    this.seq = receipt.seq;
    this.ackedGas = receipt.cumulativeGas;
    this.preStateHash = receipt.postStateHash;
    this.receipts.push(receipt);
  }

  /** The hash of the state this client holds. */
  stateHash(): Hash {
    return hashState(this.state);
  }

  /** The signed `Abort(sessionId)` call of a party, as JSON. */
  abortCall(key: string = this.key, sessionId: Hash = this.sessionId, nonce = 0n) {
    const from = (key === keys.owner.privateKey ? keys.owner.address : key === keys.user.privateKey ? keys.user.address : keys.provider.address) as Address;
    return callToJson(signCall(testDomain, { from, nonce, data: encodeMethod({ name: 'Abort', sessionId }) }, key, nobleBackend));
  }

  async abort(body: unknown = this.abortCall()): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await this.app.inject({ method: 'POST', url: `/v1/sessions/${this.sessionId}/abort`, payload: body as Record<string, unknown> });
    return { status: res.statusCode, json: res.json() };
  }

  async latest(): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await this.app.inject({ method: 'GET', url: `/v1/sessions/${this.sessionId}/receipts/latest` });
    return { status: res.statusCode, json: res.json() };
  }
}

/** Waits for a condition, polling, with a generous bound (never a fixed sleep). */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
