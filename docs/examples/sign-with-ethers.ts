/**
 * Signing zgas objects with ethers v6 and nothing else: the domain, the three typed-data types and
 * a wallet (any ethers Signer works the same way: a browser wallet, a hardware wallet).
 */
import { AbiCoder, TypedDataEncoder, verifyTypedData } from 'ethers';
import type { Wallet } from 'ethers';
import { sha3_256 } from '@noble/hashes/sha3.js';

export const ZGAS_TYPES = {
  Call: [
    { name: 'from', type: 'address' },
    { name: 'nonce', type: 'uint64' },
    { name: 'data', type: 'bytes' },
  ],
  Invocation: [
    { name: 'sessionId', type: 'bytes32' },
    { name: 'seq', type: 'uint64' },
    { name: 'callGasLimit', type: 'uint64' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'preStateHash', type: 'bytes32' },
    { name: 'ackedGas', type: 'uint64' },
  ],
  GasReceipt: [
    { name: 'sessionId', type: 'bytes32' },
    { name: 'seq', type: 'uint64' },
    { name: 'callGasLimit', type: 'uint64' },
    { name: 'callGas', type: 'uint64' },
    { name: 'cumulativeGas', type: 'uint64' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'preStateHash', type: 'bytes32' },
    { name: 'postStateHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'status', type: 'uint8' },
  ],
};

export const zgasDomain = (chainId: bigint, verifyingContract: string) => ({ name: 'zgas', version: '2', chainId, verifyingContract });

/** SHA3-256 (not keccak) of bytes, as 0x hex: content hashes, input hashes, state hashes. */
export const sha3Hex = (bytes: Uint8Array): string => `0x${Buffer.from(sha3_256(bytes)).toString('hex')}`;

/** The 4-byte selector of a method: the first 4 bytes of SHA3-256 of its signature text. */
export const selector = (signature: string): string => sha3Hex(new TextEncoder().encode(signature)).slice(0, 10);

/** Call data of `TopUp(bytes32 zAppId, uint256 amount)`: selector ‖ abi.encode(args). */
export function topUpData(zAppId: string, amount: bigint): string {
  return selector('TopUp(bytes32,uint256)') + AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [zAppId, amount]).slice(2);
}

/** A signed call, as POST /v1/calls takes it. */
export async function signCall(wallet: Wallet, domain: ReturnType<typeof zgasDomain>, nonce: bigint, data: string) {
  const message = { from: wallet.address, nonce, data };
  const signature = await wallet.signTypedData(domain, { Call: ZGAS_TYPES.Call }, message);
  return { from: wallet.address, nonce: nonce.toString(), data, signature };
}

/** The call's id (and the id of the zApp or session it creates): its EIP-712 digest. */
export const callId = (domain: ReturnType<typeof zgasDomain>, from: string, nonce: bigint, data: string): string =>
  TypedDataEncoder.hash(domain, { Call: ZGAS_TYPES.Call }, { from, nonce, data });

/** A signed invocation, as POST /v1/sessions/:id/calls on a runner takes it: the input travels, the signature covers its hash. */
export async function signInvocation(
  wallet: Wallet, domain: ReturnType<typeof zgasDomain>,
  request: { sessionId: string; seq: bigint; callGasLimit: bigint; input: Uint8Array; preStateHash: string; ackedGas: bigint },
) {
  const inputHash = sha3Hex(request.input);
  const message = { sessionId: request.sessionId, seq: request.seq, callGasLimit: request.callGasLimit, inputHash, preStateHash: request.preStateHash, ackedGas: request.ackedGas };
  const signature = await wallet.signTypedData(domain, { Invocation: ZGAS_TYPES.Invocation }, message);
  return {
    sessionId: request.sessionId, seq: request.seq.toString(), callGasLimit: request.callGasLimit.toString(),
    input: `0x${Buffer.from(request.input).toString('hex')}`, preStateHash: request.preStateHash, ackedGas: request.ackedGas.toString(), signature,
  };
}

/** Who signed a receipt (the provider's receipt signer) and who signed the invocation it answers (the user). */
export function receiptSigners(domain: ReturnType<typeof zgasDomain>, receipt: {
  sessionId: string; seq: string; callGasLimit: string; callGas: string; cumulativeGas: string; inputHash: string;
  preStateHash: string; postStateHash: string; outputHash: string; status: number; signature: string; invocationSignature: string;
}) {
  const { signature, invocationSignature, ...fields } = receipt;
  const ackedGas = BigInt(receipt.cumulativeGas) - BigInt(receipt.callGas);
  const invocation = {
    sessionId: receipt.sessionId, seq: receipt.seq, callGasLimit: receipt.callGasLimit, inputHash: receipt.inputHash,
    preStateHash: receipt.preStateHash, ackedGas,
  };
  return {
    receiptSigner: verifyTypedData(domain, { GasReceipt: ZGAS_TYPES.GasReceipt }, fields, signature),
    user: verifyTypedData(domain, { Invocation: ZGAS_TYPES.Invocation }, invocation, invocationSignature),
    identity: TypedDataEncoder.hash(domain, { GasReceipt: ZGAS_TYPES.GasReceipt }, fields),
  };
}
