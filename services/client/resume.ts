/**
 * What `SessionClient.resume` checks before a client continues a session in a new process (a
 * command line runs one call per invocation and keeps the checked calls in a file): the saved
 * calls chain from seq 1, the runner's latest receipt carries the session's receipt signer's and
 * the user's own signatures, and it, the saved calls and the ledger's settled seq tell one story.
 * The outcome is a plan: continue after the last saved call, or first send the pending call again
 * (its answer was lost; the runner answers a retry with the same receipt, output and writes).
 */
import type { Domain } from '../../contracts/eip712/index.ts';
import { defaultBackend, verifyReceipt } from '../../contracts/eip712/index.ts';
import type { SignatureBackend } from '../../contracts/eip712/index.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { sameAddress } from '../../contracts/hex.ts';
import type { SettlementReceipt } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { SessionState } from './state.ts';
import type { SessionView } from './views.ts';

/** A call checked by an earlier process (the fields of a CompletedCall resume relies on). */
export interface SavedCall {
  seq: bigint;
  preState: SessionState;
  postState: SessionState;
  receipt: SettlementReceipt;
}

/** The call an earlier process signed and sent last, whose answer it never got. */
export interface PendingCall {
  seq: bigint;
  input: Uint8Array;
  callGasLimit: Gas;
}

export type ResumePlan = { resend: null } | { resend: PendingCall };

const refuse = (field: string, reason: string, extra: Record<string, unknown> = {}): ZgasError =>
  new ZgasError('ReceiptNotAcknowledged', { field, reason, ...extra });

/** The saved calls are seq 1, 2, 3, …, each starting from the state and gas the previous one left. */
export function checkSavedCalls(calls: readonly SavedCall[]): void {
  let stateHash: string | null = null;
  let acked = 0n;
  calls.forEach((call, i) => {
    const r = call.receipt;
    if (call.seq !== BigInt(i + 1) || r.seq !== call.seq) throw refuse('seq', 'the saved calls are not seq 1, 2, 3, …', { seq: String(call.seq) });
    if (stateHash !== null && call.preState.hash() !== stateHash) throw refuse('preStateHash', 'a saved call does not start from the state the previous one left', { seq: String(call.seq) });
    if (r.preStateHash !== call.preState.hash() || r.postStateHash !== call.postState.hash()) {
      throw refuse('postStateHash', "a saved call's states are not its receipt's", { seq: String(call.seq) });
    }
    if (r.cumulativeGas - r.callGas !== acked) throw refuse('cumulativeGas', 'a saved call does not acknowledge the previous one', { seq: String(call.seq) });
    stateHash = call.postState.hash();
    acked = r.cumulativeGas;
  });
}

/**
 * Trusts a receipt from the runner only when the session's receipt signer signed it and the
 * session's user signed the invocation it answers: a runner cannot make a client continue from a
 * call the user never asked for.
 */
export function checkLatestReceipt(domain: Domain, terms: SessionView, latest: SettlementReceipt, backend: SignatureBackend = defaultBackend): void {
  if (latest.sessionId.toLowerCase() !== terms.id.toLowerCase()) throw refuse('sessionId', 'the latest receipt is of another session', { got: latest.sessionId });
  let verified;
  try {
    verified = verifyReceipt(domain, latest, backend);
  } catch (error) {
    throw refuse('signature', 'the latest receipt does not recover to a signer', { cause: error instanceof Error ? error.message : String(error) });
  }
  if (!sameAddress(verified.signer, terms.receiptSigner)) throw refuse('signature', "the latest receipt is not signed by the session's receipt signer", { expected: terms.receiptSigner, got: verified.signer });
  if (!sameAddress(verified.invocationSigner, terms.user)) {
    throw refuse('invocationSignature', "the latest receipt answers no invocation the session's user signed", { expected: terms.user, got: verified.invocationSigner });
  }
}

export interface ResumeFacts {
  calls: readonly SavedCall[];
  pending: PendingCall | null;
  /** The runner's latest receipt, already checked by checkLatestReceipt (null: the runner ran no call). */
  latest: SettlementReceipt | null;
  /** The session as the ledger holds it now. */
  view: SessionView;
}

/** Where the client stands against the runner and the ledger; refuses any account that does not add up. */
export function planResume(f: ResumeFacts): ResumePlan {
  const last = f.calls.at(-1);
  const savedSeq = last?.seq ?? 0n;
  const settledSeq = BigInt(f.view.lastSeq);
  const runnerSeq = f.latest?.seq ?? 0n;
  if (settledSeq > runnerSeq) throw refuse('seq', 'the ledger settled a later receipt than the runner holds: the runner lost calls', { settledSeq: String(settledSeq), runnerSeq: String(runnerSeq) });
  if (settledSeq === savedSeq && last !== undefined && f.view.lastPostStateHash.toLowerCase() !== last.postState.hash().toLowerCase()) {
    throw refuse('postStateHash', 'the settled state of the last saved call is not the saved one', { seq: String(savedSeq) });
  }
  if (runnerSeq < savedSeq) throw refuse('seq', 'the runner holds fewer receipts than were saved: it lost calls', { savedSeq: String(savedSeq), runnerSeq: String(runnerSeq) });
  if (runnerSeq === savedSeq) {
    if (last !== undefined && f.latest !== null && f.latest.signature !== last.receipt.signature) {
      throw refuse('signature', 'the runner holds another receipt for the last saved call', { seq: String(savedSeq) });
    }
    // The pending call never ran: the next call signs this seq afresh.
    return { resend: null };
  }
  const latest = f.latest!;
  const pending = f.pending;
  if (runnerSeq > savedSeq + 1n || pending === null || pending.seq !== runnerSeq) {
    throw refuse('seq', 'the runner ran calls this client has no record of: resume with the pending call, or abort the session', { savedSeq: String(savedSeq), runnerSeq: String(runnerSeq) });
  }
  const acked = last?.receipt.cumulativeGas ?? 0n;
  const preStateHash = (last?.postState ?? SessionState.empty()).hash();
  if (latest.inputHash !== sha3(pending.input) || latest.callGasLimit !== pending.callGasLimit || latest.cumulativeGas - latest.callGas !== acked
    || latest.preStateHash !== preStateHash) {
    throw refuse('inputHash', "the runner's latest receipt answers another call than the pending one", { seq: String(runnerSeq) });
  }
  return { resend: pending };
}
