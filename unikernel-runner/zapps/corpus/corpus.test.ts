/// <reference lib="dom" />
// Real compiler output through the whole metering path: every C corpus module and every module
// shipped in hash-wasm is accepted as shipped (custom sections and all), computes exactly what it
// computes unmetered, and costs the same gas in the runner's execution path and in the re-executor.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contextSeed, EMPTY_STATE_HASH, sha3 } from '../../../contracts/hash.ts';
import { utf8Bytes } from '../../../contracts/hex.ts';
import { CallStatus } from '../../../contracts/types.ts';
import type { Hash } from '../../../contracts/types.ts';
import { gas } from '../../../contracts/units.ts';
import { hashWasmModules, SIGN_EXTENSION_MODULES } from '../../../test/support/hash-wasm.ts';
import { instrument } from '../../metering/instrument.ts';
import { createMeter } from '../../metering/meter.ts';
import { executeCall } from '../../runtime/execute.ts';
import { HashedState } from '../../runtime/hashed-state.ts';
import { WorkerPool } from '../../runtime/pool.ts';
import { hostPrices, prepareModule } from '../../runtime/prepare.ts';
import { createReexecutor } from '../../runtime/reexecutor.ts';
import { EMPTY_STATE } from '../../runtime/state.ts';
import { gasTableByName } from '../../metering/registry.ts';
import { clangVersion, compileProgram } from './build.ts';
import { CORPUS, corpusManifest, loadCorpusModule } from './corpus.ts';
import type { CorpusName } from './corpus.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../runtime/execute.ts';
import { gasTableHash } from '../../metering/table.ts';

const table = gasTableByName();
const extended = gasTableByName('zgas-wasm-extended-v1');
const prices = hostPrices(table);
const SESSION = `0x${'ab'.repeat(32)}` as Hash;
const GAS_LIMIT = gas(10_000_000_000n);

/** Small inputs: a few million gas each. */
const INPUTS: Record<CorpusName, string[]> = {
  sort: ['', '0', '1', '5000'],
  sieve: ['', '2', '200000'],
  lz: ['', '7', '50000'],
  bignum: ['', '1', '300'],
  interp: ['1', '300'],
  coremark: ['1', '20'],
};

function customSectionNames(bytes: Uint8Array): string[] {
  const names: string[] = [];
  let pos = 8;
  const u32 = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[pos++]!;
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    return value >>> 0;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    const end = pos + size;
    if (id === 0) {
      const length = u32();
      names.push(new TextDecoder().decode(bytes.subarray(pos, pos + length)));
    }
    pos = end;
  }
  return names;
}

/** The zApp run by the engine alone: alloc, copy the input, handle, read the output. */
function runUnmetered(bytes: Uint8Array, input: Uint8Array): Uint8Array {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {}).exports as {
    memory: WebAssembly.Memory;
    alloc: (len: number) => number;
    handle: (ptr: number, len: number) => bigint;
  };
  const ptr = exports.alloc(input.length);
  new Uint8Array(exports.memory.buffer, ptr, input.length).set(input);
  const packed = BigInt.asUintN(64, exports.handle(ptr, input.length));
  return new Uint8Array(exports.memory.buffer, Number(packed >> 32n), Number(packed & 0xffff_ffffn)).slice();
}

describe('the C corpus as committed', () => {
  const manifest = corpusManifest();

  it('the committed modules are the ones the manifest names', () => {
    expect(Object.keys(manifest.modules)).toEqual([...CORPUS]);
    for (const name of CORPUS) expect(sha3(loadCorpusModule(name)), name).toBe(manifest.modules[name]);
  });

  const installed = clangVersion();
  const sameCompiler = installed === manifest.compiler;
  const why = installed === undefined ? 'clang is not installed' : `clang here is "${installed}", the modules were built with "${manifest.compiler}"`;
  // clang takes seconds per program on a loaded machine: a generous bound per program
  it.skipIf(!sameCompiler).each(CORPUS)(`rebuilding %s from src/ gives the committed bytes${sameCompiler ? '' : ` (skipped: ${why})`}`, (name) => {
    expect(sha3(compileProgram(name))).toBe(manifest.modules[name]);
  }, 180_000);

  it('every module is strict MVP and carries the custom sections compilers write', () => {
    for (const name of CORPUS) {
      const bytes = loadCorpusModule(name);
      expect(customSectionNames(bytes), name).toEqual(expect.arrayContaining(['name', 'producers']));
      expect(() => instrument(bytes, table), name).not.toThrow();
    }
  });
});

describe.each(CORPUS)('corpus %s', (name) => {
  const bytes = loadCorpusModule(name);
  const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });

  it.each(INPUTS[name])('input "%s": the metered output is the unmetered one, with the same gas in the runner and the re-executor', (text) => {
    const input = utf8Bytes(text);
    const expected = runUnmetered(bytes, input);
    const seed = contextSeed(SESSION, 1n);
    const outcome = executeCall(prepareModule(bytes, table), { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state: HashedState.empty(), input, gasLimit: GAS_LIMIT, seed }, prices);
    expect(outcome.status, outcome.trap).toBe(CallStatus.Ok);
    expect(Buffer.from(outcome.output).toString()).toBe(Buffer.from(expected).toString());
    const rerun = reexecutor.rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module: bytes.slice(), moduleHash: sha3(bytes.slice()), preState: new Uint8Array(0), input, gasLimit: GAS_LIMIT, seed });
    expect(rerun).toEqual({ callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status });
    // the last gas unit matters here too
    const short = executeCall(prepareModule(bytes, table), { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, state: HashedState.empty(), input, gasLimit: gas(outcome.callGas - 1n), seed }, prices);
    expect(short.status).toBe(CallStatus.OutOfGas);
  });
});

describe('the corpus through the worker pool', () => {
  const pool = new WorkerPool({ size: 1 });
  afterAll(() => pool.close());

  it('a call run by a pool worker and re-run by the re-executor agree on every receipt field', async () => {
    const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });
    for (const name of CORPUS) {
      const input = utf8Bytes(INPUTS[name].at(-1)!);
      const seed = contextSeed(SESSION, 2n);
      const outcome = await pool.submit({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, prepared: prepareModule(loadCorpusModule(name), table), prices, sessionId: SESSION, preStateHash: EMPTY_STATE_HASH, preState: EMPTY_STATE, input, gasLimit: GAS_LIMIT, seed }).result;
      expect(outcome.status, name).toBe(CallStatus.Ok);
      const rerun = reexecutor.rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module: loadCorpusModule(name), moduleHash: sha3(loadCorpusModule(name)), preState: new Uint8Array(0), input, gasLimit: GAS_LIMIT, seed });
      expect({ name, ...rerun }).toEqual({ name, callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status });
    }
  }, 120_000);
});

describe('the modules shipped in hash-wasm', () => {
  const modules = hashWasmModules();

  it('are all accepted as shipped (sign-extension ones by the extended profile only)', () => {
    expect(modules.length).toBeGreaterThan(15);
    for (const m of modules) {
      const t = SIGN_EXTENSION_MODULES.has(m.name) ? extended : table;
      expect(() => instrument(m.bytes, t, { raw: true }), m.name).not.toThrow();
      if (SIGN_EXTENSION_MODULES.has(m.name)) expect(() => instrument(m.bytes, table, { raw: true }), m.name).toThrow(expect.objectContaining({ code: 'ForbiddenOpcode' }));
    }
  });

  it('hash the same bytes to the same memory metered and unmetered', () => {
    const data = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);
    type HashExports = { memory: WebAssembly.Memory; Hash_GetBuffer: () => number; Hash_Init: (bits: number) => void; Hash_Update: (len: number) => void; Hash_Final: () => void };
    const steps = (exports: HashExports): Uint8Array => {
      new Uint8Array(exports.memory.buffer, exports.Hash_GetBuffer(), data.length).set(data);
      exports.Hash_Init(256);
      exports.Hash_Update(data.length);
      exports.Hash_Final();
      return new Uint8Array(exports.memory.buffer).slice();
    };
    let compared = 0;
    for (const m of modules) {
      const plain = new WebAssembly.Instance(new WebAssembly.Module(m.bytes as BufferSource), {}).exports as Partial<HashExports>;
      if (plain.Hash_Init === undefined) continue;
      const expected = steps(plain as HashExports);
      const metered = instrument(m.bytes, table, { raw: true });
      const meter = createMeter({ gasLimit: 1_000_000_000n });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(metered.bytes as BufferSource), { ...meter.imports });
      meter.bind(instance);
      const actual = steps(instance.exports as unknown as HashExports);
      expect(Buffer.from(actual).equals(Buffer.from(expected)), m.name).toBe(true);
      expect(meter.used(), m.name).toBeGreaterThan(0n);
      compared++;
    }
    expect(compared).toBeGreaterThan(15);
  });
});

describe('other compiler output in node_modules', () => {
  const initdb = path.join(import.meta.dirname, '..', '..', '..', 'node_modules', '@electric-sql', 'pglite', 'dist', 'initdb.wasm');

  it.skipIf(!existsSync(initdb))('a module that uses floats (pglite\'s initdb, with its custom sections) is refused naming the rule, never as malformed', () => {
    const bytes = new Uint8Array(readFileSync(initdb));
    for (const t of [table, extended]) {
      expect(() => instrument(bytes, t, { raw: true })).toThrow(expect.objectContaining({ code: 'ForbiddenType', details: expect.objectContaining({ rule: 'float' }) }));
    }
  });
});

