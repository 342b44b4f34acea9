import { describe, expect, it } from 'vitest';
import { FakeRunner, World } from '../../test/support/contract-kit.ts';
import type { Gas, Qsr } from '../units.ts';
import { stateDigest } from './state.ts';
import { ALL_SESSION_FIELDS, SESSION_FIELDS, sessionFieldMask, Tx } from './tx.ts';

describe('Tx', () => {
  it('rollback restores every session changed in place and drops every draft', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    w.settle([runner.run()]);
    const before = stateDigest(w.state);
    const tx = new Tx(w.state, w.now);
    const s = tx.session(id);
    s.billedGas = 5n as Gas;
    s.coverage.push({ upToSeq: 9n, challengeDeadline: 1n });
    s.judgedSeqs.push(3n);
    s.status = 'closed';
    tx.zApp(zAppId).available = 0n as Qsr;
    tx.burn(1n as Qsr);
    expect(stateDigest(w.state)).not.toBe(before);
    tx.rollback();
    expect(stateDigest(w.state)).toBe(before);
    // a rolled-back transaction commits nothing
    tx.commit();
    expect(stateDigest(w.state)).toBe(before);
  });

  it('commit refuses a change that breaks an invariant and leaves the state as it was', () => {
    const w = new World();
    const zAppId = w.setup();
    const id = w.open(zAppId);
    const before = stateDigest(w.state);
    const tx = new Tx(w.state, w.now);
    tx.session(id).billedGas = (w.session(id).gasLimit + 1n) as Gas;
    expect(() => tx.commit()).toThrowError(/billed above gasLimit/);
    expect(stateDigest(w.state)).toBe(before);
    const burn = new Tx(w.state, w.now);
    burn.burn(1n as Qsr);
    expect(() => burn.commit()).toThrowError(/conservation/);
    expect(stateDigest(w.state)).toBe(before);
  });

  it('names the session fields an input changed: a settlement moves a few, a new session all', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    expect([...SESSION_FIELDS].sort()).toEqual(Object.keys(w.session(id)).sort());
    const runner = new FakeRunner(w, id);
    const out = w.settle([runner.run()]);
    const mask = out.changed.sessionFields.get(id)!;
    const named = SESSION_FIELDS.filter((_f, i) => (mask & (1 << i)) !== 0);
    expect(named).toEqual(expect.arrayContaining(['settledGas', 'billedGas', 'lastSeq', 'lastReceiptHash', 'lastPostStateHash', 'lastInvocation', 'coverage']));
    expect(named).not.toContain('gasLimit');
    expect(named).not.toContain('judgedSeqs');
    const s = w.session(id);
    expect(sessionFieldMask(s, { ...s, coverage: s.coverage.map((c) => ({ ...c })), judgedSeqs: s.judgedSeqs.slice() })).toBe(0);
    expect(sessionFieldMask(s, { ...s, coverage: [] })).toBe(1 << SESSION_FIELDS.indexOf('coverage'));
    const created = w.open(zAppId);
    expect(w.settle([new FakeRunner(w, created).run()]).changed.sessionFields.get(created)).not.toBe(ALL_SESSION_FIELDS);
    const opened = w.ok('owner', { name: 'OpenSession', zAppId, provider: s.provider, user: s.user, gasLimit: 1_000n as Gas, durationSeconds: 60n, maxPricePerMgas: s.price, maxUpfrontGas: s.upfrontGas });
    const newId = opened.result.ok ? opened.result.created! : (undefined as never);
    expect(opened.changed.sessionFields.get(newId)).toBe(ALL_SESSION_FIELDS);
  });
});
