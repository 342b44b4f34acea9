// One seq, one call (docs/protocol.md §Runner rules): a runner that ran two invocations for one seq
// would sign two receipts the contract treats as fraud, and a user who retries after a lost answer
// must not pay twice. A retry of the same invocation gets the very receipt logged for it — also
// after a restart — and any other invocation for a logged seq is refused without running. v1
// refused the retry too.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import { gas } from '../../contracts/units.ts';
import { WorkerPool } from '../../unikernel-runner/runtime/pool.ts';
import { FileSessionLog } from '../../unikernel-runner/runtime/session-log.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import { openTestSession, TestClient, testRunner } from '../support/runner-kit.ts';
import type { TestRunner } from '../support/runner-kit.ts';

let runner: TestRunner;
let dir = '';
const pool = new WorkerPool({ size: 1 });
const ledger = new MemoryLedger();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'zgas-replay-'));
  runner = await testRunner({ ledger, pool, log: await FileSessionLog.open(dir) });
});
afterAll(async () => {
  await runner.close();
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

const pushedFor = (sessionId: string) => ledger.receipts.filter((r) => r.sessionId === sessionId).length;

describe('a logged seq', () => {
  it('answers a retry of the same invocation with the same receipt, output and writes, running nothing', async () => {
    const user = new TestClient(runner.app, openTestSession(ledger, 'counter'));
    const sent = user.invocation('increment');
    const first = await user.post(sent);
    expect(first.status).toBe(200);
    await runner.calls.flush();
    const pushed = pushedFor(user.sessionId);
    expect(await user.post(sent)).toEqual(first);
    expect(await user.post(sent)).toEqual(first);
    await runner.calls.flush();
    expect(pushedFor(user.sessionId)).toBe(pushed);
  });

  it('refuses any other invocation for it — another input, limit or acknowledgement — and the session goes on unchanged', async () => {
    const user = new TestClient(runner.app, openTestSession(ledger, 'counter'));
    const first = await user.call('increment');
    const seq1 = { seq: 1n, preStateHash: first.receipt!.preStateHash, ackedGas: gas(0n) };
    for (const other of [user.invocation('other', undefined, seq1), user.invocation('increment', gas(49_999_999n), seq1)]) {
      expect(await user.post(other)).toMatchObject({ status: 409, json: { code: 'InvocationReplayed' } });
    }
    expect(receiptFromJson((await user.latest()).json)).toEqual(first.receipt);
    const second = await user.call('increment');
    expect(Buffer.from(second.json.output.slice(2), 'hex').toString()).toBe('2');
  });

  it('runs exactly one of two different invocations for one seq sent at once; two copies of one get the same receipt', async () => {
    const user = new TestClient(runner.app, openTestSession(ledger, 'counter'));
    const [a, b] = await Promise.all([user.post(user.invocation('increment')), user.post(user.invocation('increment', gas(40_000_000n)))]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a, b].find((r) => r.status === 409)!.json.code).toBe('InvocationReplayed');
    const again = new TestClient(runner.app, openTestSession(ledger, 'counter'));
    const sent = again.invocation('increment');
    const [c, d] = await Promise.all([again.post(sent), again.post(sent)]);
    expect(c.status).toBe(200);
    expect(d).toEqual(c);
  });

  it('answers the retry of an older seq from the log after the runner restarts', async () => {
    const user = new TestClient(runner.app, openTestSession(ledger, 'counter'));
    const sent = user.invocation('increment');
    const first = await user.post(sent);
    user.accept(receiptFromJson(first.json.receipt), []);
    await user.call('increment');
    await user.call('increment');
    const restarted = await testRunner({ ledger, pool, log: await FileSessionLog.open(dir) });
    try {
      const retry = new TestClient(restarted.app, user.sessionId);
      expect(await retry.post(sent)).toEqual(first);
      const other = retry.invocation('other', undefined, { seq: 1n, preStateHash: EMPTY_STATE_HASH, ackedGas: gas(0n) });
      expect(await retry.post(other)).toMatchObject({ status: 409, json: { code: 'InvocationReplayed' } });
    } finally {
      await restarted.close();
    }
  });
});
