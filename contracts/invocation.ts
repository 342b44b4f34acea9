import { ZgasError } from './errors.ts';
import { sha3 } from './hash.ts';
import { hexToBytes } from './hex.ts';
import type { GasReceipt, Invocation, InvocationRequest } from './types.ts';
import type { Gas } from './units.ts';

/**
 * The invocation a receipt answers, derived from the receipt's own fields
 * (docs/protocol.md §Signatures): what the session's user must have signed for the receipt to be
 * billable. `ackedGas = cumulativeGas - callGas`, so a receipt whose callGas exceeds its
 * cumulativeGas answers no invocation (InvalidReceipt).
 */
export function invocationOf(r: GasReceipt): Invocation {
  if (r.callGas > r.cumulativeGas) {
    throw new ZgasError('InvalidReceipt', { reason: 'callGas exceeds cumulativeGas', callGas: String(r.callGas), cumulativeGas: String(r.cumulativeGas) });
  }
  return {
    sessionId: r.sessionId,
    seq: r.seq,
    callGasLimit: r.callGasLimit,
    inputHash: r.inputHash,
    preStateHash: r.preStateHash,
    ackedGas: (r.cumulativeGas - r.callGas) as Gas,
  };
}

/** The invocation an invocation request asks for: its input replaced by the input's SHA3-256. */
export function invocationOfRequest(req: InvocationRequest): Invocation {
  return {
    sessionId: req.sessionId,
    seq: req.seq,
    callGasLimit: req.callGasLimit,
    inputHash: sha3(hexToBytes(req.input)),
    preStateHash: req.preStateHash,
    ackedGas: req.ackedGas,
  };
}
