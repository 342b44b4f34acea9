/** `node:crypto` as the browser bundle needs it: SHA3-256 only (contracts/hash.ts), from @noble/hashes. */
import { sha3_256 } from '@noble/hashes/sha3.js';

export function createHash(algorithm: string): { update(bytes: Uint8Array): { digest(): Uint8Array } } {
  if (algorithm !== 'sha3-256') throw new Error(`the browser bundle hashes with sha3-256 only, not ${algorithm}`);
  return { update: (bytes: Uint8Array) => ({ digest: () => sha3_256(bytes) }) };
}
