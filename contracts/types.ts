import type { Gas, Qsr } from './units.ts';

/** 0x-prefixed lowercase hex bytes. */
export type Hex = `0x${string}`;
/** 32-byte hash or id as 0x + 64 lowercase hex digits. */
export type Hash = Hex;
/** 20-byte address, EIP-55 checksummed. */
export type Address = Hex;

export const CallStatus = { Ok: 1, Trapped: 2, OutOfGas: 3, Aborted: 4 } as const;
export type CallStatus = (typeof CallStatus)[keyof typeof CallStatus];

/** The ten signed fields of a gas receipt (docs/protocol.md §Signatures), in order; signed by the provider's receipt signer. */
export interface GasReceipt {
  sessionId: Hash;
  seq: bigint;
  /** The limit the user set for this call in its invocation. */
  callGasLimit: Gas;
  callGas: Gas;
  cumulativeGas: Gas;
  inputHash: Hash;
  preStateHash: Hash;
  postStateHash: Hash;
  outputHash: Hash;
  status: CallStatus;
}

/** A gas receipt with the provider's signature. */
export interface SignedReceipt extends GasReceipt {
  /** 65 bytes r ‖ s ‖ v, low s, v = 27/28, by the session's receipt signer. */
  signature: Hex;
}

/**
 * What the contract bills (docs/protocol.md §Signatures): the provider-signed receipt plus the
 * session user's signature over the invocation derived from the receipt's own fields
 * (`invocationOf`).
 */
export interface SettlementReceipt extends SignedReceipt {
  invocationSignature: Hex;
}

/** A settlement receipt whose two signatures have been recovered outside the state machine. */
export interface VerifiedReceipt {
  receipt: SettlementReceipt;
  /** The address the receipt signature recovers to. */
  signer: Address;
  /** The address the invocation signature recovers to. */
  invocationSigner: Address;
  /** The EIP-712 digest of the GasReceipt: its identity (signatures are never part of it). */
  digest: Hash;
}

export interface Call {
  from: Address;
  nonce: bigint;
  data: Hex;
}

export interface SignedCall extends Call {
  signature: Hex;
}

/**
 * The request to run one call, signed by the session's user (docs/protocol.md §Signatures).
 * `preStateHash` and `ackedGas` acknowledge receipt `seq - 1` (for seq 1: the empty state's hash
 * and 0).
 */
export interface Invocation {
  sessionId: Hash;
  seq: bigint;
  callGasLimit: Gas;
  inputHash: Hash;
  preStateHash: Hash;
  ackedGas: Gas;
}

/** An invocation as it travels to a runner: the input itself, the signature covers its hash. */
export interface InvocationRequest {
  sessionId: Hash;
  seq: bigint;
  callGasLimit: Gas;
  input: Hex;
  preStateHash: Hash;
  ackedGas: Gas;
}

export interface SignedInvocation extends InvocationRequest {
  signature: Hex;
}

/** One state write of a call, in call order; `value` null is a delete. */
export interface StateWrite {
  key: Hex;
  value: Hex | null;
}

/** A method of the gas contract with its decoded arguments (docs/protocol.md §Call data). */
export type Method<R = SettlementReceipt> =
  | { name: 'Transfer'; to: Address; amount: Qsr }
  | { name: 'RegisterZApp'; moduleHash: Hash; maxPricePerMgas: Qsr; maxGasPerSession: Gas; openToAll: boolean; openGasPerDay: Gas }
  | { name: 'SetPolicy'; zAppId: Hash; maxPricePerMgas: Qsr; maxGasPerSession: Gas; openToAll: boolean; openGasPerDay: Gas }
  | { name: 'SetAutoTopUp'; zAppId: Hash; minAvailable: Qsr; refill: Qsr }
  | { name: 'TopUp'; zAppId: Hash; amount: Qsr }
  | { name: 'WithdrawEscrow'; zAppId: Hash; amount: Qsr }
  | { name: 'RegisterProvider'; receiptSigner: Address; pricePerMgas: Qsr; upfrontGas: Gas; stake: Qsr }
  | { name: 'UpdateOffer'; receiptSigner: Address; pricePerMgas: Qsr; upfrontGas: Gas }
  | { name: 'AddStake'; amount: Qsr }
  | { name: 'Unbond'; amount: Qsr }
  | { name: 'WithdrawUnbonded' }
  | { name: 'Retire' }
  | { name: 'OpenSession'; zAppId: Hash; provider: Address; user: Address; gasLimit: Gas; durationSeconds: bigint; maxPricePerMgas: Qsr; maxUpfrontGas: Gas }
  | { name: 'ExtendSession'; sessionId: Hash; extraGas: Gas }
  | { name: 'Abort'; sessionId: Hash }
  | { name: 'CloseSession'; sessionId: Hash }
  | { name: 'FinalizeSession'; sessionId: Hash }
  | { name: 'Settle'; receipts: R[] }
  | { name: 'Challenge'; receipt: R; input: Hex; preState: Hex }
  | { name: 'ClaimEarnings' };

export type MethodName = Method['name'];
