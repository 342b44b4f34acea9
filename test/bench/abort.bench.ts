// Abort latency: from setting a running call's abort flag to the call stopping at its next refill
// checkpoint, over many aborts of a `spin` call in the worker pool. Each stop is re-judged the way
// the contract judges an Aborted receipt: re-run with callGas as the limit, it must run out of gas
// there with the pre-state unchanged.
import os from 'node:os';
import { contextSeed } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { DEFAULT_CHUNK_GAS } from '../../unikernel-runner/metering/meter.ts';
import { WorkerPool } from '../../unikernel-runner/runtime/pool.ts';
import type { CallJob } from '../../unikernel-runner/runtime/pool.ts';
import { hostPrices, prepareModule } from '../../unikernel-runner/runtime/prepare.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { encodeStateBytes, hashState, stateFromEntries } from '../../unikernel-runner/runtime/state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import { TestClient, openTestSession, testRunner } from '../support/runner-kit.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';
import { sha3 } from '../../contracts/hash.ts';
import { gasTableHash } from '../../unikernel-runner/metering/table.ts';

const ABORTS = Number(process.env.ZGAS_BENCH_ABORTS ?? 250);
/** Aborts sent through the runner API (each on a session of its own). */
const API_ABORTS = Number(process.env.ZGAS_BENCH_API_ABORTS ?? 60);
const WARMUP = 10;
const SPIN_INPUT = '1000000000000';
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(): Promise<void> {
  const loadBefore = os.loadavg()[0]!;
  const table = gasTableByName();
  const module = loadZApp('spin');
  const preState = stateFromEntries([[utf8Bytes('count'), new Uint8Array(8)]]);
  const sessionId = `0x${'5a'.repeat(32)}` as Hash;
  const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });
  const pool = new WorkerPool({ size: 1, timeoutMs: 60_000 });
  const job = (seq: bigint): CallJob => ({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
    sessionId,
    preStateHash: hashState(preState),
    prepared: prepareModule(module, table),
    prices: hostPrices(table),
    preState,
    input: utf8Bytes(SPIN_INPUT),
    gasLimit: gas(10n ** 15n),
    seed: contextSeed(sessionId, seq),
  });

  const stopMs: number[] = [];
  const answerMs: number[] = [];
  const gasAtStop: bigint[] = [];
  const gasPerMs: number[] = [];
  let matches = 0;
  try {
    for (let i = 0; i < WARMUP + ABORTS; i++) {
      const call = pool.submit(job(BigInt(i + 1)));
      // let the call run hot for a while (varied, so the flag lands at every point between checkpoints)
      await sleep(3 + (i % 7) * 2);
      const abortedAt = now();
      pool.abort(call.id);
      const outcome = await call.result;
      const answeredAt = now();
      if (outcome.status !== CallStatus.Aborted) throw new Error(`call ${i} ended with status ${outcome.status}, not Aborted`);
      const rerunStart = performance.now();
      const judged = reexecutor.rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module, moduleHash: sha3(module), preState: encodeStateBytes(preState), input: utf8Bytes(SPIN_INPUT), gasLimit: outcome.callGas, seed: contextSeed(sessionId, BigInt(i + 1)) });
      const agrees = judged.status === CallStatus.OutOfGas && judged.callGas === outcome.callGas && judged.postStateHash === hashState(preState) && outcome.postStateHash === hashState(preState);
      const rerunMs = performance.now() - rerunStart;
      if (i < WARMUP) continue;
      if (rerunMs > 1) gasPerMs.push(Number(outcome.callGas) / rerunMs);
      if (agrees) matches++;
      stopMs.push(Math.max(0, outcome.finishedAtMs - abortedAt));
      answerMs.push(answeredAt - abortedAt);
      gasAtStop.push(outcome.callGas);
    }
  } finally {
    await pool.close();
  }

  const stops = [...stopMs].sort((a, b) => a - b);
  const answers = [...answerMs].sort((a, b) => a - b);
  const meanGas = gasAtStop.reduce((a, b) => a + b, 0n) / BigInt(Math.max(1, gasAtStop.length));
  const rate = percentile([...gasPerMs].sort((a, b) => a - b), 50);
  const checkpointUs = (Number(DEFAULT_CHUNK_GAS) / rate) * 1000;
  const row = (name: string, sorted: number[]) => ({
    measure: name,
    aborts: sorted.length,
    'p50 ms': fmt(percentile(sorted, 50), 3),
    'p99 ms': fmt(percentile(sorted, 99), 3),
    'max ms': fmt(sorted[sorted.length - 1] ?? Number.NaN, 3),
  });
  const fastPath = await runnerApiAborts();
  const tables = [
    fastPath,
    {
      title: 'Abort latency (spin zApp, 1 worker)',
      columns: ['measure', 'aborts', 'p50 ms', 'p99 ms', 'max ms'],
      rows: [row('flag set → call stopped', stops), row('flag set → outcome in main thread', answers)],
      notes: [
        `aim: p99 flag → stopped ≤ 5 ms; refill chunk ${DEFAULT_CHUNK_GAS} gas at ${fmt(rate / 1000, 0)} Mgas/s (re-execution median) = a checkpoint every ${fmt(checkpointUs, 1)} µs`,
        `re-execution with callGas as the limit reproduced OutOfGas at the same gas, post = pre: ${matches}/${stopMs.length}`,
        `mean gas at stop ${meanGas}; aborts over 5 ms: ${stopMs.filter((ms) => ms > 5).length}`,
        `load average (1 min) before/after: ${loadBefore.toFixed(1)}/${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores (a stop waits for the worker thread to get a core)`,
      ],
      data: { gasPerMs, checkpointUs, stopMs, answerMs, gasAtStop: gasAtStop.map(String), matches, aborts: stopMs.length },
    },
  ];
  for (const t of tables) printTable(t);
  writeResults('abort', tables);
  if (matches !== stopMs.length) throw new Error(`${stopMs.length - matches} aborts were not reproduced by re-execution`);
}

/**
 * The fast path a user takes (POST /v1/sessions/:id/abort with its signed Abort call, straight to
 * the runner): from sending the request to the runner's 202, and to the running call's Aborted
 * answer. Through the runner's HTTP layer (inject) with the signature check, on one worker.
 */
async function runnerApiAborts() {
  const runner = await testRunner({ pool: new WorkerPool({ size: 1, timeoutMs: 60_000 }) });
  const acceptedMs: number[] = [];
  const stoppedMs: number[] = [];
  let aborted = 0;
  try {
    for (let i = 0; i < WARMUP + API_ABORTS; i++) {
      const user = new TestClient(runner.app, openTestSession(runner.ledger, 'spin'));
      const running = user.call(SPIN_INPUT, gas(10_000_000_000n));
      for (const end = Date.now() + 60_000; runner.pool.busy === 0 && Date.now() < end; ) await sleep(1);
      await sleep(3 + (i % 7) * 2);
      const sentAt = now();
      const accepted = await user.abort();
      const acceptedAt = now();
      const answer = await running;
      const stoppedAt = now();
      if (accepted.status !== 202) throw new Error(`the runner answered the abort with ${accepted.status}`);
      if (i < WARMUP) continue;
      if (answer.receipt?.status === CallStatus.Aborted) aborted++;
      acceptedMs.push(acceptedAt - sentAt);
      stoppedMs.push(stoppedAt - sentAt);
    }
  } finally {
    await runner.close();
    await runner.pool.close();
  }
  const row = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { measure: name, aborts: sorted.length, 'p50 ms': fmt(percentile(sorted, 50), 3), 'p99 ms': fmt(percentile(sorted, 99), 3), 'max ms': fmt(sorted[sorted.length - 1] ?? Number.NaN, 3) };
  };
  if (aborted !== stoppedMs.length) throw new Error(`${stoppedMs.length - aborted} calls did not end Aborted`);
  return {
    title: 'Abort through the runner API (POST /v1/sessions/:id/abort, signed Abort call, spin zApp, 1 worker)',
    columns: ['measure', 'aborts', 'p50 ms', 'p99 ms', 'max ms'],
    rows: [row('request → 202', acceptedMs), row('request → call answered Aborted', stoppedMs)],
    notes: [`every call ended Aborted: ${aborted}/${stoppedMs.length}; the request includes recovering the Abort signature (noble backend)`],
    data: { acceptedMs, stoppedMs, aborted },
  };
}
