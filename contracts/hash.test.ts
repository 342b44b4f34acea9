import fc from 'fast-check';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { ZgasError } from './errors.ts';
import { EMPTY_STATE_HASH, MAX_STATE_KEY_BYTES, contextSeed, decodeState, encodeState, sha3, stateHash } from './hash.ts';
import type { StateEntries } from './hash.ts';
import { bytesToHex, compareBytes, concatBytes, hexToBytes, u32be, u64be, utf8Bytes } from './hex.ts';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof ZgasError ? error.code : `untyped: ${String(error)}`;
  }
};

const entry = (key: Uint8Array, value: Uint8Array): Uint8Array => concatBytes(u32be(key.length), key, u32be(value.length), value);
const arbKey = fc.uint8Array({ maxLength: MAX_STATE_KEY_BYTES });
const arbState = fc.uniqueArray(fc.tuple(arbKey, fc.uint8Array({ maxLength: 40 })), { selector: ([k]) => bytesToHex(k), maxLength: 12 });

describe('sha3', () => {
  it('is SHA3-256 (FIPS 202), not keccak', () => {
    expect(sha3(utf8Bytes('abc'))).toBe('0x3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532');
    expect(EMPTY_STATE_HASH).toBe('0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  });
});

describe('state encoding', () => {
  it('sorts by key bytes whatever the input order, and decodes back (property)', () => {
    fc.assert(
      fc.property(arbState, (entries) => {
        const encoded = encodeState(entries);
        const reversed = encodeState([...entries].reverse());
        expect(reversed).toEqual(encoded);
        const decoded = decodeState(encoded);
        const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]));
        expect(decoded).toEqual(sorted);
        expect(encodeState(decoded)).toEqual(encoded);
        expect(stateHash(entries)).toBe(bytesToHex(sha3_256(encoded)));
      }),
    );
  });

  it('has the documented layout', () => {
    const a = utf8Bytes('a');
    const b = utf8Bytes('b');
    const expected = concatBytes(entry(a, new Uint8Array([1])), entry(b, new Uint8Array()));
    expect(encodeState([[b, new Uint8Array()], [a, new Uint8Array([1])]])).toEqual(expected);
  });

  it('orders a key before its extensions, and allows an empty key', () => {
    const entries: StateEntries = [[utf8Bytes('ab'), new Uint8Array([2])], [new Uint8Array(), new Uint8Array([0])], [utf8Bytes('a'), new Uint8Array([1])]];
    expect(decodeState(encodeState(entries)).map(([k]) => bytesToHex(k))).toEqual(['0x', '0x61', '0x6162']);
  });

  it('rejects duplicate and over-long keys when encoding', () => {
    expect(codeOf(() => encodeState([[utf8Bytes('k'), new Uint8Array([1])], [utf8Bytes('k'), new Uint8Array([2])]]))).toBe('InvalidState');
    expect(codeOf(() => encodeState([[new Uint8Array(33), new Uint8Array()]]))).toBe('InvalidState');
    expect(encodeState([[new Uint8Array(32), new Uint8Array()]]).length).toBe(40);
  });

  it('decodes the empty state from no bytes', () => {
    expect(decodeState(new Uint8Array())).toEqual([]);
  });

  it('rejects unsorted, duplicate, over-long, truncated and trailing input when decoding', () => {
    const a = entry(utf8Bytes('a'), new Uint8Array([1]));
    const b = entry(utf8Bytes('b'), new Uint8Array([2]));
    const cases: Array<[string, Uint8Array]> = [
      ['unsorted', concatBytes(b, a)],
      ['duplicate', concatBytes(a, a)],
      ['long key', entry(new Uint8Array(33), new Uint8Array())],
      ['truncated key length', new Uint8Array([0, 0])],
      ['truncated key', concatBytes(u32be(5), utf8Bytes('ab'))],
      ['missing value length', concatBytes(u32be(1), utf8Bytes('a'))],
      ['truncated value', concatBytes(u32be(1), utf8Bytes('a'), u32be(3), new Uint8Array([1]))],
      ['huge value length', concatBytes(u32be(1), utf8Bytes('a'), u32be(0xffffffff))],
      ['trailing', concatBytes(a, b, new Uint8Array([0]))],
    ];
    for (const [name, bytes] of cases) expect(codeOf(() => decodeState(bytes)), name).toBe('InvalidState');
  });

  it('decodes from a view into a larger buffer and returns copies', () => {
    const inner = entry(utf8Bytes('k'), new Uint8Array([7]));
    const outer = concatBytes(new Uint8Array([9, 9, 9]), inner, new Uint8Array([9]));
    const view = outer.subarray(3, 3 + inner.length);
    const decoded = decodeState(view);
    expect(decoded).toEqual([[utf8Bytes('k'), new Uint8Array([7])]]);
    outer[3 + 9] = 8;
    expect(decoded[0]![1]).toEqual(new Uint8Array([7]));
  });

  it('only well-formed bytes decode: any decoded input re-encodes to itself (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const code = codeOf(() => decodeState(bytes));
        if (code === 'ok') expect(encodeState(decodeState(bytes))).toEqual(bytes);
        else expect(code).toBe('InvalidState');
      }),
      { numRuns: 500 },
    );
  });
});

describe('contextSeed', () => {
  it('is SHA3-256(sessionId ‖ u64be(seq))', () => {
    const sessionId = `0x${'cd'.repeat(32)}` as const;
    expect(contextSeed(sessionId, 1n)).toEqual(sha3_256(concatBytes(hexToBytes(sessionId), u64be(1n))));
    expect(bytesToHex(contextSeed(sessionId, 1n))).not.toBe(bytesToHex(contextSeed(sessionId, 2n)));
    expect(codeOf(() => contextSeed('0x00', 1n))).toBe('InvalidHash');
    expect(codeOf(() => contextSeed(sessionId, -1n))).toBe('InvalidUint64');
  });
});

describe('sha3 implementation', () => {
  it('equals @noble/hashes sha3_256 on any input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (bytes) => {
        expect(sha3(bytes)).toBe(bytesToHex(sha3_256(bytes)));
      }),
    );
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 7);
    expect(sha3(big)).toBe(bytesToHex(sha3_256(big)));
  });
});
