/**
 * Fault scenarios (`npm run test:faults`): real `zgas node`, `zgas worker` and `zgas runner`
 * processes on the real Postgres and Redis, reached through TCP proxies the scenarios cut. Receipts
 * and calls keep being submitted while Postgres or Redis is cut (seconds, or over a minute), the
 * node is killed (SIGKILL) or stopped (SIGTERM), or a runner is killed between answering calls and
 * pushing their receipts. Each scenario ends by checking that every receipt and call the API
 * accepted (202) was applied exactly once, that money is conserved to the base unit, and that
 * `zgas replay` passes (scenario.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { SessionClient, SettlementClient } from '../../services/client/index.ts';
import { getSession } from '../../services/store/index.ts';
import { freePort } from '../support/net.ts';
import { untilTrue } from '../support/wait.ts';
import type { Cluster } from './cluster.ts';
import { START_WAIT_MS } from './cluster.ts';
import { SCENARIO_MS, SETTLE_WAIT_MS, during, runScenario } from './scenario.ts';
import type { Workload } from './scenario.ts';
import { domain, keys } from './work.ts';

/** The longest the node may take to exit after SIGTERM while under load. */
const SIGTERM_EXIT_BOUND_MS = 10_000;
/** A cut longer than a minute: past every retry and reconnect delay of the clients' libraries. */
const LONG_OUTAGE_MS = 61_000;
/** How long the node may take to notice an outage, and to be ready again after it. */
const READY_CHANGE_BOUND_MS = 30_000;
/** Calls a user makes through the runner before it is killed. */
const RUNNER_CALLS = 5;

async function readyStatus(c: Cluster): Promise<number> {
  try {
    return (await fetch(`${c.base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}

/**
 * Cuts `which` for LONG_OUTAGE_MS under load: /readyz must say not ready within a bound and stay
 * so; afterwards the node must be ready again by itself. Returns the recovery figures.
 */
async function longOutage(c: Cluster, work: Workload, which: 'pg' | 'redis'): Promise<Record<string, unknown>> {
  const proxy = which === 'pg' ? c.pg : c.redis;
  await during(2_000);
  const before503 = work.client.statuses.get(503) ?? 0;
  const cutAt = Date.now();
  proxy.cut();
  await untilTrue('/readyz to say not ready', async () => (await readyStatus(c)) === 503, READY_CHANGE_BOUND_MS);
  const notReadyMs = Date.now() - cutAt;
  let readyDuringCut = 0;
  while (Date.now() - cutAt < LONG_OUTAGE_MS) {
    if ((await readyStatus(c)) === 200) readyDuringCut++;
    await during(1_000);
  }
  const transfersAtRestore = work.transfers;
  const receiptsAtRestore = work.client.receipts.size;
  const restoredAt = Date.now();
  proxy.restore();
  await untilTrue('/readyz to be ready again', async () => (await readyStatus(c)) === 200, READY_CHANGE_BOUND_MS);
  const readyAgainMs = Date.now() - restoredAt;
  await untilTrue('new calls and receipts to be accepted', async () => work.transfers > transfersAtRestore + 1 && work.client.receipts.size > receiptsAtRestore, READY_CHANGE_BOUND_MS);
  const acceptingAgainMs = Date.now() - restoredAt;
  await during(3_000);
  expect(readyDuringCut).toBe(0);
  expect(work.client.withoutRetryAfter).toBe(0);
  const answered503 = (work.client.statuses.get(503) ?? 0) - before503;
  if (which === 'pg') expect(answered503).toBeGreaterThan(0);
  return { outageMs: restoredAt - cutAt, notReadyAfterMs: notReadyMs, readyAgainAfterMs: readyAgainMs, acceptingAgainAfterMs: acceptingAgainMs, answered503DuringOutage: answered503 };
}

describe('faults under load', () => {
  it('a 5-second Postgres cut while receipts and calls are submitted', async () => {
    await runScenario('pg_cut', async (c) => {
      await during(2_000);
      c.pg.cut();
      await during(5_000);
      c.pg.restore();
      await during(3_000);
    }, { expectAlive: true });
  }, SCENARIO_MS);

  it('a 5-second Redis cut while receipts and calls are submitted', async () => {
    await runScenario('redis_cut', async (c) => {
      await during(2_000);
      c.redis.cut();
      await during(5_000);
      c.redis.restore();
      await during(3_000);
    }, { expectAlive: true });
  }, SCENARIO_MS);

  it('kill -9 of the node under load, then a restart', async () => {
    await runScenario('kill9', async (c) => {
      await during(2_000);
      c.node.child.kill('SIGKILL');
      await c.node.exited;
      await c.restartNode();
      await during(3_000);
    });
  }, SCENARIO_MS);

  it(`SIGTERM of the node under load: it exits within ${SIGTERM_EXIT_BOUND_MS} ms, nothing accepted is lost, then a restart`, async () => {
    await runScenario('sigterm', async (c) => {
      await during(2_000);
      const at = Date.now();
      expect(await c.node.stop(START_WAIT_MS)).toBe(0);
      const exitMs = Date.now() - at;
      expect(exitMs).toBeLessThan(SIGTERM_EXIT_BOUND_MS);
      await c.restartNode();
      await during(3_000);
      return { exitAfterSigtermMs: exitMs };
    });
  }, SCENARIO_MS);

  it('a runner killed (SIGKILL) after answering calls, before pushing their receipts: they settle once it restarts from its log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zgas-faults-runner-'));
    try {
      await runScenario('runner_kill9', async (c, work) => {
        const sessionId = work.runnerSessions[0]! as Hash;
        const port = await freePort();
        // Coalesced with an hour's flush interval: answered calls' receipts wait in the runner.
        const env = { ZGAS_RECEIPT_PUSH: 'coalesced', ZGAS_RECEIPT_FLUSH_MS: '3600000' };
        let runner = await c.startRunner(dataDir, port, env);
        const user = await SessionClient.attach({
          api: new SettlementClient({ baseUrl: c.base, domain }), runnerUrl: `http://127.0.0.1:${port}`, sessionId, user: new Wallet(keys.user.privateKey), defaultCallGasLimit: gas(1_000_000n),
        });
        for (let i = 0; i < RUNNER_CALLS; i++) await user.call(new TextEncoder().encode(`call ${i}`));
        const answered = user.lastCall!.receipt;
        // Answered, logged, not pushed: the ledger has settled none of them.
        expect(await getSession(c.db, sessionId)).toMatchObject({ lastSeq: '0' });
        runner.child.kill('SIGKILL');
        await runner.exited;
        const restartedAt = Date.now();
        runner = await c.startRunner(dataDir, port, env);
        await untilTrue('the answered receipts to settle after the restart', async () => (await getSession(c.db, sessionId))?.lastSeq === answered.seq.toString(), SETTLE_WAIT_MS);
        const settledAfterRestartMs = Date.now() - restartedAt;
        expect(await getSession(c.db, sessionId)).toMatchObject({ settledGas: answered.cumulativeGas.toString() });
        // The session goes on from the log; a stop (SIGTERM) pushes the newest receipt.
        const next = await user.call(new TextEncoder().encode('after the restart'));
        expect(next.receipt.seq).toBe(answered.seq + 1n);
        expect(await runner.stop(START_WAIT_MS)).toBe(0);
        await untilTrue('the call after the restart to settle', async () => (await getSession(c.db, sessionId))?.lastSeq === next.receipt.seq.toString(), SETTLE_WAIT_MS);
        expect(await getSession(c.db, sessionId)).toMatchObject({ settledGas: next.receipt.cumulativeGas.toString() });
        return { runnerCalls: RUNNER_CALLS + 1, runnerReceiptsSettledAfterRestartMs: settledAfterRestartMs };
      }, { runnerSessions: 1 });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, SCENARIO_MS);

  it('a Postgres outage over a minute: POSTs answer 503 with Retry-After, /readyz is not ready, the node resumes by itself', async () => {
    await runScenario('pg_outage_61s', (c, work) => longOutage(c, work, 'pg'), { expectAlive: true });
  }, SCENARIO_MS);

  it('a Redis outage over a minute: /readyz is not ready, receipts and calls are still stored durably, the node resumes by itself', async () => {
    await runScenario('redis_outage_61s', (c, work) => longOutage(c, work, 'redis'), { expectAlive: true });
  }, SCENARIO_MS);
});
