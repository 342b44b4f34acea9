/**
 * The edits the block scanner records and the body emitter applies: flat numbers in a reused
 * array (no object per instruction), five per edit — input offset, kind, argument, input bytes it
 * replaces, label (or a flag, by kind).
 */

export const EDIT_PROLOGUE = 1;
export const EDIT_CHARGE = 2;
/**
 * The label field of an EDIT_CHARGE: 1 stores the counter to the global (the segment reaches a point
 * the host observes); CHARGE_UNCHECKED subtracts only, with no refill check: the segment holds no
 * trap, call, exit or branch and falls through into a segment whose charge checks, so a counter it
 * drives below zero is caught there before anything can observe it.
 */
export const CHARGE_STORE = 1;
export const CHARGE_UNCHECKED = 2;
export const EDIT_CALL = 3;
export const EDIT_RETURN = 4;
export const EDIT_GROW = 5;
export const EDIT_BULK = 6;
export const EDIT_END = 7;
/** A charge at the start of a segment entered after a call: reload the cached counter first. */
export const EDIT_CHARGE_RELOAD = 8;
/** After a call the segment goes on: reload the cached counter the callee may have moved. */
export const EDIT_RELOAD = 9;
/** A br_if inside a merged segment: when taken, give back the cost of the segment's rest. */
export const EDIT_BR_IF_REFUND = 10;
/** A refunding br_if to the function's own label: it leaves the function, so it also stores the counter. */
export const EDIT_BR_IF_REFUND_EXIT = 12;
/**
 * `loop bt` becomes `block bt loop block loop bt`: the charge at the loop's start leaves through
 * the inner block to a refill path after the loop, which re-enters it (see EDIT_LOOP_END). The
 * loop then holds no call: its values need not be saved around one on every iteration.
 */
export const EDIT_LOOP = 13;
/** The charge at a loop's start: `counter -= c; br_if <slow path> (counter < 0)`. */
export const EDIT_LOOP_CHARGE = 14;
/**
 * After a loop's end: `br <out>; end; counter = refill(counter, c) + c; br <re-enter>; end; end` —
 * re-entering charges c again, so the counter ends as after an inline refill.
 */
export const EDIT_LOOP_END = 15;
/** A branch whose label crosses the labels added around loops: rewritten with the new label. */
export const EDIT_BR = 16;
export const EDIT_BR_IF = 17;
export const EDIT_BR_TABLE = 18;
/** `gas = counter` before a point the host observes, in a segment a br_if gave gas back to after its charge. */
export const EDIT_STORE = 19;
/** Labels a loop adds around itself. */
export const LOOP_LABELS = 3;

/** An edit is five numbers: input offset, kind, argument, input bytes it replaces, label. */
export const EDIT_SIZE = 5;
/** Room for the longest injected sequence of one edit (grow: under 120 bytes). */
export const EDIT_ROOM = 256;

/** One scanned function body: where its parts lie in the input and the edits to apply. */
export interface ScannedBody {
  /** The function's result type, undefined for none. */
  result: number | undefined;
  /** Parameters plus declared locals: the index of the first added local. */
  locals: number;
  /** Local declaration groups, and where they and the instructions start in the input. */
  localGroups: number;
  groupsStart: number;
  bodyStart: number;
  end: number;
  /** Whether an edit needs the scratch locals (memory.grow, bulk memory). */
  needsScratch: boolean;
  /**
   * Whether the body calls (call, call_indirect). One that does not is a leaf: it cannot make the
   * stack any deeper than its own frame, so it skips the call-depth check and counter.
   */
  calls: boolean;
  edits: Float64Array;
  /** Numbers used in `edits` (EDIT_SIZE per edit). */
  editCount: number;
  /** New labels of rewritten br_tables, indexed by EDIT_BR_TABLE's argument. */
  tableLabels: readonly number[];
}
