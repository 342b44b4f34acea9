/**
 * The workload of the fault scenarios and the soak: the setup calls applied (a provider, a funded
 * zApp, sessions), then receipt batches and transfers submitted by a client that retries what is
 * refused or unanswered and records what was accepted. No test-runner imports: the soak runs it
 * outside vitest.
 */
import type { Hash } from '../../contracts/types.ts';
import { getCall } from '../../services/store/index.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { untilTrue } from '../support/wait.ts';
import type { Cluster } from './cluster.ts';
import { RetryingClient } from './client.ts';
import { ReceiptChain, setupCalls, transfer } from './work.ts';

const RECEIPTS_PER_BATCH = 25;
/** The longest the setup calls, and at the end every accepted input, may take to be applied. */
export const SETTLE_WAIT_MS = 180_000;

export interface Workload {
  client: RetryingClient;
  chains: ReceiptChain[];
  /** Sessions opened for a runner process (not driven by `chains`). */
  runnerSessions: Hash[];
  moduleHash: Hash;
  /** The owner's next nonce. */
  nonce: bigint;
  transfers: number;
}

/**
 * Uploads the module and applies the setup calls: a provider, a funded zApp, `sessions` sessions
 * whose receipts the scenario submits itself and `runnerSessions` for a runner process.
 */
export async function setup(c: Cluster, opts: { sessions?: number; runnerSessions?: number } = {}): Promise<Workload> {
  const sessions = opts.sessions ?? 2;
  const client = new RetryingClient(() => c.base);
  const put = await client.send('PUT', '/v1/modules', loadZApp('hello'), 'application/wasm');
  // A plain check, not expect(): the soak (outside vitest) sets up the same way.
  if (put.status !== 200) throw new Error(`module upload refused: ${put.status} ${JSON.stringify(put.json)}`);
  const { moduleHash } = put.json as { moduleHash: Hash };
  const total = sessions + (opts.runnerSessions ?? 0);
  const { calls, sessionIds } = setupCalls(moduleHash, total);
  for (const call of calls) await client.call(call.hash, call.body);
  await untilTrue('the setup calls to be applied', async () => {
    for (const call of calls) if ((await getCall(c.db, call.hash))?.status !== 'applied') return false;
    return true;
  }, SETTLE_WAIT_MS);
  client.calls.clear();
  return {
    client, moduleHash, chains: sessionIds.slice(0, sessions).map((id) => new ReceiptChain(id)), runnerSessions: sessionIds.slice(sessions),
    nonce: 2n + BigInt(total), transfers: 0,
  };
}

/** Submits receipt batches and transfers, one of each at a time, until stopped; returns the stopper. */
export function drive(work: Workload): () => Promise<void> {
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
export const during = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

