/// <reference lib="dom" />
// The host side of the counter: exact host charges, out-of-gas and abort decided at checkpoints,
// and the abort judgement (re-running with the reported gas as the limit runs out exactly there).
import { describe, expect, it } from 'vitest';
import { InvariantViolation, ZgasError } from '../../contracts/errors.ts';
import { AbortedTrap, createMeter, DEFAULT_CHUNK_GAS, OutOfGasTrap } from './meter.ts';
import { gasTableByName } from './registry.ts';
import { effectPrice, gasTableHash, hostCallPrice, priceOf } from './table.ts';
import { rawModule, runExport } from '../../test/support/metering.ts';

const table = gasTableByName();
const CHUNKS = [1n, 7n, 1000n, DEFAULT_CHUNK_GAS];

// A loop of n iterations calling the host function env.tick(i) once per iteration.
const TICKING = `(module
  (import "env" "tick" (func $tick (param i32)))
  (func (export "f") (param i32) (result i32) (local i32)
    loop
      local.get 1 call $tick
      local.get 1 i32.const 1 i32.add local.tee 1
      local.get 0 i32.lt_u br_if 0
    end
    local.get 1))`;
// entry: loop (1); per iteration: local.get, call (6) | local.get, i32.const, i32.add, local.tee, local.get, i32.lt_u, br_if (8);
// after the loop: end of the loop, local.get, end (3)
const tickingGas = (n: number): bigint => BigInt(1 + 14 * n + 3);

describe('host charges', () => {
  it('are exact and combine with the counter', async () => {
    const m = await rawModule(TICKING, table);
    for (const chunk of CHUNKS) {
      const meter = createMeter({ gasLimit: 1_000_000n, chunk });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(m.bytes as BufferSource), { ...meter.imports, env: { tick: () => meter.charge(200) } });
      meter.bind(instance);
      (instance.exports.f as (n: number) => number)(100);
      expect(meter.used()).toBe(tickingGas(100) + 100n * 200n);
      expect(meter.remaining()).toBe(1_000_000n - meter.used());
    }
  });

  it('run out of gas at the same charge for every chunk', async () => {
    const m = await rawModule(TICKING, table);
    const total = tickingGas(10) + 10n * 200n;
    for (const limit of [150n, 1000n, total - 1n]) {
      for (const chunk of CHUNKS) {
        const meter = createMeter({ gasLimit: limit, chunk });
        const instance = new WebAssembly.Instance(new WebAssembly.Module(m.bytes as BufferSource), { ...meter.imports, env: { tick: () => meter.charge(200) } });
        meter.bind(instance);
        expect(() => (instance.exports.f as (n: number) => number)(10)).toThrow(OutOfGasTrap);
        expect(meter.used()).toBe(limit);
      }
    }
  });

  it('before any code runs: charge, used, remaining, out of gas', () => {
    const meter = createMeter({ gasLimit: 1000n });
    meter.charge(400n);
    meter.charge(0);
    expect(meter.used()).toBe(400n);
    expect(meter.remaining()).toBe(600n);
    expect(() => meter.charge(601)).toThrow(OutOfGasTrap);
    expect(meter.used()).toBe(1000n);
    expect(() => meter.charge(1)).toThrow(InvariantViolation);
  });

  it('refuses bad options', () => {
    expect(() => createMeter({ gasLimit: -1n })).toThrow(ZgasError);
    expect(() => createMeter({ gasLimit: 1n << 64n })).toThrow(ZgasError);
    expect(() => createMeter({ gasLimit: 1n, chunk: 0n })).toThrow(ZgasError);
    expect(() => createMeter({ gasLimit: 10n }).charge(-1n)).toThrow(InvariantViolation);
  });

  it('binding an instance that is not instrumented is refused', async () => {
    const meter = createMeter({ gasLimit: 10n });
    const plain = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), {});
    expect(() => meter.bind(plain)).toThrow(ZgasError);
  });
});

describe('abort', () => {
  it('stops at a checkpoint and reports gas that re-execution with that limit runs out at', async () => {
    const m = await rawModule(TICKING, table);
    // chunks well below the call's gas, so that the flag is seen at a refill
    for (const chunk of [1n, 7n, 1000n, 100_000n]) {
      for (const abortAt of [0, 1, 5, 37]) {
        const flag = new Int32Array(new SharedArrayBuffer(4));
        const ticks: number[] = [];
        const r = runExport(m, 'f', [20_000], {
          chunk,
          abortFlag: flag,
          env: { tick: (i) => { ticks.push(i); if (i === abortAt) Atomics.store(flag, 0, 1); } },
        });
        expect(r.error).toBeInstanceOf(AbortedTrap);
        const gasUsed = (r.error as AbortedTrap).gasUsed;
        expect(r.gasUsed).toBe(gasUsed);
        // the abort lands at or after the point the flag was raised
        expect(gasUsed).toBeGreaterThanOrEqual(1n + 14n * BigInt(abortAt));
        // judging it: with gasUsed as the limit the call does not finish, and runs out right there
        for (const judgeChunk of CHUNKS) {
          const judge = runExport(m, 'f', [20_000], { gasLimit: gasUsed, chunk: judgeChunk, env: { tick: () => undefined } });
          expect(judge.error).toBeInstanceOf(OutOfGasTrap);
          expect(judge.gasUsed).toBe(gasUsed);
        }
        // …and it had made exactly the progress gasUsed pays for
        const progress = runExport(m, 'f', [20_000], { gasLimit: gasUsed, env: { tick: (i) => { if (i > ticks[ticks.length - 1]!) throw new Error('ran further than the aborted call'); } } });
        expect(progress.error).toBeInstanceOf(OutOfGasTrap);
      }
    }
  });

  it('a flag raised before the call stops it at the first checked charge', async () => {
    const m = await rawModule(TICKING, table);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    flag[0] = 1;
    const r = runExport(m, 'f', [5], { abortFlag: flag, env: { tick: () => undefined } });
    expect(r.error).toBeInstanceOf(AbortedTrap);
    // the entry segment (`loop`, 1 gas) falls straight into the loop's charge, which checks for it
    expect(r.gasUsed).toBe(1n);
    for (const chunk of CHUNKS) {
      const judge = runExport(m, 'f', [5], { gasLimit: 1n, chunk, env: { tick: () => { throw new Error('ran further than the aborted call'); } } });
      expect(judge.error).toBeInstanceOf(OutOfGasTrap);
    }
  });

  it('a host charge after the flag is raised aborts before charging', () => {
    const flag = new Int32Array(1);
    const meter = createMeter({ gasLimit: 1000n, abortFlag: flag });
    meter.charge(10);
    flag[0] = 1;
    expect(() => meter.charge(5)).toThrow(AbortedTrap);
    expect(meter.used()).toBe(10n);
  });

  it('lands within one chunk of gas after the flag is raised', async () => {
    const m = await rawModule(TICKING, table);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const chunk = 1000n;
    let raisedAt = 0n;
    const meter = createMeter({ gasLimit: 10_000_000n, chunk, abortFlag: flag });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(m.bytes as BufferSource), {
      ...meter.imports,
      env: { tick: (i: number) => { if (i === 300) { raisedAt = meter.used(); Atomics.store(flag, 0, 1); } } },
    });
    meter.bind(instance);
    expect(() => (instance.exports.f as (n: number) => number)(100_000)).toThrow(AbortedTrap);
    expect(meter.used() - raisedAt).toBeLessThanOrEqual(chunk + 14n);
  });
});

describe('table figures for the runtime', () => {
  it('prices every host ABI function and the end-of-call effects', () => {
    expect(hostCallPrice(table, 'storage_read')).toEqual({ base: 200, per32Bytes: 10 });
    expect(hostCallPrice(table, 'abort')).toEqual({ base: 1, per32Bytes: 0 });
    for (const name of ['storage_write', 'storage_delete', 'context_seed'] as const) expect(hostCallPrice(table, name)).toEqual(table.hostCalls[name]);
    expect(priceOf(effectPrice(table, 'state_diff_entry'), 33)).toBe(540n);
    expect(priceOf(effectPrice(table, 'return_data'), 0)).toBe(10n);
    expect(gasTableHash(table)).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
