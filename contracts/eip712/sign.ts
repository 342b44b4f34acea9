import { bytesToHex } from '../hex.ts';
import { invocationOf, invocationOfRequest } from '../invocation.ts';
import type { Address, Call, GasReceipt, Hash, Hex, Invocation, InvocationRequest, SettlementReceipt, SignedCall, SignedInvocation, SignedReceipt, VerifiedReceipt } from '../types.ts';
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

/** The ten GasReceipt fields of any receipt-shaped object, nothing else. */
export function gasReceiptFields(r: GasReceipt): GasReceipt {
  const { sessionId, seq, callGasLimit, callGas, cumulativeGas, inputHash, preStateHash, postStateHash, outputHash, status } = r;
  return { sessionId, seq, callGasLimit, callGas, cumulativeGas, inputHash, preStateHash, postStateHash, outputHash, status };
}

/** The provider's receipt signer signs a receipt. */
export function signReceipt(domain: Domain, receipt: GasReceipt, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): SignedReceipt {
  const signature = backend.sign(receiptDigestBytes(domain, receipt), keyBytes(privateKey));
  return { ...gasReceiptFields(receipt), signature };
}

export function recoverReceiptSigner(domain: Domain, signed: SignedReceipt, backend: SignatureBackend = defaultBackend): Address {
  return backend.recover(receiptDigestBytes(domain, signed), signed.signature);
}

/** The session's user signs an invocation; the signature alone (it travels with the request or the receipt). */
export function signInvocation(domain: Domain, invocation: Invocation, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): Hex {
  return backend.sign(invocationDigestBytes(domain, invocation), keyBytes(privateKey));
}

export function recoverInvocationSigner(domain: Domain, invocation: Invocation, signature: Hex, backend: SignatureBackend = defaultBackend): Address {
  return backend.recover(invocationDigestBytes(domain, invocation), signature);
}

/** Signs an invocation request as it is sent to a runner (the signature covers the input's hash). */
export function signInvocationRequest(domain: Domain, request: InvocationRequest, privateKey: PrivateKey, backend: SignatureBackend = defaultBackend): SignedInvocation {
  const { sessionId, seq, callGasLimit, input, preStateHash, ackedGas } = request;
  const signature = signInvocation(domain, invocationOfRequest(request), privateKey, backend);
  return { sessionId, seq, callGasLimit, input, preStateHash, ackedGas, signature };
}

export function recoverInvocationRequestSigner(domain: Domain, signed: SignedInvocation, backend: SignatureBackend = defaultBackend): Address {
  return recoverInvocationSigner(domain, invocationOfRequest(signed), signed.signature, backend);
}

/** Joins a provider-signed receipt with the user's signature over the invocation it answers. */
export function settlementReceipt(signed: SignedReceipt, invocationSignature: Hex): SettlementReceipt {
  return { ...gasReceiptFields(signed), signature: signed.signature, invocationSignature };
}

/**
 * What a verification worker does per settlement receipt: the receipt digest (its identity) once,
 * the receipt signer, and the signer of the invocation derived from the receipt's fields.
 */
export function verifyReceipt(domain: Domain, signed: SettlementReceipt, backend: SignatureBackend = defaultBackend): VerifiedReceipt {
  const digest = receiptDigestBytes(domain, signed);
  const signer = backend.recover(digest, signed.signature);
  const invocationSigner = backend.recover(invocationDigestBytes(domain, invocationOf(signed)), signed.invocationSignature);
  return { receipt: signed, signer, invocationSigner, digest: bytesToHex(digest) };
}
