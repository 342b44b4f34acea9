/**
 * Fault scenarios (`npm run test:faults`): real `zgas node` and `zgas worker` processes on the real
 * Postgres and Redis, reached through TCP proxies the scenarios cut. Receipts and calls keep being
 * submitted while Postgres or Redis is cut or the node is killed (SIGKILL) or stopped (SIGTERM) and
 * restarted. Each scenario ends by checking that every receipt and call the API accepted (202) was
 * applied exactly once, that money is conserved to the base unit, and that `zgas replay` passes.
 */
import { receiptCopyKey } from '../../services/store/index.ts';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hash } from '../../contracts/types.ts';
import { loadGenesis } from '../../services/cli/genesis.ts';
import { getAccount, getCall, getSession, loadReceipts } from '../../services/store/index.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { untilTrue } from '../support/wait.ts';
import { START_WAIT_MS, startCluster } from './cluster.ts';
import type { Cluster } from './cluster.ts';
import { RetryingClient } from './client.ts';
import { CALL_GAS, ReceiptChain, TRANSFER_AMOUNT, keys, setupCalls, transfer } from './work.ts';

const SCENARIO_MS = 600_000;
const SESSIONS = 2;
const RECEIPTS_PER_BATCH = 25;
const SETTLE_WAIT_MS = 180_000;

let cluster: Cluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

interface Workload {
  client: RetryingClient;
  chains: ReceiptChain[];
  /** The owner's next nonce. */
  nonce: bigint;
  transfers: number;
}

/** Uploads the module and applies the setup calls: a provider, a funded zApp, SESSIONS open sessions. */
async function setup(c: Cluster): Promise<Workload> {
  const client = new RetryingClient(() => c.base);
  const put = await client.send('PUT', '/v1/modules', loadZApp('hello'), 'application/wasm');
  expect(put.status).toBe(200);
  const { moduleHash } = put.json as { moduleHash: Hash };
  const { calls, sessionIds } = setupCalls(moduleHash, SESSIONS);
  for (const call of calls) await client.call(call.hash, call.body);
  await untilTrue('the setup calls to be applied', async () => {
    for (const call of calls) if ((await getCall(c.db, call.hash))?.status !== 'applied') return false;
    return true;
  }, SETTLE_WAIT_MS);
  client.calls.clear();
  return { client, chains: sessionIds.map((id) => new ReceiptChain(id)), nonce: 2n + BigInt(SESSIONS), transfers: 0 };
}

/** Submits receipt batches and transfers, one of each at a time, until stopped; returns the stopper. */
function drive(work: Workload): () => Promise<void> {
  let stopped = false;
  const receipts = (async () => {
    for (let i = 0; !stopped; i++) {
      const chain = work.chains[i % work.chains.length]!;
      const batch = chain.next(RECEIPTS_PER_BATCH);
      await work.client.receiptBatch(batch.receipts, batch.digests, batch.body);
    }
  })();
  const calls = (async () => {
    while (!stopped) {
      const t = transfer(work.nonce);
      await work.client.call(t.hash, t.body);
      work.nonce++;
      work.transfers++;
    }
  })();
  return async () => {
    stopped = true;
    await Promise.all([receipts, calls]);
  };
}

/** Lets the workload run for `ms` of real time: the window in which the fault happens. */
const during = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every accepted receipt and call applied exactly once, money conserved, replay reproduces the store. */
async function expectExactlyOnce(c: Cluster, work: Workload): Promise<void> {
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

  const replay = await c.replay();
  expect(replay.code, replay.output).toBe(0);
  expect(replay.output).toContain('"ok": true');
  const statuses = Object.fromEntries([...work.client.statuses].map(([s, n]) => [s === 0 ? 'no answer' : String(s), n]));
  console.info(`applied exactly once: ${digests.length} receipts, ${calls.length} calls; ${work.client.retries} retries; answers ${JSON.stringify(statuses)}; ${momentums.length} momentums replayed`);
}

describe('faults under load', () => {
  it('a 5-second Postgres cut while receipts and calls are submitted', async () => {
    cluster = await startCluster('pg_cut');
    const work = await setup(cluster);
    const stop = drive(work);
    await during(2_000);
    cluster.pg.cut();
    await during(5_000);
    cluster.pg.restore();
    await during(3_000);
    await stop();
    expect(cluster.node.alive(), cluster.logs()).toBe(true);
    expect(cluster.worker.alive(), cluster.logs()).toBe(true);
    await expectExactlyOnce(cluster, work);
  }, SCENARIO_MS);

  it('a 5-second Redis cut while receipts and calls are submitted', async () => {
    cluster = await startCluster('redis_cut');
    const work = await setup(cluster);
    const stop = drive(work);
    await during(2_000);
    cluster.redis.cut();
    await during(5_000);
    cluster.redis.restore();
    await during(3_000);
    await stop();
    expect(cluster.node.alive(), cluster.logs()).toBe(true);
    expect(cluster.worker.alive(), cluster.logs()).toBe(true);
    await expectExactlyOnce(cluster, work);
  }, SCENARIO_MS);

  it('kill -9 of the node under load, then a restart', async () => {
    cluster = await startCluster('kill9');
    const work = await setup(cluster);
    const stop = drive(work);
    await during(2_000);
    cluster.node.child.kill('SIGKILL');
    await cluster.node.exited;
    await cluster.restartNode();
    await during(3_000);
    await stop();
    await expectExactlyOnce(cluster, work);
  }, SCENARIO_MS);

  it('SIGTERM of the node under load, then a restart', async () => {
    cluster = await startCluster('sigterm');
    const work = await setup(cluster);
    const stop = drive(work);
    await during(2_000);
    expect(await cluster.node.stop(START_WAIT_MS)).toBe(0);
    await cluster.restartNode();
    await during(3_000);
    await stop();
    await expectExactlyOnce(cluster, work);
  }, SCENARIO_MS);
});
