/**
 * Signing zgas objects with viem: the same domain and types as with ethers, and a viem account
 * (a local private key here; a wallet client's account signs the same way).
 */
import { encodeAbiParameters, hashTypedData, recoverTypedDataAddress } from 'viem';
import type { Hex, LocalAccount } from 'viem';
import { sha3_256 } from '@noble/hashes/sha3.js';

const types = {
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
} as const;

export const zgasDomain = (chainId: bigint, verifyingContract: Hex) => ({ name: 'zgas', version: '2', chainId, verifyingContract }) as const;

const sha3Hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(sha3_256(bytes)).toString('hex')}`;

/** Call data of `TopUp(bytes32 zAppId, uint256 amount)`: SHA3-256 selector ‖ abi.encode(args). */
export function topUpData(zAppId: Hex, amount: bigint): Hex {
  const selector = sha3Hex(new TextEncoder().encode('TopUp(bytes32,uint256)')).slice(0, 10);
  return `${selector}${encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [zAppId, amount]).slice(2)}` as Hex;
}

export async function signCall(account: LocalAccount, domain: ReturnType<typeof zgasDomain>, nonce: bigint, data: Hex) {
  const signature = await account.signTypedData({ domain, types, primaryType: 'Call', message: { from: account.address, nonce, data } });
  return { from: account.address, nonce: nonce.toString(), data, signature };
}

export const callId = (domain: ReturnType<typeof zgasDomain>, from: Hex, nonce: bigint, data: Hex): Hex =>
  hashTypedData({ domain, types, primaryType: 'Call', message: { from, nonce, data } });

export async function signInvocation(
  account: LocalAccount, domain: ReturnType<typeof zgasDomain>,
  request: { sessionId: Hex; seq: bigint; callGasLimit: bigint; input: Uint8Array; preStateHash: Hex; ackedGas: bigint },
) {
  const message = {
    sessionId: request.sessionId, seq: request.seq, callGasLimit: request.callGasLimit, inputHash: sha3Hex(request.input),
    preStateHash: request.preStateHash, ackedGas: request.ackedGas,
  };
  const signature = await account.signTypedData({ domain, types, primaryType: 'Invocation', message });
  return {
    sessionId: request.sessionId, seq: request.seq.toString(), callGasLimit: request.callGasLimit.toString(),
    input: `0x${Buffer.from(request.input).toString('hex')}`, preStateHash: request.preStateHash, ackedGas: request.ackedGas.toString(), signature,
  };
}

/** The user who signed the invocation a settlement receipt answers (derived from the receipt's own fields). */
export function invocationSigner(domain: ReturnType<typeof zgasDomain>, receipt: {
  sessionId: Hex; seq: string; callGasLimit: string; callGas: string; cumulativeGas: string; inputHash: Hex; preStateHash: Hex; invocationSignature: Hex;
}): Promise<Hex> {
  const message = {
    sessionId: receipt.sessionId, seq: BigInt(receipt.seq), callGasLimit: BigInt(receipt.callGasLimit), inputHash: receipt.inputHash,
    preStateHash: receipt.preStateHash, ackedGas: BigInt(receipt.cumulativeGas) - BigInt(receipt.callGas),
  };
  return recoverTypedDataAddress({ domain, types, primaryType: 'Invocation', message, signature: receipt.invocationSignature });
}
