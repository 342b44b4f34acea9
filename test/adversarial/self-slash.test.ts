// A provider that wants its stake back at once proves fraud against itself through a second
// account. v2 pays that account at most challengerRewardBps ≤ 5000 of the slash and burns the rest,
// and a session is slashed once.
import { describe, expect, it } from 'vitest';
import { signReceipt, settlementReceipt } from '../../contracts/eip712/index.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { sha3 } from '../../contracts/hash.ts';
import { wholeQsr } from '../../contracts/units.ts';
import { ADDR, FakeRunner, TEST_KEYS, testGenesis, World } from '../support/contract-kit.ts';

describe('self-slashing to skip unbonding', () => {
  it.each([['the default reward', {}], ['the largest reward genesis allows', { challengerRewardBps: '5000', slashFractionBps: '10000' }]] as const)('burns at least half of what it moves (%s)', (_n, params) => {
    const w = new World(testGenesis({ params }));
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const lie = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
    const accomplice = ADDR.other; // the provider's second account
    const together = () => w.balance(ADDR.provider) + w.balance(accomplice) + w.state.providers.get(ADDR.provider)!.stake;
    const before = together();
    const out = w.ok('other', runner.challenge(1n, lie));
    const slashed = out.result.ok && out.result.challenge!.outcome === 'Fraud' ? out.result.challenge!.slashed : 0n;
    expect(slashed).toBeGreaterThan(0n);
    expect(before - together()).toBeGreaterThanOrEqual(slashed / 2n);
    expect(w.state.burned).toBeGreaterThanOrEqual(slashed / 2n);
    // one slash per session: the same lie, or another receipt of it, cannot be used twice
    w.fails('other', runner.challenge(1n, lie), 'ChallengeWindowClosed');
    expect(w.settle([runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([2])) }), userSignsTampered: true })]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'SessionClosed' }] });
    checkInvariants(w.state);
  });

  it('a Settle batch that finds the fraud anonymously burns the whole slash', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    const r1 = runner.run();
    w.settle([r1]);
    const stake = w.state.providers.get(ADDR.provider)!.stake;
    // another result for the same request: the user's signature of that request stays valid
    const second = settlementReceipt(signReceipt(w.domain, { ...r1, outputHash: sha3(new Uint8Array([3])) }, TEST_KEYS.receiptSigner), r1.invocationSignature);
    const out = w.settle([second]);
    expect(out.result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Fraud', kind: 'equivocation' }] });
    expect(w.state.burned).toBe((stake * w.state.params.slashFractionBps) / 10_000n);
    expect(wholeQsr(10_000) - w.state.providers.get(ADDR.provider)!.stake).toBe(w.state.burned);
  });
});
