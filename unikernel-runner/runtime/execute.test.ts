import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { contextSeed, EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { DEFAULT_POLICY } from '../metering/instrument.ts';
import { elementBombZApp } from '../../test/support/heavy-modules.ts';
import { compileWat, loadZApp } from '../zapps/load.ts';
import type { ZAppName } from '../zapps/load.ts';
import { EMPTY_OUTPUT_HASH, executeCall } from './execute.ts';
import type { CallOutcome } from './execute.ts';
import { HashedState } from './hashed-state.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { EMPTY_STATE, hashState, stateFromEntries } from './state.ts';
import type { State } from './state.ts';
import { gasTableByName } from '../metering/registry.ts';
import { DEFAULT_MAX_STATE_BYTES } from './state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from './execute.ts';

const table = gasTableByName();
const prices = hostPrices(table);
const SESSION = `0x${'cd'.repeat(32)}` as Hash;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Runs on a copy of the given state; the outcome comes with that copy, advanced by the call. */
function run(name: ZAppName, input: string, options: { state?: State; gasLimit?: bigint; seq?: bigint } = {}): CallOutcome & { postState: HashedState } {
  const state = HashedState.from(options.state ?? EMPTY_STATE);
  const outcome = executeCall(
    prepareModule(loadZApp(name), table),
    { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state, input: utf8Bytes(input), gasLimit: gas(options.gasLimit ?? 10_000_000n), seed: contextSeed(SESSION, options.seq ?? 1n) },
    prices,
  );
  return { ...outcome, postState: state };
}

function expectUnchanged(outcome: CallOutcome, pre: State): void {
  expect(outcome.postStateHash).toBe(hashState(pre));
  expect(outcome.writes).toEqual([]);
  expect(outcome.hashedStateBytes).toBe(0);
  expect(outcome.output.length).toBe(0);
  expect(outcome.outputHash).toBe(EMPTY_OUTPUT_HASH);
}

describe('hello', () => {
  it('greets the input and leaves the state alone', () => {
    const outcome = run('hello', 'zgas');
    expect(outcome.status).toBe(CallStatus.Ok);
    expect(text(outcome.output)).toBe('Hello, zgas');
    expect(outcome.outputHash).toBe(sha3(utf8Bytes('Hello, zgas')));
    expect(outcome.postStateHash).toBe(EMPTY_STATE_HASH);
    expect(outcome.callGas).toBeGreaterThan(0n);
  });

  it('charges the same gas every time, and more for a longer output', () => {
    expect(run('hello', 'zgas').callGas).toBe(run('hello', 'zgas').callGas);
    expect(run('hello', 'z'.repeat(100)).callGas).toBeGreaterThan(run('hello', 'z').callGas);
  });
});

describe('counter', () => {
  it('after one call the state hash is the vectors countIs1 hash', () => {
    const outcome = run('counter', '');
    expect(outcome.status).toBe(CallStatus.Ok);
    expect(text(outcome.output)).toBe('1');
    expect(outcome.postStateHash).toBe(vectors.stateHash.countIs1.hash);
    expect(EMPTY_STATE_HASH).toBe(vectors.stateHash.empty);
  });

  it('counts on from the state it is given, without touching that state', () => {
    const one = run('counter', '');
    const two = run('counter', '', { state: one.postState });
    expect(text(two.output)).toBe('2');
    expect(bytesToHex(two.postState.get(bytesToHex(utf8Bytes('count')))!)).toBe('0x0000000000000002');
    expect(one.postStateHash).toBe(vectors.stateHash.countIs1.hash);
    const big = stateFromEntries([[utf8Bytes('count'), new Uint8Array([0, 0, 0, 0, 0x3b, 0x9a, 0xc9, 0xff])]]);
    expect(text(run('counter', '', { state: big }).output)).toBe('1000000000');
  });

  it('traps on a corrupt stored value and changes nothing', () => {
    const corrupt = stateFromEntries([[utf8Bytes('count'), new Uint8Array([1, 2, 3])]]);
    const outcome = run('counter', '', { state: corrupt });
    expect(outcome.status).toBe(CallStatus.Trapped);
    expectUnchanged(outcome, corrupt);
  });
});

describe('fuddor-meme', () => {
  it('introduces a Fuddor picked with the seed, for "name" and for an empty input', () => {
    const names = new Set<string>();
    for (let seq = 1n; seq <= 12n; seq++) {
      const outcome = run('fuddor-meme', 'name', { seq });
      expect(outcome.status).toBe(CallStatus.Ok);
      expect(text(outcome.output)).toMatch(/^Fuddor /);
      names.add(text(outcome.output));
      expect(text(run('fuddor-meme', '', { seq }).output)).toBe(text(outcome.output));
    }
    expect(names.size).toBeGreaterThan(2);
  });

  it('answers a meme from the named Fuddor, the same one for the same seed', () => {
    const name = text(run('fuddor-meme', 'name').output);
    const meme = run('fuddor-meme', name, { seq: 2n });
    expect(text(meme.output).startsWith(`${name}: `)).toBe(true);
    expect(text(meme.output).length).toBeGreaterThan(name.length + 10);
    expect(meme.outputHash).toBe(run('fuddor-meme', name, { seq: 2n }).outputHash);
  });

  it('hints at "name" for anyone else', () => {
    expect(text(run('fuddor-meme', 'Bob').output)).toBe('Unknown Fuddor. Send "name" to meet one.');
  });
});

describe('spin', () => {
  it('burns gas in proportion to its count', () => {
    const small = run('spin', '10');
    const large = run('spin', '1000');
    expect(text(large.output)).toBe('1000');
    expect(large.callGas - small.callGas).toBeGreaterThan(990n * 5n);
  });

  it('traps on a count that is not decimal', () => {
    expect(run('spin', '12x').status).toBe(CallStatus.Trapped);
  });
});

describe('limits', () => {
  it('an infinite loop ends OutOfGas with callGas = the limit and no effect', () => {
    const state = stateFromEntries([[utf8Bytes('k'), utf8Bytes('v')]]);
    const outcome = run('loop', '', { gasLimit: 200_000n, state });
    expect(outcome.status).toBe(CallStatus.OutOfGas);
    expect(outcome.callGas).toBe(200_000n);
    expectUnchanged(outcome, state);
  });

  it('a memory bomb is refused at the policy cap', () => {
    const outcome = run('membomb', '', { gasLimit: 1_000_000_000n });
    expect(outcome.status).toBe(CallStatus.Ok);
    const pages = new DataView(outcome.output.buffer, outcome.output.byteOffset).getUint32(0, true);
    expect(pages + 1).toBe(DEFAULT_POLICY.maxMemoryPages);
    // every page it got was paid for
    expect(outcome.callGas).toBeGreaterThan(BigInt(pages) * 1000n);
  });

  it('a memory bomb with a small limit runs out of gas instead', () => {
    expect(run('membomb', '', { gasLimit: 50_000n }).status).toBe(CallStatus.OutOfGas);
  });

  it('unbounded recursion traps at the injected depth limit, deterministically', () => {
    const first = run('recursion', '');
    expect(first.status).toBe(CallStatus.Trapped);
    expect(first.callGas).toBe(run('recursion', '').callGas);
    expectUnchanged(first, EMPTY_STATE);
  });

  it('a module using floats or a foreign import is rejected at instrumentation', () => {
    expect(() => prepareModule(loadZApp('float'), table)).toThrow(expect.objectContaining({ code: 'ForbiddenOpcode' }));
    expect(() => prepareModule(loadZApp('forbidden-import'), table)).toThrow(expect.objectContaining({ code: 'ForbiddenImport' }));
  });

  it('a limit below the initial memory charge is OutOfGas before any instruction', () => {
    const outcome = run('hello', 'x', { gasLimit: 10n });
    expect(outcome.status).toBe(CallStatus.OutOfGas);
    expect(outcome.callGas).toBe(10n);
  });

  it('an abort flag set before the call stops it at the first charge, and re-running with its gas runs out there', () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(flag, 0, 1);
    const prepared = prepareModule(loadZApp('spin'), table);
    const request = { state: HashedState.empty(), input: utf8Bytes('1000000'), gasLimit: gas(10_000_000n), seed: contextSeed(SESSION, 1n) };
    const aborted = executeCall(prepared, { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, ...request, abortFlag: flag }, prices);
    expect(aborted.status).toBe(CallStatus.Aborted);
    expectUnchanged(aborted, EMPTY_STATE);
    const rejudged = executeCall(prepared, { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, ...request, gasLimit: aborted.callGas }, prices);
    expect(rejudged.status).toBe(CallStatus.OutOfGas);
    expect(rejudged.callGas).toBe(aborted.callGas);
  });

  it('the last gas unit matters: limit = callGas succeeds, one less runs out', () => {
    const ok = run('counter', '');
    expect(run('counter', '', { gasLimit: ok.callGas }).status).toBe(CallStatus.Ok);
    const short = run('counter', '', { gasLimit: ok.callGas - 1n });
    expect(short.status).toBe(CallStatus.OutOfGas);
    expectUnchanged(short, EMPTY_STATE);
  });

  it('a host call with a key length of 2^32-1 traps at the gas used so far, not at the limit', () => {
    const module = (call: string): Uint8Array => compileWat(`(module
      (import "env" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
      (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
      (import "env" "storage_delete" (func $delete (param i32 i32)))
      (import "env" "context_seed" (func $seed (param i32)))
      (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) i32.const 1024)
      (func (export "handle") (param i32 i32) (result i64) ${call} i64.const 0))`);
    const limit = 1_000_000_000n;
    const outcome = (call: string): CallOutcome => executeCall(
      prepareModule(module(call), table),
      { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state: HashedState.empty(), input: new Uint8Array(0), gasLimit: gas(limit), seed: contextSeed(SESSION, 1n) },
      prices,
    );
    // the same instructions ending in a trap of the guest's own
    const guestTrap = outcome('i32.const 0 i32.const -1 i32.const 0 i32.const 0 drop drop drop drop unreachable');
    for (const call of [
      'i32.const 0 i32.const -1 i32.const 0 i32.const 0 call $write',
      'i32.const 0 i32.const 1 i32.const 0 i32.const -1 call $write',
      'i32.const 0 i32.const -1 i32.const 0 i32.const 0 call $read drop',
      'i32.const 0 i32.const -1 call $delete',
      'i32.const -1 call $seed',
    ]) {
      const trapped = outcome(call);
      expect(trapped.status, call).toBe(CallStatus.Trapped);
      expectUnchanged(trapped, EMPTY_STATE);
      expect(trapped.callGas, call).toBeLessThan(guestTrap.callGas + 100n);
    }
  });
});

describe('instantiation', () => {
  const call = (bytes: Uint8Array, gasLimit = 10n ** 12n): CallOutcome => executeCall(
    prepareModule(bytes, table),
    { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state: HashedState.empty(), input: new Uint8Array(0), gasLimit: gas(gasLimit), seed: contextSeed(SESSION, 1n) },
    prices,
  );

  it('a zApp at the element cap pays for every table slot and element entry, each call', () => {
    const entries = DEFAULT_POLICY.maxElementEntries;
    const outcome = call(elementBombZApp(1, entries));
    expect(outcome.status).toBe(CallStatus.Ok);
    const floor = BigInt(entries) * BigInt(table.instantiation.table_entry + table.instantiation.element_entry);
    expect(outcome.callGas).toBeGreaterThan(floor);
    // the charge comes before the instance: a limit below it runs out without instantiating
    expect(call(elementBombZApp(1, entries), floor).status).toBe(CallStatus.OutOfGas);
  });

  it('a module that fills its table again in 60 segments is refused at preparation', () => {
    expect(() => prepareModule(elementBombZApp(60, 65_536), table)).toThrow(expect.objectContaining({ code: 'ModuleLimitExceeded', details: expect.objectContaining({ rule: 'maxElementEntries' }) }));
  });

  it('prepares a module once: a caller that knows its hash skips hashing, metering and compiling', () => {
    const bytes = loadZApp('hello');
    const hash = sha3(bytes);
    const first = prepareModule(bytes, table, hash);
    expect(first.moduleHash).toBe(hash);
    expect(prepareModule(bytes, table, hash)).toBe(first);
    expect(prepareModule(bytes.slice(), table)).toBe(first);
    // with the hash given, the bytes are not even read again (the caller checked them once)
    expect(prepareModule(new Uint8Array(0), table, hash)).toBe(first);
  });
});
