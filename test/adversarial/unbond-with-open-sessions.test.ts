// A provider with sessions not yet closed tries to take its stake out from under them, or to
// withdraw unbonded stake while its receipts can still be challenged.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { sha3 } from '../../contracts/hash.ts';
import { wholeQsr } from '../../contracts/units.ts';
import type { Qsr } from '../../contracts/units.ts';
import { ADDR, FakeRunner, World } from '../support/contract-kit.ts';

describe('unbonding', () => {
  it('may not take the stake below minProviderStake while a session is live', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    w.fails('provider', { name: 'Unbond', amount: wholeQsr(9_001) }, 'InsufficientStake');
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(9_000) });
    w.fails('provider', { name: 'Unbond', amount: 1n as Qsr }, 'InsufficientStake');
    w.ok('owner', { name: 'CloseSession', sessionId: id });
    w.fails('provider', { name: 'Unbond', amount: wholeQsr(1_000) }, 'InsufficientStake'); // closing is still live
    w.now += 60n;
    w.ok('owner', { name: 'FinalizeSession', sessionId: id });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(1_000) });
    checkInvariants(w.state);
  });

  it('WithdrawUnbonded waits for releaseAt and challengeableUntil; until then the stake is slashable', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId, 1_000_000n, 60n);
    const runner = new FakeRunner(w, id);
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(9_000) });
    const releaseAt = w.state.providers.get(ADDR.provider)!.unbonding[0]!.releaseAt;
    // a lie settles just before the release: its window runs past releaseAt
    w.now = releaseAt - 30n;
    const lie = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
    w.settle([lie]);
    const until = w.state.providers.get(ADDR.provider)!.challengeableUntil;
    expect(until).toBeGreaterThan(releaseAt);
    w.now = releaseAt;
    w.fails('provider', { name: 'WithdrawUnbonded' }, 'StakeStillChallengeable');
    w.now = until - 1n;
    w.fails('provider', { name: 'WithdrawUnbonded' }, 'StakeStillChallengeable');
    // the user catches the lie in time: the unbonding stake is slashed too
    w.ok('user', runner.challenge(1n));
    const p = w.state.providers.get(ADDR.provider)!;
    expect(p.stake + p.unbonding.reduce((a, u) => a + u.amount, 0n)).toBe(wholeQsr(5_000));
    w.now = until;
    w.ok('provider', { name: 'WithdrawUnbonded' });
    checkInvariants(w.state);
  });

  it('a finalized session keeps the provider challengeable for a window (receipts never settled)', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId, 1_000_000n, 60n);
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(1) });
    w.now += w.state.params.unbondingPeriodSeconds - w.state.params.challengeWindowSeconds + 1n;
    w.ok('other', { name: 'FinalizeSession', sessionId: id });
    w.now = w.state.providers.get(ADDR.provider)!.unbonding[0]!.releaseAt;
    w.fails('provider', { name: 'WithdrawUnbonded' }, 'StakeStillChallengeable');
    w.now = w.state.providers.get(ADDR.provider)!.challengeableUntil;
    w.ok('provider', { name: 'WithdrawUnbonded' });
  });
});
