// A session may be finalized by anyone `closeGracePeriodSeconds` after its expiresAt, and no receipt
// settles after that. The grace is for calls already running when the session expires: a user (or
// a zApp owner acting as one) who keeps starting calls after expiresAt would have the provider do
// work that a finalization made just in time leaves unbilled. The runner starts no call once the
// session has expired by its clock (docs/protocol.md §Runner rules).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSession, TestClient, testRunner } from '../support/runner-kit.ts';
import type { TestRunner } from '../support/runner-kit.ts';

const EXPIRES_AT = 1_000_000n;
let now = EXPIRES_AT - 10n;
let runner: TestRunner;

beforeAll(async () => {
  // Coalesced with a flush interval no test waits for: a receipt reaches the ledger only when pushed for a reason.
  runner = await testRunner({ clock: () => now, push: { mode: 'coalesced', flushIntervalMs: 3_600_000 } });
});
afterAll(async () => {
  await runner.close();
});

describe('a session past its expiresAt', () => {
  it('runs no new call (SessionExpired), writes nothing to the log, and pushes its newest receipt at once', async () => {
    now = EXPIRES_AT - 10n;
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter', { expiresAt: EXPIRES_AT }));
    expect((await user.call('increment')).status).toBe(200);
    const last = (await user.call('increment')).receipt!;
    expect(runner.ledger.receipts.filter((r) => r.sessionId === user.sessionId)).toEqual([]);

    now = EXPIRES_AT;
    const late = await user.call('increment');
    expect(late.status).toBe(409);
    expect(late.json.code).toBe('SessionExpired');
    expect((await runner.calls.latest(user.sessionId))?.seq).toBe(2n);
    expect(runner.ledger.receipts.filter((r) => r.sessionId === user.sessionId)).toEqual([last]);

    // Still refused later on, and the session's next call never ran.
    now = EXPIRES_AT + 3_600n;
    expect((await user.call('increment')).json.code).toBe('SessionExpired');
    expect((await runner.calls.latest(user.sessionId))?.seq).toBe(2n);
  });

  it('still answers a retry of a call that ran before it expired, from the log', async () => {
    now = EXPIRES_AT - 1n;
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter', { expiresAt: EXPIRES_AT }));
    const invocation = user.invocation('increment');
    const first = await user.post(invocation);
    expect(first.status).toBe(200);

    now = EXPIRES_AT + 1n;
    const retry = await user.post(invocation);
    expect(retry.status).toBe(200);
    expect(retry.json.receipt).toEqual(first.json.receipt);
  });

  it('is one second away from running no call: a call at expiresAt − 1 runs', async () => {
    now = EXPIRES_AT - 1n;
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter', { expiresAt: EXPIRES_AT }));
    expect((await user.call('increment')).status).toBe(200);
  });
});
