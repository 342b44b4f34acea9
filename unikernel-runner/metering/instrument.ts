/// <reference lib="dom" />
// The WebAssembly JS API types live in the DOM lib; Node implements the same API.
/**
 * The metering instrumenter: a deterministic, streaming, byte-level rewrite of a WebAssembly module
 * (docs/metering.md §Instrumentation). It validates the module against the determinism profile (the
 * gas table's priced opcodes plus fixed structural rules), then injects:
 *
 * - a mutable i64 global exported as `zgas_gas`: the gas left in the current chunk;
 * - an imported function `zgas.refill(counter: i64, cost: i32) -> i64`, called only when a charge
 *   drives the counter below zero (the host moves budget into the counter, stores it in the global
 *   and returns it, or throws OutOfGas / Aborted). The charges call it through an added function,
 *   last in the index space, that only forwards its arguments: a call to an import inside a loop
 *   makes the engine keep the import's target and instance in registers across the loop;
 * - at the entry of every segment whose instructions cost c > 0:
 *   `counter -= c; if (counter < 0) counter = refill(counter, c)` (or only `counter -= c` for a
 *   segment with no trap, call, exit or branch that falls through into a checked one), where `counter`
 *   is an added i64 local caching the global (a register in optimised code), reloaded after every
 *   call; `gas = counter` is stored by the charge of a segment that reaches a call or leaves the
 *   function, so the global is exact wherever the host can read it (an engine trap is charged the
 *   whole limit, so an instruction that can trap needs no store). At a loop's
 *   start the charge is `counter -= c; br_if <refill path> (counter < 0)`: the refill path sits after
 *   the loop (which gets three labels around it to reach it and come back), so a loop body holds
 *   no call of its own;
 * - before `memory.grow`: a refusal (result -1) when the memory would exceed the cap, otherwise a
 *   dynamic charge of `delta × memory_grow_per_page` through the same counter;
 * - before bulk memory operations (extended profile): `ceil(n / 32) × bulk_memory_per_32_bytes`;
 * - a call-depth counter (a mutable i32 global exported as `zgas_depth`), incremented and checked
 *   at the entry of every function that makes calls (trap with `unreachable` above `maxCallDepth`;
 *   a leaf adds one frame at most and is not counted) and decremented at every exit:
 *   each body is wrapped in a block with the function's result type, `return` becomes a branch to
 *   that block, and branches to the function label land on it unchanged (same label index).
 *
 * Gas semantics: an instruction costs its table figure each time control passes over it (a branch
 * jumps past the `end` it targets, so that `end` is not charged). A segment is charged whole at its
 * entry, so a trap inside it has paid for its rest. A segment starts at function entry, after
 * `loop`, `if`, `else`, after the `end` of an `if`, after the `end` of a `block` that a `br` or
 * `br_table` targets or a `br_if` of another segment, after a `br_if` whose target carries a value,
 * and after a `br_if` back to a loop (the hot edge stays a plain branch). It runs on through calls
 * (control comes back only to the next instruction), through any other `br_if` to a label without
 * values, and through the `end` of a block all of whose branches are such `br_if`s of the segment
 * itself: a taken branch gives back what it skips (`counter += skipped` on the branch edge: the
 * segment's rest, or the instructions up to the end of the block it targets), so totals stay
 * exact. Code after `br`, `br_table`, `return` and `unreachable` is dead until the next
 * `else`/`end` and gets no charge. `br_table` adds `br_table_per_target_including_default ×
 * (targets + 1)`.
 *
 * README.md beside this file states, for each way a call can end, what `callGas` is.
 *
 * Custom sections (names, producers, debug info) are dropped, never a reason to refuse a module:
 * the added import shifts every function index by one, which would make a name section wrong, and
 * the output must stay a pure function of (module code, table, policy).
 *
 * The work is split by job: validate.ts checks the module's sections against the profile, scan.ts
 * checks each function body and records its edits, emit.ts writes the body with them, wasm.ts
 * reads and writes the bytes, policy.ts holds the limits; this file assembles the output module
 * and prices its instantiation.
 */
import { assert } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Hash } from '../../contracts/types.ts';
import { BodyEmitter } from './emit.ts';
import { DEPTH_EXPORT, GAS_EXPORT, REFILL_FIELD, REFILL_MODULE } from './names.ts';
import { limit, reject, resolvePolicy } from './policy.ts';
import type { MeteringPolicy } from './policy.ts';
import { BlockScanner } from './scan.ts';
import { gasTableHash, priceOf } from './table.ts';
import type { GasTable } from './table.ts';
import { parseModule, sameSignature, skipConstExpr, validateWithEngine } from './validate.ts';
import type { ModuleInfo, Section } from './validate.ts';
import { I32, I64, malformed, Reader, unsignedLeb, Writer } from './wasm.ts';

export { DEFAULT_POLICY } from './policy.ts';
export type { MeteringPolicy } from './policy.ts';
export { DEPTH_EXPORT, GAS_EXPORT, REFILL_FIELD, REFILL_MODULE } from './names.ts';

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

const OUTPUT_BUFFER_BYTES = 64 * 1024;
/** A larger output buffer is dropped after the call rather than kept for the next one. */
const MAX_KEPT_OUTPUT_BUFFER = 8 * 1024 * 1024;
let outputBuffer = new Writer(OUTPUT_BUFFER_BYTES);

/** Instruments a module for metered execution; throws a ZgasError naming the rule it breaks. */
export function instrument(wasm: Uint8Array, table: GasTable, policy?: Partial<MeteringPolicy>): InstrumentedModule {
  const p = resolvePolicy(policy);
  if (wasm.length > p.maxModuleBytes) reject('ModuleTooLarge', 'module-size', 0, { bytes: wasm.length, maxBytes: p.maxModuleBytes });
  const info = parseModule(wasm, table, p);

  // Indices of what we add.
  const refillTypeFound = info.types.findIndex((t) => sameSignature(t, [I64, I32], [I64]));
  const refillType = refillTypeFound >= 0 ? refillTypeFound : info.types.length;
  const refillImport = info.funcImports;
  // Charges call an added function that calls the import: a call to an import makes the engine keep
  // the import's target and instance live across every loop that can refill (two registers in hot
  // loops); a call to a function of the module needs neither.
  const refillIndex = info.funcImports + 1 + info.funcTypes.length;
  const gasGlobal = info.globals;
  const depthGlobal = info.globals + 1;
  const remap = (f: number): number => (f >= info.funcImports ? f + 1 : f);

  const scanner = new BlockScanner(wasm, table, p, info);
  const emitter = new BodyEmitter(wasm, table, p, info, gasGlobal, depthGlobal, refillIndex);

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
      case 3: { // functions: + the refill trampoline, last
        const r = s === undefined ? undefined : new Reader(wasm, s.start, s.end);
        content.u32((r?.u32() ?? 0) + 1);
        if (r !== undefined) content.bytes(wasm, r.pos, s!.end);
        content.u32(refillType);
        break;
      }
      case 1: { // types: + (i64, i32) -> i64 for refill when missing
        const count = s === undefined ? 0 : new Reader(wasm, s.start, s.end).u32();
        if (refillTypeFound >= 0) {
          out.section(1, copyOf(content, wasm, s!));
          continue;
        }
        content.u32(count + 1);
        if (s !== undefined) content.bytes(wasm, afterCount(wasm, s), s.end);
        content.byte(0x60); content.u32(2); content.byte(I64); content.byte(I32); content.u32(1); content.byte(I64);
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
      case 10: { // code, + the refill trampoline's body
        // Written straight into the output: the bodies are most of the module.
        const codeEnd = s?.end ?? 0;
        const r = new Reader(wasm, s?.start ?? 0, codeEnd);
        const count = s === undefined ? 0 : r.u32();
        out.byte(10);
        const slot = out.sizeSlot();
        out.u32(count + 1);
        for (let i = 0; i < count; i++) {
          const sizeAt = r.pos;
          const size = r.u32();
          if (size > codeEnd - r.pos) malformed(sizeAt, 'function body runs past the code section');
          limit('maxFunctionBytes', size, p.maxFunctionBytes, sizeAt);
          const bodyAt = out.len;
          emitter.emit(out, scanner.scan(i, r.pos, r.pos + size));
          const grown = out.len - bodyAt;
          if (grown > p.maxInstrumentedFunctionBytes) {
            reject('ModuleLimitExceeded', 'maxInstrumentedFunctionBytes', sizeAt, { function: info.funcImports + i, value: grown, max: p.maxInstrumentedFunctionBytes, inputBytes: size });
          }
          r.pos += size;
        }
        if (r.pos !== codeEnd) malformed(r.pos, 'trailing bytes in the code section');
        // (param i64 i32) (result i64): local.get 0 local.get 1 call $refill end
        const call = unsignedLeb(refillImport);
        out.u32(7 + call.length);
        out.byte(0); out.byte(0x20); out.byte(0); out.byte(0x20); out.byte(1); out.byte(0x10);
        for (const byte of call) out.byte(byte);
        out.byte(0x0b);
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

  // The structural checks name rule and offset; the engine's validator is the final word on typing.
  // A rewrite of a valid module must itself be valid.
  validateWithEngine(wasm);
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
