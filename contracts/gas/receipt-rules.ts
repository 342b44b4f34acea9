import type { ErrorCode } from '../errors.ts';
import { sha3 } from '../hash.ts';
import { CallStatus } from '../types.ts';
import type { GasReceipt, VerifiedReceipt } from '../types.ts';
import { MAX_UINT64 } from '../units.ts';
import { MAX_CALL_GAS_LIMIT } from './limits.ts';
import type { Session } from './state.ts';

/** SHA3-256 of no bytes: the outputHash of a call that did not end Ok. */
export const EMPTY_OUTPUT_HASH = sha3(new Uint8Array(0));

const isGas = (v: unknown): boolean => typeof v === 'bigint' && v >= 0n && v <= MAX_UINT64;

/**
 * The status rules (docs/protocol.md §Signatures) on the receipt alone: seq ≥ 1, callGas ≤
 * callGasLimit ≤ MAX_CALL_GAS_LIMIT, callGas ≤ cumulativeGas, a known status; OutOfGas used its
 * whole limit; a call that did not end Ok keeps its pre-state and has no output.
 */
export function receiptShapeOk(r: GasReceipt): boolean {
  const status: number = r.status;
  if (!isGas(r.seq) || r.seq < 1n || !isGas(r.callGasLimit) || !isGas(r.callGas) || !isGas(r.cumulativeGas)) return false;
  if (r.callGasLimit > MAX_CALL_GAS_LIMIT || r.callGas > r.callGasLimit || r.callGas > r.cumulativeGas) return false;
  if (!Number.isInteger(status) || status < CallStatus.Ok || status > CallStatus.Aborted) return false;
  if (status === CallStatus.OutOfGas && r.callGas !== r.callGasLimit) return false;
  if (status !== CallStatus.Ok) {
    if (r.postStateHash.toLowerCase() !== r.preStateHash.toLowerCase()) return false;
    if (r.outputHash.toLowerCase() !== EMPTY_OUTPUT_HASH) return false;
  }
  return true;
}

/**
 * docs/contract.md §Settling receipts, step 1, against a session (its existence and status are the
 * caller's): the receipt signer, the user's invocation signature, the receipt's shape, and Aborted
 * only once the session was aborted. Null when the receipt passes.
 */
export function receiptProblem(vr: VerifiedReceipt, s: Readonly<Session>): ErrorCode | null {
  if (vr.signer !== s.receiptSigner && vr.signer.toLowerCase() !== s.receiptSigner.toLowerCase()) return 'InvalidSigner';
  if (vr.invocationSigner !== s.user && vr.invocationSigner?.toLowerCase() !== s.user.toLowerCase()) return 'InvalidInvocation';
  if (!receiptShapeOk(vr.receipt)) return 'InvalidReceipt';
  if (vr.receipt.status === CallStatus.Aborted && !s.stopCall) return 'InvalidReceipt';
  return null;
}

/** The gas the user acknowledged in the call's invocation: cumulativeGas − callGas. */
export const ackedGasOf = (r: GasReceipt): bigint => r.cumulativeGas - r.callGas;
