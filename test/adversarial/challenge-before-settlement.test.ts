// A provider signs a lie and never settles it (or settles only a newer receipt over it), hoping it
// cannot be challenged. v2: a receipt is challengeable from the moment it exists until the deadline
// of the first settlement that covered it, or a window after the session was finalized.
import { describe, expect, it } from 'vitest';
import { sha3 } from '../../contracts/hash.ts';
import { FakeRunner, World } from '../support/contract-kit.ts';

function liar() {
  const w = new World();
  const zAppId = w.setup({ upfrontGas: 0n });
  const id = w.open(zAppId, 1_000_000n, 600n);
  const runner = new FakeRunner(w, id);
  const lie = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
  return { w, id, runner, lie };
}

describe('a receipt is challengeable before it settles and until its deadline', () => {
  it('never settled, session open: challengeable at once', () => {
    const { w, id, runner } = liar();
    expect(w.session(id).lastSeq).toBe(0n);
    const out = w.ok('user', runner.challenge(1n));
    expect(out.result.ok && out.result.challenge!.outcome).toBe('Fraud');
  });

  it('covered by a newer settled receipt: until the deadline of that settlement', () => {
    const { w, id, runner } = liar();
    const newer = runner.run();
    w.settle([newer]); // the gap covers seq 1
    const deadline = w.session(id).coverage[0]!.challengeDeadline;
    w.now = deadline - 1n;
    const out = w.ok('user', runner.challenge(1n));
    expect(out.result.ok && out.result.challenge!.outcome).toBe('Fraud');
    const again = liar();
    again.w.settle([again.runner.run()]);
    again.w.now = again.w.session(again.id).coverage[0]!.challengeDeadline;
    again.w.fails('user', again.runner.challenge(1n), 'ChallengeWindowClosed');
  });

  it('never settled, session finalized: for challengeWindowSeconds after finalization', () => {
    const { w, id, runner } = liar();
    w.now += 600n + 60n;
    w.ok('other', { name: 'FinalizeSession', sessionId: id });
    const end = w.now + w.state.params.challengeWindowSeconds;
    w.now = end - 1n;
    const out = w.ok('user', runner.challenge(1n));
    expect(out.result.ok && out.result.challenge!.outcome).toBe('Fraud');
    const late = liar();
    late.w.now += 660n;
    late.w.ok('other', { name: 'FinalizeSession', sessionId: late.id });
    late.w.now += late.w.state.params.challengeWindowSeconds;
    // at the deadline nothing of the session can be challenged any more: it has left the state
    late.w.fails('user', late.runner.challenge(1n), 'SessionNotFound');
    expect(late.w.state.sessions.has(late.id)).toBe(false);
  });
});
