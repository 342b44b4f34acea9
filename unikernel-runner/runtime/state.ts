/**
 * A zApp's state in the runner: key → value, keyed by the key's hex so a Map can hold it. The
 * canonical encoding and hash come from contracts/hash.ts (docs/protocol.md §Hashes), so what the
 * runner signs is exactly what a challenger recomputes.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { decodeState, encodeState, MAX_STATE_KEY_BYTES, stateHash } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes } from '../../contracts/hex.ts';
import { DEFAULT_PARAMS } from '../../contracts/gas/genesis.ts';
import type { Hash, Hex } from '../../contracts/types.ts';

export { MAX_STATE_KEY_BYTES };
/** The largest value a zApp may store under one key. */
export const MAX_STATE_VALUE_BYTES = 64 * 1024;
/** The most entries a session's state may hold. */
export const MAX_STATE_ENTRIES = 16_384;
/**
 * The most bytes a session's state may take in its canonical encoding (8 bytes of lengths per entry,
 * the key and the value): the runtime's ceiling. A genesis sets its own `maxStateBytes` at or below
 * it, and every call runs under that: a state a receipt can reach fits a Challenge.
 */
export const MAX_STATE_BYTES = 16 * 1024 * 1024;
/** The default genesis maxStateBytes (a genesis file may set its own, at most MAX_STATE_BYTES). */
export const DEFAULT_MAX_STATE_BYTES = Number(DEFAULT_PARAMS.maxStateBytes);
/** The bytes one entry takes in the canonical state encoding. */
export const encodedEntryBytes = (keyBytes: number, valueBytes: number): number => 8 + keyBytes + valueBytes;
/** The most distinct keys one call may write or delete. */
export const MAX_WRITES_PER_CALL = 1_024;

/** key hex → value bytes. Treated as immutable once built: a call works on a copy-on-write view. */
export type State = ReadonlyMap<Hex, Uint8Array>;

export const EMPTY_STATE: State = new Map();

export function stateFromEntries(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): State {
  const state = new Map<Hex, Uint8Array>();
  for (const [key, value] of entries) {
    if (key.length > MAX_STATE_KEY_BYTES) throw new ZgasError('InvalidState', { reason: 'key longer than 32 bytes', keyBytes: key.length });
    state.set(bytesToHex(key), value);
  }
  return state;
}

export function stateEntries(state: State): Array<[Uint8Array, Uint8Array]> {
  return [...state].map(([key, value]) => [hexToBytes(key), value]);
}

/** The canonical encoding (entries sorted by key), the form a challenge carries. */
export const encodeStateBytes = (state: State): Uint8Array => encodeState(stateEntries(state));
export const decodeStateBytes = (bytes: Uint8Array): State => stateFromEntries(decodeState(bytes));
export const hashState = (state: State): Hash => stateHash(stateEntries(state));
