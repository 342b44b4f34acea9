/**
 * Signing through an ethers `Signer` — a `Wallet`, a browser wallet's `JsonRpcSigner` or a hardware
 * wallet — with the EIP-712 domain and types of contracts/eip712, so what a wallet shows and signs
 * is exactly what the contract recovers. The signer never leaves the caller's hands: the client
 * asks it for typed-data signatures only.
 */
import type { Signer, TypedDataDomain } from 'ethers';
import { TYPES } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { parseAddress, parseHex } from '../../contracts/hex.ts';
import { invocationOfRequest } from '../../contracts/invocation.ts';
import type { Address, Call, Hex, Invocation, InvocationRequest, SignedCall, SignedInvocation } from '../../contracts/types.ts';

/** What the client needs of a signer: its address and EIP-712 signatures. */
export type TypedDataSigner = Pick<Signer, 'getAddress' | 'signTypedData'>;

const ethersDomain = (domain: Domain): TypedDataDomain => ({
  name: domain.name,
  version: domain.version,
  chainId: domain.chainId,
  verifyingContract: domain.verifyingContract,
});

/** 65 bytes r ‖ s ‖ v as the wire carries them (ethers signs low s, v = 27/28). */
const signatureHex = (text: string): Hex => parseHex(text.toLowerCase());

export async function signerAddress(signer: TypedDataSigner): Promise<Address> {
  return parseAddress(await signer.getAddress());
}

/** Signs `Call(from, nonce, data)` as the signer's account. */
export async function signCallWith(signer: TypedDataSigner, domain: Domain, call: Call): Promise<SignedCall> {
  const value = { from: call.from, nonce: call.nonce, data: call.data };
  const signature = await signer.signTypedData(ethersDomain(domain), { Call: [...TYPES.Call] }, value);
  return { ...call, signature: signatureHex(signature) };
}

/** Signs an invocation (the input's hash, never the input) as the session's user. */
export async function signInvocationWith(signer: TypedDataSigner, domain: Domain, invocation: Invocation): Promise<Hex> {
  const value = { ...invocation };
  return signatureHex(await signer.signTypedData(ethersDomain(domain), { Invocation: [...TYPES.Invocation] }, value));
}

/** Signs an invocation request as it travels to a runner. */
export async function signInvocationRequestWith(signer: TypedDataSigner, domain: Domain, request: InvocationRequest): Promise<SignedInvocation> {
  const signature = await signInvocationWith(signer, domain, invocationOfRequest(request));
  const { sessionId, seq, callGasLimit, input, preStateHash, ackedGas } = request;
  return { sessionId, seq, callGasLimit, input, preStateHash, ackedGas, signature };
}
