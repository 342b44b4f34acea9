import { describe, expect, it } from 'vitest';
import { ADDR, FakeRunner, testGenesis, World } from '../../test/support/contract-kit.ts';
import type { Hash } from '../types.ts';
import type { Qsr } from '../units.ts';
import { checkInvariants } from './invariants.ts';
import { MAX_SESSION_REMOVALS_PER_INPUT } from './limits.ts';
import { cloneState, stateDigest, stateToJson } from './state.ts';

/** A session with one settled receipt and one never settled, closed and finalized. */
function finalized(w: World) {
  const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
  const id = w.open(zAppId);
  const runner = new FakeRunner(w, id);
  const settled = runner.run();
  expect(w.settle([settled]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
  const unsettled = runner.run();
  w.ok('user', { name: 'CloseSession', sessionId: id });
  w.now += w.state.params.closeGracePeriodSeconds;
  w.ok('owner', { name: 'FinalizeSession', sessionId: id });
  return { zAppId, id, runner, unsettled };
}

const touch = (w: World) => w.ok('other', { name: 'Transfer', to: ADDR.user, amount: 1n as Qsr });

describe('closed sessions leave the state once none of their receipts can be challenged', () => {
  it('at max(finalizedAt + challengeWindowSeconds, the newest coverage deadline), not before', () => {
    const w = new World();
    const { id } = finalized(w);
    const s = w.session(id);
    const newest = s.coverage.at(-1)?.challengeDeadline ?? 0n;
    const windowEnd = s.finalizedAt! + w.state.params.challengeWindowSeconds;
    expect(s.removeAt).toBe(newest > windowEnd ? newest : windowEnd);
    expect(w.state.removals).toEqual([{ removeAt: s.removeAt, sessionId: id }]);

    w.now = s.removeAt! - 1n;
    expect(touch(w).changed.removedSessions.size).toBe(0);
    expect(w.state.sessions.has(id)).toBe(true);

    w.now += 1n;
    const out = touch(w);
    expect([...out.changed.removedSessions]).toEqual([id]);
    expect(out.changed.sessions.has(id)).toBe(true); // the host deletes its row
    expect(w.state.sessions.has(id)).toBe(false);
    expect(w.state.removals).toEqual([]);
    checkInvariants(w.state);
    expect(stateDigest(cloneState(w.state))).toBe(stateDigest(w.state));
  });

  it('the newest coverage deadline holds the session when it ends after the window of its finalization', () => {
    const w = new World(testGenesis({ params: { closeGracePeriodSeconds: '0' } }));
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    w.now += 1n; // inside a settlement bucket: its deadline is after now + challengeWindowSeconds
    w.settle([runner.run()]);
    w.ok('user', { name: 'CloseSession', sessionId: id });
    w.ok('owner', { name: 'FinalizeSession', sessionId: id });
    const s = w.session(id);
    const deadline = s.coverage.at(-1)!.challengeDeadline;
    expect(deadline).toBeGreaterThan(s.finalizedAt! + w.state.params.challengeWindowSeconds);
    expect(s.removeAt).toBe(deadline);
    // the covered receipt can be challenged until the deadline, so the session stays until then
    w.now = deadline - 1n;
    expect(w.call('user', runner.challenge(1n)).result).toMatchObject({ ok: true, challenge: { outcome: 'Upheld' } });
    expect(w.state.sessions.has(id)).toBe(true);
    w.now = deadline;
    expect([...touch(w).changed.removedSessions]).toEqual([id]);
    checkInvariants(w.state);
  });

  it('after removal a settle or a challenge of its receipts fails with SessionNotFound and changes nothing else', () => {
    const w = new World();
    const { id, runner, unsettled } = finalized(w);
    w.now = w.session(id).removeAt!;
    touch(w);
    expect(w.state.sessions.has(id)).toBe(false);

    const before = stateDigest(w.state);
    const batch = w.settle([unsettled, runner.run()]);
    expect(batch.result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'SessionNotFound' }, { outcome: 'Rejected', code: 'SessionNotFound' }] });
    expect(stateDigest(w.state)).toBe(before);

    for (const method of [runner.challenge(1n), runner.challenge(2n), { name: 'FinalizeSession' as const, sessionId: id }, { name: 'Abort' as const, sessionId: id }]) {
      const snapshot = cloneState(w.state);
      const balance = w.balance(ADDR.user);
      const out = w.fails('user', method, 'SessionNotFound');
      expect(out.changed.accounts).toEqual(new Set([ADDR.user]));
      expect(out.changed.sessions.size).toBe(0);
      expect(w.balance(ADDR.user)).toBe(balance);
      const acc = snapshot.accounts.get(ADDR.user)!;
      snapshot.accounts.set(ADDR.user, { ...acc, nonce: acc.nonce + 1n });
      expect(stateDigest(w.state)).toBe(stateDigest(snapshot));
    }
    checkInvariants(w.state);
  });

  it('a session fraud closes is queued too, and leaves after its window', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const lie = runner.run(8, { tamper: (r) => ({ ...r, outputHash: `0x${'77'.repeat(32)}` as Hash }) });
    w.settle([lie]);
    expect(w.call('user', runner.challenge(1n)).result).toMatchObject({ ok: true, challenge: { outcome: 'Fraud' } });
    const s = w.session(id);
    expect(s.slashed && s.status === 'closed').toBe(true);
    expect(w.state.removals.map((r) => r.sessionId)).toEqual([id]);
    w.now = s.removeAt!;
    expect([...touch(w).changed.removedSessions]).toEqual([id]);
    checkInvariants(w.state);
  });

  it('each input removes at most the limit, oldest first, whatever its outcome; replays agree', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
    const count = MAX_SESSION_REMOVALS_PER_INPUT + 4;
    const ids: Hash[] = [];
    for (let i = 0; i < count; i++) {
      const id = w.open(zAppId, 1_000n);
      w.ok('user', { name: 'CloseSession', sessionId: id });
      ids.push(id);
    }
    w.now += w.state.params.closeGracePeriodSeconds;
    for (const id of ids) {
      w.ok('owner', { name: 'FinalizeSession', sessionId: id });
      w.now += 1n;
    }
    const order = w.state.removals.map((r) => r.sessionId);
    expect(order).toEqual(ids);
    const replica = cloneState(w.state);
    w.now = w.session(ids.at(-1)!).removeAt!;
    // a call that fails (bad nonce) still lets the due sessions leave first
    const first = w.call('other', { name: 'Transfer', to: ADDR.user, amount: 1n as Qsr }, 99n);
    expect(first.result).toMatchObject({ ok: false, code: 'BadNonce' });
    expect([...first.changed.removedSessions]).toEqual(order.slice(0, MAX_SESSION_REMOVALS_PER_INPUT));
    const second = touch(w);
    expect([...second.changed.removedSessions]).toEqual(order.slice(MAX_SESSION_REMOVALS_PER_INPUT));
    expect(w.state.sessions.size).toBe(0);
    checkInvariants(w.state);
    // a state read back from JSON rebuilds the queue and removes the same sessions
    expect(replica.removals).toEqual(cloneState(replica).removals);
    expect(stateToJson(replica)).toEqual(stateToJson(cloneState(replica)));
  });
});
