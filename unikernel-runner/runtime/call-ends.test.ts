/// <reference lib="dom" />
// What callGas is at every kind of end of a call (docs/metering.md), through the runner's
// executeCall and through the re-executor that judges challenges: the two must agree, and both must
// give the documented figure, computed here from the gas table's prices.
import { beforeAll, describe, expect, it } from 'vitest';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';
import { wat } from '../../test/support/metering.ts';
import { DEFAULT_POLICY } from '../metering/instrument.ts';
import { gasTableByName } from '../metering/registry.ts';
import { effectPrice, priceOf } from '../metering/table.ts';
import { executeCall } from './execute.ts';
import type { CallOutcome } from './execute.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { createReexecutor } from './reexecutor.ts';
import { HashedState } from './hashed-state.ts';
import { EMPTY_STATE, encodeStateBytes } from './state.ts';

const table = gasTableByName();
const prices = hostPrices(table);
const reexecutor = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH });
const SESSION = `0x${'ca'.repeat(32)}` as Hash;
const seed = contextSeed(SESSION, 1n);
const MAX_STATE_BYTES = 1024;
const MAX_INPUT_BYTES = 4096;

/** The table's price of an opcode, by name. */
function op(name: string): bigint {
  const entry = Object.values(table.opcodes).find((o) => o.name === name);
  if (entry === undefined) throw new Error(`no opcode ${name}`);
  return BigInt(entry.cost);
}
const sum = (...names: string[]): bigint => names.reduce((total, name) => total + op(name), 0n);

const PAGE = BigInt(table.surcharges.memory_initial_per_page);
/** alloc: `i32.const 0`, end. */
const ALLOC = sum('i32.const', 'end');
const returnData = (bytes: number): bigint => priceOf(effectPrice(table, 'return_data'), bytes);

function zApp(body: string, { pages = 1, funcs = '' } = {}): string {
  return `(module
    (import "env" "abort" (func $abort (param i32)))
    (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
    (memory (export "memory") ${pages})
    (func (export "alloc") (param i32) (result i32) (i32.const 0))
    ${funcs}
    (func (export "handle") (param $ptr i32) (param $len i32) (result i64) ${body}))`;
}

const modules = new Map<string, Uint8Array>();
const SOURCES = {
  ok: zApp('(i64.const 0)'),
  trap: zApp('(unreachable)'),
  oob: zApp('(drop (i32.load (i32.const 70000))) (i64.const 0)'),
  divide: zApp('(drop (i32.div_u (i32.const 1) (local.get $len))) (i64.const 0)'),
  badKey: zApp('(call $write (i32.const 0) (i32.const 33) (i32.const 0) (i32.const 0)) (i64.const 0)'),
  abort: zApp('(call $abort (i32.const 7)) (i64.const 0)'),
  write: zApp('(call $write (i32.const 0) (i32.const 1) (i32.const 0) (local.get $len)) (i64.const 0)'),
  recurse: zApp('(call $r) (i64.const 0)', { funcs: '(func $r (call $r))' }),
  grow: zApp('(drop (memory.grow (i32.const 65536))) (i64.const 0)'),
  empty: zApp('(i64.const 0)', { pages: 0 }),
  big: zApp('(i64.const 0)', { pages: 2 }),
} as const;
type Name = keyof typeof SOURCES;

beforeAll(async () => {
  for (const [name, text] of Object.entries(SOURCES)) modules.set(name, await wat(text));
});

interface Ends {
  outcome: CallOutcome;
  rerun: ReturnType<typeof reexecutor.rerun>;
}

/** Runs a call through executeCall and through the re-executor; they must agree on every receipt field. */
function both(name: Name, { input = new Uint8Array(0), gasLimit = 10_000_000n, abortFlag }: { input?: Uint8Array; gasLimit?: bigint; abortFlag?: Int32Array } = {}): Ends {
  const module = modules.get(name)!;
  const request = { input, gasLimit: gas(gasLimit), seed, maxStateBytes: MAX_STATE_BYTES, maxInputBytes: MAX_INPUT_BYTES };
  const outcome = executeCall(prepareModule(module, table), abortFlag === undefined ? { ...request, state: HashedState.empty() } : { ...request, state: HashedState.empty(), abortFlag }, prices);
  // An Aborted receipt is judged under its callGas as the limit (contracts/gas/challenge.ts).
  const judgedLimit = outcome.status === CallStatus.Aborted ? outcome.callGas : gas(gasLimit);
  const rerun = reexecutor.rerun({ ...request, gasLimit: judgedLimit, module, moduleHash: sha3(module), preState: encodeStateBytes(EMPTY_STATE) });
  if (outcome.status !== CallStatus.Aborted) {
    expect(rerun).toEqual({ callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status });
  }
  return { outcome, rerun };
}

describe('callGas at every end of a call, in the runner and in re-execution', () => {
  it('Ok: initial memory + every segment entered + host calls + effects (state diff, return data)', () => {
    const { outcome } = both('ok');
    expect(outcome.status).toBe(CallStatus.Ok);
    expect(outcome.callGas).toBe(PAGE + ALLOC + sum('i64.const', 'end') + returnData(0));
  });

  it('Trapped by an engine trap (unreachable, out-of-bounds access, division by zero): the whole gas limit; no effects', () => {
    for (const name of ['trap', 'oob', 'divide'] as const) {
      for (const gasLimit of [10_000_000n, 123_456n]) {
        const { outcome } = both(name, { gasLimit });
        expect(outcome, name).toMatchObject({ status: CallStatus.Trapped, callGas: gasLimit, output: new Uint8Array(0), writes: [] });
      }
    }
    // The trap's own segment is paid before it runs: one gas short, the call runs out of gas instead.
    const paid = PAGE + ALLOC + op('unreachable');
    expect(both('trap', { gasLimit: paid }).outcome).toMatchObject({ status: CallStatus.Trapped, callGas: paid });
    expect(both('trap', { gasLimit: paid - 1n }).outcome).toMatchObject({ status: CallStatus.OutOfGas, callGas: paid - 1n });
  });

  it('Trapped by a host call that refuses its arguments: the gas used so far, exactly; the call itself is not charged', () => {
    const { outcome } = both('badKey');
    expect(outcome.status).toBe(CallStatus.Trapped);
    expect(outcome.trap).toMatch(/key of 33 bytes/);
    expect(outcome.callGas).toBe(PAGE + ALLOC + sum('i32.const', 'i32.const', 'i32.const', 'i32.const', 'call', 'i64.const', 'end'));
  });

  it('Trapped by abort(code): the segment that calls it and the abort price; no effects', () => {
    const { outcome } = both('abort');
    expect(outcome.status).toBe(CallStatus.Trapped);
    const abortPrice = priceOf(prices.abort, 0);
    expect(outcome.callGas).toBe(PAGE + ALLOC + sum('i32.const', 'call', 'i64.const', 'end') + abortPrice);
  });

  it('OutOfGas, mid-segment or at a host call: the whole gas limit', () => {
    const need = PAGE + ALLOC + sum('i64.const', 'end') + returnData(0);
    for (const limit of [need - 1n, PAGE + 1n, 0n]) {
      const { outcome } = both('ok', { gasLimit: limit });
      expect(outcome).toMatchObject({ status: CallStatus.OutOfGas, callGas: limit });
    }
    // At the write: everything before it is paid, the write's own price is not.
    const beforeWrite = PAGE + ALLOC + sum('i32.const', 'i32.const', 'i32.const', 'local.get', 'call', 'i64.const', 'end');
    const input = new Uint8Array(8);
    const writePrice = priceOf(prices.storageWrite, 1 + input.length);
    const { outcome } = both('write', { input, gasLimit: beforeWrite + writePrice - 1n });
    expect(outcome).toMatchObject({ status: CallStatus.OutOfGas, callGas: beforeWrite + writePrice - 1n });
  });

  it('Aborted by the flag: the gas used before the charge that saw it; re-run with that as the limit it is OutOfGas there', () => {
    for (const name of ['ok', 'empty'] as const) {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      Atomics.store(flag, 0, 1);
      // With the flag up from the start, the first checkpoint is the initial-memory charge ('ok') or the first refill ('empty', no memory).
      const { outcome, rerun } = both(name, { abortFlag: flag });
      expect(outcome).toMatchObject({ status: CallStatus.Aborted, callGas: 0n });
      expect(rerun).toMatchObject({ status: CallStatus.OutOfGas, callGas: 0n, postStateHash: outcome.postStateHash });
    }
  });

  it('call depth exceeded: Trapped at the whole gas limit, once every level below the limit has paid its segment', () => {
    const { outcome } = both('recurse');
    expect(outcome).toMatchObject({ status: CallStatus.Trapped, callGas: 10_000_000n });
    // handle is level 1; $r enters levels 2..maxCallDepth, each paying its segment (call, end); level
    // maxCallDepth + 1 traps in its prologue, before its charge: with one gas less the deepest level runs out of gas.
    const levels = BigInt(DEFAULT_POLICY.maxCallDepth) - 1n;
    const paid = PAGE + ALLOC + sum('call', 'i64.const', 'end') + levels * sum('call', 'end');
    expect(both('recurse', { gasLimit: paid }).outcome).toMatchObject({ status: CallStatus.Trapped, callGas: paid });
    expect(both('recurse', { gasLimit: paid - 1n }).outcome).toMatchObject({ status: CallStatus.OutOfGas, callGas: paid - 1n });
  });

  it('memory.grow refused: the call goes on (result -1) and pays memory.grow but no page', () => {
    const { outcome } = both('grow');
    expect(outcome.status).toBe(CallStatus.Ok);
    expect(outcome.callGas).toBe(PAGE + ALLOC + sum('i32.const', 'memory.grow', 'drop', 'i64.const', 'end') + returnData(0));
  });

  it('state cap exceeded: Trapped with everything charged, the effects included', () => {
    const input = new Uint8Array(MAX_STATE_BYTES);
    const { outcome } = both('write', { input });
    expect(outcome.status).toBe(CallStatus.Trapped);
    const write = priceOf(prices.storageWrite, 1 + input.length);
    const diff = priceOf(effectPrice(table, 'state_diff_entry'), 1 + input.length);
    expect(outcome.callGas).toBe(PAGE + ALLOC + sum('i32.const', 'i32.const', 'i32.const', 'local.get', 'call', 'i64.const', 'end') + write + diff + returnData(0));
  });

  it('input over the genesis maxInputBytes: refused before it runs (LimitExceeded), no gas, no receipt; at the cap it runs', () => {
    const over = new Uint8Array(MAX_INPUT_BYTES + 1);
    const module = modules.get('ok')!;
    const request = { input: over, gasLimit: gas(10_000_000n), seed, maxStateBytes: MAX_STATE_BYTES, maxInputBytes: MAX_INPUT_BYTES };
    expect(() => executeCall(prepareModule(module, table), { ...request, state: HashedState.empty() }, prices)).toThrowError(expect.objectContaining({ code: 'LimitExceeded' }));
    expect(() => reexecutor.rerun({ ...request, module, moduleHash: sha3(module), preState: new Uint8Array(0) })).toThrowError(expect.objectContaining({ code: 'LimitExceeded' }));
    expect(both('ok', { input: new Uint8Array(MAX_INPUT_BYTES) }).outcome.status).toBe(CallStatus.Ok);
  });

  it('the genesis default input cap (1 MiB) holds in the runtime: a 100 KiB input runs', () => {
    const module = modules.get('big')!;
    const input = new Uint8Array(100 * 1024);
    const request = { input, gasLimit: gas(10_000_000n), seed, maxStateBytes: MAX_STATE_BYTES, maxInputBytes: 1024 * 1024 };
    expect(executeCall(prepareModule(module, table), { ...request, state: HashedState.empty() }, prices).status).toBe(CallStatus.Ok);
    expect(reexecutor.rerun({ ...request, module, moduleHash: sha3(module), preState: new Uint8Array(0) }).status).toBe(CallStatus.Ok);
  });
});
