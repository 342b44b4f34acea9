import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.ts';
import { sha3 } from '../hash.ts';
import { bytesToHex } from '../hex.ts';
import type { Address, Hash, Method, VerifiedReceipt } from '../types.ts';
import { wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply } from './apply.ts';
import type { ApplyOutput } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { MAX_UNBONDING_ENTRIES } from './limits.ts';
import { cloneState, stateDigest } from './state.ts';
import { ADDR, FakeRunner, World } from './testkit.ts';
import type { KeyName } from './testkit.ts';

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

const cases: Case[] = [
  { code: 'InsufficientBalance', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: ADDR.other, amount: wholeQsr(2_000_000) }) },
  { code: 'ZeroAmount', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: ADDR.other, amount: 0n as Qsr }) },
  { code: 'InvalidAddress', run: ({ w }) => raw(w, 'owner', { name: 'Transfer', to: '0x12' as Address, amount: 1n as Qsr }) },
  { code: 'ZAppExists', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'RegisterZApp', moduleHash: missing, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: false, userGasPerDay: 0n as Gas }, zAppId) },
  { code: 'ZAppNotFound', run: ({ w }) => raw(w, 'owner', { name: 'TopUp', zAppId: missing, amount: 1n as Qsr }) },
  { code: 'NotZAppOwner', sender: 'other', run: ({ w, zAppId }) => raw(w, 'other', { name: 'SetPolicy', zAppId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: true, userGasPerDay: 1n as Gas }) },
  { code: 'NotZAppOwner', sender: 'other', run: ({ w, zAppId }) => raw(w, 'other', { name: 'SetAutoTopUp', zAppId, minAvailable: 1n as Qsr, refill: 1n as Qsr }) },
  { code: 'InsufficientAvailable', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'WithdrawEscrow', zAppId, amount: wholeQsr(1) }) },
  { code: 'ProviderExists', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(1_000) }) },
  { code: 'InsufficientStake', sender: 'provider2', run: ({ w }) => raw(w, 'provider2', { name: 'RegisterProvider', receiptSigner: ADDR.signer2, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(999) }) },
  { code: 'InsufficientStake', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'Unbond', amount: wholeQsr(9_500) }) },
  { code: 'ProviderNotFound', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'UpdateOffer', receiptSigner: ADDR.other, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas }) },
  { code: 'ProviderNotFound', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'AddStake', amount: 1n as Qsr }) },
  { code: 'NothingToWithdraw', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'WithdrawUnbonded' }) },
  { code: 'NothingToClaim', sender: 'provider', run: ({ w }) => raw(w, 'provider', { name: 'ClaimEarnings' }) },
  {
    code: 'LimitExceeded', sender: 'provider', run: ({ w }) => {
      for (let i = 0; i < MAX_UNBONDING_ENTRIES; i++) expect(raw(w, 'provider', { name: 'Unbond', amount: 1n as Qsr }).result.ok).toBe(true);
      return raw(w, 'provider', { name: 'Unbond', amount: 1n as Qsr });
    },
  },
  { code: 'NotAllowedToOpen', sender: 'user', run: ({ w, zAppId }) => raw(w, 'user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n }) },
  { code: 'ProviderNotFound', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.other, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n }) },
  {
    code: 'PriceAboveMax', run: ({ w, zAppId }) => {
      w.ok('owner', { name: 'SetPolicy', zAppId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 10n ** 9n as Gas, openToAll: false, userGasPerDay: 0n as Gas });
      return raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n });
    },
  },
  { code: 'GasLimitOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 999n as Gas, durationSeconds: 10n }) },
  { code: 'GasLimitOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10n ** 10n as Gas, durationSeconds: 10n }) },
  { code: 'DurationOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 0n }) },
  { code: 'DurationOutOfRange', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 86_401n }) },
  { code: 'SessionExists', run: ({ w, zAppId, sessionId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n }, sessionId) },
  { code: 'InsufficientEscrow', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 100_000_000n as Gas, durationSeconds: 10n }) },
  {
    code: 'UserGasPerDayExceeded', sender: 'user', run: ({ w, zAppId }) => {
      w.ok('owner', { name: 'SetPolicy', zAppId, maxPricePerMgas: wholeQsr(10), maxGasPerSession: 10n ** 9n as Gas, openToAll: true, userGasPerDay: 5_000n as Gas });
      return raw(w, 'user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n });
    },
  },
  { code: 'InsufficientStake', run: ({ w, zAppId }) => { w.ok('provider', { name: 'Unbond', amount: wholeQsr(10_000) }); return raw(w, 'owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000n as Gas, durationSeconds: 10n }); } },
  { code: 'NotAllowedToOpen', sender: 'user', run: ({ w, sessionId }) => raw(w, 'user', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }) },
  { code: 'ZeroAmount', run: ({ w, zAppId }) => raw(w, 'owner', { name: 'TopUp', zAppId, amount: 0n as Qsr }) },
  { code: 'SessionNotFound', run: ({ w }) => raw(w, 'owner', { name: 'ExtendSession', sessionId: missing, extraGas: 1n as Gas }) },
  { code: 'NotSessionParty', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }) },
  { code: 'ZeroAmount', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 0n as Gas }) },
  { code: 'SessionExpired', run: ({ w, sessionId }) => { w.now += 100n; return raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }); } },
  { code: 'InsufficientEscrow', run: ({ w, sessionId }) => raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 100_000_000n as Gas }) },
  { code: 'SessionNotOpen', run: ({ w, sessionId }) => { w.ok('owner', { name: 'Abort', sessionId, lastReceipt: null }); return raw(w, 'owner', { name: 'ExtendSession', sessionId, extraGas: 1n as Gas }); } },
  { code: 'SessionClosed', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); return raw(w, 'owner', { name: 'Abort', sessionId, lastReceipt: null }); } },
  { code: 'NotSessionParty', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'Abort', sessionId, lastReceipt: null }) },
  { code: 'InvalidSigner', sender: 'user', run: ({ w, sessionId, runner }) => raw(w, 'user', { name: 'Abort', sessionId, lastReceipt: { ...runner.verified(runner.run()), signer: ADDR.other } }) },
  { code: 'WrongSession', sender: 'user', run: ({ w, zAppId, runner }) => { const second = w.open(zAppId); return raw(w, 'user', { name: 'Abort', sessionId: second, lastReceipt: runner.verified(runner.run()) }); } },
  { code: 'OverLimit', sender: 'user', run: ({ w, sessionId, runner }) => raw(w, 'user', { name: 'Abort', sessionId, lastReceipt: runner.verified(runner.run(8, (r) => ({ ...r, callGas: 1n as Gas, cumulativeGas: 2_000_000n as Gas }))) }) },
  { code: 'InvalidReceipt', sender: 'user', run: ({ w, sessionId, runner }) => raw(w, 'user', { name: 'Abort', sessionId, lastReceipt: runner.verified(runner.run(8, (r) => ({ ...r, callGas: (r.cumulativeGas + 1n) as Gas }))) }) },
  { code: 'CloseTooEarly', sender: 'other', run: ({ w, sessionId }) => raw(w, 'other', { name: 'CloseSession', sessionId }) },
  { code: 'SessionClosed', run: ({ w, sessionId }) => { w.ok('owner', { name: 'CloseSession', sessionId }); return raw(w, 'owner', { name: 'CloseSession', sessionId }); } },
  { code: 'EmptyBatch', sender: 'other', run: ({ w }) => raw(w, 'other', { name: 'Settle', receipts: [] }) },
  { code: 'BatchTooLarge', sender: 'other', run: ({ w, runner }) => { const r = runner.verified(runner.run()); return raw(w, 'other', { name: 'Settle', receipts: new Array(1_001).fill(r) }); } },
  { code: 'ChallengeWindowClosed', sender: 'user', run: ({ w, runner }) => { const r = runner.verified(runner.run()); const h = runner.history.get(1n)!; return raw(w, 'user', { name: 'Challenge', receipt: r, input: bytesToHex(h.input), preState: bytesToHex(h.preState) }); } },
  ...(['PreStateMismatch', 'InputMismatch', 'ReceiptHolds', 'ModuleUnavailable', 'InvalidSigner', 'LimitExceeded'] as const).map((code): Case => ({
    code, sender: 'user', run: ({ w, runner }) => {
      const r = runner.verified(runner.run());
      w.settle([r]);
      const h = runner.history.get(1n)!;
      if (code === 'ModuleUnavailable') w.modules.clear();
      const input = code === 'InputMismatch' ? '0x00' : bytesToHex(h.input);
      const preState = code === 'PreStateMismatch' ? '0x00' : code === 'LimitExceeded' ? `0x${'00'.repeat(16 * 1024 * 1024 + 1)}` as const : bytesToHex(h.preState);
      return raw(w, 'user', { name: 'Challenge', receipt: code === 'InvalidSigner' ? { ...r, signer: ADDR.other } : r, input, preState });
    },
  })),
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
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, (r) => ({ ...r, callGas: (r.cumulativeGas + 1n) as Gas })))],
    ['InvalidReceipt', ({ runner }) => runner.verified(runner.run(8, (r) => ({ ...r, seq: 0n })))],
    ['SessionNotFound', ({ runner }) => runner.verified(runner.run(8, (r) => ({ ...r, sessionId: missing })))],
    ['SessionClosed', ({ w, sessionId, runner }) => { w.ok('owner', { name: 'CloseSession', sessionId }); return runner.verified(runner.run()); }],
    ['InvalidSigner', ({ runner }) => ({ ...runner.verified(runner.run()), signer: ADDR.other })],
    ['OverLimit', ({ runner }) => runner.verified(runner.run(8, (r) => ({ ...r, callGas: 1n as Gas, cumulativeGas: 2_000_000n as Gas })))],
    ['NonMonotonic', ({ w, runner }) => { w.settle([runner.verified(runner.run(200))]); return runner.verified(runner.run(8, (r) => ({ ...r, seq: 5n, callGas: 1n as Gas, cumulativeGas: 1n as Gas }))); }],
  ];
  it.each(receiptCases.map(([code, make], i) => [`${code} #${i}`, code, make] as const))('%s', (_n, code, make) => {
    const f = fixture();
    const receipt = make(f);
    const before = stateDigest(f.w.state);
    const out = f.w.settle([receipt]);
    expect(out.result.ok && out.result.outcomes![0]).toMatchObject({ outcome: 'Rejected', code });
    expect(stateDigest(f.w.state)).toBe(before);
  });
});
