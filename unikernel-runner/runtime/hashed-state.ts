/**
 * A session's state kept where its calls run, hashed incrementally.
 *
 * The stateHash is fixed by the protocol: SHA3-256 over the entries sorted by key, each
 * `u32be(keyLen) ‖ key ‖ u32be(valueLen) ‖ value`. A sponge absorbs left to right, so a change at
 * one key leaves the sponge state over every entry before it untouched. This structure keeps the
 * entries sorted, the encoded offset of each, and a copy of the sponge (a checkpoint) at an entry
 * boundary about every CHECKPOINT_INTERVAL_BYTES of the encoding. Applying a call's diff splices
 * the entries from the first changed key on and re-absorbs from the last checkpoint at or before it
 * to the end; a call that changes nothing hashes nothing.
 *
 * What the call pays for this (`rehashBytes`, see `plan`) is defined on the states alone — the
 * post-state's encoded bytes from its first changed key to the end — never on where the
 * checkpoints happen to lie, so a re-executor that builds the structure from the full pre-state
 * charges exactly what the runner that kept it for hours charged. The checkpoint spacing only
 * bounds what the runner does beyond that (less than one interval plus one entry, uncharged).
 */
import { createHash } from 'node:crypto';
import type { Hash as Sponge } from 'node:crypto';
import { assert } from '../../contracts/errors.ts';
import { decodeState, EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes } from '../../contracts/hex.ts';
import type { Hash, Hex } from '../../contracts/types.ts';
import { encodedEntryBytes } from './state.ts';
import type { State } from './state.ts';

/** Spacing of sponge checkpoints in the canonical encoding (a checkpoint costs a ~400-byte copy of the sponge). */
export const CHECKPOINT_INTERVAL_BYTES = 8 * 1024;

/** A call's changes: key hex → new value, null for a deletion. Keys unique. */
export type StateDiff = ReadonlyArray<readonly [Hex, Uint8Array | null]>;

/** What applying a diff would leave, known before any hashing. */
export interface DiffPlan {
  /** Entries of the post-state. */
  entries: number;
  /** The post-state's canonical encoding length. */
  bytes: number;
  /** Encoded bytes of the post-state from its first changed key to the end: what the call is charged to hash (0 for an empty diff). */
  rehashBytes: number;
}

interface Entry {
  key: Hex;
  keyBytes: Uint8Array;
  value: Uint8Array;
}

interface Checkpoint {
  /** The sponge after absorbing entries [0, index). */
  index: number;
  sponge: Sponge;
}

const sizeOf = (e: Entry): number => encodedEntryBytes(e.keyBytes.length, e.value.length);
// One interval plus the largest entry a call can write: most entries go to the sponge in one update.
const scratch = new Uint8Array(CHECKPOINT_INTERVAL_BYTES + 64 * 1024 + 64);
const scratchView = new DataView(scratch.buffer);

export class HashedState implements ReadonlyMap<Hex, Uint8Array> {
  private list: Entry[] = [];
  private readonly byKey = new Map<Hex, Entry>();
  /** offsets[i]: encoded bytes before entry i; offsets[size] is the whole encoding's length. */
  private readonly offsets: number[] = [0];
  private readonly checkpoints: Checkpoint[] = [{ index: 0, sponge: createHash('sha3-256') }];
  private digest: Hash = EMPTY_STATE_HASH;
  /** Bytes absorbed into the sponge over this structure's life: the hashing work it did (a metric). */
  absorbedBytes = 0;

  private constructor() {}

  static empty(): HashedState {
    return new HashedState();
  }

  /** Builds from entries in any order (keys hex, unique): sorts, then hashes everything once. */
  static fromEntries(entries: Iterable<readonly [Hex, Uint8Array]>): HashedState {
    const state = new HashedState();
    for (const [hex, value] of entries) {
      const key = hex.toLowerCase() as Hex;
      assert(!state.byKey.has(key), 'state keys are unique');
      const entry = { key, keyBytes: hexToBytes(key), value };
      state.byKey.set(key, entry);
      state.list.push(entry);
    }
    state.list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    state.reindexFrom(0);
    return state;
  }

  /** From a plain state map (a copy: the map is not kept). */
  static from(state: State): HashedState {
    return state instanceof HashedState ? HashedState.fromEntries(state.entries()) : HashedState.fromEntries(state);
  }

  /** From the canonical encoding (strictly decoded: keys ascending, at most 32 bytes). */
  static decode(bytes: Uint8Array): HashedState {
    return HashedState.fromEntries(decodeState(bytes).map(([key, value]) => [bytesToHex(key), value] as const));
  }

  /** The stateHash of what the structure holds. */
  get hash(): Hash {
    return this.digest;
  }

  /** The canonical encoding's length. */
  get encodedBytes(): number {
    return this.offsets[this.list.length]!;
  }

  get size(): number {
    return this.list.length;
  }

  get(key: Hex): Uint8Array | undefined {
    return this.byKey.get(key)?.value;
  }

  has(key: Hex): boolean {
    return this.byKey.has(key);
  }

  /** Entries in key order. */
  *entries(): MapIterator<[Hex, Uint8Array]> {
    for (const e of this.list) yield [e.key, e.value];
  }

  *keys(): MapIterator<Hex> {
    for (const e of this.list) yield e.key;
  }

  *values(): MapIterator<Uint8Array> {
    for (const e of this.list) yield e.value;
  }

  [Symbol.iterator](): MapIterator<[Hex, Uint8Array]> {
    return this.entries();
  }

  forEach(callback: (value: Uint8Array, key: Hex, map: ReadonlyMap<Hex, Uint8Array>) => void): void {
    for (const e of this.list) callback(e.value, e.key, this);
  }

  /** The canonical encoding (entries are already sorted). */
  encode(): Uint8Array {
    const out = new Uint8Array(this.encodedBytes);
    const view = new DataView(out.buffer);
    this.list.forEach((e, i) => writeEntry(out, view, this.offsets[i]!, e));
    return out;
  }

  /** What `apply(diff)` would leave and charge, in O(diff · log size); changes nothing. */
  plan(diff: StateDiff): DiffPlan {
    let entries = this.list.length;
    let bytes = this.encodedBytes;
    if (diff.length === 0) return { entries, bytes, rehashBytes: 0 };
    let first = diff[0]![0];
    for (const [key, value] of diff) {
      if (key < first) first = key;
      const old = this.byKey.get(key);
      if (old !== undefined) {
        entries--;
        bytes -= sizeOf(old);
      }
      if (value !== null) {
        entries++;
        bytes += encodedEntryBytes((key.length - 2) / 2, value.length);
      }
    }
    // Nothing before the first changed key moves, so its offset is the same in the pre- and post-state.
    return { entries, bytes, rehashBytes: bytes - this.offsets[this.lowerBound(first)]! };
  }

  /** Applies the diff in place and returns the new stateHash; work is O(the suffix from the first changed key). */
  apply(diff: StateDiff): Hash {
    if (diff.length === 0) return this.digest;
    const sorted = [...diff].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const from = this.lowerBound(sorted[0]![0]);
    const tail = this.list.splice(from);
    let i = 0;
    for (const [key, value] of sorted) {
      while (i < tail.length && tail[i]!.key < key) this.list.push(tail[i++]!);
      if (i < tail.length && tail[i]!.key === key) i++;
      if (value === null) {
        this.byKey.delete(key);
        continue;
      }
      const entry = { key, keyBytes: hexToBytes(key), value };
      this.byKey.set(key, entry);
      this.list.push(entry);
    }
    while (i < tail.length) this.list.push(tail[i++]!);
    this.reindexFrom(from);
    return this.digest;
  }

  /** The first index whose key is not below `key`. */
  private lowerBound(key: Hex): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Recomputes offsets from entry `from` on, drops the checkpoints past it, and re-absorbs from the last one left. */
  private reindexFrom(from: number): void {
    const n = this.list.length;
    this.offsets.length = from + 1;
    for (let i = from; i < n; i++) this.offsets.push(this.offsets[i]! + sizeOf(this.list[i]!));
    while (this.checkpoints.at(-1)!.index > from) this.checkpoints.pop();
    const start = this.checkpoints.at(-1)!;
    const sponge = start.sponge.copy();
    let pending = 0;
    let since = this.offsets[start.index]!;
    const flush = (): void => {
      sponge.update(scratch.subarray(0, pending));
      this.absorbedBytes += pending;
      pending = 0;
    };
    for (let i = start.index; i < n; i++) {
      const entry = this.list[i]!;
      const size = sizeOf(entry);
      if (pending + size > scratch.length) flush();
      if (size > scratch.length) this.absorbLarge(sponge, entry);
      else {
        writeEntry(scratch, scratchView, pending, entry);
        pending += size;
      }
      if (this.offsets[i + 1]! - since >= CHECKPOINT_INTERVAL_BYTES && i + 1 < n) {
        flush();
        this.checkpoints.push({ index: i + 1, sponge: sponge.copy() });
        since = this.offsets[i + 1]!;
      }
    }
    flush();
    this.digest = `0x${sponge.digest('hex')}` as Hash;
  }

  /** An entry larger than the scratch buffer (only a decoded pre-state can hold one) goes in three updates. */
  private absorbLarge(sponge: Sponge, entry: Entry): void {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, entry.keyBytes.length);
    sponge.update(header).update(entry.keyBytes);
    new DataView(header.buffer).setUint32(0, entry.value.length);
    sponge.update(header).update(entry.value);
    this.absorbedBytes += sizeOf(entry);
  }
}

function writeEntry(out: Uint8Array, view: DataView, at: number, e: Entry): void {
  view.setUint32(at, e.keyBytes.length);
  out.set(e.keyBytes, at + 4);
  const valueAt = at + 4 + e.keyBytes.length;
  view.setUint32(valueAt, e.value.length);
  out.set(e.value, valueAt + 4);
}
