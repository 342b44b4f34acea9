import { describe, expect, it } from 'vitest';
import { FakeRunner, World } from '../../test/support/contract-kit.ts';
import type { Gas, Qsr } from '../units.ts';
import { stateDigest } from './state.ts';
import { Tx } from './tx.ts';

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
});
