import type { Address, Hash } from '../types.ts';
import type { Gas, Qsr } from '../units.ts';

export type FraudKind = 'challenge' | 'equivocation' | 'contradiction';

/** What an input did, in order; recorded in its momentum and streamed to listeners. */
export type ContractEvent =
  | { type: 'Transferred'; from: Address; to: Address; amount: Qsr }
  | { type: 'ZAppRegistered'; zAppId: Hash; owner: Address; moduleHash: Hash }
  | { type: 'PolicySet'; zAppId: Hash }
  | { type: 'AutoTopUpSet'; zAppId: Hash; minAvailable: Qsr; refill: Qsr }
  | { type: 'AutoToppedUp'; zAppId: Hash; owner: Address; amount: Qsr }
  | { type: 'ToppedUp'; zAppId: Hash; from: Address; amount: Qsr }
  | { type: 'EscrowWithdrawn'; zAppId: Hash; owner: Address; amount: Qsr }
  | { type: 'ProviderRegistered'; provider: Address; receiptSigner: Address; stake: Qsr }
  | { type: 'OfferUpdated'; provider: Address; receiptSigner: Address; pricePerMgas: Qsr; upfrontGas: Gas }
  | { type: 'ProviderRetired'; provider: Address }
  | { type: 'StakeAdded'; provider: Address; amount: Qsr }
  | { type: 'Unbonding'; provider: Address; amount: Qsr; releaseAt: bigint }
  | { type: 'UnbondedWithdrawn'; provider: Address; amount: Qsr }
  | { type: 'SessionOpened'; sessionId: Hash; zAppId: Hash; provider: Address; user: Address; gasLimit: Gas; hold: Qsr; upfrontGas: Gas; expiresAt: bigint }
  | { type: 'SessionExtended'; sessionId: Hash; gasLimit: Gas; hold: Qsr }
  /** The runner must stop the session's running call and run no new invocation. */
  | { type: 'SessionAborted'; sessionId: Hash; provider: Address; closesAt: bigint }
  | { type: 'SessionClosing'; sessionId: Hash; provider: Address; closesAt: bigint }
  | { type: 'SessionFinalized'; sessionId: Hash; released: Qsr; billedGas: Gas }
  | { type: 'FraudProven'; sessionId: Hash; provider: Address; kind: FraudKind; receipt: Hash; slashed: Qsr; reward: Qsr; challenger: Address | null; burned: Qsr; voided: Qsr }
  /** Re-execution upheld the receipt: the bond went to the provider and the seq is judged. */
  | { type: 'ChallengeFailed'; sessionId: Hash; seq: bigint; receipt: Hash; challenger: Address; provider: Address; bond: Qsr }
  | { type: 'EarningsClaimed'; provider: Address; amount: Qsr };
