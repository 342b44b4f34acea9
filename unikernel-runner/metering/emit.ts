/**
 * The body emitter: writes one scanned function body with its edits applied — the unchanged runs
 * between edits copied as byte slices, the injected sequences (charges, refill paths, the
 * call-depth prologue and epilogue, the memory.grow cap and charge, bulk-memory charges) written in
 * place into the output buffer.
 *
 * The counter lives in a local (a register in optimised code), so the loop-carried dependency is a
 * register: `counter -= c; if (counter < 0) counter = refill(counter, c)`.
 */
import { InvariantViolation } from '../../contracts/errors.ts';
import {
  CHARGE_STORE, CHARGE_UNCHECKED, EDIT_STORE, EDIT_BR, EDIT_BR_IF, EDIT_BR_IF_REFUND, EDIT_BR_IF_REFUND_EXIT, EDIT_BR_TABLE, EDIT_BULK, EDIT_CALL, EDIT_CHARGE, EDIT_CHARGE_RELOAD, EDIT_END,
  EDIT_GROW, EDIT_LOOP, EDIT_LOOP_CHARGE, EDIT_LOOP_END, EDIT_PROLOGUE, EDIT_RELOAD, EDIT_RETURN, EDIT_ROOM, EDIT_SIZE,
} from './edits.ts';
import type { ScannedBody } from './edits.ts';
import type { MeteringPolicy } from './policy.ts';
import { WASM_MAX_PAGES } from './policy.ts';
import type { GasTable } from './table.ts';
import type { ModuleInfo } from './validate.ts';
import { BLOCK_EMPTY, I32, I64, putBytes, putSigned, putU32, signedLeb, unsignedLeb } from './wasm.ts';
import type { Writer } from './wasm.ts';

export class BodyEmitter {
  readonly b: Uint8Array;
  readonly growPerPage: number;
  readonly bulkPer32: number;
  readonly memoryCap: number;
  readonly gas: Uint8Array; // LEB of the gas global index
  readonly refill: Uint8Array; // LEB of the refill function index
  readonly depth: Uint8Array; // LEB of the depth global index
  readonly maxDepth: Uint8Array; // signed LEB of maxCallDepth

  constructor(b: Uint8Array, table: GasTable, policy: MeteringPolicy, info: ModuleInfo, gasGlobal: number, depthGlobal: number, refillIndex: number) {
    this.b = b;
    this.growPerPage = table.surcharges.memory_grow_per_page;
    this.bulkPer32 = table.surcharges.bulk_memory_per_32_bytes ?? 0;
    this.memoryCap = Math.min(policy.maxMemoryPages, info.memory?.max ?? WASM_MAX_PAGES);
    this.gas = Uint8Array.from(unsignedLeb(gasGlobal));
    this.refill = Uint8Array.from(unsignedLeb(refillIndex));
    this.depth = Uint8Array.from(unsignedLeb(depthGlobal));
    this.maxDepth = Uint8Array.from(signedLeb(policy.maxCallDepth));
  }

  /**
   * Writes `size ‖ locals ‖ body` with the recorded edits applied: the size goes in a 5-byte slot
   * first, and the body moves down over the unused bytes of the slot once its length is known.
   */
  emit(out: Writer, body: ScannedBody): void {
    const { result, locals, localGroups, groupsStart, bodyStart, end, needsScratch, calls, tableLabels } = body;
    const b = this.b;
    const e = body.edits;
    const ne = body.editCount;
    const gas = this.gas;
    // Locals: the module's, + the cached counter and the call depth at entry, + 2 scratch locals when needed.
    const counter = locals;
    const depthLocal = locals + 1;
    const scratchI32 = locals + 2;
    const scratchI64 = locals + 3;
    const slot = out.len;
    out.ensure(5 + 5 + (bodyStart - groupsStart) + 8 + EDIT_ROOM);
    let buf = out.buf;
    let at = putU32(buf, slot + 5, localGroups + (needsScratch ? 3 : 2));
    for (let i = groupsStart; i < bodyStart; i++) buf[at++] = b[i]!;
    buf[at++] = 1; buf[at++] = I64;
    buf[at++] = needsScratch ? 2 : 1; buf[at++] = I32;
    if (needsScratch) {
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
          // depth = global + 1 (kept in a local for the exit); global = depth; if (depth > max)
          // unreachable; block <result type> (the entry segment's charge loads the counter). A
          // leaf only opens the block.
          if (!calls) {
            buf[at++] = 0x02;
            buf[at++] = result ?? BLOCK_EMPTY;
            break;
          }
          buf[at++] = 0x23; at = putBytes(buf, at, this.depth);
          buf[at++] = 0x41; buf[at++] = 0x01; buf[at++] = 0x6a;
          buf[at++] = 0x22; at = putU32(buf, at, depthLocal);
          buf[at++] = 0x24; at = putBytes(buf, at, this.depth);
          buf[at++] = 0x20; at = putU32(buf, at, depthLocal);
          buf[at++] = 0x41; at = putBytes(buf, at, this.maxDepth);
          buf[at++] = 0x4b; buf[at++] = 0x04; buf[at++] = BLOCK_EMPTY; buf[at++] = 0x00; buf[at++] = 0x0b;
          buf[at++] = 0x02;
          buf[at++] = result ?? BLOCK_EMPTY;
          break;
        case EDIT_CHARGE:
        case EDIT_CHARGE_RELOAD:
          if (e[i + 4] === CHARGE_UNCHECKED) {
            // counter -= c (the next segment's charge checks); the scanner marks only c > 0
            if (kind === EDIT_CHARGE_RELOAD) {
              buf[at++] = 0x23; at = putBytes(buf, at, gas);
            } else {
              buf[at++] = 0x20; at = putU32(buf, at, counter);
            }
            buf[at++] = 0x42; at = putSigned(buf, at, arg);
            buf[at++] = 0x7d;
            buf[at++] = 0x21; at = putU32(buf, at, counter);
          } else {
            at = this.charge(buf, at, counter, arg, kind === EDIT_CHARGE_RELOAD, e[i + 4] === CHARGE_STORE);
          }
          break;
        case EDIT_STORE:
          buf[at++] = 0x20; at = putU32(buf, at, counter);
          buf[at++] = 0x24; at = putBytes(buf, at, gas);
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
            if (e[i + 4] === CHARGE_STORE) {
              buf[at++] = 0x24; at = putBytes(buf, at, gas);
              buf[at++] = 0x20; at = putU32(buf, at, counter);
            }
            buf[at++] = 0x42; buf[at++] = 0x00; buf[at++] = 0x53;
            buf[at++] = 0x0d; buf[at++] = 0x01;
          } else if (e[i + 4] === CHARGE_STORE) {
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
            // counter = refill(counter, c) + c; br 0 (re-enter, which charges c again)
            buf[at++] = 0x20; at = putU32(buf, at, counter);
            buf[at++] = 0x41; at = putSigned(buf, at, charge);
            buf[at++] = 0x10; at = putBytes(buf, at, this.refill);
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
          for (let j = 0; j < n; j++) at = putU32(buf, at, tableLabels[arg + j]!);
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
          // end of the wrapper block; global = depth - 1 (the callees it made put it back to
          // depth); the function's own end follows
          buf[at++] = 0x0b;
          if (!calls) break;
          buf[at++] = 0x20; at = putU32(buf, at, depthLocal);
          buf[at++] = 0x41; buf[at++] = 0x01; buf[at++] = 0x6b;
          buf[at++] = 0x24; at = putBytes(buf, at, this.depth);
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
   * `counter -= c; [gas = counter;] if (counter < 0) counter = refill(counter, c)` (reload: from
   * the global; store: the segment reaches a point where the host reads the global).
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
    buf[at++] = 0x20; at = putU32(buf, at, counter);
    buf[at++] = 0x41; at = putSigned(buf, at, cost);
    buf[at++] = 0x10; at = putBytes(buf, at, this.refill);
    buf[at++] = 0x21; at = putU32(buf, at, counter);
    buf[at++] = 0x0b;
    return at;
  }

  /** With the i64 cost on the stack: `counter -= cost; gas = counter; if (counter < 0) counter = refill(counter, cost)`. */
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
    w.byte(0x20); w.u32(counter);
    w.byte(0x20); w.u32(costLocal); w.byte(0xa7);
    w.byte(0x10); w.bytes(this.refill);
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
