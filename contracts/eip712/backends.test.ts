import fc from 'fast-check';
import { SigningKey, computeAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../hex.ts';
import type { Hex } from '../types.ts';
import {
  addressOf,
  backendByName,
  defaultBackend,
  ethersBackend,
  nativeBackend,
  nativeLoadError,
  nobleBackend,
  parseSignature,
  privateKeyBytes,
} from './backends.ts';
import type { SignatureBackend } from './backends.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

const native = nativeBackend;
if (native === null) throw new Error(`the native secp256k1 binding must load here: ${nativeLoadError}`);
const backends: SignatureBackend[] = [native, nobleBackend, ethersBackend];
const named = backends.map((b) => [b.name, b] as const);

const word = (n: bigint): string => n.toString(16).padStart(64, '0');
const arbKey = fc.bigInt({ min: 1n, max: N - 1n }).map((k) => hexToBytes(`0x${word(k)}`));
const arbDigest = fc.uint8Array({ minLength: 32, maxLength: 32 });

function withS(signature: Hex, s: bigint, v: number): Hex {
  return `0x${signature.slice(2, 66)}${word(s)}${v.toString(16).padStart(2, '0')}` as Hex;
}
const sOf = (signature: Hex): bigint => BigInt(`0x${signature.slice(66, 130)}`);
const vOf = (signature: Hex): number => Number.parseInt(signature.slice(130), 16);

const digest = hexToBytes('0x' + 'ab'.repeat(32));
const key = hexToBytes('0x' + '11'.repeat(32));
const good = native.sign(digest, key);

describe('backends', () => {
  it('the native backend is libsecp256k1 itself, and the default', () => {
    expect(nativeLoadError).toBeNull();
    expect(native.name).toBe('native');
    expect(defaultBackend).toBe(native);
    expect(backendByName('native')).toBe(native);
    expect(backendByName('noble')).toBe(nobleBackend);
    expect(backendByName('ethers')).toBe(ethersBackend);
    expect(() => backendByName('elliptic')).toThrow(expect.objectContaining({ code: 'InvalidField' }));
  });

  it('all backends produce identical low-s signatures and recover the same address (property)', () => {
    fc.assert(
      fc.property(arbKey, arbDigest, (privateKey, message) => {
        const expected = computeAddress(new SigningKey(privateKey).publicKey);
        expect(addressOf(privateKey)).toBe(expected);
        const signatures = backends.map((b) => b.sign(message, privateKey));
        expect(new Set(signatures).size).toBe(1);
        const signature = signatures[0]!;
        expect(signature).toMatch(/^0x[0-9a-f]{130}$/);
        expect(sOf(signature) <= HALF_N).toBe(true);
        expect([27, 28]).toContain(vOf(signature));
        for (const b of backends) {
          expect(b.recover(message, signature)).toBe(expected);
          expect(b.recover(message, hexToBytes(signature))).toBe(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('all backends agree on what an arbitrary well-formed signature recovers to (property)', () => {
    const arbSig = fc.tuple(fc.bigInt({ min: 1n, max: N - 1n }), fc.bigInt({ min: 1n, max: HALF_N }), fc.constantFrom(27, 28));
    fc.assert(
      fc.property(arbDigest, arbSig, (message, [r, s, v]) => {
        const signature = `0x${word(r)}${word(s)}${v.toString(16)}` as Hex;
        const outcomes = backends.map((b) => {
          try {
            return b.recover(message, signature);
          } catch (error) {
            return (error as { code?: string }).code ?? 'threw';
          }
        });
        expect(new Set(outcomes).size).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  it.each(named)('%s rejects the high-s twin of every valid signature with HighS (property)', (_n, backend) => {
    fc.assert(
      fc.property(arbKey, arbDigest, (privateKey, message) => {
        const signature = backend.sign(message, privateKey);
        const twin = withS(signature, N - sOf(signature), vOf(signature) === 27 ? 28 : 27);
        expect(() => backend.recover(message, twin)).toThrow(expect.objectContaining({ code: 'HighS' }));
      }),
      { numRuns: 20 },
    );
  });

  it.each(named)('%s rejects v other than 27 or 28, even when the rest is valid', (_n, backend) => {
    for (const v of [0, 1, 2, 3, 26, 29, 35, 36, 255]) {
      expect(() => backend.recover(digest, withS(good, sOf(good), v))).toThrow(expect.objectContaining({ code: 'InvalidSignature' }));
    }
  });

  it.each(named)('%s rejects r or s of zero or at least n, and s = n/2 + 1 as HighS', (_n, backend) => {
    const r = BigInt(good.slice(0, 66));
    const cases: Array<[bigint, bigint, string]> = [
      [0n, sOf(good), 'InvalidSignature'],
      [N, sOf(good), 'InvalidSignature'],
      [N + 1n, sOf(good), 'InvalidSignature'],
      [(1n << 256n) - 1n, sOf(good), 'InvalidSignature'],
      [r, 0n, 'InvalidSignature'],
      [r, N, 'InvalidSignature'],
      [r, (1n << 256n) - 1n, 'InvalidSignature'],
      [r, HALF_N + 1n, 'HighS'],
    ];
    for (const [rr, ss, code] of cases) {
      const signature = `0x${word(rr)}${word(ss)}1b` as Hex;
      expect(() => backend.recover(digest, signature), `${rr} ${ss}`).toThrow(expect.objectContaining({ code }));
    }
    // s = n/2 exactly is the largest low s.
    expect(() => parseSignature(`0x${word(r)}${word(HALF_N)}1b` as Hex)).not.toThrow();
  });

  it.each(named)('%s rejects signatures of the wrong length or not hex', (_n, backend) => {
    for (const bad of [good.slice(0, -2), `${good}00`, '0x', `0x${'zz'.repeat(65)}`, good.slice(2), `0X${good.slice(2)}`]) {
      expect(() => backend.recover(digest, bad as Hex)).toThrow(expect.objectContaining({ code: 'InvalidSignature' }));
    }
    expect(() => backend.recover(digest, hexToBytes(good).subarray(0, 64))).toThrow(expect.objectContaining({ code: 'InvalidSignature' }));
  });

  it.each(named)('%s reports an r with no curve point as InvalidSignature', (_n, backend) => {
    // x = 5 is not the x-coordinate of a secp256k1 point (5^3 + 7 = 132 is not a square mod p).
    const signature = `0x${word(5n)}${word(1n)}1b` as Hex;
    expect(() => backend.recover(digest, signature)).toThrow(expect.objectContaining({ code: 'InvalidSignature' }));
  });

  it.each(named)('%s rejects bad private keys and digests', (_n, backend) => {
    for (const bad of [new Uint8Array(32), hexToBytes(`0x${word(N)}`), new Uint8Array(31).fill(1), new Uint8Array(33).fill(1)]) {
      expect(() => backend.sign(digest, bad)).toThrow(expect.objectContaining({ code: 'InvalidPrivateKey' }));
    }
    expect(() => backend.sign(new Uint8Array(31), key)).toThrow(expect.objectContaining({ code: 'InvalidHash' }));
    expect(() => backend.recover(new Uint8Array(33), good)).toThrow(expect.objectContaining({ code: 'InvalidHash' }));
  });

  it('parses private keys from hex strictly', () => {
    expect(bytesToHex(privateKeyBytes(`0x${'11'.repeat(32)}`))).toBe(`0x${'11'.repeat(32)}`);
    for (const bad of ['', '0x', `0x${'11'.repeat(31)}`, `0x${'00'.repeat(32)}`, `0x${word(N)}`, `${'11'.repeat(32)}`]) {
      expect(() => privateKeyBytes(bad)).toThrow(expect.objectContaining({ code: 'InvalidPrivateKey' }));
    }
    expect(addressOf(`0x${'11'.repeat(32)}`)).toBe('0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A');
  });
});
