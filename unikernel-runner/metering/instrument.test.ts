/// <reference lib="dom" />
// The determinism profile (each rejection names its rule, opcode and byte offset), the rewrite's
// determinism and index fix-ups, and the injected call-depth limit.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { DEFAULT_POLICY, instrument } from './instrument.ts';
import type { MeteringPolicy } from './instrument.ts';
import { gasTableByName } from './registry.ts';
import { gasTableHash, parseGasTable, priceOf } from './table.ts';
import { dataBombZApp, elementBombZApp, emptyLoopsZApp } from '../../test/support/heavy-modules.ts';
import { rawModule, runExport, wat } from '../../test/support/metering.ts';
import type { WatFeatures } from '../../test/support/metering.ts';

const table = gasTableByName();
const extended = gasTableByName('zgas-wasm-extended-v1');

function rejection(bytes: Uint8Array, policy: Partial<MeteringPolicy> = {}, t = table): ZgasError {
  try {
    instrument(bytes, t, policy);
  } catch (error) {
    if (error instanceof ZgasError) return error;
    throw error;
  }
  throw new Error('the module was accepted');
}

function expectRejected(bytes: Uint8Array, code: ErrorCode, rule: string, policy: Partial<MeteringPolicy> = {}): ZgasError {
  const error = rejection(bytes, policy);
  expect({ code: error.code, rule: error.details.rule }).toEqual({ code, rule });
  expect(typeof error.details.offset).toBe('number');
  return error;
}

/** A module of one function () -> () with the given body bytes (the final end is added). */
function withBody(body: number[], withMemory = true): Uint8Array {
  const code = [0x00, ...body, 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
    0x03, 0x02, 0x01, 0x00, // function 0: type 0
    ...(withMemory ? [0x05, 0x03, 0x01, 0x00, 0x01] : []), // memory 1
    0x0a, code.length + 2, 0x01, code.length, ...code,
  ]);
}

const ZAPP_IMPORTS = `
  (import "env" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "env" "storage_delete" (func $delete (param i32 i32)))
  (import "env" "context_seed" (func $seed (param i32)))
  (import "env" "abort" (func $abort (param i32)))`;
const ZAPP_EXPORTS = `
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) i32.const 1024)
  (func (export "handle") (param i32 i32) (result i64) i64.const 0)`;
const zapp = (extra = '', imports = ZAPP_IMPORTS, exports = ZAPP_EXPORTS, features: WatFeatures = {}): Promise<Uint8Array> => wat(`(module ${imports} ${exports} ${extra})`, features);

describe('the determinism profile', () => {
  it('accepts a zApp that uses the whole host ABI', async () => {
    const m = instrument(await zapp(), table);
    expect(WebAssembly.validate(m.bytes as BufferSource)).toBe(true);
    expect(m.moduleHash).toBe(sha3(await zapp()));
  });

  const forbiddenOpcodes: Array<[string, number[], string, string]> = [
    ['f32.const', [0x43, 0, 0, 0, 0, 0x1a], 'float', '0x43'],
    ['f64.add', [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xa0, 0x1a], 'float', '0x44'],
    ['f32.load', [0x41, 0x00, 0x2a, 0x02, 0x00, 0x1a], 'float', '0x2A'],
    ['f64.convert_i32_s', [0x41, 0x00, 0xb7, 0x1a], 'float', '0xB7'],
    ['i32.trunc_f32_s', [0x41, 0x00, 0xa8, 0x1a], 'float', '0xA8'],
    ['v128.const', [0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x1a], 'simd', '0xFD'],
    ['i32.atomic.load', [0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a], 'threads', '0xFE'],
    ['i32.extend8_s', [0x41, 0x00, 0xc0, 0x1a], 'sign-extension', '0xC0'],
    ['i64.extend32_s', [0x42, 0x00, 0xc4, 0x1a], 'sign-extension', '0xC4'],
    ['i32.trunc_sat_f32_s', [0x41, 0x00, 0xfc, 0x00, 0x1a], 'saturating-trunc', '0xFC:0x00'],
    ['memory.fill', [0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00], 'bulk-memory', '0xFC:0x0B'],
    ['memory.copy', [0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x00], 'bulk-memory', '0xFC:0x0A'],
    ['ref.null', [0xd0, 0x70, 0x41, 0x00, 0xfc, 0x0f, 0x00, 0x1a], 'reference-types', '0xD0'],
    ['select t', [0x41, 0, 0x41, 0, 0x41, 0, 0x1c, 0x01, 0x7f, 0x1a], 'reference-types', '0x1C'],
    ['return_call', [0x12, 0x00], 'tail-call', '0x12'],
    ['try', [0x06, 0x40, 0x0b], 'exceptions', '0x06'],
    ['0xFF', [0xff], 'unknown-opcode', '0xFF'],
  ];
  for (const [name, body, rule, opcode] of forbiddenOpcodes) {
    it(`rejects ${name} (${rule}) naming the opcode and its byte offset`, () => {
      const bytes = withBody(body);
      const error = expectRejected(bytes, 'ForbiddenOpcode', rule, { raw: true });
      expect(error.details.opcode).toBe(opcode);
      const offset = error.details.offset as number;
      expect(bytes[offset]).toBe(Number.parseInt(opcode.slice(2, 4), 16));
    });
  }

  it('the extended profile accepts sign extension and bulk memory, never floats', async () => {
    expect(() => instrument(withBody([0x41, 0x00, 0xc0, 0x1a]), extended, { raw: true })).not.toThrow();
    expect(() => instrument(withBody([0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00]), extended, { raw: true })).not.toThrow();
    expect(rejection(withBody([0x43, 0, 0, 0, 0, 0x1a]), { raw: true }, extended).details.rule).toBe('float');
    expect(rejection(withBody([0x41, 0x00, 0xfc, 0x00, 0x1a]), { raw: true }, extended).details.rule).toBe('saturating-trunc');
  });

  it('rejects float types in signatures, locals and globals', async () => {
    const sig = await wat('(module (func (param f32)))');
    const e1 = expectRejected(sig, 'ForbiddenType', 'float', { raw: true });
    expect(sig[e1.details.offset as number]).toBe(0x7d);
    expectRejected(await wat('(module (func (local f64)))'), 'ForbiddenType', 'float', { raw: true });
    expectRejected(await wat('(module (global f64 (f64.const 1)))'), 'ForbiddenType', 'float', { raw: true });
    expectRejected(await wat('(module (func (result f32) f32.const 1))'), 'ForbiddenType', 'float', { raw: true });
  });

  it('rejects multi-value signatures and blocks', async () => {
    expectRejected(await wat('(module (func (result i32 i32) i32.const 1 i32.const 2))', { multi_value: true }), 'ForbiddenType', 'multi-value', { raw: true });
    expectRejected(await wat('(module (type $t (func (result i32 i32))) (func block (type $t) i32.const 1 i32.const 2 end drop drop))', { multi_value: true }), 'ForbiddenType', 'multi-value', { raw: true });
  });

  it('rejects a start function', async () => {
    const bytes = await zapp('(func $init) (start $init)');
    const error = expectRejected(bytes, 'ForbiddenStart', 'start');
    expect(bytes[error.details.offset as number]).toBe(0x08);
  });

  it('rejects imports outside the host ABI', async () => {
    expectRejected(await zapp('', '(import "env" "storage_read" (func (param i32) (result i32)))'), 'ForbiddenImport', 'signature');
    expectRejected(await zapp('', '(import "env" "print" (func (param i32)))'), 'ForbiddenImport', 'host-abi');
    expectRejected(await zapp('', '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))'), 'ForbiddenImport', 'host-abi');
    expectRejected(await zapp('', '(import "env" "abort" (func (param i32))) (import "env" "abort" (func $a2 (param i32)))'), 'ForbiddenImport', 'duplicate');
    expectRejected(await zapp('', '(import "zgas" "refill" (func (param i32)))'), 'ForbiddenImport', 'reserved-module');
    expectRejected(await wat('(module (import "env" "m" (memory 1)) (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "handle") (param i32 i32) (result i64) i64.const 0) (export "memory" (memory 0)))'), 'ForbiddenImport', 'memory');
    expectRejected(await zapp('', '(import "env" "g" (global i32))'), 'ForbiddenImport', 'global');
    expectRejected(await zapp('', '(import "env" "t" (table 1 funcref))'), 'ForbiddenImport', 'table');
  });

  it('rejects memory above the cap, shared and multiple memories', async () => {
    const error = expectRejected(await zapp('', ZAPP_IMPORTS, ZAPP_EXPORTS.replace('(memory (export "memory") 1)', '(memory (export "memory") 257)')), 'MemoryTooLarge', 'memory-cap');
    expect(error.details).toMatchObject({ pages: 257, maxPages: 256 });
    expect(() => instrument(withBody([]), table, { raw: true, maxMemoryPages: 1 })).not.toThrow();
    expectRejected(withBody([]), 'MemoryTooLarge', 'memory-cap', { raw: true, maxMemoryPages: 0 });
    const shared = withBody([], false);
    const sharedMemory = Uint8Array.from([...shared.subarray(0, 18), 0x05, 0x04, 0x01, 0x03, 0x01, 0x01, ...shared.subarray(18)]);
    const error2 = expectRejected(sharedMemory, 'ForbiddenFeature', 'shared-memory', { raw: true });
    expect(sharedMemory[error2.details.offset as number]).toBe(0x03);
  });

  it('requires the exports memory, alloc(i32) -> i32 and handle(i32, i32) -> i64', async () => {
    const noHandle = await zapp('', '', '(memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)');
    expectRejected(noHandle, 'MissingExport', 'handle');
    const badAlloc = await zapp('', '', '(memory (export "memory") 1) (func (export "alloc") (result i32) i32.const 0) (func (export "handle") (param i32 i32) (result i64) i64.const 0)');
    expectRejected(badAlloc, 'MissingExport', 'alloc');
    const noMemory = await zapp('', '', '(memory 1) (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "handle") (param i32 i32) (result i64) i64.const 0)');
    expectRejected(noMemory, 'MissingExport', 'memory');
    expect(() => instrument(noHandle, table, { raw: true })).not.toThrow();
  });

  it('rejects the reserved export names', async () => {
    expectRejected(await zapp('(global (export "zgas_gas") i32 (i32.const 0))'), 'ForbiddenFeature', 'reserved-export');
  });

  it('rejects malformed binaries with the offset of the fault', async () => {
    const good = await zapp();
    expectRejected(good.subarray(0, 4), 'InvalidModule', 'malformed');
    const badMagic = good.slice();
    badMagic[1] = 0x62;
    expect(expectRejected(badMagic, 'InvalidModule', 'malformed').details.offset).toBe(0);
    for (const cut of [9, 20, good.length - 3, good.length - 1]) {
      const error = expectRejected(good.subarray(0, cut), 'InvalidModule', 'malformed');
      expect(error.details.offset as number).toBeLessThanOrEqual(cut);
    }
    // a body that does not type-check: structurally fine, refused by validation
    expectRejected(withBody([0x6a]), 'InvalidModule', 'validation', { raw: true });
    expectRejected(withBody([0x0c, 0x05]), 'InvalidModule', 'malformed', { raw: true });
  });

  it('rejects an oversized module and other policy limits', async () => {
    const bytes = await zapp();
    expect(expectRejected(bytes, 'ModuleTooLarge', 'module-size', { maxModuleBytes: bytes.length - 1 }).details.offset).toBe(0);
    expectRejected(await wat('(module (func (local i32 i32 i32)))'), 'ModuleLimitExceeded', 'maxLocals', { raw: true, maxLocals: 2 });
    expectRejected(await wat('(module (func) (func) (func))'), 'ModuleLimitExceeded', 'maxFunctions', { raw: true, maxFunctions: 2 });
    expectRejected(await wat('(module (func block block block end end end))'), 'ModuleLimitExceeded', 'maxBlockDepth', { raw: true, maxBlockDepth: 2 });
  });

  it('refuses a policy that is not integers within range', () => {
    expect(() => instrument(withBody([]), table, { maxCallDepth: 0 })).toThrow(ZgasError);
    expect(() => instrument(withBody([]), table, { maxMemoryPages: -1 })).toThrow(ZgasError);
  });
});

describe('the rewrite', () => {
  const PROGRAM = `
    (type $unary (func (param i32) (result i32)))
    (table 3 funcref)
    (data (i32.const 0) "\\04\\03\\02\\01")
    (elem (i32.const 0) $double $triple $viaTable)
    (func $double (type $unary) local.get 0 i32.const 2 i32.mul)
    (func $triple (type $unary) local.get 0 i32.const 3 i32.mul)
    (func $viaTable (param i32) (result i32)
      local.get 0 i32.const 1 call_indirect (type $unary))
    (func (export "run") (param i32) (result i32)
      local.get 0 call $double
      i32.const 2 call_indirect (type $unary)
      call $seedSum)
    (func $seedSum (param i32) (result i32)
      i32.const 0 call $seed
      local.get 0 i32.const 0 i32.load i32.add)`;

  it('shifts function indices in calls, exports and elements past the added import', async () => {
    const bytes = await zapp(PROGRAM);
    const m = instrument(bytes, table);
    const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: hostStubs() });
    const expected = (plain.exports.run as (x: number) => number)(7);
    const r = runExport(m, 'run', [7], { env: hostStubs() });
    expect(r.error).toBeUndefined();
    expect(r.result).toBe(expected);
    expect(r.result).toBe(7 * 2 * 3 + 0x01020304);
  });

  it('stores the counter to the gas global only before calls and exits, never before an instruction that can trap', async () => {
    // A loop of loads, stores and a division (each can trap), then a call and the exit.
    const text = `(module (memory 1) (func $g)
      (func (export "f") (param i32) (result i32) (local i32)
        loop
          local.get 1 local.get 1 i32.load local.get 0 i32.div_u i32.store
          local.get 1 i32.const 4 i32.add local.tee 1 i32.const 64 i32.lt_u br_if 0
        end
        call $g
        local.get 1))`;
    const m = instrument(await wat(text), table, { raw: true });
    const wabt = await wabtInit();
    const module = wabt.readWasm(m.bytes, { readDebugNames: false });
    const listing = module.toText({});
    module.destroy();
    // Global 0 is the gas counter (the module has none of its own). In "f" (function 2 after the
    // added import): one store, by the charge of the segment after the loop, which reaches the call
    // and the exit; none in the loop, from its charge to its back edge.
    const f = listing.slice(listing.indexOf('(func (;2;)'), listing.indexOf('(func (;3;)'));
    expect(f.match(/global\.set 0\b/g)).toHaveLength(1);
    const loop = f.slice(f.lastIndexOf('loop'), f.indexOf('br_if 0'));
    expect(loop).toMatch(/i32\.div_u/);
    expect(loop).not.toMatch(/global\.set 0\b/);
    expect(runExport(m, 'f', [0]).error).toBeInstanceOf(WebAssembly.RuntimeError);
  });

  it('is deterministic: same bytes and table give the same output, whatever table object', async () => {
    const bytes = await zapp(PROGRAM);
    const a = instrument(bytes, table);
    const fresh = parseGasTable(JSON.parse(readFileSync(path.join(import.meta.dirname, 'tables', 'zeno-wasm-gas-v1.json'), 'utf8')));
    const b = instrument(bytes.slice(), fresh);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(b.instrumentedHash).toBe(a.instrumentedHash);
    expect(b.tableHash).toBe(a.tableHash);
    expect(a.instrumentedHash).toBe(sha3(a.bytes));
    expect(a.tableHash).toBe(gasTableHash(table));
    // a different table or policy gives different bytes
    expect(instrument(bytes, extended).tableHash).not.toBe(a.tableHash);
    expect(instrument(bytes, table, { maxCallDepth: 100 }).instrumentedHash).not.toBe(a.instrumentedHash);
  });

  it('drops custom sections', async () => {
    const bytes = await zapp();
    const withCustom = Uint8Array.from([...bytes, 0x00, 0x05, 0x04, 0x6e, 0x6f, 0x74, 0x65]);
    expect(instrument(withCustom, table).bytes).toEqual(instrument(bytes, table).bytes);
  });

  it('drops custom sections with content anywhere in the module, as compilers emit them', async () => {
    const bytes = await zapp(PROGRAM);
    const plain = instrument(bytes, table);
    const custom = (name: string, payload: number[]): number[] => {
      const content = [name.length, ...new TextEncoder().encode(name), ...payload];
      return [0x00, content.length, ...content];
    };
    // a name section (function 0 named "f") and a producers section, as clang writes them
    const names = custom('name', [0x01, 0x04, 0x01, 0x00, 0x01, 0x66]);
    const producers = custom('producers', [0x01, 0x08, ...new TextEncoder().encode('language'), 0x01, 0x01, 0x43, 0x00]);
    const sections = splitSections(bytes);
    const variants = [
      Uint8Array.from([...bytes, ...names, ...producers]),
      Uint8Array.from([...bytes.subarray(0, 8), ...producers, ...sections.flat(), ...names]),
      Uint8Array.from([...bytes.subarray(0, 8), ...sections.flatMap((s) => [...s, ...custom('.debug_info', [1, 2, 3, 4, 5])])]),
    ];
    for (const variant of variants) {
      expect(WebAssembly.validate(variant as BufferSource)).toBe(true);
      const m = instrument(variant, table);
      expect(m.moduleHash).toBe(sha3(variant));
      expect(m.instrumentedHash).toBe(plain.instrumentedHash);
      expect(Buffer.from(m.bytes).equals(Buffer.from(plain.bytes))).toBe(true);
    }
  });

  it('still refuses a custom section whose name is not UTF-8 or that runs past the end', async () => {
    const bytes = await zapp();
    expectRejected(Uint8Array.from([...bytes, 0x00, 0x03, 0x02, 0xff, 0xfe]), 'InvalidModule', 'malformed');
    expectRejected(Uint8Array.from([...bytes, 0x00, 0x09, 0x02, 0x61, 0x62]), 'InvalidModule', 'malformed');
  });
});

/** The sections of a module after its header, each with its id and size. */
function splitSections(bytes: Uint8Array): number[][] {
  const out: number[][] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos++;
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[pos++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    pos += size;
    out.push([...bytes.subarray(start, pos)]);
  }
  return out;
}

function hostStubs(): Record<string, (...args: number[]) => number | void> {
  return { storage_read: () => -1, storage_write: () => undefined, storage_delete: () => undefined, context_seed: () => undefined, abort: () => undefined };
}

describe('instantiation', () => {
  it('charges initial memory, table slots, element entries and data-segment bytes in initialGas', async () => {
    const m = await rawModule(`(module
      (memory 2) (table 10 funcref)
      (func $f)
      (elem (i32.const 0) $f $f $f) (elem (i32.const 5) $f)
      (data (i32.const 0) "abc") (data (i32.const 100) "${'x'.repeat(40)}"))`, table);
    const i = table.instantiation;
    expect(m.initialGas).toBe(
      2n * BigInt(table.surcharges.memory_initial_per_page)
      + 10n * BigInt(i.table_entry)
      + 4n * BigInt(i.element_entry)
      + priceOf(i.data_segment, 3) + priceOf(i.data_segment, 40),
    );
    expect(i.table_entry).toBeGreaterThan(0);
    expect(i.element_entry).toBeGreaterThan(0);
    expect(i.data_segment.per32Bytes).toBeGreaterThan(0);
  });

  it('caps the element entries and data bytes a module initialises, naming the limit', () => {
    const elements = expectRejected(elementBombZApp(60, 65_536), 'ModuleLimitExceeded', 'maxElementEntries');
    expect(elements.details).toMatchObject({ max: DEFAULT_POLICY.maxElementEntries });
    expect(elements.details.value as number).toBeGreaterThan(DEFAULT_POLICY.maxElementEntries);
    expect(instrument(elementBombZApp(1, DEFAULT_POLICY.maxElementEntries), table).initialGas).toBeGreaterThan(0n);
    const data = expectRejected(dataBombZApp(3_000, 1_000), 'ModuleLimitExceeded', 'maxDataBytes');
    expect(data.details).toMatchObject({ max: DEFAULT_POLICY.maxDataBytes });
    expect(() => instrument(dataBombZApp(10, 1_000), table)).not.toThrow();
  });
});

describe('the instrumented size of a function', () => {
  it('refuses a function that metering would grow past the engine\'s per-function size, naming it', () => {
    const bytes = emptyLoopsZApp(300_000); // a 900 KB function of empty loops
    expect(bytes.length).toBeLessThan(DEFAULT_POLICY.maxModuleBytes);
    const error = expectRejected(bytes, 'ModuleLimitExceeded', 'maxInstrumentedFunctionBytes');
    expect(error.details).toMatchObject({ function: 2, max: DEFAULT_POLICY.maxInstrumentedFunctionBytes });
    expect(error.details.value as number).toBeGreaterThan(DEFAULT_POLICY.maxInstrumentedFunctionBytes);
  });

  it('the limit is a policy figure below the engine\'s own, and every accepted function stays under it', async () => {
    expect(DEFAULT_POLICY.maxInstrumentedFunctionBytes).toBeLessThanOrEqual(7_654_321);
    const small = emptyLoopsZApp(1_000);
    const m = instrument(small, table);
    expect(new WebAssembly.Module(m.bytes as BufferSource)).toBeInstanceOf(WebAssembly.Module);
    const tight = expectRejected(small, 'ModuleLimitExceeded', 'maxInstrumentedFunctionBytes', { maxInstrumentedFunctionBytes: 1_000 });
    expect(tight.details).toMatchObject({ function: 2 });
    const zappBytes = await zapp();
    expect(instrument(zappBytes, table, { maxInstrumentedFunctionBytes: 200 }).bytes.length).toBeGreaterThan(0);
  });
});

describe('the call-depth limit', () => {
  const RECURSE = `(module
    (func $leaf (result i32) i32.const 0)
    (func $down (export "down") (param i32) (result i32)
      local.get 0 i32.eqz
      if (result i32) call $leaf
      else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end)
    (func $forever (export "forever") (param i32) (result i32) local.get 0 call $forever))`;

  it('lets recursion run to exactly maxCallDepth frames and traps one beyond; a leaf is not counted', async () => {
    const m = await rawModule(RECURSE, table);
    const limit = DEFAULT_POLICY.maxCallDepth;
    const ok = runExport(m, 'down', [limit - 1]); // limit frames, then the leaf (it makes no call: not counted)
    expect(ok.error).toBeUndefined();
    expect(ok.result).toBe(limit - 1);
    const over = runExport(m, 'down', [limit]);
    expect(over.error).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(String(over.error)).toMatch(/unreachable/);
  });

  it('traps unbounded recursion deterministically, far below the engine stack', async () => {
    const m = await rawModule(RECURSE, table, { maxCallDepth: 50 });
    const gas = new Set<bigint>();
    for (const chunk of [1n, 1000n, 100_000n]) {
      const r = runExport(m, 'forever', [1], { chunk });
      expect(r.error).toBeInstanceOf(WebAssembly.RuntimeError);
      expect(r.error).not.toBeInstanceOf(RangeError);
      gas.add(r.gasUsed);
    }
    expect(gas.size).toBe(1);
    // 50 frames each charged their one segment (local.get, call, end: it runs on through the call)
    // before the 51st traps at entry
    expect([...gas][0]).toBe(50n * 7n);
  });

  it('decrements on every exit: return, br_if, br and br_table to the function label, fallthrough', async () => {
    const m = await rawModule(`(module
      (global $acc (mut i32) (i32.const 0))
      (func $nop)
      (func $exit (param i32)
        call $nop ;; not a leaf: it counts its frame
        block
          block
            block
              local.get 0 br_table 0 1 2 3
            end
            global.get $acc i32.const 10 i32.add global.set $acc return
          end
          global.get $acc i32.const 11 i32.add global.set $acc
          local.get 0 i32.const 1 i32.eq br_if 1
          unreachable
        end
        global.get $acc i32.const 13 i32.add global.set $acc
        br 0)
      (func $plain global.get $acc i32.const 1000 i32.add global.set $acc)
      (func (export "many") (param i32) (result i32)
        loop
          local.get 0 i32.const 5 i32.rem_u call $exit
          call $plain
          local.get 0 i32.const 1 i32.sub local.tee 0
          br_if 0
        end
        global.get $acc))`, table, { maxCallDepth: 2 });
    const r = runExport(m, 'many', [2000]);
    expect(r.error).toBeUndefined();
    // per 5 calls: residue 0 → return +10, 1 → br_if +11, 2 → br +13, 3 and 4 → br_table to the function label
    expect(r.result).toBe(400 * (10 + 11 + 13) + 2000 * 1000);
  });
});
