import { describe, expect, it } from 'vitest';
import { ADDR, EMPTY_OUTPUT_HASH, FakeRunner, TEST_KEYS, World } from '../../test/support/contract-kit.ts';
import { signInvocation, signReceipt, settlementReceipt } from '../eip712/index.ts';
import { sha3 } from '../hash.ts';
import { invocationOf } from '../invocation.ts';
import { CallStatus } from '../types.ts';
import type { GasReceipt, SettlementReceipt } from '../types.ts';
import { wholeQsr } from '../units.ts';
import type { Gas } from '../units.ts';
import type { ApplyOutput } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { stateDigest } from './state.ts';

/** The receipt with `change` applied, signed by the provider, its invocation by the user: a well-formed lie. */
function lie(w: World, r: SettlementReceipt, change: Partial<GasReceipt>): SettlementReceipt {
  const fields: GasReceipt = { ...r, ...change };
  return settlementReceipt(signReceipt(w.domain, fields, TEST_KEYS.receiptSigner), signInvocation(w.domain, invocationOf(fields), TEST_KEYS.user));
}

function world(gasLimit = 1_000_000n) {
  const w = new World();
  const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
  const id = w.open(zAppId, gasLimit);
  return { w, zAppId, id, runner: new FakeRunner(w, id) };
}

function outcome(out: ApplyOutput): string {
  if (!out.result.ok) return out.result.code;
  return out.result.challenge!.outcome;
}

describe('a challenge judges every field re-execution determines', () => {
  // An honest Ok receipt for seq 1 (8 input bytes: 1,800 gas), one field changed at a time.
  const cases: Array<[string, (r: SettlementReceipt) => Partial<GasReceipt>, string]> = [
    ['nothing', () => ({}), 'Upheld'],
    ['callGasLimit changed (a finished call uses the same gas under any limit that covers it)', (r) => ({ callGasLimit: (r.callGasLimit - 1n) as Gas }), 'Upheld'],
    ['callGas and cumulativeGas up by one', (r) => ({ callGas: (r.callGas + 1n) as Gas, cumulativeGas: (r.cumulativeGas + 1n) as Gas }), 'Fraud'],
    ['callGas and cumulativeGas down by one', (r) => ({ callGas: (r.callGas - 1n) as Gas, cumulativeGas: (r.cumulativeGas - 1n) as Gas }), 'Fraud'],
    ['postStateHash', () => ({ postStateHash: sha3(new Uint8Array([1])) }), 'Fraud'],
    ['outputHash', () => ({ outputHash: sha3(new Uint8Array([2])) }), 'Fraud'],
    ['status Trapped (with no state change and no output)', (r) => ({ status: CallStatus.Trapped, postStateHash: r.preStateHash, outputHash: EMPTY_OUTPUT_HASH }), 'Fraud'],
    ['inputHash (the input no longer matches)', () => ({ inputHash: sha3(new Uint8Array([3])) }), 'InputMismatch'],
    ['preStateHash (the pre-state no longer matches)', () => ({ preStateHash: sha3(new Uint8Array([4])) }), 'PreStateMismatch'],
    ['status OutOfGas below its limit (breaks the status rules)', (r) => ({ status: CallStatus.OutOfGas, postStateHash: r.preStateHash, outputHash: EMPTY_OUTPUT_HASH }), 'InvalidReceipt'],
    ['status Aborted without an abort', (r) => ({ status: CallStatus.Aborted, postStateHash: r.preStateHash, outputHash: EMPTY_OUTPUT_HASH }), 'InvalidReceipt'],
  ];

  it.each(cases)('%s → %s', (_name, change, expected) => {
    const { w, runner } = world();
    const honest = runner.run(8, { callGasLimit: 900_000n });
    const receipt = lie(w, honest, change(honest));
    const stakeBefore = w.state.providers.get(ADDR.provider)!.stake;
    const out = w.call('user', runner.challenge(1n, receipt));
    expect(outcome(out)).toBe(expected);
    if (expected === 'Fraud') {
      expect(w.state.providers.get(ADDR.provider)!.stake).toBeLessThan(stakeBefore);
      expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(receipt.callGasLimit);
    }
    checkInvariants(w.state);
  });

  it('an OutOfGas receipt that claims a different status is fraud on status alone', () => {
    const { w, runner } = world();
    const honest = runner.run(8, { callGasLimit: 1_000n }); // needs 1,800
    expect(honest.status).toBe(CallStatus.OutOfGas);
    expect(outcome(w.call('user', runner.challenge(1n)))).toBe('Upheld');
    const { w: w2, runner: runner2 } = world();
    const again = runner2.run(8, { callGasLimit: 1_000n });
    expect(outcome(w2.call('user', runner2.challenge(1n, lie(w2, again, { status: CallStatus.Trapped }))))).toBe('Fraud');
  });
});

describe('how a call is judged', () => {
  it('with the callGasLimit the user signed, whatever ExtendSession did later', () => {
    const { w, id, runner } = world(5_000n);
    const starved = runner.run(8, { callGasLimit: 1_200n }); // needs 1,800: runs out honestly
    expect(starved).toMatchObject({ status: CallStatus.OutOfGas, callGas: 1_200n });
    w.settle([starved]);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1_000_000n as Gas });
    expect(outcome(w.call('user', runner.challenge(1n)))).toBe('Upheld');
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(1_200n);
  });

  it('an Aborted receipt must not finish within callGas', () => {
    const { w, id, runner } = world();
    w.ok('user', { name: 'Abort', sessionId: id });
    const honest = runner.run(8, { abortAfterGas: 500n });
    expect(honest).toMatchObject({ status: CallStatus.Aborted, callGas: 500n });
    expect(outcome(w.call('other', runner.challenge(1n)))).toBe('Upheld');
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(500n);
    // claims 1,900 gas for a call that finishes in 1,800
    const lying = lie(w, honest, { callGas: 1_900n as Gas, cumulativeGas: 1_900n as Gas });
    expect(outcome(w.call('user', runner.challenge(1n, lying)))).toBe('AlreadyJudged');
    const { w: w2, id: id2, runner: r2 } = world();
    w2.ok('user', { name: 'Abort', sessionId: id2 });
    const honest2 = r2.run(8, { abortAfterGas: 500n });
    expect(outcome(w2.call('user', r2.challenge(1n, lie(w2, honest2, { callGas: 1_900n as Gas, cumulativeGas: 1_900n as Gas }))))).toBe('Fraud');
  });

  it('an Aborted receipt keeps its pre-state and has no output, or it neither settles nor can be judged', () => {
    const { w, id, runner } = world();
    w.ok('user', { name: 'Abort', sessionId: id });
    const honest = runner.run(8, { abortAfterGas: 500n });
    const withState = lie(w, honest, { postStateHash: sha3(new Uint8Array([9])) });
    const withOutput = lie(w, honest, { outputHash: sha3(new Uint8Array([9])) });
    const before = stateDigest(w.state);
    const out = w.settle([withState, withOutput]);
    expect(out.result.ok && out.result.outcomes!.map((o) => (o.outcome === 'Rejected' ? o.code : o.outcome))).toEqual(['InvalidReceipt', 'InvalidReceipt']);
    expect(stateDigest(w.state)).toBe(before);
    expect(outcome(w.call('user', runner.challenge(1n, withState)))).toBe('InvalidReceipt');
    expect(outcome(w.call('user', runner.challenge(1n, withOutput)))).toBe('InvalidReceipt');
    expect(w.settle([honest]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
  });
});

describe('slashing', () => {
  it('slashes slashFractionBps of stake + unbonding (newest unbonding last), pays challengerRewardBps, burns the rest', () => {
    const { w, zAppId, id, runner } = world();
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(500) });
    w.now += 10n;
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(300) });
    const honest = runner.run();
    w.settle([honest]);
    const lying = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
    w.settle([lying]);
    const p0 = w.state.providers.get(ADDR.provider)!;
    const total = wholeQsr(10_000);
    const slash = (total * w.state.params.slashFractionBps) / 10_000n;
    const reward = (slash * w.state.params.challengerRewardBps) / 10_000n;
    const pending = p0.pendingTotal;
    const zBefore = w.state.zApps.get(zAppId)!;
    const userBefore = w.balance(ADDR.user);
    const out = w.ok('user', runner.challenge(2n));
    expect(out.result.ok && out.result.challenge).toMatchObject({ outcome: 'Fraud', slashed: slash });
    const p = w.state.providers.get(ADDR.provider)!;
    expect(p.stake).toBe(wholeQsr(9_200) - slash);
    expect(p.unbonding.map((u) => u.amount)).toEqual([wholeQsr(500), wholeQsr(300)]);
    expect(w.balance(ADDR.user) - userBefore).toBe(reward); // the bond was never taken
    expect(w.state.burned).toBe(slash - reward);
    const z = w.state.zApps.get(zAppId)!;
    expect(z.available - zBefore.available).toBe(pending + zBefore.held);
    expect(z.held).toBe(0n);
    expect(w.session(id)).toMatchObject({ status: 'closed', slashed: true });
    expect(w.state.providers.get(ADDR.provider)!.liveSessions).toBe(0);
    // one slash per session
    expect(outcome(w.call('user', runner.challenge(1n)))).toBe('ChallengeWindowClosed');
    checkInvariants(w.state);
  });

  it('fraud found in a Settle call pays the reward to its sender; in an anonymous batch it is all burned', () => {
    for (const caller of ['other', null] as const) {
      const { w, runner } = world();
      const r1 = runner.run();
      w.settle([r1]);
      const contradiction = runner.run(8, { tamper: (r) => ({ ...r, preStateHash: sha3(new Uint8Array([5])) }), userSignsTampered: true });
      const slash = (wholeQsr(10_000) * w.state.params.slashFractionBps) / 10_000n;
      const reward = (slash * w.state.params.challengerRewardBps) / 10_000n;
      const before = w.balance(ADDR.other);
      const out = caller === null ? w.settle([contradiction]) : w.ok(caller, { name: 'Settle', receipts: [contradiction] });
      expect(out.result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Fraud', kind: 'contradiction', slashed: slash }] });
      expect(w.balance(ADDR.other) - before).toBe(caller === null ? 0n : reward);
      expect(w.state.burned).toBe(caller === null ? slash : slash - reward);
      expect(out.changed.burned).toBe(true);
      checkInvariants(w.state);
    }
  });

  it('a slash larger than the stake reaches the newest unbonding entry first', () => {
    const w = new World(undefined);
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    w.ok('owner', { name: 'CloseSession', sessionId: id });
    w.now += 60n;
    w.ok('owner', { name: 'FinalizeSession', sessionId: id });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(6_000) });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(3_000) });
    // stake 1,000 + unbonding 9,000: half is 5,000 — 1,000 from stake, 3,000 from the newest, 1,000 from the older
    const lying = runner.run(8, { tamper: (r) => ({ ...r, outputHash: sha3(new Uint8Array([1])) }), userSignsTampered: true });
    expect(outcome(w.call('user', runner.challenge(1n, lying)))).toBe('Fraud');
    const p = w.state.providers.get(ADDR.provider)!;
    expect(p.stake).toBe(0n);
    expect(p.unbonding.map((u) => u.amount)).toEqual([wholeQsr(5_000)]);
  });
});
