import fc from 'fast-check';
import { getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import vectors from '../test/vectors/vectors.json' with { type: 'json' };
import { ZgasError } from './errors.ts';
import { bytesToHex } from './hex.ts';
import {
  callFromJson,
  callToJson,
  invocationFromJson,
  invocationToJson,
  receiptFromJson,
  receiptToJson,
  writesFromJson,
  writesToJson,
} from './json.ts';
import type { CallStatus, Hex, SettlementReceipt } from './types.ts';
import type { Gas } from './units.ts';
import { MAX_UINT64 } from './units.ts';

const failure = (fn: () => unknown): { code: string; path?: unknown } => {
  try {
    fn();
    return { code: 'ok' };
  } catch (error) {
    if (error instanceof ZgasError) return { code: error.code, path: error.details.path };
    return { code: `untyped: ${String(error)}` };
  }
};

const receiptJson = vectors.settlementReceipt.json;
const callJson = { ...vectors.call.message, signature: vectors.call.signature };
const invocationJson = vectors.invocation.wire;
const arbSignature = fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => bytesToHex(b));

const arbBytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const arbU64 = fc.bigInt({ min: 0n, max: MAX_UINT64 });
const arbReceipt: fc.Arbitrary<SettlementReceipt> = fc.record({
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
  signature: arbSignature,
  invocationSignature: arbSignature,
});

describe('receipt JSON', () => {
  it('reads the vector and writes it back unchanged', () => {
    const r = receiptFromJson(receiptJson);
    expect(r.seq).toBe(1n);
    expect(r.callGas).toBe(12345n);
    expect(receiptToJson(r)).toEqual(receiptJson);
  });

  it('round-trips through JSON text (property)', () => {
    fc.assert(
      fc.property(arbReceipt, (r) => {
        expect(receiptFromJson(JSON.parse(JSON.stringify(receiptToJson(r))))).toEqual(r);
      }),
    );
  });

  it('lowercases hashes and signatures given in upper case', () => {
    const upper = { ...receiptJson, sessionId: receiptJson.sessionId.toUpperCase().replace('0X', '0x'), signature: receiptJson.signature.toUpperCase().replace('0X', '0x') };
    expect(receiptFromJson(upper)).toEqual(receiptFromJson(receiptJson));
  });

  it('rejects unknown, missing and mistyped fields, naming the path', () => {
    expect(failure(() => receiptFromJson({ ...receiptJson, extra: 1 }))).toEqual({ code: 'InvalidField', path: 'extra' });
    const { seq: _seq, ...noSeq } = receiptJson;
    expect(failure(() => receiptFromJson(noSeq))).toEqual({ code: 'InvalidField', path: 'seq' });
    expect(failure(() => receiptFromJson({ ...receiptJson, seq: 1 }))).toEqual({ code: 'InvalidUint64', path: 'seq' });
    expect(failure(() => receiptFromJson({ ...receiptJson, seq: '01' }))).toEqual({ code: 'InvalidUint64', path: 'seq' });
    expect(failure(() => receiptFromJson({ ...receiptJson, callGas: '18446744073709551616' }))).toEqual({ code: 'InvalidUint64', path: 'callGas' });
    expect(failure(() => receiptFromJson({ ...receiptJson, cumulativeGas: '1e3' }))).toEqual({ code: 'InvalidUint64', path: 'cumulativeGas' });
    expect(failure(() => receiptFromJson({ ...receiptJson, inputHash: '0x1234' }))).toEqual({ code: 'InvalidHash', path: 'inputHash' });
    expect(failure(() => receiptFromJson({ ...receiptJson, status: '1' }))).toEqual({ code: 'InvalidReceipt', path: 'status' });
    expect(failure(() => receiptFromJson({ ...receiptJson, status: 5 }))).toEqual({ code: 'InvalidReceipt', path: 'status' });
    expect(failure(() => receiptFromJson({ ...receiptJson, signature: '0x1234' }))).toEqual({ code: 'InvalidSignature', path: 'signature' });
    expect(failure(() => receiptFromJson({ ...receiptJson, signature: `0x${'zz'.repeat(65)}` }))).toEqual({ code: 'InvalidSignature', path: 'signature' });
    expect(failure(() => receiptFromJson({ ...receiptJson, seq: null }))).toEqual({ code: 'InvalidUint64', path: 'seq' });
    expect(failure(() => receiptFromJson({ ...receiptJson, callGasLimit: '-1' }))).toEqual({ code: 'InvalidUint64', path: 'callGasLimit' });
    expect(failure(() => receiptFromJson({ ...receiptJson, invocationSignature: '0x12' }))).toEqual({ code: 'InvalidSignature', path: 'invocationSignature' });
    const { invocationSignature: _sig, ...providerOnly } = receiptJson;
    expect(failure(() => receiptFromJson(providerOnly))).toEqual({ code: 'InvalidField', path: 'invocationSignature' });
  });

  it('rejects non-objects and prefixes nested paths', () => {
    for (const bad of [null, 1, 'x', [], [receiptJson]]) expect(failure(() => receiptFromJson(bad)).code).toBe('InvalidField');
    expect(failure(() => receiptFromJson({ ...receiptJson, seq: 'x' }, 'receipts.3'))).toEqual({ code: 'InvalidUint64', path: 'receipts.3.seq' });
  });

  it('does not take inherited or prototype fields', () => {
    const sneaky = Object.assign(Object.create({ seq: '1' }) as object, receiptJson) as Record<string, unknown>;
    delete sneaky.seq;
    expect(failure(() => receiptFromJson(sneaky))).toEqual({ code: 'InvalidField', path: '$' });
    expect(receiptFromJson(Object.assign(Object.create(null) as object, receiptJson))).toEqual(receiptFromJson(receiptJson));
    expect(failure(() => receiptFromJson(JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(receiptJson).slice(1)}`)))).toEqual({ code: 'InvalidField', path: '__proto__' });
  });
});

describe('call JSON', () => {
  it('reads the vector; addresses any case in, EIP-55 out', () => {
    const call = callFromJson({ ...callJson, from: callJson.from.toLowerCase() });
    expect(call).toEqual({ from: vectors.call.signer, nonce: 7n, data: callJson.data, signature: callJson.signature });
    expect(callToJson(call)).toEqual(callJson);
    expect(callToJson({ ...call, from: call.from.toLowerCase() as Hex }).from).toBe(getAddress(call.from));
  });

  it('rejects bad fields', () => {
    expect(failure(() => callFromJson({ ...callJson, from: '0x19e7E376E7C213B7E7e7e46cc70A5dD086DAff2A' }))).toEqual({ code: 'InvalidAddress', path: 'from' });
    expect(failure(() => callFromJson({ ...callJson, nonce: '-1' }))).toEqual({ code: 'InvalidUint64', path: 'nonce' });
    expect(failure(() => callFromJson({ ...callJson, data: '0x1' }))).toEqual({ code: 'InvalidHex', path: 'data' });
    expect(failure(() => callFromJson({ ...callJson, data: `0x${'00'.repeat(8 * 1024 * 1024 + 1)}` }))).toEqual({ code: 'LimitExceeded', path: 'data' });
    expect(failure(() => callFromJson({ ...callJson, hash: '0x' }))).toEqual({ code: 'InvalidField', path: 'hash' });
  });
});

describe('invocation JSON', () => {
  it('reads the vector and writes it back', () => {
    const inv = invocationFromJson(invocationJson);
    expect(inv.seq).toBe(1n);
    expect(invocationToJson(inv)).toEqual(invocationJson);
  });

  it('rejects missing and mistyped fields, naming the path', () => {
    const { ackedGas: _acked, ...noAcked } = invocationJson;
    expect(failure(() => invocationFromJson(noAcked))).toEqual({ code: 'InvalidField', path: 'ackedGas' });
    expect(failure(() => invocationFromJson({ ...invocationJson, input: 'abc' }))).toEqual({ code: 'InvalidHex', path: 'input' });
    expect(failure(() => invocationFromJson({ ...invocationJson, callGasLimit: '18446744073709551616' }))).toEqual({ code: 'InvalidUint64', path: 'callGasLimit' });
    expect(failure(() => invocationFromJson({ ...invocationJson, preStateHash: '0x12' }))).toEqual({ code: 'InvalidHash', path: 'preStateHash' });
    expect(failure(() => invocationFromJson({ ...invocationJson, inputHash: invocationJson.preStateHash }))).toEqual({ code: 'InvalidField', path: 'inputHash' });
  });
});

describe('state writes JSON', () => {
  it('round-trips writes and deletes in call order', () => {
    const writes = [{ key: '0x636f756e74', value: '0x01' }, { key: '0x01', value: null }, { key: '0x636f756e74', value: '0x' }] as const;
    const parsed = writesFromJson(writes);
    expect(writesToJson(parsed)).toEqual(writes);
  });

  it('refuses empty or long keys, bad values and non-arrays', () => {
    expect(failure(() => writesFromJson({}))).toEqual({ code: 'InvalidField', path: 'writes' });
    expect(failure(() => writesFromJson([{ key: '0x', value: null }]))).toEqual({ code: 'InvalidField', path: 'writes[0].key' });
    expect(failure(() => writesFromJson([{ key: `0x${'00'.repeat(33)}`, value: null }]))).toEqual({ code: 'LimitExceeded', path: 'writes[0].key' });
    expect(failure(() => writesFromJson([{ key: '0x01', value: 1 }]))).toEqual({ code: 'InvalidHex', path: 'writes[0].value' });
    expect(failure(() => writesFromJson([{ key: '0x01' }]))).toEqual({ code: 'InvalidField', path: 'writes[0].value' });
  });
});
