/**
 * The skeleton every fault scenario shares: a cluster with the setup calls applied, a workload of
 * receipt batches and transfers driven while the fault happens, and the final check that every
 * receipt and call the API accepted (202) was applied exactly once, that money is conserved to the
 * base unit and that `zgas replay` passes — also after the store deleted everything its retention
 * lets it delete (applied receipt copies, settled calls, expired uploads).
 */
import { expect } from 'vitest';
import { loadGenesis } from '../../services/node/genesis.ts';
import { expireApplied, expireCalls, expireModules, getAccount, getCall, getSession, loadReceipts, receiptCopyKey } from '../../services/store/index.ts';
import { untilTrue } from '../support/wait.ts';
import { startCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { SETTLE_WAIT_MS, drive, setup } from './workload.ts';
import type { Workload } from './workload.ts';
import { CALL_GAS, TRANSFER_AMOUNT, keys } from './work.ts';

export { SETTLE_WAIT_MS, during, drive, setup } from './workload.ts';
export type { Workload } from './workload.ts';

export const SCENARIO_MS = 600_000;

/** What a scenario reports: the figures of its run. */
export interface Figures {
  receipts: number;
  calls: number;
  retries: number;
  answers: Record<string, number>;
  momentums: number;
  [extra: string]: unknown;
}

/**
 * Every accepted receipt and call applied exactly once, money conserved, replay reproduces the
 * store (also once applied copies, settled calls and unregistered modules past any retention are
 * deleted).
 */
export async function expectExactlyOnce(c: Cluster, work: Workload): Promise<Figures> {
  const calls = [...work.client.calls];
  const digests = [...work.client.receipts.keys()];
  // The store keys each submitted copy by its digest and both signatures.
  const copyKeys = [...work.client.receipts].map(([digest, receipt]) => receiptCopyKey(digest, receipt));
  expect(calls.length).toBeGreaterThan(0);
  expect(digests.length).toBeGreaterThan(0);
  await untilTrue('every accepted call to be applied', async () => {
    for (const hash of calls) if ((await getCall(c.db, hash))?.status === 'pending') return false;
    return true;
  }, SETTLE_WAIT_MS);
  await untilTrue('every accepted receipt to be settled', async () => {
    for (let i = 0; i < copyKeys.length; i += 1_000) {
      const rows = await loadReceipts(c.db, copyKeys.slice(i, i + 1_000));
      if (rows.some((r) => r.state === 'stored' || r.state === 'verified')) return false;
    }
    return true;
  }, SETTLE_WAIT_MS);
  for (const hash of calls) expect(await getCall(c.db, hash), hash).toMatchObject({ status: 'applied' });
  for (let i = 0; i < copyKeys.length; i += 1_000) {
    const rows = await loadReceipts(c.db, copyKeys.slice(i, i + 1_000));
    expect(rows.length).toBe(Math.min(1_000, copyKeys.length - i));
    // Applied once each. A receipt whose session already settled a later one (a newer receipt
    // acknowledges it) is a no-op reported Duplicate: it bills nothing more, as the session check below shows.
    for (const r of rows) expect([r.digest, r.state, ['Settled', 'Duplicate'].includes(r.outcome ?? '')]).toEqual([r.digest, 'applied', true]);
  }

  // Exactly once in the momentum chain: each signature appears in one input of one momentum.
  const seen = new Map<string, number>();
  const { rows: momentums } = await c.db.query<{ inputs: unknown }>('SELECT inputs FROM momentums ORDER BY height');
  for (const m of momentums) {
    const inputs = (typeof m.inputs === 'string' ? JSON.parse(m.inputs) : m.inputs) as ({ type: 'call'; call: { signature: string } } | { type: 'receipts'; receipts: { signature: string }[] })[];
    for (const input of inputs) {
      const signatures = input.type === 'call' ? [input.call.signature] : input.receipts.map((r) => r.signature);
      for (const s of signatures) seen.set(s, (seen.get(s) ?? 0) + 1);
    }
  }
  for (const [digest, receipt] of work.client.receipts) expect(seen.get(receipt.signature), digest).toBe(1);
  for (const [signature, n] of seen) expect(n, signature).toBe(1);

  // The contract state agrees: nonces, balances, sessions settled up to the last accepted receipt.
  const { genesis } = await loadGenesis(undefined);
  const initial = (address: string): bigint => genesis.accounts.find((a) => a.address.toLowerCase() === address.toLowerCase())?.balance ?? 0n;
  expect((await getAccount(c.db, keys.owner.address))?.nonce).toBe(work.nonce.toString());
  expect(BigInt((await getAccount(c.db, keys.user.address))!.balance)).toBe(initial(keys.user.address) + TRANSFER_AMOUNT * BigInt(work.transfers));
  for (const chain of work.chains) {
    if (chain.seq === 0n) continue;
    expect(await getSession(c.db, chain.sessionId)).toMatchObject({ lastSeq: chain.seq.toString(), settledGas: (chain.seq * CALL_GAS).toString() });
  }

  // Money: every base unit of the genesis is in a balance, an escrow or a provider's stake and earnings.
  const { rows } = await c.db.query<{ total: string; unbonding: string }>(
    `SELECT ((SELECT coalesce(sum(balance), 0) FROM accounts)
           + (SELECT coalesce(sum(available + held), 0) FROM zapps)
           + (SELECT coalesce(sum(stake + pending_total + claimable), 0) FROM providers)
           + (SELECT coalesce(sum(burned), 0) FROM contract_globals))::text AS total,
            (SELECT count(*) FROM providers WHERE jsonb_array_length(unbonding) > 0)::text AS unbonding`,
  );
  expect(rows[0]?.unbonding).toBe('0');
  expect(BigInt(rows[0]!.total)).toBe(genesis.accounts.reduce((sum, a) => sum + a.balance, 0n));

  // What a replay needs is the momentums and the registered modules: delete everything else a
  // retention may delete (applied copies, settled calls, expired uploads), then replay.
  let deleted = 0;
  for (let n = -1; n !== 0;) deleted += n = await expireApplied(c.db, { olderThanMs: 0, duplicatesOlderThanMs: 0, limit: 1_000 });
  let deletedCalls = 0;
  for (let n = -1; n !== 0;) deletedCalls += n = await expireCalls(c.db, { olderThanMs: 0, limit: 1_000 });
  await expireModules(c.db, 100);
  expect(deleted).toBeGreaterThanOrEqual(copyKeys.length);
  expect(deletedCalls).toBeGreaterThanOrEqual(calls.length);
  const replay = await c.replay();
  expect(replay.code, replay.output).toBe(0);
  expect(replay.output).toContain('"ok": true');
  const answers = Object.fromEntries([...work.client.statuses].map(([s, n]) => [s === 0 ? 'no answer' : String(s), n]));
  return { receipts: digests.length, calls: calls.length, retries: work.client.retries, answers, momentums: momentums.length };
}

/** Prints a scenario's figures on one line (the suite's report). */
export function report(name: string, figures: Figures): void {
  console.info(`[${name}] ${JSON.stringify(figures)}`);
}

/**
 * One scenario: a cluster, the setup, the workload driven while `fault` runs, then the exactly-once
 * check. `fault` returns figures of its own (e.g. how long the node took to exit).
 */
export async function runScenario(
  name: string,
  fault: (c: Cluster, work: Workload) => Promise<Record<string, unknown> | void>,
  opts: { runnerSessions?: number; expectAlive?: boolean; onCluster?: (c: Cluster) => void } = {},
): Promise<Figures> {
  const cluster = await startCluster(name);
  opts.onCluster?.(cluster);
  try {
    const work = await setup(cluster, { runnerSessions: opts.runnerSessions ?? 0 });
    const stop = drive(work);
    let extra: Record<string, unknown> | void;
    try {
      extra = await fault(cluster, work);
    } finally {
      await stop();
    }
    if (opts.expectAlive === true) {
      expect(cluster.node.alive(), cluster.logs()).toBe(true);
      expect(cluster.worker.alive(), cluster.logs()).toBe(true);
    }
    const figures = { ...(await expectExactlyOnce(cluster, work)), ...(extra ?? {}) };
    report(name, figures);
    return figures;
  } finally {
    await cluster.close();
  }
}
