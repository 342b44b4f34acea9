import { keccak_256 as nobleKeccak256 } from '@noble/hashes/sha3.js';

/**
 * Keccak-256 for EIP-712 digests and addresses. The pure-JS noble implementation is always there;
 * hash-wasm's WebAssembly keccak (an order of magnitude faster on the 32–320-byte inputs of the
 * receipt path) replaces it as soon as it has compiled and passed a known-answer check. Both give
 * the same bytes, so which one ran never changes a result.
 */
interface Hasher {
  init(): unknown;
  update(data: Uint8Array): unknown;
  digest(outputType: 'binary'): Uint8Array;
}

let wasm: Hasher | null = null;

export function keccak256(bytes: Uint8Array): Uint8Array {
  if (wasm !== null) {
    wasm.init();
    wasm.update(bytes);
    return wasm.digest('binary');
  }
  return nobleKeccak256(bytes);
}

const KNOWN_INPUT = new Uint8Array([0x7a, 0x67, 0x61, 0x73]);

async function loadWasm(): Promise<'wasm' | 'noble'> {
  try {
    const { createKeccak } = await import('hash-wasm');
    const hasher = (await createKeccak(256)) as Hasher;
    hasher.init();
    hasher.update(KNOWN_INPUT);
    const got = hasher.digest('binary');
    const expected = nobleKeccak256(KNOWN_INPUT);
    if (got.length !== 32 || got.some((b, i) => b !== expected[i])) return 'noble';
    wasm = hasher;
    return 'wasm';
  } catch {
    return 'noble';
  }
}

/** Settles once the implementation is chosen; await it before timing anything. */
export const keccakReady: Promise<'wasm' | 'noble'> = loadWasm();

/** Which implementation `keccak256` uses right now. */
export const keccakImplementation = (): 'wasm' | 'noble' => (wasm === null ? 'noble' : 'wasm');

/** Test hook: run on the pure-JS implementation (true) or back on WASM when it loaded (false). */
export async function forcePureKeccak(pure: boolean): Promise<void> {
  if (pure) {
    wasm = null;
    return;
  }
  await loadWasm();
}
