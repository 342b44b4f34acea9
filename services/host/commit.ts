import { sessionStopEvent } from '../../contracts/events.ts';
import type { SessionStopEvent } from '../../contracts/events.ts';
import type { Input, InputResult } from '../../contracts/gas/apply.ts';
import { sessionJson } from '../../contracts/gas/state.ts';
import type { Session, State } from '../../contracts/gas/state.ts';
import type { Changed } from '../../contracts/gas/tx.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { markCalls, markRefused } from '../store/calls.ts';
import { insertMomentum } from '../store/momentums.ts';
import type { Momentum } from '../store/momentums.ts';
import { markRejected, markSettled } from '../store/receipts.ts';
import { changedRows, saveChangedRows } from '../store/state.ts';
import type { ChangedRows, SessionJson } from '../store/state.ts';
import type { PreparedBatch } from './batch.ts';
import { changesDigest, momentumHashOfTexts, momentumTexts } from './momentum.ts';
import type { MomentumResult, MomentumTexts } from './momentum.ts';
import { resultJson } from './sequence.ts';

type CallOutcome = { hash: Hash; ok: boolean; code: string | null; result: unknown };
type ReceiptOutcome = { copyKey: Hash; applied: boolean; outcome: string; code: string | null };

/**
 * A momentum ready to commit: the record, the state rows it writes, what becomes of each call and
 * receipt copy of its batch, and the session stop events to publish once it is committed. Plain
 * data taken from the state as the momentum left it: the next momentum may be applied meanwhile.
 */
export interface SealedMomentum {
  momentum: Momentum;
  /** The canonical text of its inputs and results: hashed once, stored as it is. */
  texts: MomentumTexts;
  results: MomentumResult[];
  rows: ChangedRows;
  calls: CallOutcome[];
  receipts: ReceiptOutcome[];
  stops: SessionStopEvent[];
}

/**
 * Seals an applied batch as the momentum after `head`: its results as recorded, its state digest
 * (the entities `changed` as `state` now holds them, chained to the previous hash), its hash, and
 * the rows its commit writes.
 */
export function sealMomentum(head: Momentum, timestamp: bigint, batch: PreparedBatch, state: State, applied: { results: InputResult[]; changed: Changed }): SealedMomentum {
  const height = head.height + 1n;
  const results = applied.results.map(resultJson);
  // Each changed session's view is built once, for the digest and for its row.
  const views = new Map<Hash, SessionJson>();
  const sessionView = (id: Hash, s: Session): SessionJson => {
    let view = views.get(id);
    if (view === undefined) views.set(id, (view = sessionJson(id, s)));
    return view;
  };
  const fields = { height, prevHash: head.hash, timestamp, inputs: batch.wires as unknown[], results: results as unknown[], stateDigest: changesDigest(head.hash, state, applied.changed, sessionView) };
  const texts = momentumTexts(fields.inputs, fields.results);
  const calls: CallOutcome[] = [];
  let receipts: ReceiptOutcome[] = [];
  applied.results.forEach((result, i) => {
    const callHash = batch.callOf[i];
    if (callHash !== null && callHash !== undefined) calls.push({ hash: callHash, ok: result.ok, code: result.ok ? null : result.code, result: results[i] });
    else receipts = receiptOutcomes(result, batch.receiptCopies);
  });
  return {
    momentum: { ...fields, hash: momentumHashOfTexts(fields, texts) }, texts, results, rows: changedRows(state, applied.changed, sessionView), calls, receipts,
    stops: stopEvents(state, batch.inputs, applied.results, height),
  };
}

/**
 * Commits a momentum in one transaction: the momentum row (its height's primary key fences out a
 * deposed leader), the changed state rows, and the new status of its calls and receipt copies
 * (verified → applied/rejected and pending → applied/failed happen only here: exactly once).
 */
export async function commitMomentum(db: Db, sealed: SealedMomentum, batch: PreparedBatch): Promise<void> {
  const { height } = sealed.momentum;
  await db.transaction(async (tx) => {
    await insertMomentum(tx, sealed.momentum, sealed.texts);
    await saveChangedRows(tx, sealed.rows);
    await markCalls(tx, height, sealed.calls);
    await markSettled(tx, height, sealed.receipts);
    await markRefused(tx, batch.refused);
    await markRejected(tx, batch.unverifiable);
  });
}

/** Records a batch that has nothing to apply (only refusals): no momentum. */
export async function commitRefusals(db: Db, batch: PreparedBatch): Promise<void> {
  await db.transaction(async (tx) => {
    await markRefused(tx, batch.refused);
    await markRejected(tx, batch.unverifiable);
  });
}

/** How each copy of the batch ended, for its intake row (the contract reports outcomes in input order). */
function receiptOutcomes(result: InputResult, copyKeys: readonly Hash[]): ReceiptOutcome[] {
  if (!result.ok) return copyKeys.map((copyKey) => ({ copyKey, applied: false, outcome: result.code, code: result.code }));
  return (result.outcomes ?? []).map((o, i) => {
    const copyKey = copyKeys[i]!;
    if (o.outcome === 'Rejected') return { copyKey, applied: false, outcome: o.code, code: o.code };
    return { copyKey, applied: true, outcome: o.outcome, code: null };
  });
}

/**
 * The sessions a momentum stopped: for each Abort and CloseSession it applied, the session as the
 * momentum left it, so runners learn of `stopCall` and `closesAt`.
 */
export function stopEvents(state: State, inputs: readonly Input[], results: readonly InputResult[], height: bigint): SessionStopEvent[] {
  const out: SessionStopEvent[] = [];
  inputs.forEach((input, i) => {
    if (input.kind !== 'call' || results[i]?.ok !== true) return;
    const { method } = input;
    if (method.name !== 'Abort' && method.name !== 'CloseSession') return;
    const sessionId = method.sessionId.toLowerCase() as Hash;
    const session = state.sessions.get(sessionId);
    if (session === undefined) return;
    out.push(sessionStopEvent({
      kind: method.name === 'Abort' ? 'abort' : 'close', sessionId, provider: session.provider,
      stopCall: session.stopCall, closesAt: session.closesAt ?? 0n, height,
    }));
  });
  return out;
}
