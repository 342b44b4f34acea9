import type { Gas, Qsr } from './units.ts';

/** 0x-prefixed lowercase hex bytes. */
export type Hex = `0x${string}`;
/** 32-byte hash or id as 0x + 64 lowercase hex digits. */
export type Hash = Hex;
/** 20-byte address, EIP-55 checksummed. */
export type Address = Hex;

export const CallStatus = { Ok: 1, Trapped: 2, OutOfGas: 3, Aborted: 4 } as const;
export type CallStatus = (typeof CallStatus)[keyof typeof CallStatus];

/** The nine signed fields of a gas receipt (DESIGN §4), in order. */
export interface GasReceipt {
  sessionId: Hash;
  seq: bigint;
  callGas: Gas;
  cumulativeGas: Gas;
  inputHash: Hash;
  preStateHash: Hash;
  postStateHash: Hash;
  outputHash: Hash;
  status: CallStatus;
}

export interface SignedReceipt extends GasReceipt {
  /** 65 bytes r ‖ s ‖ v, low s, v = 27/28. */
  signature: Hex;
}

/** A receipt whose signature has been checked outside the state machine. */
export interface VerifiedReceipt {
  receipt: SignedReceipt;
  /** The address the signature recovers to. */
  signer: Address;
  /** The EIP-712 digest of the receipt: its identity. */
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

export interface Invocation {
  sessionId: Hash;
  seq: bigint;
  input: Hex;
}

export interface SignedInvocation extends Invocation {
  signature: Hex;
}

/** A method of the gas contract with its decoded arguments (DESIGN §6). */
export type Method<R = SignedReceipt> =
  | { name: 'Transfer'; to: Address; amount: Qsr }
  | { name: 'RegisterZApp'; moduleHash: Hash; maxPricePerMgas: Qsr; maxGasPerSession: Gas; openToAll: boolean; userGasPerDay: Gas }
  | { name: 'SetPolicy'; zAppId: Hash; maxPricePerMgas: Qsr; maxGasPerSession: Gas; openToAll: boolean; userGasPerDay: Gas }
  | { name: 'SetAutoTopUp'; zAppId: Hash; minAvailable: Qsr; refill: Qsr }
  | { name: 'TopUp'; zAppId: Hash; amount: Qsr }
  | { name: 'WithdrawEscrow'; zAppId: Hash; amount: Qsr }
  | { name: 'RegisterProvider'; receiptSigner: Address; pricePerMgas: Qsr; upfrontGas: Gas; stake: Qsr }
  | { name: 'UpdateOffer'; receiptSigner: Address; pricePerMgas: Qsr; upfrontGas: Gas }
  | { name: 'AddStake'; amount: Qsr }
  | { name: 'Unbond'; amount: Qsr }
  | { name: 'WithdrawUnbonded' }
  | { name: 'OpenSession'; zAppId: Hash; provider: Address; user: Address; gasLimit: Gas; durationSeconds: bigint }
  | { name: 'ExtendSession'; sessionId: Hash; extraGas: Gas }
  | { name: 'Abort'; sessionId: Hash; lastReceipt: R | null }
  | { name: 'CloseSession'; sessionId: Hash }
  | { name: 'Settle'; receipts: R[] }
  | { name: 'Challenge'; receipt: R; input: Hex; preState: Hex }
  | { name: 'ClaimEarnings' };

export type MethodName = Method['name'];
