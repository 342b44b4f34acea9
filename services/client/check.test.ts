import { describe, expect, it } from 'vitest';
import { addressOf, makeDomain, signReceipt } from '../../contracts/eip712/index.ts';
import { isZgasError } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { GasReceipt, Hash, Invocation, StateWrite } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { checkReceipt, EMPTY_OUTPUT_HASH } from './check.ts';
import type { ReceiptExpectation } from './check.ts';
import { SessionState } from './state.ts';

const domain = makeDomain(73405n, '0x00000000000000000000000000000000007a6761');
const signerKey = sha3(utf8Bytes('receipt signer'));
const otherKey = sha3(utf8Bytes('someone else'));
const receiptSigner = addressOf(signerKey);
const sessionId = sha3(utf8Bytes('session')) as Hash;

// The client holds one key after seq 1 and asks for seq 2, which writes a second key.
const preState = SessionState.empty().apply([{ key: '0x01', value: '0xaa' }]);
const input = utf8Bytes('increment');
const output = utf8Bytes('2');
const writes: StateWrite[] = [{ key: '0x02', value: '0xbb' }];
const invocation: Invocation = {
  sessionId, seq: 2n, callGasLimit: gas(10_000), inputHash: sha3(input), preStateHash: preState.hash(), ackedGas: gas(700),
};
const honest: GasReceipt = {
  sessionId, seq: 2n, callGasLimit: gas(10_000), callGas: gas(300), cumulativeGas: gas(1_000), inputHash: sha3(input),
  preStateHash: preState.hash(), postStateHash: preState.apply(writes).hash(), outputHash: sha3(output), status: CallStatus.Ok,
};
const expectation = (over: Partial<ReceiptExpectation> = {}): ReceiptExpectation => ({
  invocation, receiptSigner, preState, output, writes, aborted: false, ...over,
});

/** The field named by the refusal, or 'accepted'. */
function refusal(receipt: GasReceipt, over: Partial<ReceiptExpectation> = {}, key = signerKey): string {
  try {
    checkReceipt(domain, expectation(over), signReceipt(domain, receipt, key));
    return 'accepted';
  } catch (error) {
    if (!isZgasError(error, 'ReceiptNotAcknowledged')) throw error;
    return String(error.details['field']);
  }
}

const other = sha3(utf8Bytes('tampered')) as Hash;

describe('checkReceipt: what the client checks before it acknowledges a receipt', () => {
  it('accepts the honest receipt and returns the state after the writes', () => {
    const post = checkReceipt(domain, expectation(), signReceipt(domain, honest, signerKey));
    expect(post.hash()).toBe(honest.postStateHash);
    expect(post.get('0x02')).toEqual(new Uint8Array([0xbb]));
    expect(preState.get('0x02')).toBeUndefined();
  });

  it.each([
    ['sessionId', { sessionId: other }],
    ['seq', { seq: 3n }],
    ['callGasLimit', { callGasLimit: gas(20_000) }],
    ['inputHash', { inputHash: other }],
    ['preStateHash', { preStateHash: other }],
    ['postStateHash', { postStateHash: other }],
    ['outputHash', { outputHash: other }],
    ['cumulativeGas', { cumulativeGas: gas(1_001) }],
    // More gas for the call with the cumulative total moved along: it no longer starts at the acknowledged gas.
    ['cumulativeGas', { callGas: gas(301) }],
    ['callGas', { callGas: gas(10_001), cumulativeGas: gas(10_701) }],
    ['status', { status: 9 as CallStatus }],
  ] as Array<[string, Partial<GasReceipt>]>)('refuses a receipt with a tampered %s', (field, tamper) => {
    expect(refusal({ ...honest, ...tamper })).toBe(field);
  });

  it("refuses a receipt signed by anyone but the session's receipt signer", () => {
    expect(refusal(honest, {}, otherKey)).toBe('signature');
  });

  it('refuses an output or writes that do not match the receipt', () => {
    expect(refusal(honest, { output: utf8Bytes('3') })).toBe('outputHash');
    expect(refusal(honest, { writes: [{ key: '0x02', value: '0xbc' }] })).toBe('postStateHash');
    expect(refusal(honest, { writes: [...writes, { key: '0x01', value: null }] })).toBe('postStateHash');
    expect(refusal(honest, { writes: [] })).toBe('postStateHash');
  });

  it('applies the status rules: a call that did not end Ok changes nothing and outputs nothing', () => {
    const trapped = { ...honest, status: CallStatus.Trapped, postStateHash: preState.hash(), outputHash: EMPTY_OUTPUT_HASH };
    expect(refusal(trapped, { output: new Uint8Array(0), writes: [] })).toBe('accepted');
    expect(refusal(trapped, { output: new Uint8Array(0) })).toBe('writes');
    expect(refusal(trapped, { writes: [] })).toBe('output');
    expect(refusal({ ...trapped, postStateHash: honest.postStateHash }, { output: new Uint8Array(0), writes: [] })).toBe('postStateHash');
    expect(refusal({ ...trapped, outputHash: honest.outputHash }, { output: new Uint8Array(0), writes: [] })).toBe('outputHash');
    const outOfGas = { ...trapped, status: CallStatus.OutOfGas, callGas: gas(10_000), cumulativeGas: gas(10_700) };
    expect(refusal(outOfGas, { output: new Uint8Array(0), writes: [] })).toBe('accepted');
    expect(refusal({ ...outOfGas, callGas: gas(9_999), cumulativeGas: gas(10_699) }, { output: new Uint8Array(0), writes: [] })).toBe('callGas');
  });

  it('refuses an Aborted receipt unless the session was aborted', () => {
    const aborted = { ...honest, status: CallStatus.Aborted, postStateHash: preState.hash(), outputHash: EMPTY_OUTPUT_HASH };
    expect(refusal(aborted, { output: new Uint8Array(0), writes: [] })).toBe('status');
    expect(refusal(aborted, { output: new Uint8Array(0), writes: [], aborted: true })).toBe('accepted');
  });

  it('leaves nothing changed when it refuses', () => {
    const before = preState.hash();
    expect(refusal({ ...honest, postStateHash: other })).toBe('postStateHash');
    expect(preState.hash()).toBe(before);
  });
});
