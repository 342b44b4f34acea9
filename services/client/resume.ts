/**
 * Continuing a session in a new process: a SessionClient attached to a session whose earlier calls
 * were checked by another process (a command line that runs one call per invocation keeps them in
 * a file). The client is put back where the last checked call left it — next seq, acknowledged gas,
 * the user's own state, the calls so far — and from there checks every receipt exactly as if it
 * had made those calls itself.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { SessionClient } from './session.ts';
import type { CompletedCall, SessionClientOptions } from './session.ts';
import type { SessionState } from './state.ts';

export interface SessionProgress {
  /** The checked calls, in seq order, from seq 1 (empty for a session with no call yet). */
  calls: readonly CompletedCall[];
  /** The user's state after the last call. */
  state: SessionState;
  /** The session was aborted or closed by this user: no further call is signed. */
  stopped: boolean;
}

/** Attaches (checking the signer is the session's user) and restores the progress of earlier calls. */
export async function resumeSession(opts: SessionClientOptions, progress: SessionProgress): Promise<SessionClient> {
  const client = await SessionClient.attach(opts);
  const last = progress.calls.at(-1);
  progress.calls.forEach((call, i) => {
    if (call.seq !== BigInt(i + 1)) throw new ZgasError('ReceiptNotAcknowledged', { field: 'seq', reason: 'the saved calls are not seq 1, 2, 3, …', seq: String(call.seq) });
  });
  if (last !== undefined && last.postState.hash() !== progress.state.hash()) {
    throw new ZgasError('ReceiptNotAcknowledged', { field: 'postStateHash', reason: "the saved state is not the last call's post-state" });
  }
  // The client keeps its progress private; these are the same fields `call` advances after a checked receipt.
  client['completed'].push(...progress.calls);
  client['currentState'] = progress.state;
  client['nextSeq'] = (last?.seq ?? 0n) + 1n;
  client['acked'] = (last?.receipt.cumulativeGas ?? 0n) as Gas;
  client['abortSent'] = progress.stopped || last?.receipt.status === CallStatus.Aborted;
  return client;
}
