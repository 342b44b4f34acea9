/**
 * The host ABI a zApp imports from `env` (docs/first-zapp.md §The module interface): storage over a
 * copy-on-write view of the session state, the call's seed, and abort. Every host operation is
 * charged before it runs.
 */
import { bytesToHex } from '../../contracts/hex.ts';
import type { Hex } from '../../contracts/types.ts';
import { MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES, MAX_WRITES_PER_CALL } from './state.ts';
import type { State } from './state.ts';
import type { BytePrice } from '../metering/table.ts';


/** What the runtime charges outside the instrumented code, all from the gas table. */
export interface HostPrices {
  storageRead: BytePrice;
  storageWrite: BytePrice;
  storageDelete: BytePrice;
  contextSeed: BytePrice;
  abort: BytePrice;
  /** Charged per key the call changed, when it ends (key + value bytes). */
  stateDiffEntry: BytePrice;
  /** Charged on the output when the call ends. */
  returnData: BytePrice;
  /** Charged when a call changed the state, on the encoded bytes its post-state hash re-absorbs (hashed-state.ts). */
  stateRehash: BytePrice;
}

/** base + per32Bytes for every started 32 bytes (small figures: exact as a number). */
export function price(p: BytePrice, bytes: number): number {
  return p.base + p.per32Bytes * Math.ceil(bytes / 32);
}

/** A deterministic failure of the guest's own making: it ends the call as Trapped. */
export class GuestTrap extends Error {
  override readonly name = 'GuestTrap';
  constructor(
    readonly reason: string,
    readonly code?: number,
  ) {
    super(reason);
  }
}

/** The call's writes over the pre-state: reads see them, the pre-state is never touched. */
export class StateView {
  // key → new value, or null for a deletion
  private readonly writes = new Map<Hex, Uint8Array | null>();
  constructor(private readonly pre: State) {}

  get(key: Hex): Uint8Array | undefined {
    const written = this.writes.get(key);
    if (written === null) return undefined;
    return written ?? this.pre.get(key);
  }

  set(key: Hex, value: Uint8Array | null): void {
    if (!this.writes.has(key) && this.writes.size >= MAX_WRITES_PER_CALL) throw new GuestTrap(`more than ${MAX_WRITES_PER_CALL} keys written in one call`);
    this.writes.set(key, value);
  }

  /** The keys whose value differs from the pre-state, with their new value (null: deleted). */
  diff(): Array<[Hex, Uint8Array | null]> {
    const out: Array<[Hex, Uint8Array | null]> = [];
    for (const [key, value] of this.writes) {
      const before = this.pre.get(key);
      if (value === null ? before !== undefined : before === undefined || !sameBytes(before, value)) out.push([key, value]);
    }
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface HostContext {
  view: StateView;
  seed: Uint8Array;
  prices: HostPrices;
  /** Charges gas; throws the meter's OutOfGasTrap when the call cannot pay. */
  charge(gas: number): void;
  /** The guest's memory, once the instance exists. */
  memory(): WebAssembly.Memory;
}

/** Traps unless [ptr, ptr + len) lies inside the guest's memory (both read as u32). */
export function checkRange(memory: WebAssembly.Memory, ptr: number, len: number): void {
  const p = ptr >>> 0;
  const n = len >>> 0;
  if (p + n > memory.buffer.byteLength) throw new GuestTrap(`memory range ${p}+${n} out of bounds`);
}

/** Reads `len` guest bytes at `ptr` (a copy), trapping on an out-of-bounds range. */
export function readGuest(memory: WebAssembly.Memory, ptr: number, len: number): Uint8Array {
  checkRange(memory, ptr, len);
  return new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0).slice();
}

export function writeGuest(memory: WebAssembly.Memory, ptr: number, bytes: Uint8Array): void {
  checkRange(memory, ptr, bytes.length);
  new Uint8Array(memory.buffer, ptr >>> 0, bytes.length).set(bytes);
}

/** The key a host call names: at most MAX_STATE_KEY_BYTES, inside memory; read before any charge. */
function readKey(ctx: HostContext, ptr: number, len: number): Hex {
  const n = len >>> 0;
  if (n > MAX_STATE_KEY_BYTES) throw new GuestTrap(`key of ${n} bytes; keys are at most ${MAX_STATE_KEY_BYTES} bytes`);
  return bytesToHex(readGuest(ctx.memory(), ptr, n));
}

/**
 * The `env` imports of one call. All arguments are i32. Each function checks all its arguments
 * (lengths, memory ranges) before it charges: a bad argument traps at the gas used so far, and a
 * price is only ever computed from lengths already known to be in range.
 */
export function hostFunctions(ctx: HostContext): Record<string, (...args: number[]) => number | void> {
  const { view, prices } = ctx;
  return {
    storage_read(keyPtr: number, keyLen: number, outPtr: number, outCap: number): number {
      const key = readKey(ctx, keyPtr, keyLen);
      const value = view.get(key);
      const copied = value === undefined ? 0 : Math.min(value.length, outCap >>> 0);
      checkRange(ctx.memory(), outPtr, copied);
      ctx.charge(price(prices.storageRead, (keyLen >>> 0) + copied));
      if (value === undefined) return -1;
      writeGuest(ctx.memory(), outPtr, value.subarray(0, copied));
      return value.length;
    },
    storage_write(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): void {
      const key = readKey(ctx, keyPtr, keyLen);
      const n = valueLen >>> 0;
      if (n > MAX_STATE_VALUE_BYTES) throw new GuestTrap(`value of ${n} bytes; values are at most ${MAX_STATE_VALUE_BYTES} bytes`);
      checkRange(ctx.memory(), valuePtr, n);
      ctx.charge(price(prices.storageWrite, (keyLen >>> 0) + n));
      view.set(key, readGuest(ctx.memory(), valuePtr, n));
    },
    storage_delete(keyPtr: number, keyLen: number): void {
      const key = readKey(ctx, keyPtr, keyLen);
      ctx.charge(price(prices.storageDelete, keyLen >>> 0));
      view.set(key, null);
    },
    context_seed(outPtr: number): void {
      checkRange(ctx.memory(), outPtr, ctx.seed.length);
      ctx.charge(price(prices.contextSeed, ctx.seed.length));
      writeGuest(ctx.memory(), outPtr, ctx.seed);
    },
    abort(code: number): void {
      ctx.charge(price(prices.abort, 0));
      throw new GuestTrap(`the zApp aborted with code ${code}`, code);
    },
  };
}

/** The gas charged when a call ends: one state-diff entry per changed key, and the return data. */
export function effectsGas(prices: HostPrices, diff: ReadonlyArray<readonly [Hex, Uint8Array | null]>, outputBytes: number): number {
  let total = price(prices.returnData, outputBytes);
  for (const [key, value] of diff) total += price(prices.stateDiffEntry, (key.length - 2) / 2 + (value?.length ?? 0));
  return total;
}
