import { Wallet, getAddress } from 'ethers';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import * as withEthers from '../../docs/examples/sign-with-ethers.ts';
import * as withViem from '../../docs/examples/sign-with-viem.ts';
import vectors from '../vectors/vectors.json' with { type: 'json' };

// The protocol document's examples must produce the golden vectors byte for byte.
const { chainId, verifyingContract } = vectors.domain;
const call = vectors.call;
const inv = vectors.invocation;
const input = Buffer.from(inv.wire.input.slice(2), 'hex');
const request = {
  sessionId: inv.message.sessionId as Hex, seq: BigInt(inv.message.seq), callGasLimit: BigInt(inv.message.callGasLimit), input,
  preStateHash: inv.message.preStateHash as Hex, ackedGas: BigInt(inv.message.ackedGas),
};

describe('docs/examples/sign-with-ethers.ts', () => {
  const domain = withEthers.zgasDomain(BigInt(chainId), verifyingContract);

  it('builds the call data, the signed call and its id of the vectors', async () => {
    const data = withEthers.topUpData(`0x${'ab'.repeat(32)}`, 250_000_000n);
    expect(data).toBe(call.message.data);
    expect(withEthers.selector('TopUp(bytes32,uint256)')).toBe(vectors.selectors['TopUp(bytes32,uint256)']);
    const signed = await withEthers.signCall(new Wallet(vectors.keys.owner.privateKey), domain, BigInt(call.message.nonce), data);
    expect(signed).toEqual({ ...call.message, signature: call.signature });
    expect(withEthers.callId(domain, call.message.from, BigInt(call.message.nonce), data)).toBe(call.digest);
  });

  it('signs the invocation of the vectors in its wire form', async () => {
    expect(await withEthers.signInvocation(new Wallet(vectors.keys.user.privateKey), domain, request)).toEqual(inv.wire);
  });

  it('recovers both signers and the identity of the settlement receipt', () => {
    expect(withEthers.receiptSigners(domain, vectors.settlementReceipt.json)).toEqual({
      receiptSigner: vectors.receipt.signer, user: inv.signer, identity: vectors.receipt.digest,
    });
  });
});

describe('docs/examples/sign-with-viem.ts', () => {
  const domain = withViem.zgasDomain(BigInt(chainId), verifyingContract as Hex);

  it('builds the call data, the signed call and its id of the vectors', async () => {
    const data = withViem.topUpData(`0x${'ab'.repeat(32)}`, 250_000_000n);
    expect(data).toBe(call.message.data);
    const signed = await withViem.signCall(privateKeyToAccount(vectors.keys.owner.privateKey as Hex), domain, BigInt(call.message.nonce), data);
    expect({ ...signed, from: getAddress(signed.from) }).toEqual({ ...call.message, signature: call.signature });
    expect(withViem.callId(domain, call.message.from as Hex, BigInt(call.message.nonce), data)).toBe(call.digest);
  });

  it('signs the invocation of the vectors in its wire form', async () => {
    expect(await withViem.signInvocation(privateKeyToAccount(vectors.keys.user.privateKey as Hex), domain, request)).toEqual(inv.wire);
  });

  it('recovers the user from a settlement receipt', async () => {
    const r = vectors.settlementReceipt.json;
    expect(await withViem.invocationSigner(domain, { ...r, sessionId: r.sessionId as Hex, inputHash: r.inputHash as Hex, preStateHash: r.preStateHash as Hex, invocationSignature: r.invocationSignature as Hex })).toBe(inv.signer);
  });
});
