import fc from 'fast-check';
import { TypedDataEncoder, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../hex.ts';
import type { CallStatus, GasReceipt, Hex } from '../types.ts';
import type { Gas } from '../units.ts';
import { MAX_UINT64 } from '../units.ts';
import { TYPES, callDigest, callStructHash, domainSeparator, encodeType, invocationDigest, makeDomain, receiptDigest, receiptStructHash } from './typed.ts';

const arbBytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(bytesToHex(b)) as Hex);
const arbU64 = fc.bigInt({ min: 0n, max: MAX_UINT64 });
const arbData = fc.uint8Array({ maxLength: 300 }).map((b) => bytesToHex(b));
const arbDomain = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), arbAddress).map(([chainId, c]) => makeDomain(chainId, c));
const arbReceipt = fc.record({
  sessionId: arbBytes32,
  seq: arbU64,
  callGasLimit: arbU64.map((g) => g as Gas),
  callGas: arbU64.map((g) => g as Gas),
  cumulativeGas: arbU64.map((g) => g as Gas),
  inputHash: arbBytes32,
  preStateHash: arbBytes32,
  postStateHash: arbBytes32,
  outputHash: arbBytes32,
  status: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<CallStatus>,
});
const ethersDomain = (d: ReturnType<typeof makeDomain>) => ({ ...d });

describe('EIP-712 hashing equals ethers TypedDataEncoder', () => {
  it('encodes the type strings as EIP-712 does', () => {
    expect(encodeType('Call', TYPES.Call)).toBe('Call(address from,uint64 nonce,bytes data)');
    expect(encodeType('Invocation', TYPES.Invocation)).toBe('Invocation(bytes32 sessionId,uint64 seq,uint64 callGasLimit,bytes32 inputHash,bytes32 preStateHash,uint64 ackedGas)');
    expect(encodeType('GasReceipt', TYPES.GasReceipt)).toBe(
      'GasReceipt(bytes32 sessionId,uint64 seq,uint64 callGasLimit,uint64 callGas,uint64 cumulativeGas,bytes32 inputHash,bytes32 preStateHash,bytes32 postStateHash,bytes32 outputHash,uint8 status)',
    );
    expect(TypedDataEncoder.from({ GasReceipt: TYPES.GasReceipt }).encodeType('GasReceipt')).toBe(encodeType('GasReceipt', TYPES.GasReceipt));
    expect(TypedDataEncoder.from({ Invocation: TYPES.Invocation }).encodeType('Invocation')).toBe(encodeType('Invocation', TYPES.Invocation));
  });

  it('domain separators (property)', () => {
    fc.assert(fc.property(arbDomain, (d) => {
      expect(domainSeparator(d)).toBe(TypedDataEncoder.hashDomain(ethersDomain(d)));
    }), { numRuns: 50 });
  });

  it('call digests (property)', () => {
    fc.assert(
      fc.property(arbDomain, arbAddress, arbU64, arbData, (d, from, nonce, data) => {
        const call = { from, nonce, data };
        expect(callStructHash(call)).toBe(TypedDataEncoder.from({ Call: TYPES.Call }).hash(call));
        expect(callDigest(d, call)).toBe(TypedDataEncoder.hash(ethersDomain(d), { Call: TYPES.Call }, call));
      }),
      { numRuns: 100 },
    );
  });

  it('receipt digests (property)', () => {
    fc.assert(
      fc.property(arbDomain, arbReceipt, (d, r: GasReceipt) => {
        expect(receiptStructHash(r)).toBe(TypedDataEncoder.from({ GasReceipt: TYPES.GasReceipt }).hash(r));
        expect(receiptDigest(d, r)).toBe(TypedDataEncoder.hash(ethersDomain(d), { GasReceipt: TYPES.GasReceipt }, r));
      }),
      { numRuns: 100 },
    );
  });

  it('invocation digests (property)', () => {
    fc.assert(
      fc.property(arbDomain, arbBytes32, arbU64, arbU64, arbBytes32, arbBytes32, arbU64, (d, sessionId, seq, limit, inputHash, preStateHash, acked) => {
        const inv = { sessionId, seq, callGasLimit: limit as Gas, inputHash, preStateHash, ackedGas: acked as Gas };
        expect(invocationDigest(d, inv)).toBe(TypedDataEncoder.hash(ethersDomain(d), { Invocation: TYPES.Invocation }, inv));
      }),
      { numRuns: 100 },
    );
  });

  it('uppercase hex hashes hash like lowercase ones (the digest is over bytes)', () => {
    const r = { sessionId: `0x${'AB'.repeat(32)}`, seq: 1n, callGasLimit: 1n as Gas, callGas: 1n as Gas, cumulativeGas: 1n as Gas, inputHash: `0x${'00'.repeat(32)}`, preStateHash: `0x${'00'.repeat(32)}`, postStateHash: `0x${'00'.repeat(32)}`, outputHash: `0x${'00'.repeat(32)}`, status: 1 } as GasReceipt;
    expect(receiptStructHash(r)).toBe(receiptStructHash({ ...r, sessionId: `0x${'ab'.repeat(32)}` }));
  });
});

describe('EIP-712 hashing rejects values outside their types', () => {
  const d = makeDomain(1n, '0x00000000000000000000000000000000007a6761');
  const r: GasReceipt = { sessionId: `0x${'ab'.repeat(32)}`, seq: 1n, callGasLimit: 1n as Gas, callGas: 1n as Gas, cumulativeGas: 1n as Gas, inputHash: `0x${'00'.repeat(32)}`, preStateHash: `0x${'00'.repeat(32)}`, postStateHash: `0x${'00'.repeat(32)}`, outputHash: `0x${'00'.repeat(32)}`, status: 1 };

  it('uint64 fields above 2^64-1 or negative', () => {
    expect(() => receiptDigest(d, { ...r, seq: MAX_UINT64 + 1n })).toThrow(expect.objectContaining({ code: 'InvalidUint64' }));
    expect(() => receiptDigest(d, { ...r, callGas: -1n as Gas })).toThrow(expect.objectContaining({ code: 'InvalidUint64' }));
    expect(() => receiptDigest(d, { ...r, callGasLimit: MAX_UINT64 + 1n as Gas })).toThrow(expect.objectContaining({ code: 'InvalidUint64' }));
    expect(() => callDigest(d, { from: d.verifyingContract, nonce: MAX_UINT64 + 1n, data: '0x' })).toThrow(expect.objectContaining({ code: 'InvalidUint64' }));
  });

  it('hashes of the wrong length or not hex', () => {
    expect(() => receiptDigest(d, { ...r, inputHash: `0x${'00'.repeat(31)}` })).toThrow(expect.objectContaining({ code: 'InvalidHash' }));
    expect(() => receiptDigest(d, { ...r, outputHash: `0x${'zz'.repeat(32)}` as Hex })).toThrow(expect.objectContaining({ code: 'InvalidHash' }));
  });

  it('bad addresses, bytes and chain ids', () => {
    expect(() => callDigest(d, { from: '0x1234', nonce: 0n, data: '0x' })).toThrow(expect.objectContaining({ code: 'InvalidAddress' }));
    expect(() => callDigest(d, { from: d.verifyingContract, nonce: 0n, data: '0x123' as Hex })).toThrow(expect.objectContaining({ code: 'InvalidHex' }));
    expect(() => makeDomain(-1n, d.verifyingContract)).toThrow(expect.objectContaining({ code: 'InvalidAmount' }));
    expect(() => makeDomain(1n, 'nope')).toThrow(expect.objectContaining({ code: 'InvalidAddress' }));
  });

  it('a status outside uint8', () => {
    expect(() => receiptDigest(d, { ...r, status: 256 as CallStatus })).toThrow(expect.objectContaining({ code: 'InvalidReceipt' }));
  });
});
