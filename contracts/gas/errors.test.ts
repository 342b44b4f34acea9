import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.ts';
import { sha3 } from '../hash.ts';
import { bytesToHex } from '../hex.ts';
import { CallStatus } from '../types.ts';
import type { Address, GasReceipt, Hash, Hex, Method, VerifiedReceipt } from '../types.ts';
import { MAX_UINT64, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply } from './apply.ts';
import type { ApplyOutput } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { MAX_UNBONDING_ENTRIES } from './limits.ts';
import { cloneState, stateDigest } from './state.ts';
import { signInvocation, signReceipt } from '../eip712/index.ts';
import { invocationOf } from '../invocation.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, FAKE_MODULE_HASH, FakeRunner, TEST_KEYS, World } from '../../test/support/contract-kit.ts';
import type { KeyName } from '../../test/support/contract-kit.ts';

let hashes = 0;
const freshHash = (): Hash => sha3(new Uint8Array([hashes >> 8, hashes++ & 255, 7]));

/** A verified call built directly (signatures are covered elsewhere): lets a test reuse a call hash. */
function raw(w: World, key: KeyName, method: Method<VerifiedReceipt>, callHash: Hash = freshHash(), nonce?: bigint): ApplyOutput {
  const from = ADDR[key];
  return apply(w.state, { kind: 'call', from, nonce: nonce ?? w.nonceOf(from), callHash, method }, w.context());
}

interface Fixture { w: World; zAppId: Hash; sessionId: Hash; runner: FakeRunner }
function fixture(): Fixture {
  const w = new World();
  const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 1_000n, fund: 10_000_000n });
  const sessionId = w.open(zAppId, 1_000_000n, 100n);
  return { w, zAppId, sessionId, runner: new FakeRunner(w, sessionId) };
}

const missing = `0x${'ee'.repeat(32)}` as Hash;
type Case = { code: ErrorCode; sender?: KeyName; run: (f: Fixture) => ApplyOutput };
const open = (over: Partial<Extract<Method, { name: 'OpenSession' }>> & { zAppId: Hash }): Method<VerifiedReceipt> =>
  ({ name: 'OpenSession', provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT, ...over });
const policy = (zAppId: Hash, over: { openToAll?: boolean; openGasPerDay?: bigint; maxPricePerMgas?: bigint } = {}): Method =>
  ({ name: 'SetPolicy', zAppId, maxPricePerMgas: (over.maxPricePerMgas ?? wholeQsr(10)) as Qsr, maxGasPerSession: 10n ** 9n as Gas, openToAll: over.openToAll ?? true, openGasPerDay: (over.openGasPerDay ?? 10n ** 9n) as Gas });

/** A settled receipt and the Challenge of it, with one part of the challenge replaced. */
function challengeWith(f: Fixture, change: (m: { receipt: VerifiedReceipt; input: Hex; preState: Hex }) => { receipt: VerifiedReceipt; input: Hex; preState: Hex }): ApplyOutput {
  const r = f.runner.run();
  f.w.settle([r]);
  const h = f.runner.history.get(1n)!;
  const m = change({ receipt: f.runner.verified(r), input: bytesToHex(h.input), preState: bytesToHex(h.preState) });
  return raw(f.w, 'user', { name: 'Challenge', ...m });
}

const cases: Case[] = [
  { code: 'InsufficientBalance', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: ADDR.other, amount: wholeQsr(2_000_000) }) },
  { code: 'ZeroAmount', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: ADDR.other, amount: 0n as Qsr }) },
  { code: 'InvalidAddress', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: '0x12' as Address, amount: 1n as Qsr }) },
  { code: 'ZAppExists', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'RegisterZApp', moduleHash: missing, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: false, openGasPerDay: 0n as Gas }, zAppId) },
  { code: 'ZAppNotFound', run: ({ w }) => raw(w, 'owner', { name: 'TopUp', zAppId: missing, amount: 1n as Qsr }) },
  { code: 'NotZAppOwner', sender: 'other', run: ({ w, zAppId }) => raw(w, 'other', policy(zAppId) as Method<VerifiedReceipt>) },
  { code: 'NotZAppOwner', sender: 'other', run: ({ w, zAppId }) => raw(w, 'other', { name: 'SetAutoTopUp', zAppId, minAvailable: 1n as Qsr, refill: 1n as Qsr }) },
  { code: 'InsufficientAvailable', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'WithdrawEscrow', zAppId, amount: wholeQsr(1) }) },
  { code: 'ProviderExists', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(1_000) }) },
  { code: 'InsufficientStake', sender: 'provider2', run: ({ w }) => raw(w, 'provider2', { name: 'RegisterProvider', receiptSigner: ADDR.signer2, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(999) }) },
  { code: 'InsufficientStake', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'Unbond', amount: wholeQsr(9_001) }) },
  { code: 'InsufficientStake', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'Unbond', amount: wholeQsr(10_001) }) },
  { code: 'ProviderNotFound', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'UpdateOffer', receiptSigner: ADDR.other, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas }) },
  { code: 'ProviderNotFound', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'AddStake', amount: 1n as Qsr }) },
  { code: 'ProviderNotFound', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'Retire' }) },
  { code: 'NothingToWithdraw', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'WithdrawUnbonded' }) },
  {
    code: 'StakeStillChallengeable', sender: 'provider', run: ({ w, runner }) => {
      w.ok('provider', { name: 'Unbond', amount: wholeQsr(1) });
      const releaseAt = w.state.providers.get(ADDR.provider)!.unbonding[0]!.releaseAt;
      w.now = releaseAt - 10n;
      w.settle([runner.run()]); // a late settlement: challengeable past releaseAt
      w.now = releaseAt;
      return raw(w, 'provider', { name: 'WithdrawUnbonded' });
    },
  },
  { code: 'NothingToClaim', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'ClaimEarnings' }) },
  {
    code: 'LimitExceeded', sender: 'provider', run: ({ w }) => {
      for (let i = 0; i < MAX_UNBONDING_ENTRIES; i++) expect(raw(w, 'provider', { name: 'Unbond', amount: 1n as Qsr }).result.ok).toBe(true);
      return raw(w, 'provider', { name: 'Unbond', amount: 1n as Qsr });
    },
  },
  { code: 'NotAllowedToOpen', sender: 'user', run: ({ w, zAppId }) => raw(w, 'user', open({ zAppId })) },
  { code: 'NotAllowedToOpen', sender: 'other', run: ({ w, zAppId }) => { w.ok('owner', policy(zAppId)); return raw(w, 'other', open({ zAppId })); } },
  { code: 'ProviderNotFound', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, provider: ADDR.other })) },
  { code: 'ProviderRetired', run: ({ w, zAppId }) => { w.ok('provider', { name: 'Retire' }); return raw(w, 'owner', open({ zAppId })); } },
  { code: 'OfferChanged', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, maxPricePerMgas: 999_999n as Qsr })) },
  { code: 'OfferChanged', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, maxUpfrontGas: 999n as Gas })) },
  { code: 'PriceAboveMax', run: ({ w, zAppId }) => { w.ok('owner', policy(zAppId, { maxPricePerMgas: 1n })); return raw(w, 'owner', open({ zAppId })); } },
  { code: 'GasLimitOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, gasLimit: 999n as Gas })) },
  { code: 'GasLimitOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, gasLimit: 10n ** 10n as Gas })) },
  { code: 'GasLimitOutOfRange', sender: 'user', run: ({ w, zAppId }) => { w.ok('owner', policy(zAppId)); return raw(w, 'user', open({ zAppId, gasLimit: 0n as Gas })); } },
  { code: 'DurationOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, durationSeconds: 0n })) },
  { code: 'DurationOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, durationSeconds: 86_401n })) },
  { code: 'SessionExists', run: ({ w, zAppId, sessionId }) => raw(w, 'owner', open({ zAppId }), sessionId) },
  { code: 'InsufficientEscrow', run: ({ w, zAppId }) => raw(w, 'owner', open({ zAppId, gasLimit: 100_000_000n as Gas })) },
  { code: 'OpenGasPerDayExceeded', sender: 'user', run: ({ w, zAppId }) => { w.ok('owner', policy(zAppId, { openGasPerDay: 9_999n })); return raw(w, 'user', open({ zAppId })); } },
  {
    code: 'InsufficientStake', run: ({ w, zAppId, sessionId }) => {
      w.ok('owner', { name: 'CloseSession', sessionId });
      w.now += 60n;
      w.ok('other', { name: 'FinalizeSession', sessionId });
      w.ok('provider', { name: 'Unbond', amount: wholeQsr(9_001) }); // no live sessions: below the minimum is allowed
      return raw(w, 'owner', open({ zAppId }));
    },
  },
  { code: 'NotAllowedToOpen', sender: 'user', run: ({ w, sessionId }) => raw(w, 'user', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }) },
  { code: 'OpenGasPerDayExceeded', sender: 'user', run: ({ w, sessionId, zAppId }) => { w.ok('owner', policy(zAppId, { openGasPerDay: 0n })); return raw(w, 'user', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }); } },
  { code: 'ZeroAmount', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'TopUp', zAppId, amount: 0n as Qsr }) },
  { code: 'SessionNotFound', run: ({ w }) => raw(w, 'owner', { name: 'ExtendSession', sessionId: missing, extraGas: 1n as Gas }) },
  { code: 'NotSessionParty', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }) },
  { code: 'ZeroAmount', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 0n as Gas }) },
  { code: 'SessionExpired', run: ({ w, sessionId }) => { w.now += 100n; return raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }); } },
  { code: 'InsufficientEscrow', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 100_000_000n as Gas }) },
  { code: 'GasOverflow', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: MAX_UINT64 as Gas }) },
  { code: 'GasLimitOutOfRange', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 10n ** 9n as Gas }) },
  { code: 'SessionNotOpen', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); return raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }); } },
  { code: 'SessionNotOpen', run: ({ w, sessionId }) => { w.ok('owner', { name: 'Abort', sessionId }); return raw(w, 'owner', { name: 'CloseSession', sessionId }); } },
  { code: 'SessionClosed', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); w.now += 60n; w.ok('other', { name: 'FinalizeSession', sessionId }); return raw(w, 'owner', { name: 'Abort', sessionId }); } },
  { code: 'SessionClosed', sender: 'other', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); w.now += 60n; w.ok('other', { name: 'FinalizeSession', sessionId }); return raw(w, 'other', { name: 'FinalizeSession', sessionId }); } },
  { code: 'NotSessionParty', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'Abort', sessionId }) },
  { code: 'NotSessionParty', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'CloseSession', sessionId }) },
  { code: 'FinalizeTooEarly', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'FinalizeSession', sessionId }) },
  { code: 'FinalizeTooEarly', sender: 'other', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); w.now += 59n; return raw(w, 'other', { name: 'FinalizeSession', sessionId }); } },
  { code: 'FinalizeTooEarly', sender: 'other', run: ({ w, sessionId }) => { w.now += 100n + 59n; return raw(w, 'other', { name: 'FinalizeSession', sessionId }); } },
  { code: 'EmptyBatch', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'Settle', receipts: [] }) },
  { code: 'BatchTooLarge', sender: 'other', run: ({ w, runner }) => { const r = runner.verified(runner.run()); return raw(w, 'other', { name: 'Settle', receipts: new Array(1_001).fill(r) }); } },
  { code: 'PreStateMismatch', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, preState: '0x00' })) },
  { code: 'InputMismatch', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, input: '0x00' })) },
  { code: 'ModuleUnavailable', sender: 'user', run: (f) => { f.w.modules.clear(); return challengeWith(f, (m) => m); } },
  { code: 'ModuleUnavailable', sender: 'user', run: (f) => { f.w.modules.set(FAKE_MODULE_HASH, new Uint8Array([1])); return challengeWith(f, (m) => m); } },
  { code: 'InvalidSigner', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, receipt: { ...m.receipt, signer: ADDR.other } })) },
  { code: 'InvalidInvocation', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, receipt: { ...m.receipt, invocationSigner: ADDR.other } })) },
  { code: 'InvalidReceipt', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, receipt: { ...m.receipt, receipt: { ...m.receipt.receipt, status: CallStatus.Aborted } } })) },
  { code: 'SessionNotFound', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, receipt: { ...m.receipt, receipt: { ...m.receipt.receipt, sessionId: missing } } })) },
  { code: 'LimitExceeded', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, preState: `0x${'00'.repeat(Number(f.w.state.params.maxStateBytes) + 1)}` as Hex })) },
  { code: 'LimitExceeded', sender: 'user', run: (f) => challengeWith(f, (m) => ({ ...m, input: `0x${'00'.repeat(Number(f.w.state.params.maxInputBytes) + 1)}` as Hex })) },
  { code: 'InsufficientBalance', sender: 'user2', run: (f) => { f.w.settle([f.runner.run()]); return raw(f.w, 'user2', { ...(f.runner.challenge(1n) as Extract<Method, { name: 'Challenge' }>), receipt: f.runner.verified(f.runner.history.get(1n)!.receipt) }); } },
  {
    code: 'ChallengeWindowClosed', sender: 'user', run: (f) => {
      const r = f.runner.run();
      f.w.settle([r]);
      f.w.now = f.w.session(f.sessionId).coverage[0]!.challengeDeadline;
      return raw(f.w, 'user', { ...(f.runner.challenge(1n) as Extract<Method, { name: 'Challenge' }>), receipt: f.runner.verified(r) });
    },
  },
  {
    code: 'AlreadyJudged', sender: 'user', run: (f) => {
      expect(challengeWith(f, (m) => m).result).toMatchObject({ ok: true, challenge: { outcome: 'Upheld' } });
      return raw(f.w, 'user', { ...(f.runner.challenge(1n) as Extract<Method, { name: 'Challenge' }>), receipt: f.runner.verified(f.runner.history.get(1n)!.receipt) });
    },
  },
];

describe('every error leaves the state untouched (but the sender nonce)', () => {
  it.each(cases.map((c, i) => [`${c.code} #${i}`, c] as const))('%s', (_name, c) => {
    const f = fixture();
    const sender = ADDR[c.sender ?? 'owner'];
    let expected = '';
    const run = c.run;
    // Record the digest the state must have after the failure: the state before, with the nonce bumped.
    const wrapped = (fx: Fixture): ApplyOutput => {
      const origApply = fx.w.context.bind(fx.w);
      fx.w.context = () => {
        const copy = cloneState(fx.w.state);
        const acc = copy.accounts.get(sender) ?? { balance: 0n as Qsr, nonce: 0n };
        copy.accounts.set(sender, { ...acc, nonce: acc.nonce + 1n });
        expected = stateDigest(copy);
        return origApply();
      };
      return run(fx);
    };
    const out = wrapped(f);
    expect(out.result).toMatchObject({ ok: false, code: c.code });
    expect(stateDigest(f.w.state)).toBe(expected);
    expect(out.changed.accounts).toEqual(new Set([sender]));
    checkInvariants(f.w.state);
  });

  it('BadNonce changes nothing at all', () => {
    const { w } = fixture();
    const before = stateDigest(w.state);
    const out = raw(w, 'owner', { name: 'ClaimEarnings' }, freshHash(), 99n);
    expect(out.result).toMatchObject({ ok: false, code: 'BadNonce' });
    expect(stateDigest(w.state)).toBe(before);
  });

  it('anonymous batch errors change nothing at all', () => {
    const { w } = fixture();
    const before = stateDigest(w.state);
    expect(w.settle([]).result).toMatchObject({ ok: false, code: 'EmptyBatch' });
    expect(stateDigest(w.state)).toBe(before);
  });
});

describe('rejected receipts change nothing', () => {
  const receiptCases: Array<[ErrorCode, (f: Fixture) => VerifiedReceipt]> = [
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { tamper: (r) => ({ ...r, seq: 0n }), userSignsTampered: true }))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { tamper: (r) => ({ ...r, callGasLimit: (r.callGas - 1n) as Gas }), userSignsTampered: true }))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { callGasLimit: 10_000_000_001n }))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { tamper: (r) => ({ ...r, status: CallStatus.Trapped }) }))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { callGasLimit: 500n, tamper: (r) => ({ ...r, callGas: 499n as Gas, cumulativeGas: 499n as Gas }), userSignsTampered: true }))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, { abortAfterGas: 10n }))],
    ['SessionNotFound', ({ runner }) => runner.verified(runner.run(8, { tamper: (r) => ({ ...r, sessionId: missing }), userSignsTampered: true }))],
    ['SessionClosed', ({ w, sessionId, runner }) => { w.ok('owner', { name: 'CloseSession', sessionId }); w.now += 60n; w.ok('other', { name: 'FinalizeSession', sessionId }); return runner.verified(runner.run()); }],
    ['InvalidSigner', ({ runner }) => ({ ...runner.verified(runner.run()), signer: ADDR.other })],
    ['InvalidInvocation', ({ runner }) => runner.verified(runner.run(8, { tamper: (r) => ({ ...r, inputHash: missing }) }))],
    ['InvalidInvocation', ({ runner }) => runner.verified(runner.run(8, { invocationKey: TEST_KEYS.receiptSigner }))],
    ['OverLimit', ({ runner }) => runner.verified(runner.run(8, { callGasLimit: 1_000_001n }))],
    ['NonMonotonic', ({ w, runner }) => { w.settle([runner.run(200)]); runner.cumulative = 0n; runner.seq = 4n; return runner.verified(runner.run(8)); }],
    ['ConflictingInvocation', ({ w, runner }) => { const r = runner.run(); w.settle([r]); return runner.verified({ ...r, inputHash: missing, ...reSigned(w, { ...r, inputHash: missing }) }); }],
  ];
  it.each(receiptCases.map(([code, make], i) => [`${code} #${i}`, code, make] as const))('%s', (_n, code, make) => {
    const f = fixture();
    const receipt = make(f);
    const before = stateDigest(f.w.state);
    const out = f.w.settle([receipt]);
    expect(out.result.ok && out.result.outcomes![0]).toMatchObject({ outcome: 'Rejected', code });
    expect(stateDigest(f.w.state)).toBe(before);
    expect(out.changed.sessions.size + out.changed.zApps.size + out.changed.providers.size).toBe(0);
  });
});

/** The receipt signed again by the provider and its invocation by the user, as they are. */
function reSigned(w: World, r: GasReceipt): { signature: Hex; invocationSignature: Hex } {
  return { signature: signReceipt(w.domain, r, TEST_KEYS.receiptSigner).signature, invocationSignature: signInvocation(w.domain, invocationOf(r), TEST_KEYS.user) };
}
