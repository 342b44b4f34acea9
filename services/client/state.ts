/**
 * The user's copy of a session's state (docs/protocol.md §What the user's client checks): rebuilt
 * from the writes the runner returns with each receipt, hashed and encoded with contracts/hash.ts
 * exactly as the runner and a challenger do. Immutable: applying writes gives a new state, so a
 * receipt the client refuses leaves its state as it was.
 */
import { encodeState, EMPTY_STATE_HASH, stateHash } from '../../contracts/hash.ts';
import { hexToBytes } from '../../contracts/hex.ts';
import type { Hash, Hex, StateWrite } from '../../contracts/types.ts';

export class SessionState {
  private cachedHash: Hash | undefined;

  private constructor(private readonly entries: ReadonlyMap<Hex, Uint8Array>) {}

  static empty(): SessionState {
    return new SessionState(new Map());
  }

  /** The state after a call's writes, in call order (a null value deletes the key). */
  apply(writes: readonly StateWrite[]): SessionState {
    if (writes.length === 0) return this;
    const next = new Map(this.entries);
    for (const { key, value } of writes) {
      const k = key.toLowerCase() as Hex;
      if (value === null) next.delete(k);
      else next.set(k, hexToBytes(value));
    }
    return new SessionState(next);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: Hex): Uint8Array | undefined {
    return this.entries.get(key.toLowerCase() as Hex);
  }

  /** SHA3-256 of the canonical encoding: what a receipt's postStateHash must equal. */
  hash(): Hash {
    if (this.cachedHash === undefined) this.cachedHash = this.entries.size === 0 ? EMPTY_STATE_HASH : stateHash(this.pairs());
    return this.cachedHash;
  }

  /** The canonical encoding: the `preState` a Challenge carries. */
  encode(): Uint8Array {
    return encodeState(this.pairs());
  }

  private pairs(): Array<[Uint8Array, Uint8Array]> {
    return [...this.entries].map(([key, value]) => [hexToBytes(key), value]);
  }
}
