import { ZgasError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { Address, Hash, VerifiedReceipt } from '../types.ts';
import { cost, sub } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { MAX_RECEIPTS_PER_SETTLE } from './limits.ts';
import { addPending, challengeDeadline, pendingHasRoom, proveFraud } from './ops.ts';
import type { Tx } from './tx.ts';

/** What happened to one receipt of a batch (DESIGN §5.1). A rejected receipt changes nothing. */
export type ReceiptOutcome =
  | { outcome: 'Settled'; digest: Hash; sessionId: Hash; seq: bigint; charge: Qsr; billedGas: Gas }
  | { outcome: 'Duplicate'; digest: Hash; sessionId: Hash; seq: bigint }
  | { outcome: 'Rejected'; digest: Hash; sessionId: Hash; seq: bigint; code: ErrorCode }
  | { outcome: 'Fraud'; digest: Hash; sessionId: Hash; seq: bigint; kind: 'equivocation' | 'contradiction'; slashed: Qsr };

/**
 * Settles a batch. Receipts are applied in (sessionId, seq) order whatever order they came in, so
 * any order of the same batch ends in the same state; outcomes are reported in input order.
 * `challenger` receives the challenger's half of a slash for fraud found here (the caller of a
 * Settle call); an anonymous batch passes null and the whole slash goes to the zApp's escrow.
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

function settleOne(tx: Tx, vr: VerifiedReceipt, sessionId: Hash, challenger: Address | null, deadline: bigint): ReceiptOutcome {
  const r = vr.receipt;
  const digest = vr.digest.toLowerCase() as Hash;
  const seq = r.seq;

  const status: number = r.status;
  if (typeof seq !== 'bigint' || seq < 1n || r.callGas > r.cumulativeGas || !(status >= 1 && status <= 4 && Number.isInteger(status))) return rejected('InvalidReceipt', digest, sessionId, seq);
  // 1. an open or aborting session, signed by its receipt signer
  const s = tx.getSession(sessionId);
  if (s === undefined) return rejected('SessionNotFound', digest, sessionId, seq);
  if (s.status === 'closed') return rejected('SessionClosed', digest, sessionId, seq);
  if (vr.signer !== s.receiptSigner && vr.signer.toLowerCase() !== s.receiptSigner.toLowerCase()) return rejected('InvalidSigner', digest, sessionId, seq);
  // 2. already settled: a no-op, unless it is another receipt for the newest settled seq
  if (seq <= s.lastSeq) {
    if (seq === s.lastSeq && digest !== s.lastReceiptHash) {
      return { outcome: 'Fraud', digest, sessionId, seq, kind: 'equivocation', slashed: proveFraud(tx, sessionId, 'equivocation', digest, challenger) };
    }
    return { outcome: 'Duplicate', digest, sessionId, seq };
  }
  // 3. cumulative gas only grows and stays within the limit
  const cumulative = r.cumulativeGas;
  if (cumulative < s.settledGas) return rejected('NonMonotonic', digest, sessionId, seq);
  if (cumulative > s.gasLimit) return rejected('OverLimit', digest, sessionId, seq);
  // 4. the next receipt must continue the settled one
  const preStateHash = r.preStateHash.toLowerCase();
  if (seq === s.lastSeq + 1n && (cumulative !== s.settledGas + r.callGas || preStateHash !== s.lastPostStateHash)) {
    return { outcome: 'Fraud', digest, sessionId, seq, kind: 'contradiction', slashed: proveFraud(tx, sessionId, 'contradiction', digest, challenger) };
  }
  // 5–6. bill the cumulative gas (capped while aborting), charging only the difference
  const billable = s.status === 'aborting' && s.abortCap !== null && cumulative > s.abortCap ? s.abortCap : cumulative;
  const newBilled = billable > s.billedGas ? billable : s.billedGas;
  const charge = newBilled === s.billedGas ? (0n as Qsr) : sub(cost(newBilled, s.price), cost(s.billedGas, s.price));
  if (charge > 0n && !pendingHasRoom(tx.getProvider(s.provider)!, sessionId, deadline)) return rejected('LimitExceeded', digest, sessionId, seq);

  const d = tx.session(sessionId);
  d.lastSeq = seq;
  d.settledGas = cumulative;
  d.billedGas = newBilled;
  d.lastPostStateHash = r.postStateHash.toLowerCase() as Hash;
  d.lastReceiptHash = digest;
  recordSettlement(d.settlements, d, seq, deadline, tx.now);
  if (charge > 0n) {
    const z = tx.zApp(s.zAppId);
    z.held = sub(z.held, charge);
    addPending(tx, s.provider, sessionId, charge, deadline);
  }
  return { outcome: 'Settled', digest, sessionId, seq, charge, billedGas: newBilled };
}

/** Extends the challengeable range to `seq`, dropping checkpoints whose window has passed. */
function recordSettlement(list: { upToSeq: bigint; challengeableUntil: bigint }[], s: { challengeFloorSeq: bigint }, seq: bigint, deadline: bigint, now: bigint): void {
  let expired = 0;
  while (expired < list.length && list[expired]!.challengeableUntil <= now) expired++;
  if (expired > 0) {
    s.challengeFloorSeq = list[expired - 1]!.upToSeq;
    list.splice(0, expired);
  }
  const last = list[list.length - 1];
  if (last !== undefined && last.challengeableUntil === deadline) list[list.length - 1] = { upToSeq: seq, challengeableUntil: deadline };
  else list.push({ upToSeq: seq, challengeableUntil: deadline });
}

