import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySessionLog } from '../runtime/session-log.ts';
import { openTestSession, TestClient, testRunner } from '../../test/support/runner-kit.ts';
import type { TestRunner } from '../../test/support/runner-kit.ts';

let runner: TestRunner;
const log = new MemorySessionLog({ maxSessionBytes: 1_000_000, maxTotalBytes: 8_000 });

beforeAll(async () => {
  runner = await testRunner({ log });
});
afterAll(async () => {
  await runner.close();
});

describe('the session log of a closed session', () => {
  it('is removed when the ledger reports the session closed, and makes room for other sessions', async () => {
    const first = new TestClient(runner.app, openTestSession(runner.ledger, 'counter'));
    while ((await first.call('increment')).status === 200);
    expect((await first.call('increment')).json.code).toBe('SessionLogFull');
    const second = new TestClient(runner.app, openTestSession(runner.ledger, 'counter'));
    expect((await second.call('increment')).json.code).toBe('SessionLogFull');

    runner.ledger.sessions.get(first.sessionId)!.status = 'closed';
    expect((await second.call('increment')).status).toBe(200);
    expect(log.sessionIds()).toEqual([second.sessionId]);
    expect((await first.call('increment')).json.code).toBe('SessionNotOpen');
  });

  it('is removed by a sweep, and a call on the closed session is refused without writing anything', async () => {
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter'));
    expect((await user.call('increment')).status).toBe(200);
    expect(await runner.calls.pruneClosed()).toBe(0);
    runner.ledger.sessions.get(user.sessionId)!.status = 'closed';
    expect(await runner.calls.pruneClosed()).toBe(1);
    expect(log.sessionIds()).not.toContain(user.sessionId);
    expect((await user.call('increment')).json.code).toBe('SessionNotOpen');
    expect(log.sessionIds()).not.toContain(user.sessionId);
  });

  it('is removed by a sweep once the ledger no longer holds the session (it left the state after its windows)', async () => {
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter'));
    expect((await user.call('increment')).status).toBe(200);
    expect(await runner.calls.pruneClosed()).toBe(0);
    runner.ledger.sessions.delete(user.sessionId);
    expect(await runner.calls.pruneClosed()).toBe(1);
    expect(log.sessionIds()).not.toContain(user.sessionId);
  });
});
