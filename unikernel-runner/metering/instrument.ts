/// <reference lib="dom" />
// The WebAssembly JS API types live in the DOM lib; Node implements the same API.
/**
 * The metering instrumenter: a deterministic, streaming, byte-level rewrite of a WebAssembly
 * module (DESIGN §7). It validates the module against the determinism profile (the gas table's
 * priced opcodes plus fixed structural rules), then injects:
 *
 * - a mutable i64 global exported as `zgas_gas`: the gas left in the current chunk;
 * - an imported function `zgas.refill(cost: i32)`, called only when a charge drives the counter
 *   below zero (the host moves budget into the counter, or throws OutOfGas / Aborted);
 * - at the entry of every segment whose instructions cost c > 0:
 *   `counter -= c; if (counter < 0) { gas = counter; refill(c); counter = gas }`, where `counter`
 *   is an added i64 local caching the global (a register in optimised code), reloaded after every
 *   call; `gas = counter` is stored by the charge of a segment that reaches an instruction that can
 *   trap, call or leave the function, so the global is exact wherever the host can read it. At a loop's
 *   start the charge is `counter -= c; br_if <refill path> (counter < 0)`: the refill path sits after
 *   the loop (which gets three labels around it to reach it and come back), so a loop body holds
 *   no call of its own;
 * - before `memory.grow`: a refusal (result -1) when the memory would exceed the cap, otherwise a
 *   dynamic charge of `delta × memory_grow_per_page` through the same counter;
 * - before bulk memory operations (extended profile): `ceil(n / 32) × bulk_memory_per_32_bytes`;
 * - a call-depth counter (a mutable i32 global exported as `zgas_depth`), incremented and checked
 *   at function entry (trap with `unreachable` above `maxCallDepth`) and decremented at every exit:
 *   each body is wrapped in a block with the function's result type, `return` becomes a branch to
 *   that block, and branches to the function label land on it unchanged (same label index).
 *
 * Gas semantics: an instruction costs its table figure each time control passes over it (a branch
 * jumps past the `end` it targets, so that `end` is not charged). A segment is charged whole at its
 * entry, so a trap inside it has paid for its rest. A segment starts at function entry, after
 * `loop`, `if`, `else`, after the `end` of an `if`, after the `end` of a `block` that some branch
 * targets, and after a `br_if` whose target carries a value. It runs on through calls (control
 * comes back only to the next instruction) and through a `br_if` to a label without values: the
 * taken branch gives the segment's rest back (`counter += rest` on the branch edge), so totals stay
 * exact. Code after `br`, `br_table`, `return` and `unreachable` is dead until the next
 * `else`/`end` and gets no charge. `br_table` adds `br_table_per_target_including_default ×
 * (targets + 1)`.
 *
 * Custom sections (names, producers, debug info) are dropped, never a reason to refuse a module:
 * the added import shifts every function index by one, which would make a name section wrong, and
 * the output must stay a pure function of (module code, table, policy).
 */
import { assert, InvariantViolation, ZgasError } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Hash } from '../../contracts/types.ts';
import { opcodeKey, prefixedRuleOf, ruleOf } from './opcodes.ts';
import { gasTableHash, priceOf } from './table.ts';
import type { GasTable } from './table.ts';
import { BLOCK_EMPTY, F32, F64, FUNCREF, I32, I64, malformed, Reader, signedLeb, unsignedLeb, V128, Writer } from './wasm.ts';

export interface MeteringPolicy {
  /** Memory cap in 64 KiB pages, for the initial size and every grow (256 = 16 MiB). */
  maxMemoryPages: number;
  /** Frames of guest functions active at once; one more traps. */
  maxCallDepth: number;
  maxModuleBytes: number;
  maxFunctions: number;
  /** Parameters plus declared locals of one function. */
  maxLocals: number;
  maxGlobals: number;
  maxTypes: number;
  maxImports: number;
  maxExports: number;
  maxTableEntries: number;
  /** Element plus data segments. */
  maxSegments: number;
  /** Function indices all active element segments together write at instantiation. */
  maxElementEntries: number;
  /** Bytes all data segments together hold (active ones are copied at instantiation). */
  maxDataBytes: number;
  /** Nesting of block/loop/if in one function. */
  maxBlockDepth: number;
  maxBrTableTargets: number;
  maxFunctionBytes: number;
  /**
   * A function body once metered (its size field included). Metering grows code by a bounded
   * factor (at worst about 14× for a body of empty loops); this caps the result below V8's own
   * per-function limit (7,654,321 bytes), so a module the engine would refuse is refused here,
   * by name, at registration.
   */
  maxInstrumentedFunctionBytes: number;
  /**
   * Instrument a module that is not a zApp (benchmarks, tools): skips the host-ABI import check
   * (any function import except module `zgas`) and the memory/alloc/handle export check. Every other
   * rule and all metering still apply.
   */
  raw: boolean;
}

export const DEFAULT_POLICY: Readonly<MeteringPolicy> = Object.freeze({
  maxMemoryPages: 256,
  maxCallDepth: 512,
  maxModuleBytes: 4 * 1024 * 1024,
  maxFunctions: 10_000,
  maxLocals: 1_024,
  maxGlobals: 1_024,
  maxTypes: 1_024,
  maxImports: 64,
  maxExports: 1_024,
  maxTableEntries: 65_536,
  maxSegments: 4_096,
  maxElementEntries: 65_536,
  maxDataBytes: 2 * 1024 * 1024,
  maxBlockDepth: 1_024,
  maxBrTableTargets: 65_536,
  maxFunctionBytes: 1024 * 1024,
  maxInstrumentedFunctionBytes: 7_000_000,
  raw: false,
});

/** The largest page count a 32-bit memory may have. */
const WASM_MAX_PAGES = 65_536;

export interface InstrumentedModule {
  bytes: Uint8Array;
  /** SHA3-256 of the input module: the zApp's `moduleHash`. */
  moduleHash: Hash;
  instrumentedHash: Hash;
  tableHash: Hash;
  initialMemoryPages: number;
  /** The table's initial size (slots). */
  tableEntries: number;
  /** Function indices the active element segments write. */
  elementEntries: number;
  /** Byte counts of the active data segments, in order. */
  dataSegmentBytes: number[];
  /**
   * What instantiation costs (initial memory pages, table slots, element entries, data-segment
   * bytes), charged by the runtime at call start before the instance exists.
   */
  initialGas: bigint;
}

/** Names the instrumenter adds; a module may not use them itself. */
export const GAS_EXPORT = 'zgas_gas';
export const DEPTH_EXPORT = 'zgas_depth';
export const REFILL_MODULE = 'zgas';
export const REFILL_FIELD = 'refill';

/** The host ABI a zApp may import from `env`: name → [params, results]. */
const HOST_ABI: Record<string, readonly [number[], number[]]> = {
  storage_read: [[I32, I32, I32, I32], [I32]],
  storage_write: [[I32, I32, I32, I32], []],
  storage_delete: [[I32, I32], []],
  context_seed: [[I32], []],
  abort: [[I32], []],
};

interface FuncType {
  params: number[];
  results: number[];
}

interface Section {
  id: number;
  start: number;
  end: number;
}

// Canonical position of each known section id (custom sections excluded).
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

function reject(code: 'ForbiddenOpcode' | 'ForbiddenType' | 'ForbiddenFeature' | 'ForbiddenImport' | 'ForbiddenStart' | 'MemoryTooLarge' | 'MissingExport' | 'ModuleTooLarge' | 'ModuleLimitExceeded' | 'InvalidModule', rule: string, offset: number, extra: Record<string, unknown> = {}): never {
  throw new ZgasError(code, { rule, offset, ...extra });
}

function limit(what: keyof MeteringPolicy, value: number, max: number, offset: number): void {
  if (value > max) reject('ModuleLimitExceeded', what, offset, { value, max });
}

function valType(byte: number, offset: number): number {
  if (byte === I32 || byte === I64) return byte;
  if (byte === F32 || byte === F64) reject('ForbiddenType', 'float', offset, { type: byte === F32 ? 'f32' : 'f64' });
  if (byte === V128) reject('ForbiddenType', 'simd', offset, { type: 'v128' });
  if (byte === FUNCREF || byte === 0x6f) reject('ForbiddenType', 'reference-types', offset, { type: byte === FUNCREF ? 'funcref' : 'externref' });
  return malformed(offset, `unknown value type 0x${byte.toString(16)}`);
}

/** Everything the rewrite needs to know about the input module. */
interface ModuleInfo {
  sections: Section[];
  types: FuncType[];
  funcImports: number;
  importedFuncTypes: number[];
  funcTypes: number[]; // defined functions
  globals: number;
  tables: number;
  memory: { min: number; max: number | undefined } | undefined;
  dataCount: number | undefined;
  tableEntries: number;
  elementEntries: number;
  dataSegmentBytes: number[];
}

function parseLimits(r: Reader, allowShared: boolean): { min: number; max: number | undefined; at: number } {
  const at = r.pos;
  const flags = r.u8();
  if (flags === 0x02 || flags === 0x03) {
    if (!allowShared) reject('ForbiddenFeature', 'shared-memory', at);
  }
  if (flags > 0x03) reject('ForbiddenFeature', flags >= 0x04 && flags <= 0x07 ? 'memory64' : 'limits', at, { flags });
  const min = r.u32();
  const max = (flags & 1) === 1 ? r.u32() : undefined;
  if (max !== undefined && max < min) malformed(at, 'limits maximum below minimum');
  return { min, max, at };
}

/** A constant expression: `i32.const n end` or `i64.const n end` of the expected type. */
function skipConstExpr(r: Reader, type: number): void {
  const at = r.pos;
  const op = r.u8();
  if (op === 0x41 && type === I32) r.skipSigned(5);
  else if (op === 0x42 && type === I64) r.skipSigned(10);
  else if (op === 0x43 || op === 0x44) reject('ForbiddenOpcode', 'float', at, { opcode: opcodeKey(op) });
  else reject('InvalidModule', 'const-expr', at, { opcode: opcodeKey(op), reason: 'constant expressions are i32.const or i64.const of the declared type' });
  if (r.u8() !== 0x0b) malformed(r.pos - 1, 'constant expression not closed by end');
}

function parseModule(bytes: Uint8Array, table: GasTable, policy: MeteringPolicy): ModuleInfo {
  if (bytes.length < 8) malformed(0, 'shorter than the module header');
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) malformed(0, 'missing the \\0asm magic');
  if (bytes[4] !== 0x01 || bytes[5] !== 0x00 || bytes[6] !== 0x00 || bytes[7] !== 0x00) malformed(4, 'unsupported binary version');
  const bulk = '0xFC:0x08' in table.opcodes;
  const info: ModuleInfo = { sections: [], types: [], funcImports: 0, importedFuncTypes: [], funcTypes: [], globals: 0, tables: 0, memory: undefined, dataCount: undefined, tableEntries: 0, elementEntries: 0, dataSegmentBytes: [] };
  let dataBytes = 0;
  const r = new Reader(bytes, 8);
  let lastOrder = 0;
  let segments = 0;
  let codeCount: number | undefined;
  let exportsSeen: Array<{ name: string; kind: number; index: number; at: number }> = [];
  while (!r.done) {
    const at = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (size > r.end - start) malformed(at, 'section runs past the end');
    const end = start + size;
    if (id !== 0) {
      const order = SECTION_ORDER[id];
      if (order === undefined) reject('ForbiddenFeature', 'unknown-section', at, { section: id });
      if (order <= lastOrder) malformed(at, `section ${id} out of order or repeated`);
      lastOrder = order;
    }
    info.sections.push({ id, start, end });
    const s = new Reader(bytes, start, end);
    switch (id) {
      case 0:
        // A custom section (names, producers, debug info) is dropped from the output: only its
        // name must be well formed; its content is never read.
        s.name();
        s.pos = end;
        break;
      case 1: {
        const count = s.u32();
        limit('maxTypes', count, policy.maxTypes, start);
        for (let i = 0; i < count; i++) {
          const tAt = s.pos;
          const form = s.u8();
          if (form !== 0x60) malformed(tAt, 'a type is not a function type (0x60)');
          const params: number[] = [];
          const np = s.u32();
          limit('maxLocals', np, policy.maxLocals, tAt);
          for (let j = 0; j < np; j++) params.push(valType(s.u8(), s.pos - 1));
          const results: number[] = [];
          const nr = s.u32();
          if (nr > 1) reject('ForbiddenType', 'multi-value', tAt, { results: nr });
          for (let j = 0; j < nr; j++) results.push(valType(s.u8(), s.pos - 1));
          info.types.push({ params, results });
        }
        break;
      }
      case 2: {
        const count = s.u32();
        limit('maxImports', count, policy.maxImports, start);
        const seen = new Set<string>();
        for (let i = 0; i < count; i++) {
          const iAt = s.pos;
          const module = s.name();
          const field = s.name();
          const kind = s.u8();
          if (kind !== 0) reject('ForbiddenImport', ['function', 'table', 'memory', 'global'][kind] ?? 'kind', iAt, { module, field, reason: 'only functions may be imported' });
          const typeIndex = s.u32();
          const type = info.types[typeIndex];
          if (type === undefined) malformed(iAt, 'import type index out of range');
          if (module === REFILL_MODULE) reject('ForbiddenImport', 'reserved-module', iAt, { module, field });
          if (!policy.raw) {
            const abi = HOST_ABI[field];
            if (module !== 'env' || abi === undefined) reject('ForbiddenImport', 'host-abi', iAt, { module, field });
            if (!sameSignature(type, abi[0], abi[1])) reject('ForbiddenImport', 'signature', iAt, { module, field });
            if (seen.has(field)) reject('ForbiddenImport', 'duplicate', iAt, { module, field });
            seen.add(field);
          }
          info.importedFuncTypes.push(typeIndex);
          info.funcImports++;
        }
        break;
      }
      case 3: {
        const count = s.u32();
        limit('maxFunctions', count + info.funcImports, policy.maxFunctions, start);
        for (let i = 0; i < count; i++) {
          const fAt = s.pos;
          const typeIndex = s.u32();
          if (typeIndex >= info.types.length) malformed(fAt, 'function type index out of range');
          info.funcTypes.push(typeIndex);
        }
        break;
      }
      case 4: {
        const count = s.u32();
        if (count > 1) reject('ForbiddenFeature', 'multiple-tables', start, { tables: count });
        for (let i = 0; i < count; i++) {
          const tAt = s.pos;
          const elem = s.u8();
          if (elem !== FUNCREF) reject('ForbiddenType', 'reference-types', tAt, { reason: 'tables hold funcref only' });
          const { min } = parseLimits(s, false);
          limit('maxTableEntries', min, policy.maxTableEntries, tAt);
          info.tables++;
          info.tableEntries = min;
        }
        break;
      }
      case 5: {
        const count = s.u32();
        if (count > 1) reject('ForbiddenFeature', 'multiple-memories', start, { memories: count });
        for (let i = 0; i < count; i++) {
          const { min, max, at: mAt } = parseLimits(s, false);
          if (min > WASM_MAX_PAGES || (max !== undefined && max > WASM_MAX_PAGES)) malformed(mAt, 'memory above 65536 pages');
          if (min > policy.maxMemoryPages) reject('MemoryTooLarge', 'memory-cap', mAt, { pages: min, maxPages: policy.maxMemoryPages });
          info.memory = { min, max };
        }
        break;
      }
      case 6: {
        const count = s.u32();
        limit('maxGlobals', count, policy.maxGlobals, start);
        for (let i = 0; i < count; i++) {
          const type = valType(s.u8(), s.pos - 1);
          const mAt = s.pos;
          const mutability = s.u8();
          if (mutability > 1) malformed(mAt, 'global mutability is 0 or 1');
          skipConstExpr(s, type);
          info.globals++;
        }
        break;
      }
      case 7: {
        const count = s.u32();
        limit('maxExports', count, policy.maxExports, start);
        exportsSeen = [];
        for (let i = 0; i < count; i++) {
          const eAt = s.pos;
          const name = s.name();
          const kind = s.u8();
          const index = s.u32();
          if (name === GAS_EXPORT || name === DEPTH_EXPORT) reject('ForbiddenFeature', 'reserved-export', eAt, { name });
          const bound = [info.funcImports + info.funcTypes.length, info.tables, info.memory === undefined ? 0 : 1, info.globals][kind];
          if (bound === undefined) malformed(eAt, 'unknown export kind');
          if (index >= bound) malformed(eAt, `export ${name} index out of range`);
          exportsSeen.push({ name, kind, index, at: eAt });
        }
        break;
      }
      case 8:
        reject('ForbiddenStart', 'start', at);
        break;
      case 9: {
        const count = s.u32();
        segments += count;
        limit('maxSegments', segments, policy.maxSegments, start);
        const total = info.funcImports + info.funcTypes.length;
        for (let i = 0; i < count; i++) {
          const eAt = s.pos;
          const flags = s.u32();
          if (flags !== 0) reject('ForbiddenFeature', 'element-segment', eAt, { flags, reason: 'only active segments of table 0 with function indices' });
          skipConstExpr(s, I32);
          const n = s.u32();
          limit('maxTableEntries', n, policy.maxTableEntries, eAt);
          info.elementEntries += n;
          limit('maxElementEntries', info.elementEntries, policy.maxElementEntries, eAt);
          for (let j = 0; j < n; j++) {
            const fAt = s.pos;
            if (s.u32() >= total) malformed(fAt, 'element function index out of range');
          }
        }
        break;
      }
      case 12: {
        if (!bulk) reject('ForbiddenFeature', 'bulk-memory', at, { reason: 'the data count section belongs to bulk memory' });
        info.dataCount = s.u32();
        break;
      }
      case 10: {
        codeCount = s.u32();
        if (codeCount !== info.funcTypes.length) malformed(start, 'the code section count differs from the function section count');
        s.pos = end; // bodies are checked during the rewrite
        break;
      }
      case 11: {
        const count = s.u32();
        segments += count;
        limit('maxSegments', segments, policy.maxSegments, start);
        if (info.dataCount !== undefined && info.dataCount !== count) malformed(start, 'the data count section disagrees with the data section');
        for (let i = 0; i < count; i++) {
          const dAt = s.pos;
          const flags = s.u32();
          if (flags === 0) skipConstExpr(s, I32);
          else if (flags === 1 && bulk) { /* passive */ }
          else reject('ForbiddenFeature', flags === 1 ? 'bulk-memory' : 'data-segment', dAt, { flags });
          const n = s.u32();
          dataBytes += n;
          limit('maxDataBytes', dataBytes, policy.maxDataBytes, dAt);
          s.take(n);
          if (flags === 0) info.dataSegmentBytes.push(n);
        }
        break;
      }
      default:
        break;
    }
    if (id !== 10 && s.pos !== end) malformed(s.pos, `section ${id} has trailing bytes`);
    r.pos = end;
  }
  if (codeCount === undefined && info.funcTypes.length > 0) malformed(bytes.length, 'functions declared without a code section');
  if (!policy.raw) checkZAppExports(info, exportsSeen);
  return info;
}

function sameSignature(type: FuncType, params: number[], results: number[]): boolean {
  return type.params.length === params.length && type.results.length === results.length
    && type.params.every((p, i) => p === params[i]) && type.results.every((p, i) => p === results[i]);
}

function checkZAppExports(info: ModuleInfo, exports: Array<{ name: string; kind: number; index: number }>): void {
  const find = (name: string) => exports.find((e) => e.name === name);
  const memory = find('memory');
  if (memory === undefined || memory.kind !== 2) reject('MissingExport', 'memory', 0, { name: 'memory' });
  const funcType = (index: number): FuncType | undefined => {
    const typeIndex = index < info.funcImports ? info.importedFuncTypes[index] : info.funcTypes[index - info.funcImports];
    return typeIndex === undefined ? undefined : info.types[typeIndex];
  };
  for (const [name, params, results] of [['alloc', [I32], [I32]], ['handle', [I32, I32], [I64]]] as const) {
    const e = find(name);
    const type = e !== undefined && e.kind === 0 ? funcType(e.index) : undefined;
    if (type === undefined || !sameSignature(type, [...params], [...results])) {
      reject('MissingExport', name, 0, { name, signature: name === 'alloc' ? 'alloc(i32) -> i32' : 'handle(i32, i32) -> i64' });
    }
  }
}

// ── the code rewrite ─────────────────────────────────────────────────────────────────────────

const EDIT_PROLOGUE = 1;
const EDIT_CHARGE = 2;
const EDIT_CALL = 3;
const EDIT_RETURN = 4;
const EDIT_GROW = 5;
const EDIT_BULK = 6;
const EDIT_END = 7;
/** A charge at the start of a segment entered after a call: reload the cached counter first. */
const EDIT_CHARGE_RELOAD = 8;
/** After a call the segment goes on: reload the cached counter the callee may have moved. */
const EDIT_RELOAD = 9;
/** A br_if inside a merged segment: when taken, give back the cost of the segment's rest. */
const EDIT_BR_IF_REFUND = 10;
/** A refunding br_if to the function's own label: it leaves the function, so it also stores the counter. */
const EDIT_BR_IF_REFUND_EXIT = 12;
/**
 * `loop bt` becomes `block bt loop block loop bt`: the charge at the loop's start leaves through
 * the inner block to a refill path after the loop, which re-enters it (see EDIT_LOOP_END). The
 * loop then holds no call: its values need not be saved around one on every iteration.
 */
const EDIT_LOOP = 13;
/** The charge at a loop's start: `counter -= c; br_if <slow path> (counter < 0)`. */
const EDIT_LOOP_CHARGE = 14;
/**
 * After a loop's end: `br <out>; end; gas = counter; refill(c); counter = gas + c; br <re-enter>;
 * end; end` — re-entering charges c again, so the counter ends as after an inline refill.
 */
const EDIT_LOOP_END = 15;
/** A branch whose label crosses the labels added around loops: rewritten with the new label. */
const EDIT_BR = 16;
const EDIT_BR_IF = 17;
const EDIT_BR_TABLE = 18;
/** Labels a loop adds around itself. */
const LOOP_LABELS = 3;

/** An edit is five numbers: input offset, kind, argument, input bytes it replaces, label. */
const EDIT_SIZE = 5;
/** Room for the longest injected sequence of one edit (grow: under 120 bytes). */
const EDIT_ROOM = 256;

// A frame on the block stack packs its kind, whether a branch targets it, and its label's arity.
const FRAME_BLOCK = 1;
const FRAME_LOOP = 2;
const FRAME_IF = 3;
const FRAME_ELSE = 4;
const FRAME_KIND = 7;
const FRAME_TARGETED = 8;
const FRAME_ARITY_SHIFT = 4;

/** Opcodes with no immediates whose cost is all there is to them, in one lookup. */
function costArrays(table: GasTable): { costs: Int32Array; prefixedCosts: Int32Array } {
  const costs = new Int32Array(256).fill(-1);
  const prefixedCosts = new Int32Array(32).fill(-1);
  for (const [key, { cost }] of Object.entries(table.opcodes)) {
    if (key.length === 4) costs[Number.parseInt(key.slice(2), 16)] = cost;
    else prefixedCosts[Number.parseInt(key.slice(7), 16)] = cost;
  }
  return { costs, prefixedCosts };
}

function rejectOpcode(op: number, offset: number, sub?: number): never {
  const rule = sub === undefined ? ruleOf(op) : prefixedRuleOf(sub);
  return reject('ForbiddenOpcode', rule, offset, { opcode: opcodeKey(op, sub) });
}

function blockType(b: Uint8Array, pos: number, end: number): number {
  if (pos >= end) malformed(pos, 'unexpected end');
  const t = b[pos]!;
  if (t === BLOCK_EMPTY || t === I32 || t === I64) return pos + 1;
  if (t === F32 || t === F64 || t === V128 || t === FUNCREF || t === 0x6f) valType(t, pos);
  return reject('ForbiddenType', 'multi-value', pos, { reason: 'block types are empty, i32 or i64' });
}

// Module-level cursor for the LEB readers of the hot loop (no allocation per read).
let cursor = 0;

function readU32(b: Uint8Array, pos: number, end: number): number {
  let result = 0;
  let shift = 0;
  const start = pos;
  for (;;) {
    if (pos >= end) malformed(start, 'unexpected end inside a LEB128 integer');
    const byte = b[pos++]!;
    if (shift === 28) {
      if (byte > 0x0f) malformed(start, 'u32 LEB128 out of range');
      cursor = pos;
      return (result | (byte << 28)) >>> 0;
    }
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor = pos;
      return result >>> 0;
    }
    shift += 7;
  }
}

function skipLeb(b: Uint8Array, pos: number, end: number, maxBytes: number): number {
  const start = pos;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= end) malformed(start, 'unexpected end inside a LEB128 integer');
    if (b[pos++]! < 0x80) return pos;
  }
  return malformed(start, 'LEB128 too long');
}

/** Writes an unsigned LEB128 at `at`; returns the position after it. */
function putU32(buf: Uint8Array, at: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** Writes a signed LEB128 of a safe integer at `at`; returns the position after it. */
function putSigned(buf: Uint8Array, at: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) {
    let v = value | 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        buf[at++] = byte;
        return at;
      }
      buf[at++] = byte | 0x80;
    }
  }
  const leb = signedLeb(value);
  for (const byte of leb) buf[at++] = byte;
  return at;
}

function putBytes(buf: Uint8Array, at: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) buf[at++] = src[i]!;
  return at;
}

/**
 * Rewrites the function bodies of one module. Each body takes one scan of its code that checks
 * every instruction and records the edits (flat numbers in a reused array: no object, array or
 * closure per instruction), then one pass that copies the unchanged runs between edits as byte
 * slices and writes the injected sequences in place into the output buffer.
 *
 * The counter lives in a local (a register in optimised code), so the loop-carried dependency is a
 * register: `counter -= c; if (counter < 0) { gas = counter; refill(c); counter = gas }`. The global
 * is written only for segments where the host can read it: the charge of a segment that reaches an
 * instruction that can trap (loads, stores, div/rem, unreachable, call_indirect, bulk memory), call
 * or leave the function also stores `gas = counter`. Nothing else moves the counter inside a
 * segment, so that keeps the global exact at every such point; a loop whose body can do none of
 * these stores nothing. After a call the
 * callee (or a host charge) has moved the global: the counter is reloaded from it.
 */
class CodeRewriter {
  readonly b: Uint8Array;
  readonly costs: Int32Array; // single-byte opcode → cost, -1 when the table does not price it
  readonly prefixedCosts: Int32Array; // 0xFC sub-opcode → cost, -1 when not priced
  readonly brTablePerTarget: number;
  readonly growPerPage: number;
  readonly bulkPer32: number;
  readonly memoryCap: number;
  readonly policy: MeteringPolicy;
  readonly info: ModuleInfo;
  readonly totalFuncs: number;
  readonly gas: Uint8Array; // LEB of the gas global index
  readonly refill: Uint8Array; // LEB of the refill function index
  readonly prologue: Uint8Array;
  readonly epilogue: Uint8Array;

  // Scratch reused across bodies.
  edits = new Float64Array(1024);
  ne = 0;
  frames = new Int32Array(64);
  /** Per open frame: loops among the frames up to and including it. */
  loops = new Int32Array(64);
  /** Per open loop frame: index in `edits` of its charge's cost. */
  loopCharges = new Int32Array(64);
  /** Per open loop frame: its block type byte. */
  loopTypes = new Int32Array(64);
  /** New labels of rewritten br_tables. */
  tableLabels: number[] = [];
  refunds = new Int32Array(16);
  nr = 0;
  /** Index in `edits` of the open segment's cost, -1 when the code is dead. */
  seg = -1;
  /** Whether the global holds the counter at this point of the open segment. */
  flushed = false;

  constructor(b: Uint8Array, table: GasTable, policy: MeteringPolicy, info: ModuleInfo, gasGlobal: number, depthGlobal: number, refillIndex: number) {
    const { costs, prefixedCosts } = costArrays(table);
    this.b = b;
    this.costs = costs;
    this.prefixedCosts = prefixedCosts;
    this.brTablePerTarget = table.surcharges.br_table_per_target_including_default;
    this.growPerPage = table.surcharges.memory_grow_per_page;
    this.bulkPer32 = table.surcharges.bulk_memory_per_32_bytes ?? 0;
    this.memoryCap = Math.min(policy.maxMemoryPages, info.memory?.max ?? WASM_MAX_PAGES);
    this.policy = policy;
    this.info = info;
    this.totalFuncs = info.funcImports + info.funcTypes.length;
    this.gas = Uint8Array.from(unsignedLeb(gasGlobal));
    this.refill = Uint8Array.from(unsignedLeb(refillIndex));
    const depth = unsignedLeb(depthGlobal);
    // depth += 1; if (depth > max) unreachable
    this.prologue = Uint8Array.from([
      0x23, ...depth, 0x41, 0x01, 0x6a, 0x24, ...depth,
      0x23, ...depth, 0x41, ...signedLeb(policy.maxCallDepth), 0x4b, 0x04, BLOCK_EMPTY, 0x00, 0x0b,
    ]);
    // depth -= 1
    this.epilogue = Uint8Array.from([0x23, ...depth, 0x41, 0x01, 0x6b, 0x24, ...depth]);
  }

  /** Labels added around loops between a branch at `depth` and its target `label`. */
  private added(label: number, depth: number): number {
    if (depth === 0) return 0;
    const loops = this.loops;
    return LOOP_LABELS * (loops[depth - 1]! - (label >= depth ? 0 : loops[depth - 1 - label]!));
  }

  /**
   * An unconditional branch (br, a br_table target) from `depth` to `label`: marks the block it
   * targets, or stores the counter when it leaves the function, and returns the label in the
   * rewritten code (shifted past the labels added around loops).
   */
  private branchTo(label: number, depth: number, at: number): number {
    if (label > depth) malformed(at, 'branch label out of range');
    if (label < depth) this.frames[depth - 1 - label]! |= FRAME_TARGETED;
    else this.flush(); // leaves the function
    return label + this.added(label, depth);
  }

  private growFrames(): void {
    const size = this.frames.length * 2;
    const grown = (a: Int32Array) => {
      const next = new Int32Array(size);
      next.set(a);
      return next;
    };
    this.frames = grown(this.frames);
    this.loops = grown(this.loops);
    this.loopCharges = grown(this.loopCharges);
    this.loopTypes = grown(this.loopTypes);
  }

  private push(offset: number, kind: number, arg: number, skip: number, label: number): void {
    let e = this.edits;
    const n = this.ne;
    if (n + EDIT_SIZE > e.length) {
      const next = new Float64Array(e.length * 2);
      next.set(e);
      this.edits = e = next;
    }
    e[n] = offset;
    e[n + 1] = kind;
    e[n + 2] = arg;
    e[n + 3] = skip;
    e[n + 4] = label;
    this.ne = n + EDIT_SIZE;
  }

  /** Ends the open segment of cost `cost`: fixes its charge and the refunds of its br_ifs. */
  private close(cost: number): void {
    const e = this.edits;
    if (this.seg >= 0) e[this.seg] = cost;
    const refunds = this.refunds;
    for (let i = 0; i < this.nr; i++) {
      const r = refunds[i]!;
      e[r] = cost - e[r]!;
    }
    this.nr = 0;
  }

  private open(at: number, kind: number, cost: number): void {
    this.close(cost);
    this.push(at, kind, 0, 0, 0);
    this.seg = this.ne - 3;
    this.flushed = false;
  }

  /**
   * Before an instruction that can trap, call or leave the function: the global must hold the
   * counter there (the host reads it). The segment's charge then stores it (its edit's last field
   * says so): nothing else moves the counter until the segment ends, and a reload after a call
   * leaves them equal. A segment that reaches no such point stores nothing.
   */
  private flush(): void {
    if (this.seg >= 0 && !this.flushed) {
      this.edits[this.seg + 2] = 1;
      this.flushed = true;
    }
  }

  /** The counter was just loaded from the global (after a call). */
  private reload(at: number): void {
    this.push(at, EDIT_RELOAD, 0, 0, 0);
    this.flushed = true;
  }

  private kill(cost: number): void {
    this.close(cost);
    this.seg = -1;
  }

  private refund(at: number, cost: number, skip: number, label: number, exits: boolean): void {
    this.push(at, exits ? EDIT_BR_IF_REFUND_EXIT : EDIT_BR_IF_REFUND, cost, skip, label);
    if (this.nr === this.refunds.length) {
      const next = new Int32Array(this.nr * 2);
      next.set(this.refunds);
      this.refunds = next;
    }
    this.refunds[this.nr++] = this.ne - 3;
  }

  /** Rewrites one function body [start, end) (after its size) into `out`, size first. */
  body(funcIndex: number, start: number, end: number, out: Writer): void {
    const b = this.b;
    const { costs, info, policy } = this;
    const type = info.types[info.funcTypes[funcIndex]!]!;
    const results = type.results.length;
    // locals
    let pos = start;
    const localGroups = readU32(b, pos, end);
    pos = cursor;
    const groupsStart = pos;
    let locals = type.params.length;
    for (let i = 0; i < localGroups; i++) {
      const n = readU32(b, pos, end);
      pos = cursor;
      if (pos >= end) malformed(pos, 'unexpected end in locals');
      valType(b[pos]!, pos);
      pos++;
      locals += n;
      limit('maxLocals', locals, policy.maxLocals, start);
    }
    const bodyStart = pos;
    this.ne = 0;
    this.nr = 0;
    this.seg = -1;
    let frames = this.frames;
    let depth = 0; // open frames inside the function
    let cost = 0;
    let needsScratch = false;
    const memory = info.memory !== undefined;
    const totalGlobals = info.globals;
    const maxBlockDepth = policy.maxBlockDepth;

    this.tableLabels.length = 0;
    let loops = this.loops;

    this.push(bodyStart, EDIT_PROLOGUE, 0, 0, 0);
    this.open(bodyStart, EDIT_CHARGE, 0);
    let finished = false;
    while (pos < end) {
      const at = pos;
      const op = b[pos++]!;
      const c = costs[op]!;
      if (c < 0 && op !== 0xfc) rejectOpcode(op, at);
      switch (op) {
        case 0x00: // unreachable
          this.flush();
          this.kill(cost + c);
          cost = 0;
          break;
        case 0x02: // block
        case 0x03: // loop
        case 0x04: { // if
          const arity = op === 0x03 || b[pos] === BLOCK_EMPTY ? 0 : 1;
          pos = blockType(b, pos, end);
          cost += c;
          if (++depth > maxBlockDepth) limit('maxBlockDepth', depth, maxBlockDepth, at);
          if (depth > frames.length) {
            this.growFrames();
            frames = this.frames;
            loops = this.loops;
          }
          frames[depth - 1] = (op === 0x02 ? FRAME_BLOCK : op === 0x03 ? FRAME_LOOP : FRAME_IF) | (arity << FRAME_ARITY_SHIFT);
          loops[depth - 1] = (depth === 1 ? 0 : loops[depth - 2]!) + (op === 0x03 ? 1 : 0);
          if (op === 0x03) {
            this.push(at, EDIT_LOOP, b[at + 1]!, pos - at, 0);
            this.open(pos, EDIT_LOOP_CHARGE, cost);
            this.loopCharges[depth - 1] = this.seg;
            this.loopTypes[depth - 1] = b[at + 1]!;
            cost = 0;
          } else if (op === 0x04) {
            this.open(pos, EDIT_CHARGE, cost);
            cost = 0;
          }
          break;
        }
        case 0x05: // else
          if (depth === 0 || (frames[depth - 1]! & FRAME_KIND) !== FRAME_IF) malformed(at, 'else without if');
          frames[depth - 1] = (frames[depth - 1]! & ~FRAME_KIND) | FRAME_ELSE;
          this.open(pos, EDIT_CHARGE, cost + c);
          cost = 0;
          break;
        case 0x0b: { // end
          cost += c;
          if (depth === 0) {
            this.flush();
            this.close(cost);
            this.push(at, EDIT_END, 0, 0, 0);
            if (pos !== end) malformed(pos, 'bytes after the end of a function body');
            finished = true;
            break;
          }
          const frame = frames[--depth]!;
          const kind = frame & FRAME_KIND;
          if (kind === FRAME_LOOP) this.push(pos, EDIT_LOOP_END, this.loopCharges[depth]!, 0, this.loopTypes[depth]!);
          if (kind === FRAME_IF || kind === FRAME_ELSE || (kind === FRAME_BLOCK && (frame & FRAME_TARGETED) !== 0)) {
            this.open(pos, EDIT_CHARGE, cost);
            cost = 0;
          }
          break;
        }
        case 0x0c: { // br
          const label = readU32(b, pos, end);
          pos = cursor;
          const target = this.branchTo(label, depth, at);
          if (target !== label) this.push(at, EDIT_BR, target, pos - at, 0);
          this.kill(cost + c);
          cost = 0;
          break;
        }
        case 0x0d: { // br_if
          const label = readU32(b, pos, end);
          pos = cursor;
          if (label > depth) malformed(at, 'branch label out of range');
          let carries = results;
          if (label < depth) {
            const frame = frames[depth - 1 - label]! | FRAME_TARGETED;
            frames[depth - 1 - label] = frame;
            carries = frame >> FRAME_ARITY_SHIFT;
          }
          cost += c;
          const shift = this.added(label, depth);
          if (this.seg >= 0 && carries === 0) {
            // The segment goes on past the br_if; a taken branch gets the rest back.
            this.refund(at, cost, pos - at, label + shift, label === depth);
          } else {
            if (label === depth) this.flush(); // leaves the function
            if (shift > 0) this.push(at, EDIT_BR_IF, label + shift, pos - at, 0);
            this.open(pos, EDIT_CHARGE, cost);
            cost = 0;
          }
          break;
        }
        case 0x0e: { // br_table
          const n = readU32(b, pos, end);
          pos = cursor;
          limit('maxBrTableTargets', n, policy.maxBrTableTargets, at);
          const first = this.tableLabels.length;
          let shifted = false;
          for (let i = 0; i <= n; i++) {
            const label = readU32(b, pos, end);
            pos = cursor;
            const target = this.branchTo(label, depth, at);
            if (target !== label) shifted = true;
            this.tableLabels.push(target);
          }
          if (shifted) this.push(at, EDIT_BR_TABLE, first, pos - at, n + 1);
          else this.tableLabels.length = first;
          this.kill(cost + c + this.brTablePerTarget * (n + 1));
          cost = 0;
          break;
        }
        case 0x0f: // return
          this.flush();
          this.push(at, EDIT_RETURN, depth + this.added(depth, depth), 1, 0);
          this.kill(cost + c);
          cost = 0;
          break;
        case 0x10: { // call
          const f = readU32(b, pos, end);
          pos = cursor;
          if (f >= this.totalFuncs) malformed(at, 'call to a function index out of range');
          cost += c;
          this.flush();
          this.push(at, EDIT_CALL, f >= info.funcImports ? f + 1 : f, pos - at, 0);
          if (this.seg >= 0) this.reload(pos);
          else {
            this.open(pos, EDIT_CHARGE_RELOAD, cost);
            cost = 0;
          }
          break;
        }
        case 0x11: { // call_indirect
          const t = readU32(b, pos, end);
          pos = cursor;
          if (t >= info.types.length) malformed(at, 'call_indirect type index out of range');
          if (pos >= end || b[pos] !== 0x00) reject('ForbiddenFeature', 'reference-types', pos, { reason: 'call_indirect uses table 0' });
          pos++;
          if (info.tables === 0) malformed(at, 'call_indirect without a table');
          cost += c;
          this.flush();
          if (this.seg >= 0) this.reload(pos);
          else {
            this.open(pos, EDIT_CHARGE_RELOAD, cost);
            cost = 0;
          }
          break;
        }
        case 0x20: case 0x21: case 0x22: { // local.get/set/tee
          const i = readU32(b, pos, end);
          pos = cursor;
          if (i >= locals) malformed(at, 'local index out of range');
          cost += c;
          break;
        }
        case 0x23: case 0x24: { // global.get/set
          const i = readU32(b, pos, end);
          pos = cursor;
          if (i >= totalGlobals) malformed(at, 'global index out of range');
          cost += c;
          break;
        }
        case 0x28: case 0x29: case 0x2c: case 0x2d: case 0x2e: case 0x2f: case 0x30: case 0x31: case 0x32:
        case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
          if (!memory) malformed(at, 'memory instruction without a memory');
          pos = skipLeb(b, pos, end, 5); // align
          pos = skipLeb(b, pos, end, 5); // offset
          cost += c;
          this.flush(); // out of bounds traps
          break;
        case 0x3f: // memory.size
        case 0x40: // memory.grow
          if (!memory) malformed(at, 'memory instruction without a memory');
          if (pos >= end || b[pos] !== 0x00) malformed(pos, 'memory index must be 0');
          pos++;
          cost += c;
          if (op === 0x40) {
            this.push(at, EDIT_GROW, 0, 2, 0);
            needsScratch = true;
          }
          break;
        case 0x41: // i32.const
          pos = skipLeb(b, pos, end, 5);
          cost += c;
          break;
        case 0x42: // i64.const
          pos = skipLeb(b, pos, end, 10);
          cost += c;
          break;
        case 0xfc: {
          const sub = readU32(b, pos, end);
          pos = cursor;
          const pc = sub < this.prefixedCosts.length ? this.prefixedCosts[sub]! : -1;
          if (pc < 0) rejectOpcode(op, at, sub);
          if (!memory) malformed(at, 'memory instruction without a memory');
          if (sub === 0x08 || sub === 0x09) { // memory.init, data.drop: data index
            const d = readU32(b, pos, end);
            pos = cursor;
            if (info.dataCount === undefined || d >= info.dataCount) malformed(at, 'data index out of range (or no data count section)');
          }
          if (sub === 0x08 || sub === 0x0b) { // memory index
            if (pos >= end || b[pos] !== 0x00) malformed(pos, 'memory index must be 0');
            pos++;
          } else if (sub === 0x0a) {
            if (pos + 1 >= end || b[pos] !== 0x00 || b[pos + 1] !== 0x00) malformed(pos, 'memory indices must be 0');
            pos += 2;
          }
          cost += pc;
          if (sub !== 0x09 && this.bulkPer32 > 0) {
            // The dynamic charge stores the counter right before the operation.
            this.push(at, EDIT_BULK, 0, 0, 0);
            needsScratch = true;
            if (this.seg >= 0) this.flushed = true;
          } else if (sub !== 0x09) {
            this.flush(); // out of bounds traps
          }
          break;
        }
        case 0x6d: case 0x6e: case 0x6f: case 0x70: case 0x7f: case 0x80: case 0x81: case 0x82:
          // div/rem: division by zero and overflow trap
          cost += c;
          this.flush();
          break;
        default:
          // Every other priced opcode has no immediates.
          cost += c;
          break;
      }
      if (finished) break;
    }
    if (!finished) malformed(end, 'function body not closed by end');
    this.emit(out, type.results[0], locals, localGroups, groupsStart, bodyStart, end, needsScratch);
  }

  /**
   * Writes `size ‖ locals ‖ body` with the recorded edits applied: the size goes in a 5-byte slot
   * first, and the body moves down over the unused bytes of the slot once its length is known.
   */
  private emit(out: Writer, result: number | undefined, locals: number, localGroups: number, groupsStart: number, bodyStart: number, end: number, needsScratch: boolean): void {
    const b = this.b;
    const e = this.edits;
    const ne = this.ne;
    const gas = this.gas;
    // Locals: the module's, + the cached counter, + 2 scratch locals when needed.
    const counter = locals;
    const scratchI32 = locals + 1;
    const scratchI64 = locals + 2;
    const slot = out.len;
    out.ensure(5 + 5 + (bodyStart - groupsStart) + 8 + EDIT_ROOM);
    let buf = out.buf;
    let at = putU32(buf, slot + 5, localGroups + (needsScratch ? 3 : 1));
    for (let i = groupsStart; i < bodyStart; i++) buf[at++] = b[i]!;
    buf[at++] = 1; buf[at++] = I64;
    if (needsScratch) {
      buf[at++] = 1; buf[at++] = I32;
      buf[at++] = 1; buf[at++] = I64;
    }
    let copied = bodyStart;
    for (let i = 0; i < ne; i += EDIT_SIZE) {
      const offset = e[i]!;
      const kind = e[i + 1]!;
      const arg = e[i + 2]!;
      const run = offset - copied;
      if (at + run + EDIT_ROOM > buf.length) {
        out.len = at;
        out.ensure(run + EDIT_ROOM);
        buf = out.buf;
      }
      if (run > 0) {
        if (run < 64) for (let j = copied; j < offset; j++) buf[at++] = b[j]!;
        else {
          buf.set(b.subarray(copied, offset), at);
          at += run;
        }
      }
      copied = offset + e[i + 3]!;
      switch (kind) {
        case EDIT_PROLOGUE:
          // depth += 1; if (depth > max) unreachable; counter = gas; block <result type>
          at = putBytes(buf, at, this.prologue);
          buf[at++] = 0x23; at = putBytes(buf, at, gas);
          buf[at++] = 0x21; at = putU32(buf, at, counter);
          buf[at++] = 0x02;
          buf[at++] = result ?? BLOCK_EMPTY;
          break;
        case EDIT_CHARGE:
          at = this.charge(buf, at, counter, arg, false, e[i + 4] === 1);
          break;
        case EDIT_CHARGE_RELOAD:
          at = this.charge(buf, at, counter, arg, true, e[i + 4] === 1);
          break;
        case EDIT_RELOAD:
          buf[at++] = 0x23; at = putBytes(buf, at, gas);
          buf[at++] = 0x21; at = putU32(buf, at, counter);
          break;
        case EDIT_LOOP:
          // block bt; loop; block; loop bt
          buf[at++] = 0x02; buf[at++] = arg;
          buf[at++] = 0x03; buf[at++] = BLOCK_EMPTY;
          buf[at++] = 0x02; buf[at++] = BLOCK_EMPTY;
          buf[at++] = 0x03; buf[at++] = arg;
          break;
        case EDIT_LOOP_CHARGE:
          if (arg > 0) {
            // counter -= c; [gas = counter;] br_if 1 (counter < 0): to the refill path after the loop
            buf[at++] = 0x20; at = putU32(buf, at, counter);
            buf[at++] = 0x42; at = putSigned(buf, at, arg);
            buf[at++] = 0x7d;
            buf[at++] = 0x22; at = putU32(buf, at, counter);
            if (e[i + 4] === 1) {
              buf[at++] = 0x24; at = putBytes(buf, at, gas);
              buf[at++] = 0x20; at = putU32(buf, at, counter);
            }
            buf[at++] = 0x42; buf[at++] = 0x00; buf[at++] = 0x53;
            buf[at++] = 0x0d; buf[at++] = 0x01;
          } else if (e[i + 4] === 1) {
            buf[at++] = 0x20; at = putU32(buf, at, counter);
            buf[at++] = 0x24; at = putBytes(buf, at, gas);
          }
          break;
        case EDIT_LOOP_END: {
          // (the loop's own end was copied) br 2 (out, with the loop's value); end
          buf[at++] = 0x0c; buf[at++] = 0x02;
          buf[at++] = 0x0b;
          const charge = e[arg]!;
          if (charge > 0) {
            // gas = counter; refill(c); counter = gas + c; br 0 (re-enter, which charges c again)
            buf[at++] = 0x20; at = putU32(buf, at, counter);
            buf[at++] = 0x24; at = putBytes(buf, at, gas);
            buf[at++] = 0x41; at = putSigned(buf, at, charge);
            buf[at++] = 0x10; at = putBytes(buf, at, this.refill);
            buf[at++] = 0x23; at = putBytes(buf, at, gas);
            buf[at++] = 0x42; at = putSigned(buf, at, charge);
            buf[at++] = 0x7c;
            buf[at++] = 0x21; at = putU32(buf, at, counter);
            buf[at++] = 0x0c; buf[at++] = 0x00;
          } else {
            buf[at++] = 0x00; // no charge: nothing branches here
          }
          buf[at++] = 0x0b;
          if (e[i + 4] !== BLOCK_EMPTY) buf[at++] = 0x00; // the outer block's value never comes from here
          buf[at++] = 0x0b;
          break;
        }
        case EDIT_BR:
          buf[at++] = 0x0c; at = putU32(buf, at, arg);
          break;
        case EDIT_BR_IF:
          buf[at++] = 0x0d; at = putU32(buf, at, arg);
          break;
        case EDIT_BR_TABLE: {
          const n = e[i + 4]!;
          if (at + 5 * (n + 1) + EDIT_ROOM > buf.length) {
            out.len = at;
            out.ensure(5 * (n + 1) + EDIT_ROOM);
            buf = out.buf;
          }
          buf[at++] = 0x0e; at = putU32(buf, at, n - 1);
          for (let j = 0; j < n; j++) at = putU32(buf, at, this.tableLabels[arg + j]!);
          break;
        }
        case EDIT_BR_IF_REFUND:
        case EDIT_BR_IF_REFUND_EXIT: {
          const label = e[i + 4]!;
          if (arg === 0) {
            buf[at++] = 0x0d; at = putU32(buf, at, label);
            break;
          }
          // if (cond) { counter += rest; [gas = counter;] br label+1 }
          buf[at++] = 0x04; buf[at++] = BLOCK_EMPTY;
          buf[at++] = 0x20; at = putU32(buf, at, counter);
          buf[at++] = 0x42; at = putSigned(buf, at, arg);
          buf[at++] = 0x7c;
          if (kind === EDIT_BR_IF_REFUND_EXIT) {
            buf[at++] = 0x22; at = putU32(buf, at, counter);
            buf[at++] = 0x24; at = putBytes(buf, at, gas); // leaves the function: the host reads it
          } else {
            buf[at++] = 0x21; at = putU32(buf, at, counter); // the target starts a segment
          }
          buf[at++] = 0x0c; at = putU32(buf, at, label + 1);
          buf[at++] = 0x0b;
          break;
        }
        case EDIT_CALL:
          buf[at++] = 0x10; at = putU32(buf, at, arg);
          break;
        case EDIT_RETURN:
          buf[at++] = 0x0c; at = putU32(buf, at, arg); // br to the wrapper block
          break;
        case EDIT_GROW:
          out.len = at;
          this.grow(out, counter, scratchI32, scratchI64);
          at = out.len;
          break;
        case EDIT_BULK:
          out.len = at;
          this.bulkCharge(out, counter, scratchI32, scratchI64);
          at = out.len;
          break;
        case EDIT_END:
          // end of the wrapper block; depth -= 1; the function's own end follows
          buf[at++] = 0x0b;
          at = putBytes(buf, at, this.epilogue);
          break;
        default:
          throw new InvariantViolation(`unknown edit ${kind}`);
      }
    }
    const tail = end - copied;
    if (at + tail > buf.length) {
      out.len = at;
      out.ensure(tail);
      buf = out.buf;
    }
    for (let j = copied; j < end; j++) buf[at++] = b[j]!;
    // The size into its slot; the body moves down when its LEB is shorter than the slot.
    const size = at - slot - 5;
    const sizeBytes = size < 0x80 ? 1 : size < 0x4000 ? 2 : size < 0x200000 ? 3 : size < 0x10000000 ? 4 : 5;
    if (sizeBytes < 5) buf.copyWithin(slot + sizeBytes, slot + 5, at);
    putU32(buf, slot, size);
    out.len = at - (5 - sizeBytes);
  }

  /**
   * `counter -= c; [gas = counter;] if (counter < 0) { gas = counter; refill(c); counter = gas }`
   * (reload: from the global; store: the segment reaches a point where the host reads the global).
   */
  private charge(buf: Uint8Array, at: number, counter: number, cost: number, reload: boolean, store: boolean): number {
    const gas = this.gas;
    if (cost === 0) {
      if (reload) {
        buf[at++] = 0x23; at = putBytes(buf, at, gas);
        buf[at++] = 0x21; at = putU32(buf, at, counter);
      } else if (store) {
        buf[at++] = 0x20; at = putU32(buf, at, counter);
        buf[at++] = 0x24; at = putBytes(buf, at, gas);
      }
      return at;
    }
    if (reload) {
      buf[at++] = 0x23; at = putBytes(buf, at, gas);
    } else {
      buf[at++] = 0x20; at = putU32(buf, at, counter);
    }
    buf[at++] = 0x42; at = putSigned(buf, at, cost);
    buf[at++] = 0x7d;
    buf[at++] = 0x22; at = putU32(buf, at, counter);
    if (store) {
      buf[at++] = 0x24; at = putBytes(buf, at, gas);
      buf[at++] = 0x20; at = putU32(buf, at, counter);
    }
    buf[at++] = 0x42; buf[at++] = 0x00; buf[at++] = 0x53;
    buf[at++] = 0x04; buf[at++] = BLOCK_EMPTY;
    if (!store) {
      buf[at++] = 0x20; at = putU32(buf, at, counter); // the refill reads the global
      buf[at++] = 0x24; at = putBytes(buf, at, gas);
    }
    buf[at++] = 0x41; at = putSigned(buf, at, cost);
    buf[at++] = 0x10; at = putBytes(buf, at, this.refill);
    buf[at++] = 0x23; at = putBytes(buf, at, gas);
    buf[at++] = 0x21; at = putU32(buf, at, counter);
    buf[at++] = 0x0b;
    return at;
  }

  /** With the i64 cost on the stack: `counter -= cost; gas = counter; if (counter < 0) { refill(cost); counter = gas }`. */
  private dynamicCharge(w: Writer, counter: number, costLocal: number): void {
    w.byte(0x21); w.u32(costLocal);
    w.byte(0x20); w.u32(counter);
    w.byte(0x20); w.u32(costLocal);
    w.byte(0x7d);
    w.byte(0x22); w.u32(counter);
    w.byte(0x24); w.bytes(this.gas);
    w.byte(0x20); w.u32(counter);
    w.byte(0x42); w.byte(0x00); w.byte(0x53);
    w.byte(0x04); w.byte(BLOCK_EMPTY);
    w.byte(0x20); w.u32(costLocal); w.byte(0xa7);
    w.byte(0x10); w.bytes(this.refill);
    w.byte(0x23); w.bytes(this.gas);
    w.byte(0x21); w.u32(counter);
    w.byte(0x0b);
  }

  /**
   * memory.grow with the delta on the stack: refuse (-1) when size + delta exceeds the cap, else
   * charge delta × per-page and grow.
   */
  private grow(w: Writer, counter: number, delta: number, costLocal: number): void {
    w.byte(0x21); w.u32(delta);
    w.byte(0x3f); w.byte(0x00); w.byte(0xad); // memory.size, i64.extend_i32_u
    w.byte(0x20); w.u32(delta); w.byte(0xad);
    w.byte(0x7c); // i64.add
    w.byte(0x42); w.signed(this.memoryCap);
    w.byte(0x56); // i64.gt_u
    w.byte(0x04); w.byte(I32);
    w.byte(0x41); w.byte(0x7f); // i32.const -1
    w.byte(0x05);
    if (this.growPerPage > 0) {
      w.byte(0x20); w.u32(delta); w.byte(0xad);
      w.byte(0x42); w.signed(this.growPerPage);
      w.byte(0x7e); // i64.mul
      this.dynamicCharge(w, counter, costLocal);
    }
    w.byte(0x20); w.u32(delta);
    w.byte(0x40); w.byte(0x00);
    w.byte(0x0b);
  }

  /** Before memory.copy/fill/init with the byte count on the stack: charge ceil(n / 32) × per-32. */
  private bulkCharge(w: Writer, counter: number, count: number, costLocal: number): void {
    w.byte(0x22); w.u32(count); // local.tee: n stays for the operation
    w.byte(0x20); w.u32(count);
    w.byte(0xad);
    w.byte(0x42); w.byte(0x1f); w.byte(0x7c); // + 31
    w.byte(0x42); w.byte(0x05); w.byte(0x88); // >> 5
    w.byte(0x42); w.signed(this.bulkPer32);
    w.byte(0x7e);
    this.dynamicCharge(w, counter, costLocal);
  }
}

// ── emitting the module ──────────────────────────────────────────────────────────────────────

function defaultsOf(policy: Partial<MeteringPolicy> | undefined): MeteringPolicy {
  const p: MeteringPolicy = { ...DEFAULT_POLICY, ...policy };
  for (const [key, value] of Object.entries(p)) {
    if (key === 'raw') continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ZgasError('InvalidRequest', { field: `policy.${key}`, reason: 'a non-negative integer' });
  }
  if (p.maxMemoryPages > WASM_MAX_PAGES) throw new ZgasError('InvalidRequest', { field: 'policy.maxMemoryPages', reason: `at most ${WASM_MAX_PAGES}` });
  if (p.maxCallDepth < 1 || p.maxCallDepth > 100_000) throw new ZgasError('InvalidRequest', { field: 'policy.maxCallDepth', reason: 'between 1 and 100000' });
  return p;
}

const OUTPUT_BUFFER_BYTES = 64 * 1024;
/** A larger output buffer is dropped after the call rather than kept for the next one. */
const MAX_KEPT_OUTPUT_BUFFER = 8 * 1024 * 1024;
let outputBuffer = new Writer(OUTPUT_BUFFER_BYTES);

/** Instruments a module for metered execution; throws a ZgasError naming the rule it breaks. */
export function instrument(wasm: Uint8Array, table: GasTable, policy?: Partial<MeteringPolicy>): InstrumentedModule {
  const p = defaultsOf(policy);
  if (wasm.length > p.maxModuleBytes) reject('ModuleTooLarge', 'module-size', 0, { bytes: wasm.length, maxBytes: p.maxModuleBytes });
  const info = parseModule(wasm, table, p);

  // Indices of what we add.
  const refillTypeFound = info.types.findIndex((t) => sameSignature(t, [I32], []));
  const refillType = refillTypeFound >= 0 ? refillTypeFound : info.types.length;
  const refillIndex = info.funcImports;
  const gasGlobal = info.globals;
  const depthGlobal = info.globals + 1;
  const remap = (f: number): number => (f >= info.funcImports ? f + 1 : f);

  const rewriter = new CodeRewriter(wasm, table, p, info, gasGlobal, depthGlobal, refillIndex);

  // Metering roughly doubles to quadruples the code. The output buffer is reused from the last
  // call (no fresh pages to fault in); only its first `len` bytes are ever read.
  const out = outputBuffer;
  out.len = 0;
  out.ensure(3 * wasm.length + 1024);
  out.bytes(wasm, 0, 8);
  const byId = new Map<number, Section>();
  for (const s of info.sections) if (s.id !== 0) byId.set(s.id, s);
  const content = new Writer(256);

  for (const id of [1, 2, 3, 4, 5, 6, 7, 9, 12, 10, 11]) {
    const s = byId.get(id);
    content.len = 0;
    switch (id) {
      case 1: { // types: + (i32) -> () for refill when missing
        const count = s === undefined ? 0 : new Reader(wasm, s.start, s.end).u32();
        if (refillTypeFound >= 0) {
          out.section(1, copyOf(content, wasm, s!));
          continue;
        }
        content.u32(count + 1);
        if (s !== undefined) content.bytes(wasm, afterCount(wasm, s), s.end);
        content.byte(0x60); content.u32(1); content.byte(I32); content.u32(0);
        break;
      }
      case 2: { // imports: + zgas.refill, after the module's own
        const r = s === undefined ? undefined : new Reader(wasm, s.start, s.end);
        content.u32((r?.u32() ?? 0) + 1);
        if (r !== undefined) content.bytes(wasm, r.pos, s!.end);
        content.name(REFILL_MODULE); content.name(REFILL_FIELD);
        content.byte(0x00); content.u32(refillType);
        break;
      }
      case 6: { // globals: + gas (mut i64 = 0), depth (mut i32 = 0)
        const r = s === undefined ? undefined : new Reader(wasm, s.start, s.end);
        content.u32((r?.u32() ?? 0) + 2);
        if (r !== undefined) content.bytes(wasm, r.pos, s!.end);
        content.byte(I64); content.byte(1); content.byte(0x42); content.byte(0); content.byte(0x0b);
        content.byte(I32); content.byte(1); content.byte(0x41); content.byte(0); content.byte(0x0b);
        break;
      }
      case 7: { // exports: function indices shift; + zgas_gas, zgas_depth
        const r = s === undefined ? undefined : new Reader(wasm, s.start, s.end);
        const count = r?.u32() ?? 0;
        content.u32(count + 2);
        for (let i = 0; i < count; i++) {
          const nameStart = r!.pos;
          r!.name();
          content.bytes(wasm, nameStart, r!.pos);
          const kind = r!.u8();
          const index = r!.u32();
          content.byte(kind);
          content.u32(kind === 0 ? remap(index) : index);
        }
        content.name(GAS_EXPORT); content.byte(0x03); content.u32(gasGlobal);
        content.name(DEPTH_EXPORT); content.byte(0x03); content.u32(depthGlobal);
        break;
      }
      case 9: { // elements: function indices shift
        if (s === undefined) continue;
        const r = new Reader(wasm, s.start, s.end);
        const count = r.u32();
        content.u32(count);
        for (let i = 0; i < count; i++) {
          content.u32(r.u32()); // flags (0)
          const exprStart = r.pos;
          skipConstExpr(r, I32);
          content.bytes(wasm, exprStart, r.pos);
          const n = r.u32();
          content.u32(n);
          for (let j = 0; j < n; j++) content.u32(remap(r.u32()));
        }
        break;
      }
      case 10: { // code
        if (s === undefined) continue;
        // Written straight into the output: the bodies are most of the module.
        const r = new Reader(wasm, s.start, s.end);
        const count = r.u32();
        out.byte(10);
        const slot = out.sizeSlot();
        out.u32(count);
        for (let i = 0; i < count; i++) {
          const sizeAt = r.pos;
          const size = r.u32();
          if (size > s.end - r.pos) malformed(sizeAt, 'function body runs past the code section');
          limit('maxFunctionBytes', size, p.maxFunctionBytes, sizeAt);
          const bodyAt = out.len;
          rewriter.body(i, r.pos, r.pos + size, out);
          const grown = out.len - bodyAt;
          if (grown > p.maxInstrumentedFunctionBytes) {
            reject('ModuleLimitExceeded', 'maxInstrumentedFunctionBytes', sizeAt, { function: info.funcImports + i, value: grown, max: p.maxInstrumentedFunctionBytes, inputBytes: size });
          }
          r.pos += size;
        }
        if (r.pos !== s.end) malformed(r.pos, 'trailing bytes in the code section');
        out.fillSizeSlot(slot);
        continue;
      }
      default:
        if (s === undefined) continue;
        copyOf(content, wasm, s);
        break;
    }
    out.section(id, content);
  }
  const bytes = out.result();
  if (out.buf.length > MAX_KEPT_OUTPUT_BUFFER) outputBuffer = new Writer(OUTPUT_BUFFER_BYTES);

  // The structural checks above name rule and offset; the engine's validator is the final word on
  // typing. A rewrite of a valid module must itself be valid.
  if (!WebAssembly.validate(wasm as BufferSource)) {
    let message = 'invalid module';
    try {
      new WebAssembly.Module(wasm as BufferSource);
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    const offset = /@\+(\d+)/.exec(message);
    reject('InvalidModule', 'validation', offset === null ? 0 : Number(offset[1]), { reason: message });
  }
  assert(WebAssembly.validate(bytes as BufferSource), 'the instrumented module validates');

  const initialMemoryPages = info.memory?.min ?? 0;
  return {
    bytes,
    moduleHash: sha3(wasm),
    instrumentedHash: sha3(bytes),
    tableHash: gasTableHash(table),
    initialMemoryPages,
    tableEntries: info.tableEntries,
    elementEntries: info.elementEntries,
    dataSegmentBytes: info.dataSegmentBytes,
    initialGas: instantiationGas(table, initialMemoryPages, info),
  };
}

/** Initial memory pages, table slots, element entries and active data-segment bytes, at the table's prices. */
function instantiationGas(table: GasTable, pages: number, info: ModuleInfo): bigint {
  const prices = table.instantiation;
  let total = BigInt(pages) * BigInt(table.surcharges.memory_initial_per_page)
    + BigInt(info.tableEntries) * BigInt(prices.table_entry)
    + BigInt(info.elementEntries) * BigInt(prices.element_entry);
  for (const n of info.dataSegmentBytes) total += priceOf(prices.data_segment, n);
  return total;
}

function copyOf(w: Writer, src: Uint8Array, s: Section): Writer {
  w.len = 0;
  w.bytes(src, s.start, s.end);
  return w;
}

function afterCount(src: Uint8Array, s: Section): number {
  const r = new Reader(src, s.start, s.end);
  r.u32();
  return r.pos;
}
