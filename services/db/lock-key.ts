import { sha3_256 } from '@noble/hashes/sha3.js';
import { ZgasError } from '../../contracts/errors.ts';

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);

/** Checks an advisory-lock key is a signed 64-bit integer (Postgres bigint). */
export function assertLockKey(key: bigint): void {
  if (typeof key !== 'bigint' || key < MIN_INT64 || key > MAX_INT64) throw new ZgasError('InvalidField', { path: 'key', reason: 'an advisory lock key is a signed 64-bit integer', key: String(key) });
}

/**
 * The key actually locked: the caller's key mixed with the scope (the schema), so two stores in
 * two schemas of one database never contend for the same lock. First 8 bytes of
 * SHA3-256(scope ‖ ':' ‖ key), as a signed int64.
 */
export function scopedLockKey(scope: string, key: bigint): bigint {
  assertLockKey(key);
  const digest = sha3_256(new TextEncoder().encode(`${scope}:${key.toString()}`));
  const view = new DataView(digest.buffer, digest.byteOffset, 8);
  return view.getBigInt64(0);
}
