import { randomBytes } from 'node:crypto';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { makeDomain, settlementReceipt, signCall, signInvocation, signReceipt } from '../../contracts/eip712/index.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { bytesToHex, hexToBytes } from '../../contracts/hex.ts';
import { receiptToJson } from '../../contracts/json.ts';
import type { Address, GasReceipt, Hash, Hex, SettlementReceipt, SignedCall } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import vectors from '../vectors/vectors.json' with { type: 'json' };

export { REDIS_URL } from '../support/redis.ts';
export const keys = vectors.keys;
export const domain: Domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);

export const randomHash = (): Hash => bytesToHex(randomBytes(32)) as Hash;
export const testTag = (): string => randomBytes(4).toString('hex');

/**
 * A settlement receipt for `sessionId`, call `seq`: signed by `key` (default the vectors' receipt
 * signer) and its invocation by `userKey` (default the vectors' user).
 */
export function receipt(sessionId: Hash, seq: bigint, callGas = 1_000n, key = keys.receiptSigner.privateKey, userKey = keys.user.privateKey): SettlementReceipt {
  return settlementOf(
    {
      sessionId,
      seq,
      callGasLimit: (callGas * 2n) as Gas,
      callGas: callGas as Gas,
      cumulativeGas: (callGas * seq) as Gas,
      inputHash: randomHash(),
      preStateHash: randomHash(),
      postStateHash: randomHash(),
      outputHash: randomHash(),
      status: 1,
    },
    key,
    userKey,
  );
}

/** The settlement receipt of `fields`: the receipt signed by `key`, its invocation by `userKey`. */
export function settlementOf(fields: GasReceipt, key: string, userKey: string, on: Domain = domain): SettlementReceipt {
  return settlementReceipt(signReceipt(on, fields, key), signInvocation(on, invocationOf(fields), userKey));
}

export const receiptJson = (r: SettlementReceipt) => receiptToJson(r) as unknown as Record<string, unknown>;

export function transferCall(nonce: bigint, key = keys.owner.privateKey, from: string = keys.owner.address): SignedCall {
  const data = encodeMethod({ name: 'Transfer', to: keys.user.address as Address, amount: 5n as Qsr });
  return signCall(domain, { from: from as Address, nonce, data }, key);
}

export function callJson(c: SignedCall): Record<string, unknown> {
  return { from: c.from, nonce: c.nonce.toString(), data: c.data, signature: c.signature };
}

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The same signature with s replaced by n - s (and v flipped): valid on the curve, but high s. */
export function highS(signature: Hex): Hex {
  const bytes = hexToBytes(signature);
  const s = BigInt(bytesToHex(bytes.subarray(32, 64)));
  const flipped = hexToBytes(`0x${(CURVE_ORDER - s).toString(16).padStart(64, '0')}`);
  const out = new Uint8Array(bytes);
  out.set(flipped, 32);
  out[64] = bytes[64] === 27 ? 28 : 27;
  return bytesToHex(out);
}
