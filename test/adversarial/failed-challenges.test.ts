// Someone floods the chain with challenges of honest receipts to make it re-execute for free, or a
// provider challenges its own honest receipts to shield a fraudulent one. v2: each failed
// challenge costs challengeBond (to the provider), each (session, seq) is judged once, and a full
// judged list never blocks a challenge.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { MAX_JUDGED_SEQS_PER_SESSION } from '../../contracts/gas/limits.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Qsr } from '../../contracts/units.ts';
import { ADDR, FakeRunner, World } from '../support/contract-kit.ts';

describe('failed challenges', () => {
  it('cost the bond, paid to the provider; the same (session, seq) is not re-executed again', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    w.settle([runner.run(), runner.run()]);
    const bond = w.state.params.challengeBond;
    const griefer = w.balance(ADDR.other);
    const provider = w.balance(ADDR.provider);
    w.ok('other', runner.challenge(1n));
    w.ok('other', runner.challenge(2n));
    expect(griefer - w.balance(ADDR.other)).toBe(2n * bond);
    expect(w.balance(ADDR.provider) - provider).toBe(2n * bond);
    const reruns = w.reexecutor.calls.length;
    w.fails('other', runner.challenge(1n), 'AlreadyJudged');
    w.fails('user', runner.challenge(2n), 'AlreadyJudged');
    expect(w.reexecutor.calls.length).toBe(reruns);
    checkInvariants(w.state);
  });

  it('cannot be made without the bond', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    w.settle([runner.run()]);
    w.ok('owner', { name: 'Transfer', to: ADDR.user2, amount: (w.state.params.challengeBond - 1n) as Qsr });
    w.fails('user2', runner.challenge(1n), 'InsufficientBalance');
    expect(w.reexecutor.calls.length).toBe(0);
  });

  it('a provider judging its own honest receipts cannot shield a fraudulent one', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId, 100_000_000n));
    const honest = Array.from({ length: MAX_JUDGED_SEQS_PER_SESSION + 1 }, () => runner.run());
    const lie = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
    w.settle([...honest, lie]);
    for (let seq = 1n; seq <= BigInt(honest.length); seq++) w.ok('provider2', runner.challenge(seq));
    expect(w.session(lie.sessionId).judgedSeqs.length).toBe(MAX_JUDGED_SEQS_PER_SESSION);
    const out = w.ok('user', runner.challenge(BigInt(honest.length + 1)));
    expect(out.result.ok && out.result.challenge!.outcome).toBe('Fraud');
  });
});
