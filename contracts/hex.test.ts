import fc from 'fast-check';
import { getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ZgasError } from './errors.ts';
import {
  MAX_HEX_BYTES,
  addressFromBytes,
  bytesToHex,
  compareBytes,
  concatBytes,
  equalBytes,
  hexToBytes,
  parseAddress,
  parseHash,
  parseHex,
  sameAddress,
  u32be,
  u64be,
} from './hex.ts';
import { MAX_UINT64 } from './units.ts';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof ZgasError ? error.code : `untyped: ${String(error)}`;
  }
};

describe('hex bytes', () => {
  it('round-trips any bytes, small and large, lowercase (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(hex).toBe(`0x${Buffer.from(bytes).toString('hex')}`);
        expect(hexToBytes(hex)).toEqual(bytes);
        expect(hexToBytes(hex.toUpperCase().replace('0X', '0x'))).toEqual(bytes);
      }),
    );
  });

  it('decodes to arrays that own their buffer', () => {
    const bytes = hexToBytes(`0x${'ab'.repeat(100)}`);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(100);
  });

  it('rejects bad hex with InvalidHex, short or long', () => {
    for (const bad of ['', '0x0', 'ab', '0X00', ' 0x00', '0x00 ', '0xgg', '0x-1', `0x${'ab'.repeat(100)}g0`, `0x${'ab'.repeat(100)}0`, '0x٠٠']) {
      expect(codeOf(() => hexToBytes(bad)), bad).toBe('InvalidHex');
      expect(codeOf(() => parseHex(bad)), bad).toBe('InvalidHex');
    }
    expect(codeOf(() => parseHex(12))).toBe('InvalidHex');
    expect(codeOf(() => parseHex(null))).toBe('InvalidHex');
    expect(codeOf(() => hexToBytes('0x00', 2))).toBe('InvalidHex');
  });

  it('parseHex lowercases and enforces its size limit', () => {
    expect(parseHex('0xABcd')).toBe('0xabcd');
    expect(parseHex('0x')).toBe('0x');
    expect(codeOf(() => parseHex('0x001122', 2))).toBe('LimitExceeded');
    expect(parseHex('0x0011', 2)).toBe('0x0011');
    expect(MAX_HEX_BYTES).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('parseHash wants exactly 32 bytes', () => {
    const h = `0x${'Ab'.repeat(32)}`;
    expect(parseHash(h)).toBe(h.toLowerCase());
    for (const bad of [`0x${'ab'.repeat(31)}`, `0x${'ab'.repeat(33)}`, `${'ab'.repeat(33)}`, `0x${'ab'.repeat(31)}zz`, 5, undefined]) {
      expect(codeOf(() => parseHash(bad))).toBe('InvalidHash');
    }
  });
});

describe('addresses', () => {
  const checksummed = '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A';

  it('accepts lowercase, uppercase and valid EIP-55; returns EIP-55 like ethers (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        const lower = bytesToHex(bytes);
        const expected = getAddress(lower);
        expect(parseAddress(lower)).toBe(expected);
        expect(parseAddress(`0x${lower.slice(2).toUpperCase()}`)).toBe(expected);
        expect(parseAddress(expected)).toBe(expected);
        expect(addressFromBytes(bytes)).toBe(expected);
      }),
    );
  });

  it('rejects a mixed-case address with a bad checksum', () => {
    const flipped = checksummed.replace('E7e7e4', 'E7E7e4');
    expect(flipped).not.toBe(checksummed);
    expect(codeOf(() => parseAddress(flipped))).toBe('InvalidAddress');
    expect(parseAddress(checksummed.toLowerCase())).toBe(checksummed);
  });

  it('rejects wrong lengths, prefixes and types', () => {
    for (const bad of ['', '0x', checksummed.slice(0, 41), `${checksummed}00`, checksummed.slice(2), `0X${checksummed.slice(2)}`, `0x${'zz'.repeat(20)}`, 1, null, {}]) {
      expect(codeOf(() => parseAddress(bad))).toBe('InvalidAddress');
    }
    expect(codeOf(() => addressFromBytes(new Uint8Array(19)))).toBe('InvalidAddress');
  });

  it('sameAddress ignores case only', () => {
    expect(sameAddress(checksummed, checksummed.toLowerCase())).toBe(true);
    expect(sameAddress(checksummed, '0x1563915e194D8CfBA1943570603F7606A3115508')).toBe(false);
  });
});

describe('bytes helpers', () => {
  it('concatBytes, equalBytes and compareBytes', () => {
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
    expect(concatBytes()).toEqual(new Uint8Array(0));
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1]))).toBe(false);
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0);
    expect(compareBytes(new Uint8Array([2]), new Uint8Array([1, 9]))).toBeGreaterThan(0);
    expect(compareBytes(new Uint8Array([]), new Uint8Array([]))).toBe(0);
  });

  it('u64be and u32be are big-endian and range-checked', () => {
    expect(bytesToHex(u64be(0x0102030405060708n))).toBe('0x0102030405060708');
    expect(bytesToHex(u64be(MAX_UINT64))).toBe('0xffffffffffffffff');
    expect(codeOf(() => u64be(MAX_UINT64 + 1n))).toBe('InvalidUint64');
    expect(codeOf(() => u64be(-1n))).toBe('InvalidUint64');
    expect(bytesToHex(u32be(0x01020304))).toBe('0x01020304');
    expect(bytesToHex(u32be(0xffffffff))).toBe('0xffffffff');
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) expect(codeOf(() => u32be(bad))).toBe('LimitExceeded');
  });
});
