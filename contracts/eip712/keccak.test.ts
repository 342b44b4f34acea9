import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { id } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToHex, utf8Bytes } from '../hex.ts';
import { forcePureKeccak, keccak256, keccakImplementation, keccakReady } from './keccak.ts';

describe('keccak256', () => {
  afterAll(async () => {
    await forcePureKeccak(false);
  });

  it('switches to WebAssembly once loaded, and equals noble and ethers on any input (property)', async () => {
    expect(await keccakReady).toBe('wasm');
    expect(keccakImplementation()).toBe('wasm');
    expect(bytesToHex(keccak256(utf8Bytes('Transfer(address,uint256)')))).toBe(id('Transfer(address,uint256)'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        expect(keccak256(bytes)).toEqual(keccak_256(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('returns a fresh array per call', () => {
    const a = keccak256(new Uint8Array([1]));
    const b = keccak256(new Uint8Array([2]));
    expect(a).not.toEqual(b);
    expect(keccak256(new Uint8Array([1]))).toEqual(a);
  });

  it('falls back to the pure-JS implementation with the same results', async () => {
    const wasm = keccak256(utf8Bytes('zgas'));
    await forcePureKeccak(true);
    expect(keccakImplementation()).toBe('noble');
    expect(keccak256(utf8Bytes('zgas'))).toEqual(wasm);
    await forcePureKeccak(false);
    expect(keccakImplementation()).toBe('wasm');
  });
});
