// A provider reports status Aborted for calls it never finished, so re-execution can only show
// that they "do not finish within callGas", and bills the grace for each. v2: Aborted settles only
// once the session was aborted.
import { describe, expect, it } from 'vitest';
import { stateDigest } from '../../contracts/gas/state.ts';
import { CallStatus } from '../../contracts/types.ts';
import { FakeRunner, World } from '../support/contract-kit.ts';

describe('status Aborted needs a real abort', () => {
  it('is InvalidReceipt on a session nobody aborted, and settles once it was', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const cut = runner.run(100, { abortAfterGas: 900n });
    expect(cut.status).toBe(CallStatus.Aborted);
    const before = stateDigest(w.state);
    expect(w.settle([cut]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'InvalidReceipt' }] });
    expect(stateDigest(w.state)).toBe(before);
    w.fails('user', runner.challenge(1n), 'InvalidReceipt');
    w.ok('user', { name: 'Abort', sessionId: id });
    expect(w.settle([cut]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
    expect(w.session(id).billedGas).toBe(900n);
  });
});
