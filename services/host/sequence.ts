import { apply, prepareCall, prepareReceipts } from '../../contracts/gas/apply.ts';
import type { Context, Input, InputResult } from '../../contracts/gas/apply.ts';
import type { State } from '../../contracts/gas/state.ts';
import { ALL_SESSION_FIELDS, noChanges } from '../../contracts/gas/tx.ts';
import type { Changed } from '../../contracts/gas/tx.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { callFromJson, receiptFromJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import { toJsonValue } from './canonical.ts';
import type { MomentumInput, MomentumResult } from './momentum.ts';

/** Re-derives the contract input from its recorded wire form: signatures are verified again. */
export function inputFromWire(domain: Domain, wire: MomentumInput): Input {
  if (wire.type === 'call') return prepareCall(domain, callFromJson(wire.call));
  return prepareReceipts(domain, wire.receipts.map((r, i) => receiptFromJson(r, `receipts[${i}]`)));
}

/** The result as a momentum records it (JSON data, decimal strings, no message text). */
export function resultJson(result: InputResult): MomentumResult {
  if (result.ok) return toJsonValue(result) as MomentumResult;
  return { ok: false, code: result.code, details: toJsonValue(result.details) };
}

/** The module hashes a batch of inputs may need for re-execution: the zApps of challenged sessions. */
export function modulesNeeded(state: State, inputs: readonly Input[]): Hash[] {
  const out = new Set<Hash>();
  for (const input of inputs) {
    if (input.kind !== 'call' || input.method.name !== 'Challenge') continue;
    const session = state.sessions.get(input.method.receipt.receipt.sessionId.toLowerCase() as Hash);
    const zApp = session === undefined ? undefined : state.zApps.get(session.zAppId);
    if (zApp !== undefined) out.add(zApp.moduleHash);
  }
  return [...out];
}

export function mergeChanged(into: Changed, more: Changed): void {
  for (const k of more.accounts) into.accounts.add(k);
  for (const k of more.zApps) into.zApps.add(k);
  for (const k of more.providers) into.providers.add(k);
  for (const k of more.sessions) {
    // A session changed by several inputs: the union of their fields (absent from a mask map: whole).
    const had = into.sessions.has(k) ? (into.sessionFields.get(k) ?? ALL_SESSION_FIELDS) : 0;
    into.sessionFields.set(k, had | (more.sessionFields.get(k) ?? ALL_SESSION_FIELDS));
    into.sessions.add(k);
  }
  for (const k of more.removedSessions) into.removedSessions.add(k);
  for (const k of more.pendingEarnings) into.pendingEarnings.add(k);
  if (more.burned) into.burned = true;
}

/** Applies the inputs in order to `state` (updated in place); returns each result and everything changed. */
export function applyAll(state: State, inputs: readonly Input[], context: Context): { results: InputResult[]; changed: Changed } {
  const changed = noChanges();
  const results: InputResult[] = [];
  for (const input of inputs) {
    const out = apply(state, input, context);
    results.push(out.result);
    mergeChanged(changed, out.changed);
  }
  return { results, changed };
}
