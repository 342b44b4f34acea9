import { AbiCoder, Signature, TypedDataEncoder, getAddress, Wallet, verifyTypedData } from 'ethers';
import * as noble from '@noble/secp256k1';
import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { METHOD_SIGNATURES, decodeReceipt, encodeReceipt, selectors } from '../abi/index.ts';
import { EMPTY_STATE_HASH, stateHash } from '../hash.ts';
import { hexToBytes, utf8Bytes } from '../hex.ts';
import { invocationOf, invocationOfRequest } from '../invocation.ts';
import { invocationFromJson, invocationToJson, receiptFromJson, receiptToJson } from '../json.ts';
import type { Call, GasReceipt, Hex, Invocation, SignedCall, SignedReceipt } from '../types.ts';
import { parseGas, parseUint64 } from '../units.ts';
import {
  TYPES,
  addressOf,
  addressOfPublicKey,
  callDigest,
  callHash,
  callStructHash,
  domainSeparator,
  ethersBackend,
  invocationDigest,
  invocationStructHash,
  makeDomain,
  nativeBackend,
  nobleBackend,
  receiptDigest,
  receiptStructHash,
  recoverCallSigner,
  recoverInvocationSigner,
  recoverReceiptSigner,
  signCall,
  recoverInvocationRequestSigner,
  settlementReceipt,
  signInvocation,
  signInvocationRequest,
  signReceipt,
  verifyReceipt,
} from './index.ts';
import type { SignatureBackend } from './index.ts';

const domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
const ethersDomain = { ...vectors.domain };

const call: Call = {
  from: vectors.call.message.from as Hex,
  nonce: parseUint64(vectors.call.message.nonce),
  data: vectors.call.message.data as Hex,
};
const rm = vectors.receipt.message;
const receipt: GasReceipt = {
  sessionId: rm.sessionId as Hex,
  seq: parseUint64(rm.seq),
  callGasLimit: parseGas(rm.callGasLimit),
  callGas: parseGas(rm.callGas),
  cumulativeGas: parseGas(rm.cumulativeGas),
  inputHash: rm.inputHash as Hex,
  preStateHash: rm.preStateHash as Hex,
  postStateHash: rm.postStateHash as Hex,
  outputHash: rm.outputHash as Hex,
  status: 1,
};
const im = vectors.invocation.message;
const invocation: Invocation = {
  sessionId: im.sessionId as Hex,
  seq: parseUint64(im.seq),
  callGasLimit: parseGas(im.callGasLimit),
  inputHash: im.inputHash as Hex,
  preStateHash: im.preStateHash as Hex,
  ackedGas: parseGas(im.ackedGas),
};
const key = (name: keyof typeof vectors.keys) => hexToBytes(vectors.keys[name].privateKey);

if (nativeBackend === null) throw new Error('the native secp256k1 binding must load on this platform');
const backends: SignatureBackend[] = [nativeBackend, nobleBackend, ethersBackend];

describe('golden vectors: selectors', () => {
  it('every method signature hashes to its pinned selector, and no method is missing', () => {
    expect(Object.keys(vectors.selectors).sort()).toEqual(Object.values(METHOD_SIGNATURES).sort());
    for (const [name, signature] of Object.entries(METHOD_SIGNATURES)) {
      expect(selectors[name as keyof typeof selectors], signature).toBe(vectors.selectors[signature as keyof typeof vectors.selectors]);
    }
  });
});

describe('golden vectors: domain and types', () => {
  it('the domain and types match the vectors', () => {
    expect({ ...domain, chainId: Number(domain.chainId), verifyingContract: domain.verifyingContract.toLowerCase() }).toEqual(vectors.domain);
    expect(domain.verifyingContract).toBe(getAddress(vectors.domain.verifyingContract));
    expect(TYPES).toEqual(vectors.types);
  });

  it('the domain separator equals ethers', () => {
    expect(domainSeparator(domain)).toBe(TypedDataEncoder.hashDomain(ethersDomain));
  });

  it('the keys derive to their addresses', () => {
    for (const k of Object.values(vectors.keys)) {
      expect(addressOf(hexToBytes(k.privateKey))).toBe(k.address);
      expect(new Wallet(k.privateKey).address).toBe(k.address);
    }
  });
});

describe('golden vectors: call', () => {
  it('struct hash and digest equal the vectors and ethers TypedDataEncoder', () => {
    expect(callStructHash(call)).toBe(vectors.call.structHash);
    expect(TypedDataEncoder.from({ Call: TYPES.Call }).hash(vectors.call.message)).toBe(vectors.call.structHash);
    expect(callDigest(domain, call)).toBe(vectors.call.digest);
    expect(callHash(domain, call)).toBe(vectors.call.digest);
    expect(TypedDataEncoder.hash(ethersDomain, { Call: TYPES.Call }, vectors.call.message)).toBe(vectors.call.digest);
  });

  it.each(backends.map((b) => [b.name, b] as const))('%s signs the pinned signature and recovers the signer', (_name, backend) => {
    const signed = signCall(domain, call, key('owner'), backend);
    expect(signed.signature).toBe(vectors.call.signature);
    expect(recoverCallSigner(domain, signed, backend)).toBe(vectors.call.signer);
    expect(backend.recover(hexToBytes(vectors.call.digest), vectors.call.signature as Hex)).toBe(vectors.call.signer);
  });

  it('ethers Wallet.signTypedData produces the same signature and verifyTypedData accepts it', async () => {
    const wallet = new Wallet(vectors.keys.owner.privateKey);
    expect(await wallet.signTypedData(ethersDomain, { Call: TYPES.Call }, vectors.call.message)).toBe(vectors.call.signature);
    expect(verifyTypedData(ethersDomain, { Call: TYPES.Call }, vectors.call.message, vectors.call.signature)).toBe(vectors.call.signer);
  });

  it('a signature over another nonce recovers to someone else', () => {
    const signed: SignedCall = { ...call, nonce: call.nonce + 1n, signature: vectors.call.signature as Hex };
    for (const b of backends) expect(recoverCallSigner(domain, signed, b)).not.toBe(vectors.call.signer);
  });
});

describe('golden vectors: receipt', () => {
  it('struct hash and digest equal the vectors and ethers TypedDataEncoder', () => {
    expect(receiptStructHash(receipt)).toBe(vectors.receipt.structHash);
    expect(TypedDataEncoder.from({ GasReceipt: TYPES.GasReceipt }).hash(rm)).toBe(vectors.receipt.structHash);
    expect(receiptDigest(domain, receipt)).toBe(vectors.receipt.digest);
    expect(TypedDataEncoder.hash(ethersDomain, { GasReceipt: TYPES.GasReceipt }, rm)).toBe(vectors.receipt.digest);
  });

  it.each(backends.map((b) => [b.name, b] as const))('%s signs the pinned signature, verifies it and rejects the high-s twin', (_name, backend) => {
    const signed = signReceipt(domain, receipt, key('receiptSigner'), backend);
    expect(signed.signature).toBe(vectors.receipt.signature);
    expect(recoverReceiptSigner(domain, signed, backend)).toBe(vectors.receipt.signer);
    const settlement = settlementReceipt(signed, vectors.invocation.signature as Hex);
    expect(verifyReceipt(domain, settlement, backend)).toEqual({
      receipt: settlement, signer: vectors.receipt.signer, invocationSigner: vectors.invocation.signer, digest: vectors.receipt.digest,
    });
    const highS: SignedReceipt = { ...signed, signature: vectors.receipt.highSSignatureMustBeRejected as Hex };
    expect(() => recoverReceiptSigner(domain, highS, backend)).toThrow(expect.objectContaining({ code: 'HighS' }));
    expect(() => verifyReceipt(domain, settlementReceipt(highS, settlement.invocationSignature), backend)).toThrow(expect.objectContaining({ code: 'HighS' }));
  });

  it('the high-s twin is the same signature with s negated and v flipped (so it would otherwise recover)', () => {
    const low = Signature.from(vectors.receipt.signature);
    const high = vectors.receipt.highSSignatureMustBeRejected;
    expect(high.slice(0, 66)).toBe(low.r);
    // Plain ECDSA recovery (no low-s rule) gets the signer back from the malleated form: only the HighS check stops it.
    const bytes = hexToBytes(high);
    const recovered = new Uint8Array(65);
    recovered[0] = bytes[64]! - 27;
    recovered.set(bytes.subarray(0, 64), 1);
    const publicKey = noble.recoverPublicKey(recovered, hexToBytes(vectors.receipt.digest), { prehash: false, isCompressed: false });
    expect(addressOfPublicKey(publicKey)).toBe(vectors.receipt.signer);
    expect(high.slice(-2)).not.toBe(vectors.receipt.signature.slice(-2));
  });

  it('ethers Wallet.signTypedData produces the same signature', async () => {
    const wallet = new Wallet(vectors.keys.receiptSigner.privateKey);
    expect(await wallet.signTypedData(ethersDomain, { GasReceipt: TYPES.GasReceipt }, rm)).toBe(vectors.receipt.signature);
    expect(verifyTypedData(ethersDomain, { GasReceipt: TYPES.GasReceipt }, rm, vectors.receipt.signature)).toBe(vectors.receipt.signer);
  });
});

describe('golden vectors: invocation', () => {
  it('digest equals the vector and ethers TypedDataEncoder', () => {
    expect(invocationDigest(domain, invocation)).toBe(vectors.invocation.digest);
    expect(invocationStructHash(invocation)).toBe(TypedDataEncoder.from({ Invocation: TYPES.Invocation }).hash(im));
    expect(TypedDataEncoder.hash(ethersDomain, { Invocation: TYPES.Invocation }, im)).toBe(vectors.invocation.digest);
  });

  it.each(backends.map((b) => [b.name, b] as const))('%s signs the pinned signature and recovers the user', (_name, backend) => {
    expect(signInvocation(domain, invocation, key('user'), backend)).toBe(vectors.invocation.signature);
    expect(recoverInvocationSigner(domain, invocation, vectors.invocation.signature as Hex, backend)).toBe(vectors.invocation.signer);
  });

  it.each(backends.map((b) => [b.name, b] as const))('%s signs the wire form: the signature covers the hash of the input that travels', (_name, backend) => {
    const wire = invocationFromJson(vectors.invocation.wire);
    expect(invocationOfRequest(wire)).toEqual(invocation);
    const { signature: _signature, ...request } = wire;
    expect(signInvocationRequest(domain, request, key('user'), backend)).toEqual(wire);
    expect(recoverInvocationRequestSigner(domain, wire, backend)).toBe(vectors.invocation.signer);
    expect(invocationToJson(wire)).toEqual(vectors.invocation.wire);
  });

  it('the invocation is derived from the receipt it answers', () => {
    expect(invocationOf(receipt)).toEqual(invocation);
  });

  it('ethers Wallet.signTypedData produces the same signature', async () => {
    const wallet = new Wallet(vectors.keys.user.privateKey);
    expect(await wallet.signTypedData(ethersDomain, { Invocation: TYPES.Invocation }, im)).toBe(vectors.invocation.signature);
    expect(verifyTypedData(ethersDomain, { Invocation: TYPES.Invocation }, im, vectors.invocation.signature)).toBe(vectors.invocation.signer);
  });

  it('a signature for another seq, limit, pre-state or acknowledged gas does not recover the user', () => {
    const signature = vectors.invocation.signature as Hex;
    const variants: Invocation[] = [
      { ...invocation, seq: 2n },
      { ...invocation, callGasLimit: (invocation.callGasLimit + 1n) as typeof invocation.callGasLimit },
      { ...invocation, preStateHash: vectors.stateHash.countIs1.hash as Hex },
      { ...invocation, ackedGas: 1n as typeof invocation.ackedGas },
    ];
    for (const b of backends) for (const v of variants) expect(recoverInvocationSigner(domain, v, signature, b)).not.toBe(vectors.invocation.signer);
  });
});

describe('golden vectors: settlement receipt', () => {
  const json = vectors.settlementReceipt.json;

  it('its JSON decodes to the receipt and both signatures, and encodes back', () => {
    const r = receiptFromJson(json);
    expect({ ...r, signature: undefined, invocationSignature: undefined }).toEqual({ ...receipt, signature: undefined, invocationSignature: undefined });
    expect(r.signature).toBe(vectors.receipt.signature);
    expect(r.invocationSignature).toBe(vectors.invocation.signature);
    expect(receiptToJson(r)).toEqual(json);
  });

  it('its Settle element is the pinned bytes, equal to ethers AbiCoder, and decodes back', () => {
    const r = receiptFromJson(json);
    expect(encodeReceipt(r)).toBe(vectors.settlementReceipt.settleElement);
    const types = ['bytes32', 'uint64', 'uint64', 'uint64', 'uint64', 'bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint8', 'bytes', 'bytes'];
    const values = [r.sessionId, r.seq, r.callGasLimit, r.callGas, r.cumulativeGas, r.inputHash, r.preStateHash, r.postStateHash, r.outputHash, r.status, r.signature, r.invocationSignature];
    expect(AbiCoder.defaultAbiCoder().encode(types, values)).toBe(vectors.settlementReceipt.settleElement);
    expect(decodeReceipt(vectors.settlementReceipt.settleElement as Hex)).toEqual(r);
  });

  it.each(backends.map((b) => [b.name, b] as const))('%s verifies both signers of the settlement receipt', (_name, backend) => {
    const verified = verifyReceipt(domain, receiptFromJson(json), backend);
    expect(verified.signer).toBe(vectors.receipt.signer);
    expect(verified.invocationSigner).toBe(vectors.invocation.signer);
    expect(verified.digest).toBe(vectors.receipt.digest);
  });

  it('the identity leaves the signatures out: a re-signed copy has the same digest', () => {
    const r = receiptFromJson(json);
    const resigned = settlementReceipt(signReceipt(domain, receipt, key('user')), signInvocation(domain, invocation, key('owner')));
    expect(verifyReceipt(domain, resigned).digest).toBe(verifyReceipt(domain, r).digest);
    expect(verifyReceipt(domain, resigned).signer).not.toBe(vectors.receipt.signer);
  });
});

describe('golden vectors: state hashes', () => {
  it('the empty state hashes to the vector', () => {
    expect(EMPTY_STATE_HASH).toBe(vectors.stateHash.empty);
    expect(stateHash([])).toBe(vectors.stateHash.empty);
  });

  it('count = 1 hashes to the vector', () => {
    const entries = vectors.stateHash.countIs1.entries.map(([k, v]) => [utf8Bytes(k!), hexToBytes(v!)] as const);
    expect(stateHash(entries)).toBe(vectors.stateHash.countIs1.hash);
  });

  it('the receipt vector chains the two state hashes', () => {
    expect(receipt.preStateHash).toBe(vectors.stateHash.empty);
    expect(receipt.postStateHash).toBe(vectors.stateHash.countIs1.hash);
  });
});

describe('errors are typed', () => {
  it('a domain other than zgas/2 is refused (no v1 signature is valid)', () => {
    expect(() => callDigest({ ...domain, chainId: 1n, name: 'other' as 'zgas' }, call)).toThrow(expect.objectContaining({ code: 'InvalidField' }));
    // Also when the same chain and contract are already cached.
    expect(callDigest(domain, call)).toBe(vectors.call.digest);
    expect(() => callDigest({ ...domain, name: 'other' as 'zgas' }, call)).toThrow(expect.objectContaining({ code: 'InvalidField' }));
    expect(() => callDigest({ ...domain, version: '1' as '2' }, call)).toThrow(expect.objectContaining({ code: 'InvalidField' }));
  });
});
