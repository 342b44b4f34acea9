/**
 * What the user's client checks of receipt `seq` before it signs invocation `seq + 1` — which
 * acknowledges it (docs/protocol.md §What the user's client checks): the signer is the session's
 * receipt signer; the receipt answers the very invocation the client signed (session, seq,
 * callGasLimit, inputHash, preStateHash); its outputHash is the hash of the output the client got;
 * its postStateHash is the hash of the client's own state after the returned writes;
 * cumulativeGas = ackedGas + callGas; and the status rules hold. A receipt that fails any of them
 * is refused with the field that does not add up, and the client's state is left as it was.
 */
import type { Domain } from '../../contracts/eip712/index.ts';
import { defaultBackend, recoverReceiptSigner } from '../../contracts/eip712/index.ts';
import type { SignatureBackend } from '../../contracts/eip712/index.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { sameAddress } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Invocation, SignedReceipt, StateWrite } from '../../contracts/types.ts';
import { MAX_UINT64 } from '../../contracts/units.ts';
import type { SessionState } from './state.ts';

/** The hash of no bytes: the outputHash of every call that did not end Ok. */
export const EMPTY_OUTPUT_HASH = sha3(new Uint8Array(0));

export interface ReceiptExpectation {
  /** The invocation the client signed. */
  invocation: Invocation;
  /** The session's receipt signer (fixed when the session opened). */
  receiptSigner: Address;
  /** The client's state before the call: its hash is the invocation's preStateHash. */
  preState: SessionState;
  /** What the runner answered besides the receipt. */
  output: Uint8Array;
  writes: readonly StateWrite[];
  /** Whether the session was aborted (by this client or, as it learnt, by the zApp owner): only then may a receipt say Aborted. */
  aborted: boolean;
}

const refuse = (field: string, reason: string, extra: Record<string, unknown> = {}): ZgasError =>
  new ZgasError('ReceiptNotAcknowledged', { field, reason, ...extra });

function same(field: string, expected: unknown, got: unknown): void {
  if (expected !== got) throw refuse(field, 'differs from the invocation the client signed', { expected: String(expected), got: String(got) });
}

/** Checks a receipt against what the client asked for and holds; the state after the call when it adds up. */
export function checkReceipt(domain: Domain, e: ReceiptExpectation, r: SignedReceipt, backend: SignatureBackend = defaultBackend): SessionState {
  const inv = e.invocation;
  same('sessionId', inv.sessionId, r.sessionId);
  same('seq', inv.seq, r.seq);
  same('callGasLimit', inv.callGasLimit, r.callGasLimit);
  same('inputHash', inv.inputHash, r.inputHash);
  same('preStateHash', inv.preStateHash, r.preStateHash);

  const status: number = r.status;
  if (status !== CallStatus.Ok && status !== CallStatus.Trapped && status !== CallStatus.OutOfGas && status !== CallStatus.Aborted) {
    throw refuse('status', 'unknown status', { got: status });
  }
  if (r.callGas > r.callGasLimit) throw refuse('callGas', 'above the call gas limit the client set', { callGas: String(r.callGas), callGasLimit: String(r.callGasLimit) });
  const cumulative = inv.ackedGas + r.callGas;
  if (cumulative > MAX_UINT64 || r.cumulativeGas !== cumulative) {
    throw refuse('cumulativeGas', 'must be ackedGas + callGas', { expected: String(cumulative), got: String(r.cumulativeGas) });
  }

  let postState = e.preState;
  if (r.status === CallStatus.Ok) {
    same('outputHash', sha3(e.output), r.outputHash);
    postState = e.preState.apply(e.writes);
    if (r.postStateHash !== postState.hash()) {
      throw refuse('postStateHash', "differs from the hash of the client's state after the returned writes", { expected: postState.hash(), got: r.postStateHash });
    }
  } else {
    // A call that did not end Ok changes no state and has no output.
    if (e.writes.length > 0) throw refuse('writes', 'a call that did not end Ok writes nothing', { status: r.status, writes: e.writes.length });
    if (e.output.length > 0) throw refuse('output', 'a call that did not end Ok has no output', { status: r.status });
    same('outputHash', EMPTY_OUTPUT_HASH, r.outputHash);
    same('postStateHash', inv.preStateHash, r.postStateHash);
    if (r.status === CallStatus.OutOfGas && r.callGas !== r.callGasLimit) {
      throw refuse('callGas', 'an OutOfGas call used its whole limit', { callGas: String(r.callGas), callGasLimit: String(r.callGasLimit) });
    }
    if (r.status === CallStatus.Aborted && !e.aborted) throw refuse('status', 'Aborted, but the session was not aborted');
  }

  let signer: Address;
  try {
    signer = recoverReceiptSigner(domain, r, backend);
  } catch (error) {
    throw refuse('signature', 'does not recover to a signer', { cause: error instanceof Error ? error.message : String(error) });
  }
  if (!sameAddress(signer, e.receiptSigner)) throw refuse('signature', "not the session's receipt signer", { expected: e.receiptSigner, got: signer });
  return postState;
}
