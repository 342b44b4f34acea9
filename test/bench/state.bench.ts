// Session state size and call cost: a small call on an empty state against the same call on a
// state near the genesis cap (4 MiB), through the whole runner (HTTP inject, worker pool, session
// log), and what hashing a changed state costs against what the rehash price charges for it.
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { HashedState } from '../../unikernel-runner/runtime/hashed-state.ts';
import { price } from '../../unikernel-runner/runtime/host.ts';
import { hostPrices } from '../../unikernel-runner/runtime/prepare.ts';
import { WorkerPool } from '../../unikernel-runner/runtime/pool.ts';
import { DEFAULT_MAX_STATE_BYTES, encodeStateBytes } from '../../unikernel-runner/runtime/state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import type { Hex } from '../../contracts/types.ts';
import { openTestSession, TestClient, testRunner } from '../support/runner-kit.ts';
import type { TestRunner } from '../support/runner-kit.ts';
import { STATE_OPS_WASM, stateOpsInput } from '../support/state-ops.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import type { BenchTable } from './harness.ts';

const CALLS = 30;
const WARMUP = 5;
const CALL_GAS_LIMIT = gas(2_000_000_000n);
// 64 entries of 64,000 bytes: 4,096,640 encoded bytes, just under the default 4 MiB cap
const FILL = stateOpsInput([{ op: 'fill', tag: 0x10, count: 64, valueBytes: 64_000 }]);

interface Case {
  name: string;
  full: boolean;
  input: (i: number) => Uint8Array;
}

const writeAt = (first: number) => (i: number) => stateOpsInput([{ op: 'write', key: new Uint8Array([first, i & 0xff]), value: new Uint8Array([i & 0xff, 1, 2, 3]) }]);
const CASES: Case[] = [
  { name: 'empty state, write 1 key', full: false, input: writeAt(0xff) },
  { name: '4 MiB state, write 1 key (sorts last)', full: true, input: writeAt(0xff) },
  { name: '4 MiB state, no write', full: true, input: () => new Uint8Array(0) },
  { name: '4 MiB state, write 1 key (sorts first)', full: true, input: writeAt(0x00) },
];

async function measure(runner: TestRunner, c: Case): Promise<{ ms: number[]; callGas: Gas; bytes: number }> {
  const user = new TestClient(runner.app, openTestSession(runner.ledger, 'hello', { moduleHash: runner.ledger.putModule(STATE_OPS_WASM) }));
  if (c.full) {
    const fill = await user.call(FILL, CALL_GAS_LIMIT);
    if (fill.status !== 200 || fill.receipt?.status !== 1) throw new Error(`the fill call failed: ${JSON.stringify(fill.json)}`);
  }
  const ms: number[] = [];
  let callGas = gas(0n);
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const start = performance.now();
    const answer = await user.call(c.input(i), CALL_GAS_LIMIT);
    const took = performance.now() - start;
    if (answer.status !== 200 || answer.receipt?.status !== 1) throw new Error(`${c.name}: call ${i} failed: ${JSON.stringify(answer.json)}`);
    if (i >= WARMUP) ms.push(took);
    callGas = answer.receipt.callGas;
  }
  return { ms: ms.sort((a, b) => a - b), callGas, bytes: encodeStateBytes(user.state).length };
}

async function callTable(): Promise<BenchTable> {
  const pool = new WorkerPool({ size: 1 });
  const runner = await testRunner({ pool });
  const rows = [];
  const data: Record<string, unknown> = {};
  try {
    let baseline = Number.NaN;
    for (const c of CASES) {
      const { ms, callGas, bytes } = await measure(runner, c);
      const p50 = percentile(ms, 50);
      if (Number.isNaN(baseline)) baseline = p50;
      rows.push({ case: c.name, 'state bytes': fmt(bytes), 'ms/call p50': fmt(p50, 2), 'ms/call p90': fmt(percentile(ms, 90), 2), 'vs empty': `${fmt(p50 / baseline, 2)}x`, callGas: fmt(Number(callGas)) });
      data[c.name] = { ms, callGas: callGas.toString(), stateBytes: bytes };
    }
  } finally {
    await runner.close();
    await pool.close();
  }
  return {
    title: `A small call through the runner, ${CALLS} calls each (signing, HTTP inject, worker, log)`,
    columns: ['case', 'state bytes', 'ms/call p50', 'ms/call p90', 'vs empty', 'callGas'],
    rows,
    notes: [`maxStateBytes ${DEFAULT_MAX_STATE_BYTES}; the state stays in the worker: only input, output and writes cross threads, and only the suffix from the first changed key is hashed again (and charged)`],
    data,
  };
}

/** Hashing a 4 MiB state from its first key on, against what the rehash price charges for it. */
function rehashTable(): BenchTable {
  const table = gasTableByName();
  const rehash = hostPrices(table).stateRehash;
  const entries: Array<[Hex, Uint8Array]> = [];
  for (let i = 0; i < 64; i++) entries.push([bytesToHex(new Uint8Array([0x10, i])), new Uint8Array(64_000).fill(i)]);
  const state = HashedState.fromEntries(entries);
  const rows = [];
  for (const [name, first] of [['first key (whole state)', 0x00], ['middle key (half)', 0x10], ['last key', 0xff]] as const) {
    const times: number[] = [];
    let rehashBytes = 0;
    for (let i = 0; i < 25; i++) {
      const key = bytesToHex(first === 0x10 ? new Uint8Array([0x10, 32]) : new Uint8Array([first]));
      const diff: Array<[Hex, Uint8Array]> = [[key, first === 0x10 ? new Uint8Array(64_000).fill(i) : new Uint8Array([i])]];
      rehashBytes = state.plan(diff).rehashBytes;
      const start = performance.now();
      state.apply(diff);
      times.push(performance.now() - start);
    }
    const ms = percentile(times.sort((a, b) => a - b), 50);
    const charged = price(rehash, rehashBytes);
    rows.push({ change: name, 'rehash bytes': fmt(rehashBytes), 'ms p50': fmt(ms, 3), 'gas charged': fmt(charged), 'gas/ns': fmt(charged / (ms * 1e6), 1) });
  }
  return {
    title: 'Re-hashing a 4 MiB state after one change, by where the change sorts',
    columns: ['change', 'rehash bytes', 'ms p50', 'gas charged', 'gas/ns'],
    rows,
    notes: [`stateHash.rehash = ${rehash.base} + ${rehash.per32Bytes} per 32 bytes; the instruction prices buy ~6-48 gas/ns (geomean ~25, metering bench). The last-key row pays the base and a few bytes, while the runner re-absorbs up to one checkpoint interval and one entry`],
  };
}

export async function run(): Promise<void> {
  const tables = [await callTable(), rehashTable()];
  for (const t of tables) printTable(t);
  console.log(`results: ${writeResults('state', tables)}`);
}
