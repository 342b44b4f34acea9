// Status Aborted bills at most the abort grace and is hard to dispute (re-execution shows only that
// the call "does not finish within callGas"), so a runner may produce it only for a call it stopped
// because of that very session's abort (docs/protocol.md §Runner rules). v1 aborted any call that
// ran past a wall-clock limit (ZGAS_CALL_TIME_LIMIT_MS) and signed it Aborted with no abort at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStatus } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import type { StartedRunner } from '../../unikernel-runner/server/main.ts';
import { keys, openTestSession, startTestRunner, TestClient, until } from '../support/runner-kit.ts';

const SPIN_FOREVER = '100000000000';
/** The largest callGasLimit at the default close grace: a call that outlasts any wall-clock limit of v1. */
const LONG_CALL = gas(1_500_000_000n);
/** The chain's largest callGasLimit (a close grace of 600 s allows it): a call that is surely still running when the abort lands. */
const HUGE_CALL = gas(10_000_000_000n);

const ledger = new MemoryLedger();
let runner: StartedRunner;

beforeAll(async () => {
  runner = await startTestRunner(ledger, {
    ZGAS_CHAIN_ID: '73405',
    ZGAS_RUNNER_WORKERS: '2',
    ZGAS_CLOSE_GRACE_PERIOD_SECONDS: '600',
    // v1's wall-clock limit: a call running longer was signed Aborted. It no longer exists.
    ZGAS_CALL_TIME_LIMIT_MS: '20',
  });
});
afterAll(async () => {
  await runner.close();
});

const client = () => new TestClient(runner.app, openTestSession(ledger, 'spin'));

describe('status Aborted', () => {
  it('is never produced for a long call nobody aborted: it runs to its callGasLimit (OutOfGas)', async () => {
    const user = client();
    const res = await user.call(SPIN_FOREVER, LONG_CALL);
    expect(res.status).toBe(200);
    expect(res.receipt).toMatchObject({ status: CallStatus.OutOfGas, callGas: LONG_CALL, callGasLimit: LONG_CALL });
  });

  it("is not produced by another session's abort, nor by an abort signed by a stranger or forged", async () => {
    const victim = client();
    const bystander = client();
    const running = victim.call(SPIN_FOREVER, HUGE_CALL);
    await until(() => runner.pool.busy > 0, 'the call to start');
    // the other session is aborted both ways
    expect((await bystander.abort()).status).toBe(202);
    ledger.abort(bystander.sessionId);
    // a stranger's Abort of the victim's session, and one forged in the user's name
    expect((await victim.abort(victim.abortCall(keys.provider.privateKey))).json['code']).toBe('NotSessionParty');
    expect((await victim.abort({ ...victim.abortCall(keys.provider.privateKey), from: keys.user.address })).json['code']).toBe('WrongSigner');
    // an Abort of the bystander's session sent to the victim's URL
    expect((await victim.abort(bystander.abortCall())).json['code']).toBe('NotAnAbort');
    const res = await running;
    expect(res.receipt).toMatchObject({ status: CallStatus.OutOfGas, callGas: HUGE_CALL });
  });

  it("is produced for a call stopped by its own session's abort, and then no invocation runs", async () => {
    const user = client();
    const running = user.call(SPIN_FOREVER, HUGE_CALL);
    await until(() => runner.pool.busy > 0, 'the call to start');
    expect((await user.abort()).status).toBe(202);
    const res = await running;
    expect(res.receipt?.status).toBe(CallStatus.Aborted);
    expect(res.receipt!.callGas < HUGE_CALL).toBe(true);
    expect((await user.call('1')).json.code).toBe('SessionNotOpen');
  });
});
