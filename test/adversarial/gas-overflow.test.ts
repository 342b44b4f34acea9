// Gas sums pushed past 2^64 − 1 (an abort cap, an extension, an opened budget, a receipt) must be
// errors, never stored values: a state the host commits but cannot load would stop the chain.
import { describe, expect, it } from 'vitest';
import { signInvocation, signReceipt, settlementReceipt } from '../../contracts/eip712/index.ts';
import { apply } from '../../contracts/gas/apply.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { cloneState, stateDigest, stateFromJson, stateToJson } from '../../contracts/gas/state.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { GasReceipt } from '../../contracts/types.ts';
import { MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, EMPTY_OUTPUT_HASH, FakeRunner, TEST_KEYS, testGenesis, unsignedVerified, World } from '../support/contract-kit.ts';

const MAX = MAX_UINT64 as Gas;

/** Every committed state reloads to the same digest. */
function reloads(w: World): void {
  const text = JSON.stringify(stateToJson(w.state));
  expect(stateDigest(stateFromJson(JSON.parse(text)))).toBe(stateDigest(w.state));
  checkInvariants(w.state);
}

function hugeSession(params: Record<string, string> = {}) {
  const w = new World(testGenesis({ params }));
  // 1 base unit per million gas: a session of 2^64 − 1 gas holds about 184,467 QSR
  const zAppId = w.setup({ price: 1n, upfrontGas: 0n, fund: 400_000n * 100_000_000n, maxGasPerSession: MAX, openToAll: true, openGasPerDay: MAX });
  const id = w.open(zAppId, MAX - 10n, 3_600n);
  return { w, zAppId, id, runner: new FakeRunner(w, id) };
}

describe('gas sums above 2^64 − 1', () => {
  it('ExtendSession past 2^64 − 1 is GasOverflow and changes nothing but the nonce', () => {
    const { w, id } = hugeSession();
    w.fails('owner', { name: 'ExtendSession', sessionId: id, extraGas: 11n as Gas }, 'GasOverflow');
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 10n as Gas });
    expect(w.session(id).gasLimit).toBe(MAX_UINT64);
    reloads(w);
  });

  it('a user budget past 2^64 − 1 is OpenGasPerDayExceeded', () => {
    const { w, zAppId } = hugeSession();
    w.open(zAppId, MAX - 5n, 60n, 'user');
    w.fails('user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 6n as Gas, durationSeconds: 60n, maxPricePerMgas: 1n as Qsr, maxUpfrontGas: 0n as Gas }, 'OpenGasPerDayExceeded');
    expect(w.state.zApps.get(zAppId)!.openGasToday).toBe(MAX - 5n);
    reloads(w);
  });

  it('receipts at the top of the range settle or are rejected, and every state reloads', () => {
    const { w, id, runner } = hugeSession({ abortGraceGas: MAX_UINT64.toString() });
    // a gap receipt acknowledging almost everything (the user signed it), then an abort
    const top: GasReceipt = {
      sessionId: id, seq: 7n, callGasLimit: 10_000_000_000n as Gas, callGas: 1_800n as Gas, cumulativeGas: (MAX - 10_000_000_000n - 20n) as Gas,
      inputHash: runner.run().inputHash, preStateHash: runner.history.get(1n)!.receipt.preStateHash,
      postStateHash: runner.history.get(1n)!.receipt.postStateHash, outputHash: runner.history.get(1n)!.receipt.outputHash, status: CallStatus.Ok,
    };
    const sign = (r: GasReceipt) => settlementReceipt(signReceipt(w.domain, r, TEST_KEYS.receiptSigner), signInvocation(w.domain, invocationOf(r), TEST_KEYS.user));
    expect(w.settle([sign(top)]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
    reloads(w);
    w.ok('user', { name: 'Abort', sessionId: id });
    // an aborted call near the top, with the grace at 2^64 − 1: billed up to its cumulativeGas at most
    const acked = top.cumulativeGas;
    const aborted: GasReceipt = { ...top, seq: 8n, callGasLimit: 10n as Gas, callGas: 10n as Gas, cumulativeGas: (acked + 10n) as Gas, preStateHash: top.postStateHash, postStateHash: top.postStateHash, outputHash: EMPTY_OUTPUT_HASH, status: CallStatus.Aborted };
    expect(w.settle([sign(aborted)]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
    expect(w.session(id).billedGas).toBe(acked + 10n);
    reloads(w);
    // a call whose limit would take the session past its gasLimit (and past 2^64 − 1)
    const over: GasReceipt = { ...aborted, seq: 10n, callGasLimit: 10_000_000_000n as Gas, callGas: 1n as Gas, cumulativeGas: (acked + 21n) as Gas, preStateHash: aborted.postStateHash, status: CallStatus.Aborted };
    expect(w.settle([sign(over)]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'OverLimit' }] });
    reloads(w);
  });

  it('a receipt with a field above 2^64 − 1 (which no signature can carry) is InvalidReceipt, not stored', () => {
    const { w, id } = hugeSession();
    const before = stateDigest(w.state);
    const r = unsignedVerified({
      sessionId: id, seq: 1n, callGasLimit: 5n as Gas, callGas: 1n as Gas, cumulativeGas: 1n as Gas,
      inputHash: id, preStateHash: w.session(id).lastPostStateHash, postStateHash: id, outputHash: id, status: CallStatus.Ok,
    }, ADDR.receiptSigner, ADDR.user);
    for (const field of ['seq', 'callGasLimit', 'callGas', 'cumulativeGas'] as const) {
      const bad = { ...r, receipt: { ...r.receipt, [field]: MAX_UINT64 + 1n } };
      const out = apply(w.state, { kind: 'receipts', receipts: [bad] }, w.context());
      expect(out.result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'InvalidReceipt' }] });
    }
    expect(stateDigest(w.state)).toBe(before);
    expect(stateDigest(cloneState(w.state))).toBe(before);
  });
});
