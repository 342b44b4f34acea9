// The settlement benchmark's coalesced-vs-every-receipt check (test/bench/billing.ts), on the pure
// contract: the receipts the bench pushes when coalescing bill exactly what every receipt bills,
// settled at other times; and the comparison sees a difference in what was billed.
import { describe, expect, it } from 'vitest';
import { keccakReady, verifyReceipt } from '../contracts/eip712/index.ts';
import { apply } from '../contracts/gas/apply.ts';
import type { State } from '../contracts/gas/state.ts';
import type { SettlementReceipt } from '../contracts/types.ts';
import { billingDiff, billingView } from './bench/billing.ts';
import { coalesced, everyCallBilling, everyReceipt, plan, setUpInProcess, UNSIGNED } from './bench/settlement-harness.ts';
import type { Plan } from './bench/settlement-harness.ts';

await keccakReady;
const p = plan({ sessions: 3, receiptsPerSession: 12 });

/** Applies the setup, then the receipts in Settle batches of `batch`, `step` seconds apart. */
function settle(pl: Plan, receipts: SettlementReceipt[], batch: number, step: bigint): State {
  const state = setUpInProcess(pl);
  let timestamp = pl.genesis.timestamp;
  let height = 1n;
  for (let i = 0; i < receipts.length; i += batch) {
    height += 1n;
    timestamp += step;
    const out = apply(state, { kind: 'receipts', receipts: receipts.slice(i, i + batch).map((r) => verifyReceipt(pl.domain, r)) }, { height, timestamp });
    if (!out.result.ok) throw new Error(`settle: ${out.result.code}`);
  }
  return state;
}

describe('coalesced settlement bills what every receipt bills', () => {
  it('pushes the newest receipt of each session every n calls, and the last one', () => {
    const pushed = coalesced(p, 5);
    expect(pushed.map((r) => Number(r.seq))).toEqual([5, 5, 5, 10, 10, 10, 12, 12, 12]);
  });

  it('leaves the same billed state as settling every receipt, whenever each settles', () => {
    const every = settle(p, everyReceipt(p), 4, 1n);
    const coal = settle(p, coalesced(p, 5), 2, 90n);
    expect(billingDiff(billingView(every), billingView(coal))).toEqual([]);
    // Something was billed: the comparison is not between two empty states.
    const billed = [...every.sessions.values()].map((s) => s.billedGas);
    expect(billed).toEqual([12_000n, 12_000n, 12_000n]);
  });

  it('tells a run that billed less', () => {
    const every = settle(p, everyReceipt(p), 4, 1n);
    const short = settle(p, coalesced(p, 5).slice(0, -1), 2, 90n);
    const diff = billingDiff(billingView(every), billingView(short));
    expect(diff.some((d) => d.includes(`session ${p.sessionIds[2]} billedGas: 12000 ≠ 10000`))).toBe(true);
    expect(diff.some((d) => d.includes('earned'))).toBe(true);
  });

  it('signs only what a coalescing runner pushes when asked to, and the in-process reference bills what settling every receipt bills', () => {
    const sparse = plan({ sessions: 2, receiptsPerSession: 12, signEvery: 5 });
    const signedSeqs = sparse.receipts.filter((row) => row.every((r) => r.signature !== UNSIGNED && r.invocationSignature !== UNSIGNED)).map((row) => Number(row[0]!.seq));
    expect(signedSeqs).toEqual([5, 10, 12]);
    expect(sparse.receipts.flat().filter((r) => r.signature === UNSIGNED)).toHaveLength(2 * 9);
    expect(coalesced(sparse, 5).every((r) => r.signature !== UNSIGNED)).toBe(true);

    // On a fully signed plan the reference equals applying every receipt with its signatures recovered.
    expect(billingDiff(everyCallBilling(p), billingView(settle(p, everyReceipt(p), 4, 1n)))).toEqual([]);
    // On the sparse plan, the pushed receipts bill what the reference bills, and a short run is told apart.
    const reference = everyCallBilling(sparse);
    expect(billingDiff(reference, billingView(settle(sparse, coalesced(sparse, 5), 2, 30n)))).toEqual([]);
    expect(billingDiff(reference, billingView(settle(sparse, coalesced(sparse, 5).slice(0, -1), 2, 30n)))).not.toEqual([]);
  });
});
