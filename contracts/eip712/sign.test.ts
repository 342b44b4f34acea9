import { describe, expect, it } from 'vitest';
import { ZgasError } from '../errors.ts';
import type { Call, GasReceipt, Hex, Invocation } from '../types.ts';
import type { Gas } from '../units.ts';
import { invocationOf } from '../invocation.ts';
import {
  addressOf,
  callDigest,
  callHash,
  makeDomain,
  nobleBackend,
  receiptDigest,
  recoverCallSigner,
  recoverInvocationSigner,
  recoverReceiptSigner,
  signCall,
  signInvocation,
  settlementReceipt,
  signReceipt,
  verifyReceipt,
} from './index.ts';

const key = `0x${'44'.repeat(32)}`;
const user = addressOf(key);
const domain = makeDomain(73405n, '0x00000000000000000000000000000000007a6761');
const otherChain = makeDomain(1n, domain.verifyingContract);
const otherContract = makeDomain(73405n, '0x00000000000000000000000000000000007a6762');
const call: Call = { from: user, nonce: 3n, data: '0x445528c4' };
const receipt: GasReceipt = {
  sessionId: `0x${'cd'.repeat(32)}`,
  seq: 2n,
  callGasLimit: 50n as Gas,
  callGas: 10n as Gas,
  cumulativeGas: 30n as Gas,
  inputHash: `0x${'01'.repeat(32)}`,
  preStateHash: `0x${'02'.repeat(32)}`,
  postStateHash: `0x${'03'.repeat(32)}`,
  outputHash: `0x${'04'.repeat(32)}`,
  status: 4,
};
const invocation: Invocation = invocationOf(receipt);

describe('signing helpers', () => {
  it('sign with a hex or byte key and recover the signer; the signed object carries only its own fields', () => {
    const signed = signCall(domain, { ...call, extra: 1 } as Call, key);
    expect(Object.keys(signed).sort()).toEqual(['data', 'from', 'nonce', 'signature']);
    expect(recoverCallSigner(domain, signed)).toBe(user);
    expect(recoverCallSigner(domain, signed, nobleBackend)).toBe(user);
    expect(callHash(domain, call)).toBe(callDigest(domain, call));
    const r = signReceipt(domain, receipt, key);
    expect(recoverReceiptSigner(domain, r)).toBe(user);
    const invocationSignature = signInvocation(domain, invocation, key);
    expect(recoverInvocationSigner(domain, invocation, invocationSignature)).toBe(user);
    const settlement = settlementReceipt(r, invocationSignature);
    expect(verifyReceipt(domain, settlement)).toEqual({ receipt: settlement, signer: user, invocationSigner: user, digest: receiptDigest(domain, receipt) });
    expect(Object.keys(settlementReceipt({ ...r, extra: 1 } as typeof r, invocationSignature)).length).toBe(12);
  });

  it('a signature is bound to the chain and the contract', () => {
    const signed = signCall(domain, call, key);
    expect(recoverCallSigner(otherChain, signed)).not.toBe(user);
    expect(recoverCallSigner(otherContract, signed)).not.toBe(user);
    const r = settlementReceipt(signReceipt(domain, receipt, key), signInvocation(domain, invocation, key));
    expect(verifyReceipt(otherChain, r).signer).not.toBe(user);
    expect(verifyReceipt(otherChain, r).invocationSigner).not.toBe(user);
    expect(verifyReceipt(otherContract, r).invocationSigner).not.toBe(user);
  });

  it('every receipt field is covered by the receipt signature, and every invocation field by the invocation signature', () => {
    const r = settlementReceipt(signReceipt(domain, receipt, key), signInvocation(domain, invocation, key));
    const changes: Partial<GasReceipt>[] = [
      { sessionId: `0x${'ce'.repeat(32)}` },
      { seq: 3n },
      { callGasLimit: 51n as Gas },
      { callGas: 11n as Gas },
      { cumulativeGas: 31n as Gas },
      { inputHash: `0x${'05'.repeat(32)}` },
      { preStateHash: `0x${'05'.repeat(32)}` },
      { postStateHash: `0x${'05'.repeat(32)}` },
      { outputHash: `0x${'05'.repeat(32)}` },
      { status: 1 },
    ];
    for (const change of changes) expect(verifyReceipt(domain, { ...r, ...change }).signer, JSON.stringify(Object.keys(change))).not.toBe(user);
    // The invocation is derived from sessionId, seq, callGasLimit, inputHash, preStateHash and cumulativeGas − callGas.
    const invocationChanges: Partial<GasReceipt>[] = [
      { sessionId: `0x${'ce'.repeat(32)}` },
      { seq: 3n },
      { callGasLimit: 51n as Gas },
      { cumulativeGas: 31n as Gas },
      { inputHash: `0x${'05'.repeat(32)}` },
      { preStateHash: `0x${'05'.repeat(32)}` },
    ];
    for (const change of invocationChanges) expect(verifyReceipt(domain, { ...r, ...change }).invocationSigner, JSON.stringify(Object.keys(change))).not.toBe(user);
    // The result fields are the provider's alone: the user's acknowledgement does not cover them.
    const resultChanges: Partial<GasReceipt>[] = [{ postStateHash: `0x${'05'.repeat(32)}` }, { outputHash: `0x${'05'.repeat(32)}` }, { status: 1 }];
    for (const change of resultChanges) expect(verifyReceipt(domain, { ...r, ...change }).invocationSigner).toBe(user);
  });

  it('a receipt whose callGas exceeds its cumulativeGas answers no invocation', () => {
    const r = settlementReceipt(signReceipt(domain, receipt, key), signInvocation(domain, invocation, key));
    expect(() => verifyReceipt(domain, { ...r, callGas: 31n as Gas })).toThrow(expect.objectContaining({ code: 'InvalidReceipt' }));
  });

  it('bad keys and signatures are typed errors', () => {
    expect(() => signCall(domain, call, '0x1234')).toThrow(ZgasError);
    expect(() => signCall(domain, call, '0x1234')).toThrow(expect.objectContaining({ code: 'InvalidPrivateKey' }));
    const signed = signCall(domain, call, key);
    expect(() => recoverCallSigner(domain, { ...signed, signature: `${signed.signature.slice(0, -2)}00` as Hex })).toThrow(expect.objectContaining({ code: 'InvalidSignature' }));
  });
});
