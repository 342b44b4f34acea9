import { createHash } from 'node:crypto';
import { ZgasError } from './errors.ts';
import { bytesToHex, compareBytes, hexToBytes, u64be } from './hex.ts';
import type { Hash } from './types.ts';

/** Keys of a zApp's state are at most 32 bytes (docs/protocol.md §Hashes). */
export const MAX_STATE_KEY_BYTES = 32;

/**
 * SHA3-256 (FIPS 202, as in Zenon; not keccak) of the bytes: the content hash of modules, inputs,
 * outputs and states. OpenSSL's implementation, some 30× faster than pure JS on module-sized
 * inputs; tests hold it equal to @noble/hashes' sha3_256.
 */
export function sha3Bytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha3-256').update(bytes).digest());
}

export function sha3(bytes: Uint8Array): Hash {
  return bytesToHex(sha3Bytes(bytes));
}

/** A zApp state as key → value entries, in any order. */
export type StateEntries = ReadonlyArray<readonly [Uint8Array, Uint8Array]>;

/**
 * The canonical state encoding: entries sorted by key bytes, each
 * `u32be(keyLen) ‖ key ‖ u32be(valueLen) ‖ value`. Duplicate or over-long keys are rejected.
 */
export function encodeState(entries: StateEntries): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]));
  let length = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [key, value] = sorted[i]!;
    if (key.length > MAX_STATE_KEY_BYTES) throw new ZgasError('InvalidState', { reason: 'key longer than 32 bytes', keyBytes: key.length });
    if (i > 0 && compareBytes(sorted[i - 1]![0], key) === 0) throw new ZgasError('InvalidState', { reason: 'duplicate key', key: bytesToHex(key) });
    length += 8 + key.length + value.length;
  }
  if (length > 0xffff_ffff) throw new ZgasError('LimitExceeded', { what: 'state bytes', bytes: length });
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const [key, value] of sorted) {
    view.setUint32(offset, key.length);
    out.set(key, offset + 4);
    offset += 4 + key.length;
    view.setUint32(offset, value.length);
    out.set(value, offset + 4);
    offset += 4 + value.length;
  }
  return out;
}

/**
 * Decodes the canonical state encoding strictly: keys strictly ascending (so unique), at most 32
 * bytes, lengths within the input, nothing trailing. `encodeState(decodeState(b))` equals `b`.
 * Returned keys and values are copies.
 */
export function decodeState(bytes: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let offset = 0;
  let previous: Uint8Array | undefined;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new ZgasError('InvalidState', { reason: 'truncated key length', offset });
    const keyLength = view.getUint32(offset);
    if (keyLength > MAX_STATE_KEY_BYTES) throw new ZgasError('InvalidState', { reason: 'key longer than 32 bytes', offset, keyBytes: keyLength });
    offset += 4;
    if (offset + keyLength + 4 > bytes.length) throw new ZgasError('InvalidState', { reason: 'truncated key', offset });
    const key = bytes.slice(offset, offset + keyLength);
    offset += keyLength;
    const valueLength = view.getUint32(offset);
    offset += 4;
    if (valueLength > bytes.length - offset) throw new ZgasError('InvalidState', { reason: 'truncated value', offset });
    const value = bytes.slice(offset, offset + valueLength);
    offset += valueLength;
    if (previous !== undefined && compareBytes(previous, key) >= 0) {
      throw new ZgasError('InvalidState', { reason: 'keys not strictly ascending', key: bytesToHex(key) });
    }
    previous = key;
    out.push([key, value]);
  }
  return out;
}

/** SHA3-256 of the canonical state encoding. */
export function stateHash(entries: StateEntries): Hash {
  return sha3(encodeState(entries));
}

/** The hash of the empty state: where every session starts. */
export const EMPTY_STATE_HASH: Hash = sha3(new Uint8Array(0));

/** The call's only randomness: SHA3-256(sessionId ‖ u64be(seq)). */
export function contextSeed(sessionId: Hash, seq: bigint): Uint8Array {
  const input = new Uint8Array(40);
  input.set(hexToBytes(sessionId, 32, 'InvalidHash'), 0);
  input.set(u64be(seq), 32);
  return sha3Bytes(input);
}
