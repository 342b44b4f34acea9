// A closing session runs no new invocation but lets the running call finish, and its receipts must
// settle before closesAt (docs/contract.md §Methods; docs/protocol.md §Runner rules). A call whose
// limit lets it outlast the close grace would be work the provider can never bill, or a reason to
// keep a session open: the runner refuses a callGasLimit it could not run and settle within
// closeGracePeriodSeconds. v1 had no per-call limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CALL_GAS_LIMIT } from '../../contracts/gas/limits.ts';
import { CallStatus } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { CALL_SHARE_OF_CLOSE_GRACE_BPS, CONSERVATIVE_GAS_PER_SECOND, maxCallGasLimit } from '../../unikernel-runner/server/call-gas-limit.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import type { StartedRunner } from '../../unikernel-runner/server/main.ts';
import { openTestSession, startTestRunner, TestClient } from '../support/runner-kit.ts';

const GRACE_SECONDS = 10n;
const ledger = new MemoryLedger();
let runner: StartedRunner;

beforeAll(async () => {
  runner = await startTestRunner(ledger, { ZGAS_CLOSE_GRACE_PERIOD_SECONDS: GRACE_SECONDS.toString() });
});
afterAll(async () => {
  await runner.close();
});

describe('a callGasLimit that could not finish within the close grace', () => {
  const max = maxCallGasLimit(GRACE_SECONDS);

  it('is bounded by the grace at the conservative rate, leaving the rest of the grace to settle, and never above the chain cap', () => {
    expect(max).toBe((GRACE_SECONDS * CONSERVATIVE_GAS_PER_SECOND * CALL_SHARE_OF_CLOSE_GRACE_BPS) / 10_000n);
    expect(max * 10_000n <= GRACE_SECONDS * CONSERVATIVE_GAS_PER_SECOND * CALL_SHARE_OF_CLOSE_GRACE_BPS).toBe(true);
    expect(maxCallGasLimit(10n ** 9n)).toBe(MAX_CALL_GAS_LIMIT);
  });

  it('is refused before anything runs; the bound itself is accepted and the call ends within the grace', async () => {
    const user = new TestClient(runner.app, openTestSession(ledger, 'loop'));
    const refused = await user.call('', gas(max + 1n));
    expect(refused).toMatchObject({ status: 409, json: { code: 'CallGasLimitTooHigh' } });
    expect((await user.latest()).status).toBe(404);
    expect(ledger.receipts.filter((r) => r.sessionId === user.sessionId)).toEqual([]);

    const started = performance.now();
    const res = await user.call('', max);
    const elapsedMs = performance.now() - started;
    expect(res.receipt).toMatchObject({ status: CallStatus.OutOfGas, callGas: max, callGasLimit: max });
    // The conservative rate is many times below what metered code runs at; the whole grace is a generous bound.
    expect(elapsedMs).toBeLessThan(Number(GRACE_SECONDS) * 1000);
  });
});
