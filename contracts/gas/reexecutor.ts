import type { CallStatus, Hash } from '../types.ts';
import type { Gas } from '../units.ts';

/** What a re-execution of one call reports; compared field by field with the challenged receipt. */
export interface RerunResult {
  callGas: Gas;
  postStateHash: Hash;
  outputHash: Hash;
  status: CallStatus;
}

export interface RerunRequest {
  /** The zApp's original module bytes (stored under its moduleHash); the re-executor meters them itself. */
  module: Uint8Array;
  /** sha3(module), checked by the caller: the re-executor finds a module it already prepared by it without hashing the bytes again. */
  moduleHash: Hash;
  /** The pre-state in the stateHash encoding (entries sorted by key, u32be(keyLen) ‖ key ‖ u32be(valueLen) ‖ value). */
  preState: Uint8Array;
  input: Uint8Array;
  /** The call's only limit: the receipt's callGasLimit, signed by the user (callGas, to judge an Aborted receipt). */
  gasLimit: Gas;
  /** context_seed of the call: SHA3-256(sessionId ‖ u64be(seq)). */
  seed: Uint8Array;
  /** The genesis maxStateBytes the call ran under (a larger post-state traps). */
  maxStateBytes: number;
  /** The genesis maxInputBytes: a larger input is refused before it runs (LimitExceeded), as the runner refuses it. */
  maxInputBytes: number;
}

/**
 * The contract's port to deterministic re-execution (docs/contract.md §Judging). Synchronous on
 * purpose: apply() stays a plain function (Node compiles and runs wasm synchronously). The host
 * injects the runner's metered runtime; the contract never imports it.
 */
export interface Reexecutor {
  rerun(request: RerunRequest): RerunResult;
}
