// A user extends a session after an honest OutOfGas receipt and challenges it, hoping re-execution
// under the new, larger limit makes it look like fraud. v2 re-runs under the receipt's callGasLimit,
// which the user signed.
import { describe, expect, it } from 'vitest';
import { CallStatus } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { ADDR, FakeRunner, World } from '../support/contract-kit.ts';

describe('ExtendSession does not change how a call is judged', () => {
  it('an honest OutOfGas receipt survives a challenge after an extension; the bond goes to the provider', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId, 3_000n);
    const runner = new FakeRunner(w, id);
    const first = runner.run(8, { callGasLimit: 2_000n }); // needs 1,800: finishes
    const starved = runner.run(30, { callGasLimit: 1_000n }); // needs 4,000: runs out
    expect(starved.status).toBe(CallStatus.OutOfGas);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 10_000_000n as Gas });
    w.settle([first, starved]);
    const stake = w.state.providers.get(ADDR.provider)!.stake;
    const providerBalance = w.balance(ADDR.provider);
    const out = w.ok('user', runner.challenge(2n));
    expect(out.result.ok && out.result.challenge!.outcome).toBe('Upheld');
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(1_000n);
    expect(w.state.providers.get(ADDR.provider)!.stake).toBe(stake);
    expect(w.balance(ADDR.provider) - providerBalance).toBe(w.state.params.challengeBond);
  });

  it('a provider cannot bill a larger limit than the user signed for', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId, 3_000n);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 10_000n as Gas });
    const runner = new FakeRunner(w, id);
    const r = runner.run(30, { callGasLimit: 1_000n, tamper: (x) => ({ ...x, callGasLimit: 5_000n as Gas, callGas: 4_000n as Gas, cumulativeGas: 4_000n as Gas, status: CallStatus.Ok }) });
    expect(w.settle([r]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'InvalidInvocation' }] });
  });
});
