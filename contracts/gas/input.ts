import type { Address, Hash, Method, VerifiedReceipt } from '../types.ts';
import type { Reexecutor } from './reexecutor.ts';

/** A call signed by an account, signature already verified (receipts inside verified too). */
export interface CallInput {
  kind: 'call';
  from: Address;
  nonce: bigint;
  /** The call's EIP-712 digest: the id of the zApp or session it creates. */
  callHash: Hash;
  method: Method<VerifiedReceipt>;
}

/** A Settle batch submitted without an account (the settlement pipeline's input). */
export interface ReceiptsInput {
  kind: 'receipts';
  receipts: VerifiedReceipt[];
}

export type Input = CallInput | ReceiptsInput;

export interface Context {
  height: bigint;
  /** Unix seconds of the momentum; the contract's only clock. */
  timestamp: bigint;
  /** Re-executes a challenged call (the runner's metered runtime, injected by the host). */
  reexecutor?: Reexecutor;
  /** The module bytes stored under a zApp's moduleHash. */
  loadModule?: (moduleHash: Hash) => Uint8Array | undefined;
}

