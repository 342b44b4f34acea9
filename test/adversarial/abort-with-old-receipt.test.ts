// A user aborts holding an old receipt, hoping to pay only for what it acknowledged; a provider
// ignores the abort and reports OutOfGas to bill the whole limit. v2 bills finished calls in full
// and caps only the call that did not finish at abortGraceGas.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { CallStatus } from '../../contracts/types.ts';
import { FakeRunner, World } from '../support/contract-kit.ts';

function aborting() {
  const w = new World();
  const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
  const id = w.open(zAppId, 1_000_000_000n);
  return { w, id, runner: new FakeRunner(w, id) };
}

describe('abort', () => {
  it('finished calls bill in full, even when their receipts settle after the abort', () => {
    const { w, id, runner } = aborting();
    const finished = Array.from({ length: 5 }, () => runner.run(1_000));
    w.ok('user', { name: 'Abort', sessionId: id }); // the user holds only receipt 1
    expect(w.settle(finished).result.ok).toBe(true);
    expect(w.session(id).billedGas).toBe(finished.at(-1)!.cumulativeGas);
  });

  it('the unfinished call is capped at abortGraceGas', () => {
    const { w, id, runner } = aborting();
    const finished = runner.run(1_000);
    w.ok('user', { name: 'Abort', sessionId: id });
    const stopped = runner.run(1_000_000, { abortAfterGas: 50_000_000n }); // needs 100,001,000
    expect(stopped.status).toBe(CallStatus.Aborted);
    w.settle([finished, stopped]);
    expect(w.session(id).billedGas).toBe(finished.cumulativeGas + w.state.params.abortGraceGas);
    checkInvariants(w.state);
  });

  it('a provider ignoring the abort gains nothing by reporting OutOfGas', () => {
    const { w, id, runner } = aborting();
    const finished = runner.run(1_000);
    w.ok('user', { name: 'Abort', sessionId: id });
    const ranOut = runner.run(1_000_000, { callGasLimit: 90_000_000n }); // ran to its limit after the abort
    expect(ranOut.status).toBe(CallStatus.OutOfGas);
    w.settle([finished, ranOut]);
    expect(w.session(id).billedGas).toBe(finished.cumulativeGas + w.state.params.abortGraceGas);
  });

  it('an OutOfGas receipt settled before the abort is billed in full (the call ran out before it)', () => {
    const { w, id, runner } = aborting();
    const ranOut = runner.run(1_000_000, { callGasLimit: 90_000_000n });
    w.settle([ranOut]);
    w.ok('user', { name: 'Abort', sessionId: id });
    expect(w.session(id).billedGas).toBe(90_000_000n);
  });
});
