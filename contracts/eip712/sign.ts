import { bytesToHex } from '../hex.ts';
import type { Address, Call, GasReceipt, Hash, Invocation, SignedCall, SignedInvocation, SignedReceipt, VerifiedReceipt } from '../types.ts';
import { defaultBackend, privateKeyBytes } from './backends.ts';
import type { SignatureBackend } from './backends.ts';
import { callDigestBytes, invocationDigestBytes, receiptDigestBytes } from './typed.ts';
import type { Domain } from './typed.ts';

type PrivateKey = Uint8Array | string;
const keyBytes = (key: PrivateKey): Uint8Array => (typeof key === 'string' ? privateKeyBytes(key) : key);

/** The id of a call and of what it creates (zApp, session): its EIP-712 digest. */
export const callHash = (domain: Domain, call: Call): Hash => bytesToHex(callDigestBytes(domain, call));

export function signCall(domain: Domain, call: Call, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): SignedCall {
  const { from, nonce, data } = call;
  return { from, nonce, data, signature: backend.sign(callDigestBytes(domain, call), keyBytes(privateKey)) };
}

export function recoverCallSigner(domain: Domain, signed: SignedCall, backend: SignatureBackend = defaultBackend): Address {
  return backend.recover(callDigestBytes(domain, signed), signed.signature);
}

export function signReceipt(domain: Domain, receipt: GasReceipt, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): SignedReceipt {
  const { sessionId, seq, callGas, cumulativeGas, inputHash, preStateHash, postStateHash, outputHash, status } = receipt;
  const signature = backend.sign(receiptDigestBytes(domain, receipt), keyBytes(privateKey));
  return { sessionId, seq, callGas, cumulativeGas, inputHash, preStateHash, postStateHash, outputHash, status, signature };
}

export function recoverReceiptSigner(domain: Domain, signed: SignedReceipt, backend: SignatureBackend = defaultBackend): Address {
  return backend.recover(receiptDigestBytes(domain, signed), signed.signature);
}

/** Computes the receipt digest once and recovers its signer: what a verification worker does per receipt. */
export function verifyReceipt(domain: Domain, signed: SignedReceipt, backend: SignatureBackend = defaultBackend): VerifiedReceipt {
  const digest = receiptDigestBytes(domain, signed);
  const signer = backend.recover(digest, signed.signature);
  return { receipt: signed, signer, digest: bytesToHex(digest) };
}

export function signInvocation(domain: Domain, invocation: Invocation, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): SignedInvocation {
  const { sessionId, seq, input } = invocation;
  return { sessionId, seq, input, signature: backend.sign(invocationDigestBytes(domain, invocation), keyBytes(privateKey)) };
}

export function recoverInvocationSigner(domain: Domain, signed: SignedInvocation, backend: SignatureBackend = defaultBackend): Address {
  return backend.recover(invocationDigestBytes(domain, signed), signed.signature);
}
