import { assert } from '../errors.ts';
import type { Hash } from '../types.ts';
import { MAX_SESSION_REMOVALS_PER_INPUT } from './limits.ts';
import { compareRemovals } from './state.ts';
import type { GenesisParams, Removal, Session, State } from './state.ts';

/**
 * When a session closed at `finalizedAt` may leave the state: once no receipt of it can be
 * challenged (never-covered receipts until finalizedAt + challengeWindowSeconds, covered ones until
 * their coverage deadline). Settlement refuses a closed session, so its coverage no longer grows;
 * pending earnings name it only to void them on fraud, which needs a challengeable receipt.
 */
export function sessionRemoveAt(s: Readonly<Session>, finalizedAt: bigint, params: GenesisParams): bigint {
  let at = finalizedAt + params.challengeWindowSeconds;
  const newest = s.coverage[s.coverage.length - 1];
  if (newest !== undefined && newest.challengeDeadline > at) at = newest.challengeDeadline;
  return at;
}

/** Puts a newly closed session into the state's removal queue, keeping (removeAt, sessionId) order. */
export function enqueueRemoval(state: State, entry: Removal): void {
  const q = state.removals;
  // Sessions close with removeAt ≥ now + window, so the new entry almost always goes at the end.
  let lo = 0;
  let hi = q.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRemovals(q[mid]!, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 0, entry);
}

/**
 * Removes the closed sessions whose removeAt has come (`now ≥ removeAt`), oldest first, at most
 * MAX_SESSION_REMOVALS_PER_INPUT of them; returns their ids. A function of the state and the
 * input's time only, so every replay removes the same sessions at the same input.
 */
export function removeDueSessions(state: State, now: bigint): Hash[] {
  const q = state.removals;
  let n = 0;
  while (n < q.length && n < MAX_SESSION_REMOVALS_PER_INPUT && q[n]!.removeAt <= now) n++;
  if (n === 0) return [];
  const due = q.splice(0, n);
  for (const { sessionId } of due) {
    const s = state.sessions.get(sessionId);
    assert(s !== undefined && s.status === 'closed' && s.removeAt !== null && s.removeAt <= now, `removal of session ${sessionId}: not a closed session due`);
    state.sessions.delete(sessionId);
  }
  return due.map((r) => r.sessionId);
}
