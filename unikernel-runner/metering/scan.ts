/**
 * The block scanner: one pass over a function body that checks every instruction against the
 * determinism profile (the table's priced opcodes, indices, nesting) and records where metering
 * edits go (see instrument.ts for the gas semantics). Segments, their costs and the refunds of
 * br_ifs are fixed here; the body emitter only writes them out.
 */
import {
  CHARGE_STORE, CHARGE_UNCHECKED, EDIT_STORE, EDIT_BR, EDIT_BR_IF, EDIT_BR_IF_REFUND, EDIT_BR_IF_REFUND_EXIT, EDIT_BR_TABLE, EDIT_BULK, EDIT_CALL, EDIT_CHARGE, EDIT_CHARGE_RELOAD, EDIT_END,
  EDIT_GROW, EDIT_LOOP, EDIT_LOOP_CHARGE, EDIT_LOOP_END, EDIT_PROLOGUE, EDIT_RELOAD, EDIT_RETURN, EDIT_SIZE, LOOP_LABELS,
} from './edits.ts';
import type { ScannedBody } from './edits.ts';
import { opcodeKey, prefixedRuleOf, ruleOf } from './opcodes.ts';
import { limit, reject } from './policy.ts';
import type { MeteringPolicy } from './policy.ts';
import type { GasTable } from './table.ts';
import { valType } from './validate.ts';
import type { ModuleInfo } from './validate.ts';
import { BLOCK_EMPTY, F32, F64, FUNCREF, I32, I64, malformed, Reader, V128 } from './wasm.ts';

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

/** A copy of `a` in a longer array (the scanner's scratch arrays double when a body needs more). */
function grown(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(length);
  next.set(a);
  return next;
}

/**
 * Scans the function bodies of one module, reusing its scratch arrays across bodies. The counter
 * store rule it records: the charge of a segment that reaches a call (the host or the callee reads
 * the global) or leaves the function also stores `gas = counter`, so the global is exact wherever
 * the host can read it; after a call the counter is reloaded from the global. An instruction that
 * can trap needs no store: the runtime charges an engine trap the whole limit (metering version 2).
 */
export class BlockScanner {
  readonly b: Uint8Array;
  readonly costs: Int32Array; // single-byte opcode → cost, -1 when the table does not price it
  readonly prefixedCosts: Int32Array; // 0xFC sub-opcode → cost, -1 when not priced
  readonly brTablePerTarget: number;
  readonly bulkPer32: number;
  readonly policy: MeteringPolicy;
  readonly info: ModuleInfo;
  readonly totalFuncs: number;
  /** The cursor over the body being scanned. */
  readonly r: Reader;

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
  /** Per pending refund: the frame its br_if targets, -1 for the function's label. */
  refundFrames = new Int32Array(16);
  /**
   * Per open block frame: the segment (its cost's index in `edits`) the block started in, while
   * every branch to it so far is a refunding br_if of that segment; -1 otherwise. Such a block's
   * end starts no segment: the segment runs on, and those br_ifs give back only what they skip.
   */
  blockSegs = new Int32Array(64);
  nr = 0;
  /** Index in `edits` of the open segment's cost, -1 when the code is dead. */
  seg = -1;
  /** Whether the global holds the counter at this point of the open segment. */
  flushed = false;
  /**
   * Whether a br_if of the open segment has given gas back to the counter since its charge (at the
   * end of a block the segment runs through): a store at the charge would then be stale, so a point
   * the host observes gets its own store.
   */
  refunded = false;
  /**
   * Whether the open segment so far holds no trap, call, exit or branch: if it then falls through into a segment with a checked charge, its own charge
   * needs no check (see CHARGE_UNCHECKED).
   */
  plain = false;
  /** Index in `edits` of the cost of a plain segment that fell into the open one, -1 when none. */
  plainBefore = -1;

  constructor(b: Uint8Array, table: GasTable, policy: MeteringPolicy, info: ModuleInfo) {
    const { costs, prefixedCosts } = costArrays(table);
    this.b = b;
    this.costs = costs;
    this.prefixedCosts = prefixedCosts;
    this.brTablePerTarget = table.surcharges.br_table_per_target_including_default;
    this.bulkPer32 = table.surcharges.bulk_memory_per_32_bytes ?? 0;
    this.policy = policy;
    this.info = info;
    this.totalFuncs = info.funcImports + info.funcTypes.length;
    this.r = new Reader(b);
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
    if (label < depth) {
      this.frames[depth - 1 - label]! |= FRAME_TARGETED;
      this.blockSegs[depth - 1 - label] = -1;
    } else this.flush(at); // leaves the function
    return label + this.added(label, depth);
  }

  private growFrames(): void {
    const size = this.frames.length * 2;
    this.frames = grown(this.frames, size);
    this.loops = grown(this.loops, size);
    this.loopCharges = grown(this.loopCharges, size);
    this.loopTypes = grown(this.loopTypes, size);
    this.blockSegs = grown(this.blockSegs, size);
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
    if (this.plainBefore >= 0) {
      // The plain segment before this one needs no check when this one's charge has one.
      if (cost > 0) e[this.plainBefore + 2] = CHARGE_UNCHECKED;
      this.plainBefore = -1;
    }
    const refunds = this.refunds;
    for (let i = 0; i < this.nr; i++) {
      const r = refunds[i]!;
      e[r] = cost - e[r]!;
    }
    this.nr = 0;
  }

  /** Starts a segment; `fallsThrough`: the open one reaches it by falling through, not by a branch. */
  private open(at: number, kind: number, cost: number, fallsThrough: boolean): void {
    const before = fallsThrough && this.plain && this.seg >= 0 && cost > 0 ? this.seg : -1;
    this.close(cost);
    this.push(at, kind, 0, 0, 0);
    this.seg = this.ne - 3;
    this.flushed = false;
    this.refunded = false;
    this.plainBefore = before;
    // A segment after a plain one keeps its check: a chain of unchecked charges ends at a check.
    this.plain = kind !== EDIT_LOOP_CHARGE && before < 0;
  }

  /**
   * Before a call or an exit from the function: the global must hold the counter there (the host
   * or the caller reads it). The segment's charge then stores it (its edit's last field
   * says so): nothing else moves the counter until the segment ends, and a reload after a call
   * leaves them equal. A segment that reaches no such point stores nothing.
   */
  private flush(at: number): void {
    this.plain = false;
    if (this.seg >= 0 && !this.flushed) {
      if (this.refunded) this.push(at, EDIT_STORE, 0, 0, 0);
      else this.edits[this.seg + 2] = CHARGE_STORE;
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
    this.plain = false;
  }

  private refund(at: number, cost: number, skip: number, label: number, exits: boolean, frame: number): void {
    this.push(at, exits ? EDIT_BR_IF_REFUND_EXIT : EDIT_BR_IF_REFUND, cost, skip, label);
    if (this.nr === this.refunds.length) {
      this.refunds = grown(this.refunds, this.nr * 2);
      this.refundFrames = grown(this.refundFrames, this.nr * 2);
    }
    this.refundFrames[this.nr] = frame;
    this.refunds[this.nr++] = this.ne - 3;
  }

  /**
   * The end of a block whose branches all are refunding br_ifs of the open segment: each gives back
   * what it skips, up to and including this `end` (`cost`: the segment's cost so far, the end
   * included), and the segment runs on.
   */
  private settleBlock(frame: number, cost: number): void {
    const e = this.edits;
    const refunds = this.refunds;
    const frames = this.refundFrames;
    let kept = 0;
    for (let i = 0; i < this.nr; i++) {
      const r = refunds[i]!;
      if (frames[i] === frame) {
        e[r] = cost - e[r]!;
        // A taken br_if moved the counter after the charge: the global may need a store later.
        this.refunded = true;
        this.flushed = false;
      } else {
        refunds[kept] = r;
        frames[kept++] = frames[i]!;
      }
    }
    this.nr = kept;
  }

  /**
   * Scans one function body [start, end) (after its size): checks every instruction against the
   * profile and records the edits. The result is valid until the next scan.
   */
  scan(funcIndex: number, start: number, end: number): ScannedBody {
    const b = this.b;
    const { costs, info, policy } = this;
    const type = info.types[info.funcTypes[funcIndex]!]!;
    const results = type.results.length;
    const r = this.r;
    r.pos = start;
    r.end = end;
    // locals
    const localGroups = r.u32();
    const groupsStart = r.pos;
    let locals = type.params.length;
    for (let i = 0; i < localGroups; i++) {
      const n = r.u32();
      if (r.pos >= end) malformed(r.pos, 'unexpected end in locals');
      valType(b[r.pos]!, r.pos);
      r.pos++;
      locals += n;
      limit('maxLocals', locals, policy.maxLocals, start);
    }
    const bodyStart = r.pos;
    this.ne = 0;
    this.nr = 0;
    this.seg = -1;
    this.plain = false;
    this.plainBefore = -1;
    let frames = this.frames;
    let depth = 0; // open frames inside the function
    let cost = 0;
    let needsScratch = false;
    let calls = false;
    const memory = info.memory !== undefined;
    const totalGlobals = info.globals;
    const maxBlockDepth = policy.maxBlockDepth;

    this.tableLabels.length = 0;
    let loops = this.loops;

    this.push(bodyStart, EDIT_PROLOGUE, 0, 0, 0);
    this.open(bodyStart, EDIT_CHARGE_RELOAD, 0, false); // the counter comes from the global at entry
    let finished = false;
    while (r.pos < end) {
      const at = r.pos;
      const op = b[r.pos++]!;
      const c = costs[op]!;
      if (c < 0 && op !== 0xfc) rejectOpcode(op, at);
      switch (op) {
        case 0x00: // unreachable
          this.kill(cost + c);
          cost = 0;
          break;
        case 0x02: // block
        case 0x03: // loop
        case 0x04: { // if
          const arity = op === 0x03 || b[r.pos] === BLOCK_EMPTY ? 0 : 1;
          r.pos = blockType(b, r.pos, end);
          cost += c;
          if (++depth > maxBlockDepth) limit('maxBlockDepth', depth, maxBlockDepth, at);
          if (depth > frames.length) {
            this.growFrames();
            frames = this.frames;
            loops = this.loops;
          }
          frames[depth - 1] = (op === 0x02 ? FRAME_BLOCK : op === 0x03 ? FRAME_LOOP : FRAME_IF) | (arity << FRAME_ARITY_SHIFT);
          loops[depth - 1] = (depth === 1 ? 0 : loops[depth - 2]!) + (op === 0x03 ? 1 : 0);
          this.blockSegs[depth - 1] = op === 0x02 ? this.seg : -1;
          if (op === 0x03) {
            this.push(at, EDIT_LOOP, b[at + 1]!, r.pos - at, 0);
            this.open(r.pos, EDIT_LOOP_CHARGE, cost, true);
            this.loopCharges[depth - 1] = this.seg;
            this.loopTypes[depth - 1] = b[at + 1]!;
            cost = 0;
          } else if (op === 0x04) {
            this.open(r.pos, EDIT_CHARGE, cost, false);
            cost = 0;
          }
          break;
        }
        case 0x05: // else
          if (depth === 0 || (frames[depth - 1]! & FRAME_KIND) !== FRAME_IF) malformed(at, 'else without if');
          frames[depth - 1] = (frames[depth - 1]! & ~FRAME_KIND) | FRAME_ELSE;
          this.open(r.pos, EDIT_CHARGE, cost + c, false);
          cost = 0;
          break;
        case 0x0b: { // end
          cost += c;
          if (depth === 0) {
            this.flush(at);
            this.close(cost);
            this.push(at, EDIT_END, 0, 0, 0);
            if (r.pos !== end) malformed(r.pos, 'bytes after the end of a function body');
            finished = true;
            break;
          }
          const frame = frames[--depth]!;
          const kind = frame & FRAME_KIND;
          if (kind === FRAME_LOOP) this.push(r.pos, EDIT_LOOP_END, this.loopCharges[depth]!, 0, this.loopTypes[depth]!);
          if (kind === FRAME_BLOCK && (frame & FRAME_TARGETED) !== 0 && this.seg >= 0 && this.blockSegs[depth] === this.seg) {
            this.settleBlock(depth, cost);
          } else if (kind === FRAME_IF || kind === FRAME_ELSE || (kind === FRAME_BLOCK && (frame & FRAME_TARGETED) !== 0)) {
            this.open(r.pos, EDIT_CHARGE, cost, true);
            cost = 0;
          }
          break;
        }
        case 0x0c: { // br
          const label = r.u32();
          const target = this.branchTo(label, depth, at);
          if (target !== label) this.push(at, EDIT_BR, target, r.pos - at, 0);
          this.kill(cost + c);
          cost = 0;
          break;
        }
        case 0x0d: { // br_if
          const label = r.u32();
          if (label > depth) malformed(at, 'branch label out of range');
          let carries = results;
          let backward = false;
          if (label < depth) {
            const frame = frames[depth - 1 - label]! | FRAME_TARGETED;
            frames[depth - 1 - label] = frame;
            carries = frame >> FRAME_ARITY_SHIFT;
            backward = (frame & FRAME_KIND) === FRAME_LOOP;
          }
          cost += c;
          const shift = this.added(label, depth);
          // A branch back to a loop is the hot edge: it is left plain (the loop's own charge pays
          // the next iteration) and the fall-through, taken once, starts a segment.
          if (this.seg >= 0 && carries === 0 && !backward) {
            // The segment goes on past the br_if; a taken branch gets the rest back.
            this.refund(at, cost, r.pos - at, label + shift, label === depth, label < depth ? depth - 1 - label : -1);
            this.plain = false;
          } else {
            if (label < depth) this.blockSegs[depth - 1 - label] = -1;
            if (label === depth) this.flush(at); // leaves the function
            if (shift > 0) this.push(at, EDIT_BR_IF, label + shift, r.pos - at, 0);
            this.open(r.pos, EDIT_CHARGE, cost, false);
            cost = 0;
          }
          break;
        }
        case 0x0e: { // br_table
          const n = r.u32();
          limit('maxBrTableTargets', n, policy.maxBrTableTargets, at);
          const first = this.tableLabels.length;
          let shifted = false;
          for (let i = 0; i <= n; i++) {
            const label = r.u32();
            const target = this.branchTo(label, depth, at);
            if (target !== label) shifted = true;
            this.tableLabels.push(target);
          }
          if (shifted) this.push(at, EDIT_BR_TABLE, first, r.pos - at, n + 1);
          else this.tableLabels.length = first;
          this.kill(cost + c + this.brTablePerTarget * (n + 1));
          cost = 0;
          break;
        }
        case 0x0f: // return
          this.flush(at);
          this.push(at, EDIT_RETURN, depth + this.added(depth, depth), 1, 0);
          this.kill(cost + c);
          cost = 0;
          break;
        case 0x10: { // call
          const f = r.u32();
          if (f >= this.totalFuncs) malformed(at, 'call to a function index out of range');
          calls = true;
          cost += c;
          this.flush(at);
          this.push(at, EDIT_CALL, f >= info.funcImports ? f + 1 : f, r.pos - at, 0);
          if (this.seg >= 0) this.reload(r.pos);
          else {
            this.open(r.pos, EDIT_CHARGE_RELOAD, cost, false);
            cost = 0;
          }
          break;
        }
        case 0x11: { // call_indirect
          const t = r.u32();
          if (t >= info.types.length) malformed(at, 'call_indirect type index out of range');
          if (r.pos >= end || b[r.pos] !== 0x00) reject('ForbiddenFeature', 'reference-types', r.pos, { reason: 'call_indirect uses table 0' });
          r.pos++;
          if (info.tables === 0) malformed(at, 'call_indirect without a table');
          calls = true;
          cost += c;
          this.flush(at);
          if (this.seg >= 0) this.reload(r.pos);
          else {
            this.open(r.pos, EDIT_CHARGE_RELOAD, cost, false);
            cost = 0;
          }
          break;
        }
        case 0x20: case 0x21: case 0x22: { // local.get/set/tee
          const i = r.u32();
          if (i >= locals) malformed(at, 'local index out of range');
          cost += c;
          break;
        }
        case 0x23: case 0x24: { // global.get/set
          const i = r.u32();
          if (i >= totalGlobals) malformed(at, 'global index out of range');
          cost += c;
          break;
        }
        case 0x28: case 0x29: case 0x2c: case 0x2d: case 0x2e: case 0x2f: case 0x30: case 0x31: case 0x32:
        case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
          if (!memory) malformed(at, 'memory instruction without a memory');
          r.skipLeb(5); // align
          r.skipLeb(5); // offset
          cost += c;
          this.plain = false; // out of bounds traps
          break;
        case 0x3f: // memory.size
        case 0x40: // memory.grow
          if (!memory) malformed(at, 'memory instruction without a memory');
          if (r.pos >= end || b[r.pos] !== 0x00) malformed(r.pos, 'memory index must be 0');
          r.pos++;
          cost += c;
          if (op === 0x40) {
            this.push(at, EDIT_GROW, 0, 2, 0);
            needsScratch = true;
            this.plain = false;
          }
          break;
        case 0x41: // i32.const
          r.skipLeb(5);
          cost += c;
          break;
        case 0x42: // i64.const
          r.skipLeb(10);
          cost += c;
          break;
        case 0xfc: {
          const sub = r.u32();
          const pc = sub < this.prefixedCosts.length ? this.prefixedCosts[sub]! : -1;
          if (pc < 0) rejectOpcode(op, at, sub);
          if (!memory) malformed(at, 'memory instruction without a memory');
          if (sub === 0x08 || sub === 0x09) { // memory.init, data.drop: data index
            const d = r.u32();
            if (info.dataCount === undefined || d >= info.dataCount) malformed(at, 'data index out of range (or no data count section)');
          }
          if (sub === 0x08 || sub === 0x0b) { // memory index
            if (r.pos >= end || b[r.pos] !== 0x00) malformed(r.pos, 'memory index must be 0');
            r.pos++;
          } else if (sub === 0x0a) {
            if (r.pos + 1 >= end || b[r.pos] !== 0x00 || b[r.pos + 1] !== 0x00) malformed(r.pos, 'memory indices must be 0');
            r.pos += 2;
          }
          cost += pc;
          if (sub !== 0x09 && this.bulkPer32 > 0) {
            // The dynamic charge stores the counter right before the operation.
            this.push(at, EDIT_BULK, 0, 0, 0);
            needsScratch = true;
            this.plain = false;
            if (this.seg >= 0) this.flushed = true;
          } else if (sub !== 0x09) {
            this.plain = false; // out of bounds traps
          }
          break;
        }
        case 0x6d: case 0x6e: case 0x6f: case 0x70: case 0x7f: case 0x80: case 0x81: case 0x82:
          // div/rem: division by zero and overflow trap
          cost += c;
          this.plain = false;
          break;
        default:
          // Every other priced opcode has no immediates.
          cost += c;
          break;
      }
      if (finished) break;
    }
    if (!finished) malformed(end, 'function body not closed by end');
    return { result: type.results[0], locals, localGroups, groupsStart, bodyStart, end, needsScratch, calls, edits: this.edits, editCount: this.ne, tableLabels: this.tableLabels };
  }
}
