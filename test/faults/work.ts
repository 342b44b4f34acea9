/**
 * The one place the fault suite builds contract calls and gas receipts (wire shapes of the API as
 * it is): a funded setup (provider, zApp, sessions) and a stream of transfers and receipt batches.
 */
import { encodeMethod } from '../../contracts/abi/index.ts';
import { callHash, receiptDigest, settlementReceipt, signCall, signInvocation, signReceipt } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { receiptToJson } from '../../contracts/json.ts';
import type { Address, GasReceipt, Hash, Method, SettlementReceipt, SignedCall } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { domain, keys, randomHash } from '../integration/fixtures.ts';

export { domain, keys };

/** Gas every receipt of the suite reports for its call. */
export const CALL_GAS = 1_000n;
/** What the provider charges: base units per million gas. */
export const PRICE_PER_MGAS = 1_000_000n;
export const SESSION_GAS_LIMIT = 1_000_000_000n;
export const TRANSFER_AMOUNT = 3n;

/** A signed call of `key`'s account with an explicit nonce. */
export function signedCall(method: Method, key: { privateKey: string; address: string }, nonce: bigint): { call: SignedCall; hash: Hash; body: Record<string, unknown> } {
  const call = signCall(domain, { from: key.address as Address, nonce, data: encodeMethod(method) }, key.privateKey);
  return { call, hash: callHash(domain, call), body: { from: call.from, nonce: call.nonce.toString(), data: call.data, signature: call.signature } };
}

/** The setup calls in order: provider, zApp (id = the call hash), top-up, one session per index. */
export function setupCalls(moduleHash: Hash, sessions: number): { calls: ReturnType<typeof signedCall>[]; sessionIds: Hash[] } {
  const provider = signedCall(
    { name: 'RegisterProvider', receiptSigner: keys.receiptSigner.address as Address, pricePerMgas: PRICE_PER_MGAS as Qsr, upfrontGas: CALL_GAS as Gas, stake: 200_000_000_000n as Qsr },
    keys.provider,
    0n,
  );
  const zApp = signedCall(
    { name: 'RegisterZApp', moduleHash, maxPricePerMgas: (PRICE_PER_MGAS * 10n) as Qsr, maxGasPerSession: SESSION_GAS_LIMIT as Gas, openToAll: false, openGasPerDay: 0n as Gas },
    keys.owner,
    0n,
  );
  const topUp = signedCall({ name: 'TopUp', zAppId: zApp.hash, amount: 10_000_000_000n as Qsr }, keys.owner, 1n);
  const opens = Array.from({ length: sessions }, (_, i) =>
    signedCall(
      {
        name: 'OpenSession', zAppId: zApp.hash, provider: keys.provider.address as Address, user: keys.user.address as Address, gasLimit: SESSION_GAS_LIMIT as Gas, durationSeconds: 86_400n,
        maxPricePerMgas: PRICE_PER_MGAS as Qsr, maxUpfrontGas: CALL_GAS as Gas,
      },
      keys.owner,
      2n + BigInt(i),
    ),
  );
  return { calls: [provider, zApp, topUp, ...opens], sessionIds: opens.map((o) => o.hash) };
}

/** The owner's transfer to the user with this nonce. */
export function transfer(nonce: bigint): ReturnType<typeof signedCall> {
  return signedCall({ name: 'Transfer', to: keys.user.address as Address, amount: TRANSFER_AMOUNT as Qsr }, keys.owner, nonce);
}

/** A settlement receipt: signed by the provider's receipt signer, its invocation by the session's user. */
function settlement(r: GasReceipt): SettlementReceipt {
  return settlementReceipt(signReceipt(domain, r, keys.receiptSigner.privateKey), signInvocation(domain, invocationOf(r), keys.user.privateKey));
}

/** One session's receipt chain, batch by batch: consecutive seqs, each pre-state the previous post-state. */
export class ReceiptChain {
  seq = 0n;
  private post: Hash = EMPTY_STATE_HASH;
  constructor(readonly sessionId: Hash) {}
  next(count: number): { receipts: SettlementReceipt[]; digests: Hash[]; body: { receipts: unknown[] } } {
    const receipts: SettlementReceipt[] = [];
    for (let i = 0; i < count; i++) {
      this.seq += 1n;
      const post = randomHash();
      receipts.push(
        settlement(
          {
            sessionId: this.sessionId,
            seq: this.seq,
            callGasLimit: CALL_GAS as Gas,
            callGas: CALL_GAS as Gas,
            cumulativeGas: (CALL_GAS * this.seq) as Gas,
            inputHash: randomHash(),
            preStateHash: this.post,
            postStateHash: post,
            outputHash: randomHash(),
            status: 1,
          },
        ),
      );
      this.post = post;
    }
    return { receipts, digests: receipts.map((r) => receiptDigest(domain, r)), body: { receipts: receipts.map(receiptToJson) } };
  }
}
