import { ZgasError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { CallStatus } from '../types.ts';
import type { Address, Hash, VerifiedReceipt } from '../types.ts';
import { cost, sub } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { MAX_COVERAGE_ENTRIES, MAX_RECEIPTS_PER_SETTLE } from './limits.ts';
import { addPending, challengeDeadline, extendChallengeable, pendingHasRoom, proveFraud } from './ops.ts';
import { receiptProblem } from './receipt-rules.ts';
import type { Coverage, Session } from './state.ts';
import type { Tx } from './tx.ts';

/** What happened to one receipt of a batch (docs/contract.md §Settling receipts). A rejected receipt changes nothing. */
export type ReceiptOutcome =
  | { outcome: 'Settled'; digest: Hash; sessionId: Hash; seq: bigint; charge: Qsr; billedGas: Gas }
  | { outcome: 'Duplicate'; digest: Hash; sessionId: Hash; seq: bigint }
  | { outcome: 'Rejected'; digest: Hash; sessionId: Hash; seq: bigint; code: ErrorCode }
  | { outcome: 'Fraud'; digest: Hash; sessionId: Hash; seq: bigint; kind: 'equivocation' | 'contradiction'; slashed: Qsr };

/**
 * Settles a batch. Receipts are applied in (sessionId, seq) order whatever order they came in, so
 * any order of the same batch ends in the same state; outcomes are reported in input order.
 * `challenger` receives the reward of a slash for fraud found here (the caller of a Settle call);
 * an anonymous batch passes null and the whole slash is burned.
 */
export function settleBatch(tx: Tx, receipts: readonly VerifiedReceipt[], challenger: Address | null): ReceiptOutcome[] {
  if (receipts.length === 0) throw new ZgasError('EmptyBatch');
  if (receipts.length > MAX_RECEIPTS_PER_SETTLE) throw new ZgasError('BatchTooLarge', { receipts: receipts.length, max: MAX_RECEIPTS_PER_SETTLE });
  const n = receipts.length;
  const ids = new Array<string>(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    ids[i] = receipts[i]!.receipt.sessionId.toLowerCase();
    order[i] = i;
  }
  order.sort((a, b) => {
    const ia = ids[a]!;
    const ib = ids[b]!;
    if (ia !== ib) return ia < ib ? -1 : 1;
    const sa = receipts[a]!.receipt.seq;
    const sb = receipts[b]!.receipt.seq;
    return sa < sb ? -1 : sa > sb ? 1 : a - b;
  });
  const outcomes = new Array<ReceiptOutcome>(n);
  const deadline = challengeDeadline(tx.now, tx.state.params);
  for (const i of order) outcomes[i] = settleOne(tx, receipts[i]!, ids[i] as Hash, challenger, deadline);
  return outcomes;
}

const rejected = (code: ErrorCode, digest: Hash, sessionId: Hash, seq: bigint): ReceiptOutcome => ({ outcome: 'Rejected', digest, sessionId, seq, code });

/** Whether the receipt's invocation fields equal those of the settled receipt for the same seq. */
function sameInvocation(s: Readonly<Session>, callGasLimit: bigint, inputHash: string, preStateHash: string, ackedGas: bigint): boolean {
  const inv = s.lastInvocation;
  return inv !== null && inv.callGasLimit === callGasLimit && inv.inputHash === inputHash && inv.preStateHash === preStateHash && inv.ackedGas === ackedGas;
}

function settleOne(tx: Tx, vr: VerifiedReceipt, sessionId: Hash, challenger: Address | null, deadline: bigint): ReceiptOutcome {
  const r = vr.receipt;
  const digest = vr.digest.toLowerCase() as Hash;
  const seq = r.seq;

  // 1. a session not closed; the provider's and the user's signatures; the status rules
  const s = tx.getSession(sessionId);
  if (s === undefined) return rejected('SessionNotFound', digest, sessionId, seq);
  if (s.status === 'closed') return rejected('SessionClosed', digest, sessionId, seq);
  const problem = receiptProblem(vr, s);
  if (problem !== null) return rejected(problem, digest, sessionId, seq);
  const ackedGas = r.cumulativeGas - r.callGas;
  const inputHash = r.inputHash.toLowerCase();
  const preStateHash = r.preStateHash.toLowerCase();

  // 2. already settled: a no-op; another result for the settled request is equivocation
  if (seq < s.lastSeq || digest === s.lastReceiptHash) return { outcome: 'Duplicate', digest, sessionId, seq };
  if (seq === s.lastSeq) {
    if (!sameInvocation(s, r.callGasLimit, inputHash, preStateHash, ackedGas)) return rejected('ConflictingInvocation', digest, sessionId, seq);
    return { outcome: 'Fraud', digest, sessionId, seq, kind: 'equivocation', slashed: proveFraud(tx, sessionId, 'equivocation', digest, challenger) };
  }
  // 3. the next receipt must continue the settled one (a gap is allowed: its invocation acknowledged every call before it)
  if (seq === s.lastSeq + 1n && (ackedGas !== s.settledGas || preStateHash !== s.lastPostStateHash)) {
    return { outcome: 'Fraud', digest, sessionId, seq, kind: 'contradiction', slashed: proveFraud(tx, sessionId, 'contradiction', digest, challenger) };
  }
  // 4. gas only grows, and the call's limit fits the session's
  if (ackedGas < s.settledGas) return rejected('NonMonotonic', digest, sessionId, seq);
  if (ackedGas + r.callGasLimit > s.gasLimit) return rejected('OverLimit', digest, sessionId, seq);
  // 5. bill the cumulative gas; a call that did not finish after an abort bills at most the grace
  const unfinishedAfterAbort = r.status === CallStatus.Aborted || (r.status === CallStatus.OutOfGas && s.stopCall);
  const grace = tx.state.params.abortGraceGas;
  const billable = unfinishedAfterAbort ? ackedGas + (r.callGas < grace ? r.callGas : grace) : r.cumulativeGas;
  const newBilled = (billable > s.billedGas ? billable : s.billedGas) as Gas;
  // 6. charge the difference into pending earnings, claimable at this settlement's deadline
  const charge = newBilled === s.billedGas ? (0n as Qsr) : sub(cost(newBilled, s.price), cost(s.billedGas, s.price));
  if (charge > 0n && !pendingHasRoom(tx.getProvider(s.provider)!, sessionId, deadline)) return rejected('LimitExceeded', digest, sessionId, seq);
  if (!coverageHasRoom(s, deadline, tx.now)) return rejected('LimitExceeded', digest, sessionId, seq);

  const d = tx.session(sessionId);
  d.lastSeq = seq;
  d.settledGas = r.cumulativeGas;
  d.billedGas = newBilled;
  d.lastPostStateHash = r.postStateHash.toLowerCase() as Hash;
  d.lastReceiptHash = digest;
  d.lastInvocation = { callGasLimit: r.callGasLimit, inputHash: inputHash as Hash, preStateHash: preStateHash as Hash, ackedGas: ackedGas as Gas };
  cover(d, seq, deadline, tx.now);
  extendChallengeable(tx, s.provider, deadline);
  if (charge > 0n) {
    const z = tx.zApp(s.zAppId);
    z.held = sub(z.held, charge);
    addPending(tx, s.provider, sessionId, charge, deadline);
  }
  return { outcome: 'Settled', digest, sessionId, seq, charge, billedGas: newBilled };
}

/** Entries whose deadline has passed (`now ≥ challengeDeadline`): nothing they cover can be challenged. */
function expiredCount(list: readonly Coverage[], now: bigint): number {
  let n = 0;
  while (n < list.length && list[n]!.challengeDeadline <= now) n++;
  return n;
}

function coverageHasRoom(s: Readonly<Session>, deadline: bigint, now: bigint): boolean {
  const last = s.coverage[s.coverage.length - 1];
  if (last !== undefined && last.challengeDeadline === deadline) return true;
  return s.coverage.length - expiredCount(s.coverage, now) < MAX_COVERAGE_ENTRIES;
}

/** Records that receipts up to `seq` are covered by a settlement with `deadline`, one entry per bucket; drops expired entries into the floor. */
function cover(s: Session, seq: bigint, deadline: bigint, now: bigint): void {
  const list = s.coverage;
  const expired = expiredCount(list, now);
  if (expired > 0) {
    s.coverageFloorSeq = list[expired - 1]!.upToSeq;
    list.splice(0, expired);
  }
  const last = list[list.length - 1];
  if (last !== undefined && last.challengeDeadline === deadline) list[list.length - 1] = { upToSeq: seq, challengeDeadline: deadline };
  else list.push({ upToSeq: seq, challengeDeadline: deadline });
}
