/**
 * What settlement bills, read from a contract state: every balance, escrow, stake and earning, and
 * each session's settled position. Two runs that settle the same calls — every receipt, or only the
 * newest of each session (docs/protocol.md §Runner rules: coalescing) — must leave these equal;
 * what depends on when a settlement happened (challenge deadlines, coverage buckets, when earnings
 * mature) is left out, and earnings are compared as pending + claimable for the same reason.
 */
import type { State } from '../../contracts/gas/state.ts';

export type BillingView = Map<string, string>;

/** The billed quantities of `state`, keyed by entity and field, as decimal strings. */
export function billingView(state: State): BillingView {
  const v: BillingView = new Map();
  v.set('supply', state.supply.toString());
  v.set('burned', state.burned.toString());
  v.set('totals', `${state.totals.balances}/${state.totals.escrow}/${state.totals.providers}`);
  for (const [a, acc] of state.accounts) v.set(`account ${a} balance`, acc.balance.toString());
  for (const [id, z] of state.zApps) {
    v.set(`zApp ${id} available`, z.available.toString());
    v.set(`zApp ${id} held`, z.held.toString());
  }
  for (const [a, p] of state.providers) {
    v.set(`provider ${a} stake`, p.stake.toString());
    v.set(`provider ${a} earned`, (p.pendingTotal + p.claimable).toString());
    v.set(`provider ${a} unbonding`, p.unbonding.reduce((s, u) => s + u.amount, 0n).toString());
    v.set(`provider ${a} liveSessions`, String(p.liveSessions));
  }
  for (const [id, s] of state.sessions) {
    v.set(`session ${id} settledGas`, s.settledGas.toString());
    v.set(`session ${id} billedGas`, s.billedGas.toString());
    v.set(`session ${id} lastSeq`, s.lastSeq.toString());
    v.set(`session ${id} lastReceiptHash`, String(s.lastReceiptHash));
    v.set(`session ${id} lastPostStateHash`, s.lastPostStateHash);
    v.set(`session ${id} status`, s.status);
    v.set(`session ${id} slashed`, String(s.slashed));
  }
  return v;
}

/** Where two billing views differ (at most `max`, "key: a ≠ b"); empty when they are equal. */
export function billingDiff(a: BillingView, b: BillingView, max = 20): string[] {
  const out: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    if (x !== y) {
      out.push(`${key}: ${x ?? 'absent'} ≠ ${y ?? 'absent'}`);
      if (out.length >= max) break;
    }
  }
  return out;
}
