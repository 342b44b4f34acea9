import { describe, expect, it } from 'vitest';
import { ADDR, ANY_PRICE, ANY_UPFRONT, FakeRunner, TEST_KEYS, World } from '../../test/support/contract-kit.ts';
import { encodeMethod } from '../abi/index.ts';
import { signCall } from '../eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../hash.ts';
import { CallStatus } from '../types.ts';
import type { Hash, SettlementReceipt } from '../types.ts';
import { cost, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply, prepareCall, prepareReceipts } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { challengeDeadline } from './ops.ts';
import { providerView } from './provider-view.ts';
import { stateDigest, totalSupply } from './state.ts';

const price = 1_000_000n; // 1 base unit per gas

function settled(w: World, ...receipts: SettlementReceipt[]) {
  const out = w.settle(receipts);
  expect(out.result.ok).toBe(true);
  checkInvariants(w.state);
  return out.result.ok ? out.result.outcomes! : [];
}

describe('accounts and zApps', () => {
  it('transfers, registers a zApp, tops up, withdraws and keeps the supply', () => {
    const w = new World();
    const supply = totalSupply(w.state);
    w.ok('owner', { name: 'Transfer', to: ADDR.other, amount: 5n as Qsr });
    expect(w.balance(ADDR.other)).toBe(wholeQsr(1_000_000) + 5n);
    const zAppId = w.setup();
    const z = w.state.zApps.get(zAppId)!;
    expect(z).toMatchObject({ owner: ADDR.owner, available: wholeQsr(1_000), openGasToday: 0n });
    w.ok('owner', { name: 'WithdrawEscrow', zAppId, amount: wholeQsr(400) });
    expect(w.state.zApps.get(zAppId)!.available).toBe(wholeQsr(600));
    w.ok('other', { name: 'TopUp', zAppId, amount: 7n as Qsr });
    expect(w.state.zApps.get(zAppId)!.available).toBe(wholeQsr(600) + 7n);
    w.ok('owner', { name: 'SetPolicy', zAppId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 5n as Gas, openToAll: true, openGasPerDay: 3n as Gas });
    expect(w.state.zApps.get(zAppId)!.policy).toEqual({ maxPricePerMgas: 1n, maxGasPerSession: 5n, openToAll: true, openGasPerDay: 3n });
    expect(totalSupply(w.state)).toBe(supply);
    checkInvariants(w.state);
  });

  it('bumps the nonce of the sender on every call, failed or not, and ids objects by call hash', () => {
    const w = new World();
    const before = w.nonceOf(ADDR.owner);
    const out = w.call('owner', { name: 'Transfer', to: ADDR.other, amount: wholeQsr(10_000_000) });
    expect(out.result.ok).toBe(false);
    expect(w.nonceOf(ADDR.owner)).toBe(before + 1n);
    expect(out.changed.accounts).toEqual(new Set([ADDR.owner]));
    const method = { name: 'RegisterZApp', moduleHash: sha3(new Uint8Array([1])), maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: false, openGasPerDay: 0n as Gas } as const;
    const signed = signCall(w.domain, { from: ADDR.owner, nonce: w.nonceOf(ADDR.owner), data: encodeMethod(method) }, TEST_KEYS.owner);
    const input = prepareCall(w.domain, signed);
    const res = apply(w.state, input, w.context());
    expect(res.result.ok && res.result.created).toBe(input.callHash);
    expect(w.state.zApps.has(input.callHash)).toBe(true);
  });

  it('prepareCall rejects a call signed by someone else', () => {
    const w = new World();
    const signed = signCall(w.domain, { from: ADDR.owner, nonce: 0n, data: encodeMethod({ name: 'ClaimEarnings' }) }, TEST_KEYS.user);
    expect(() => prepareCall(w.domain, signed)).toThrowError(expect.objectContaining({ code: 'WrongSigner' }));
  });
});

describe('providers', () => {
  it('stakes, unbonds and withdraws after the unbonding period and once nothing is challengeable', () => {
    const w = new World();
    w.setup();
    const start = w.balance(ADDR.provider);
    w.ok('provider', { name: 'AddStake', amount: wholeQsr(5) });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(2_000) });
    expect(w.state.providers.get(ADDR.provider)!.stake).toBe(wholeQsr(8_005));
    w.now += w.state.params.unbondingPeriodSeconds - 1n;
    w.fails('provider', { name: 'WithdrawUnbonded' }, 'NothingToWithdraw');
    w.now += 1n;
    w.ok('provider', { name: 'WithdrawUnbonded' });
    expect(w.balance(ADDR.provider)).toBe(start - wholeQsr(5) + wholeQsr(2_000));
    expect(w.state.providers.get(ADDR.provider)!.unbonding).toEqual([]);
    // without live sessions, any amount may leave
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(8_000) });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(5) });
    checkInvariants(w.state);
  });

  it('Retire stops new sessions, UpdateOffer accepts them again, and neither changes an open session', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const id = w.open(zAppId);
    w.ok('provider', { name: 'Retire' });
    expect(w.state.providers.get(ADDR.provider)!.accepting).toBe(false);
    w.fails('owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 20_000n as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT }, 'ProviderRetired');
    const runner = new FakeRunner(w, id);
    expect(settled(w, runner.run())[0]!.outcome).toBe('Settled');
    w.ok('provider', { name: 'UpdateOffer', receiptSigner: ADDR.signer2, pricePerMgas: 5n as Qsr, upfrontGas: 0n as Gas });
    expect(w.state.providers.get(ADDR.provider)!.accepting).toBe(true);
    expect(w.session(id)).toMatchObject({ price, receiptSigner: ADDR.receiptSigner });
    expect(settled(w, runner.run())[0]!.outcome).toBe('Settled');
    const id2 = w.open(zAppId);
    expect(w.session(id2)).toMatchObject({ price: 5n, receiptSigner: ADDR.signer2 });
  });

  it('providerView tells what is claimable at a given time and when the rest matures', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    settled(w, runner.run());
    const first = challengeDeadline(w.now, w.state.params);
    w.now += 120n;
    settled(w, runner.run());
    const second = challengeDeadline(w.now, w.state.params);
    const p = w.state.providers.get(ADDR.provider)!;
    const a = cost(runner.history.get(1n)!.receipt.cumulativeGas, price);
    const total = cost(runner.history.get(2n)!.receipt.cumulativeGas, price);
    expect(providerView(p, first - 1n)).toMatchObject({ claimableNow: '0', pending: total.toString(), nextClaimableAt: first.toString(), allClaimableAt: second.toString() });
    expect(providerView(p, first)).toMatchObject({ claimableNow: a.toString(), pending: (total - a).toString(), nextClaimableAt: second.toString() });
    expect(providerView(p, second)).toMatchObject({ claimableNow: total.toString(), pending: '0', nextClaimableAt: null, schedule: [] });
  });
});

describe('sessions and settlement', () => {
  it('an owner-opened session holds cost(gasLimit), bills upfrontGas at once, starts from the empty state', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 10_000n });
    const id = w.open(zAppId, 1_000_000n);
    expect(w.session(id)).toMatchObject({ openedByOwner: true, hold: 1_000_000n, upfrontGas: 10_000n, billedGas: 10_000n, settledGas: 0n, lastSeq: 0n, lastPostStateHash: EMPTY_STATE_HASH, status: 'open', stopCall: false });
    const z = w.state.zApps.get(zAppId)!;
    expect(z.available).toBe(wholeQsr(1_000) - 1_000_000n);
    expect(z.held).toBe(1_000_000n - 10_000n);
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(10_000n);
    expect(w.state.providers.get(ADDR.provider)!.liveSessions).toBe(1);
    checkInvariants(w.state);
  });

  it('a user-opened session bills no upfront gas and counts its gasLimit against the zApp-wide openGasPerDay', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 10_000n, openToAll: true, openGasPerDay: 1_500_000n });
    const id = w.open(zAppId, 1_000_000n, 60n, 'user');
    expect(w.session(id)).toMatchObject({ openedByOwner: false, upfrontGas: 0n, billedGas: 0n });
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(0n);
    expect(w.state.zApps.get(zAppId)!.openGasToday).toBe(1_000_000n);
    // another user shares the same budget
    w.ok('owner', { name: 'Transfer', to: ADDR.user2, amount: 1n as Qsr });
    w.fails('user2', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user2, gasLimit: 600_000n as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: 0n as Gas }, 'OpenGasPerDayExceeded');
    w.open(zAppId, 500_000n, 60n, 'user2', ADDR.user2);
    // the owner's sessions do not count
    w.open(zAppId, 1_000_000n);
    expect(w.state.zApps.get(zAppId)!.openGasToday).toBe(1_500_000n);
    // a new UTC day of momentum time starts a new budget
    w.now = (w.now / 86_400n + 1n) * 86_400n;
    w.open(zAppId, 600_000n, 60n, 'user');
    expect(w.state.zApps.get(zAppId)).toMatchObject({ openGasToday: 600_000n, openGasDay: w.now / 86_400n });
    // a user opens only for itself
    w.fails('user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.other, gasLimit: 1n as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT }, 'NotAllowedToOpen');
    checkInvariants(w.state);
  });

  it('settles receipts cumulatively, reports duplicates, is idempotent, and accepts a gap', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const [r1, r2, r3] = [runner.run(), runner.run(), runner.run(16)];
    const outcomes = settled(w, r2!, r1!);
    expect(outcomes.map((o) => o.outcome)).toEqual(['Settled', 'Settled']);
    expect(w.session(id)).toMatchObject({ billedGas: r2!.cumulativeGas, settledGas: r2!.cumulativeGas, lastSeq: 2n, lastPostStateHash: r2!.postStateHash });
    expect(w.session(id).lastInvocation).toEqual({ callGasLimit: r2!.callGasLimit, inputHash: r2!.inputHash, preStateHash: r2!.preStateHash, ackedGas: r1!.cumulativeGas });
    expect(w.state.zApps.get(zAppId)!.held).toBe(1_000_000n - r2!.cumulativeGas);
    const digest = stateDigest(w.state);
    const again = w.settle([r1!, r2!]);
    expect(again.result.ok && again.result.outcomes!.map((o) => o.outcome)).toEqual(['Duplicate', 'Duplicate']);
    expect(stateDigest(w.state)).toBe(digest);
    expect(again.changed.sessions.size).toBe(0);
    const r5 = (runner.run(), runner.run());
    expect(settled(w, r5)[0]!.outcome).toBe('Settled');
    expect(w.session(id).lastSeq).toBe(5n);
    expect(settled(w, r3!)[0]!.outcome).toBe('Duplicate');
  });

  it('earnings become claimable at the challenge deadline (now ≥ deadline), not before', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    const r = runner.run();
    settled(w, r);
    const due = challengeDeadline(w.now, w.state.params);
    expect(w.state.providers.get(ADDR.provider)!.challengeableUntil).toBe(due);
    w.now = due - 1n;
    w.fails('provider', { name: 'ClaimEarnings' }, 'NothingToClaim');
    w.now = due;
    const before = w.balance(ADDR.provider);
    w.ok('provider', { name: 'ClaimEarnings' });
    expect(w.balance(ADDR.provider) - before).toBe(cost(r.cumulativeGas, price));
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(0n);
    checkInvariants(w.state);
  });

  it('coverage keeps one entry per 60 s bucket and drops entries past their deadline', () => {
    const w = new World();
    w.now = 1_700_000_050n; // inside the bucket that ends at …100
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    settled(w, runner.run());
    w.now += 10n;
    settled(w, runner.run());
    expect(w.session(id).coverage).toEqual([{ upToSeq: 2n, challengeDeadline: 1_700_000_100n + 600n }]);
    w.now += 60n;
    settled(w, runner.run());
    expect(w.session(id).coverage.length).toBe(2);
    w.now += 700n;
    settled(w, runner.run());
    expect(w.session(id)).toMatchObject({ coverageFloorSeq: 3n });
    expect(w.session(id).coverage.length).toBe(1);
  });

  it('ExtendSession: more hold and gas only while open and before expiresAt; the owner does not use openGasPerDay', () => {
    const w = new World();
    const zAppId = w.setup({ price, openToAll: true, openGasPerDay: 2_000_000n });
    const id = w.open(zAppId, 1_000_000n, 100n);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 500_000n as Gas });
    expect(w.session(id)).toMatchObject({ gasLimit: 1_500_000n, hold: 1_500_000n });
    expect(w.state.zApps.get(zAppId)!.openGasToday).toBe(0n);
    w.ok('user', { name: 'ExtendSession', sessionId: id, extraGas: 300_000n as Gas });
    expect(w.state.zApps.get(zAppId)!.openGasToday).toBe(300_000n);
    w.fails('user', { name: 'ExtendSession', sessionId: id, extraGas: 1_700_001n as Gas }, 'OpenGasPerDayExceeded');
    w.now += 99n;
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1n as Gas });
    w.now += 1n;
    w.fails('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1n as Gas }, 'SessionExpired');
    // receipts of calls run before expiry still settle
    const runner = new FakeRunner(w, id);
    expect(settled(w, runner.run())[0]!.outcome).toBe('Settled');
  });
});

describe('auto top-up', () => {
  function topUpWorld(minAvailable: bigint) {
    const w = new World();
    const zAppId = w.setup({ price, fund: 3_000_000n });
    w.ok('owner', { name: 'SetAutoTopUp', zAppId, minAvailable: minAvailable as Qsr, refill: 2_000_000n as Qsr });
    const open = () => w.ok('owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 1_000_000n as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT });
    return { w, zAppId, open };
  }

  it('refills when available drops below minAvailable after the hold', () => {
    const { w, zAppId, open } = topUpWorld(2_000_001n); // 2,000,000 left after the hold: below
    const out = open();
    expect(out.result.ok && out.result.events.map((e) => e.type)).toEqual(['AutoToppedUp', 'SessionOpened']);
    expect(w.state.zApps.get(zAppId)!.available).toBe(4_000_000n);
  });

  it('does not refill when available equals minAvailable after the hold', () => {
    const { w, zAppId, open } = topUpWorld(2_000_000n);
    const out = open();
    expect(out.result.ok && out.result.events.map((e) => e.type)).toEqual(['SessionOpened']);
    expect(w.state.zApps.get(zAppId)!.available).toBe(2_000_000n);
  });

  it('refills once before a hold that available cannot cover, and after ExtendSession', () => {
    const { w, zAppId } = topUpWorld(0n);
    const ownerBefore = w.balance(ADDR.owner);
    const id = w.open(zAppId, 5_000_000n);
    expect(w.state.zApps.get(zAppId)!.available).toBe(0n);
    w.ok('owner', { name: 'SetAutoTopUp', zAppId, minAvailable: 1n as Qsr, refill: 2_000_000n as Qsr });
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1_000_000n as Gas });
    expect(w.state.zApps.get(zAppId)!.available).toBe(1_000_000n);
    expect(ownerBefore - w.balance(ADDR.owner)).toBe(4_000_000n);
    checkInvariants(w.state);
  });
});

describe('abort, close and finalize', () => {
  it('CloseSession → closing; receipts settle until FinalizeSession releases hold − cost(billedGas)', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 10_000n });
    const id = w.open(zAppId, 1_000_000n, 3_600n);
    const runner = new FakeRunner(w, id);
    const r = runner.run();
    w.ok('user', { name: 'CloseSession', sessionId: id });
    expect(w.session(id)).toMatchObject({ status: 'closing', closesAt: w.now + 60n, stopCall: false });
    w.now += 59n;
    w.fails('other', { name: 'FinalizeSession', sessionId: id }, 'FinalizeTooEarly');
    settled(w, r);
    w.now += 1n;
    const available = w.state.zApps.get(zAppId)!.available;
    w.ok('other', { name: 'FinalizeSession', sessionId: id });
    const billed = r.cumulativeGas > 10_000n ? r.cumulativeGas : 10_000n;
    expect(w.state.zApps.get(zAppId)!.available - available).toBe(1_000_000n - billed);
    expect(w.state.zApps.get(zAppId)!.held).toBe(0n);
    expect(w.session(id)).toMatchObject({ status: 'closed', finalizedAt: w.now });
    const p = w.state.providers.get(ADDR.provider)!;
    expect(p.liveSessions).toBe(0);
    expect(p.challengeableUntil).toBeGreaterThanOrEqual(w.now + w.state.params.challengeWindowSeconds);
    expect(settled(w, runner.run())[0]).toMatchObject({ outcome: 'Rejected', code: 'SessionClosed' });
    checkInvariants(w.state);
  });

  it('anyone may finalize closeGracePeriodSeconds after expiresAt', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const id = w.open(zAppId, 1_000_000n, 100n);
    w.now += 100n + 59n;
    w.fails('other', { name: 'FinalizeSession', sessionId: id }, 'FinalizeTooEarly');
    w.now += 1n;
    w.ok('other', { name: 'FinalizeSession', sessionId: id });
    expect(w.session(id).status).toBe('closed');
  });

  it('Abort: open → closing with stopCall; from closing only stopCall; the events name the provider', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const a = w.open(zAppId);
    const out = w.ok('user', { name: 'Abort', sessionId: a });
    expect(out.result.ok && out.result.events[0]).toMatchObject({ type: 'SessionAborted', sessionId: a, provider: ADDR.provider });
    expect(w.session(a)).toMatchObject({ status: 'closing', stopCall: true, closesAt: w.now + 60n });
    const b = w.open(zAppId);
    w.ok('owner', { name: 'CloseSession', sessionId: b });
    const closesAt = w.session(b).closesAt;
    w.now += 30n;
    w.ok('owner', { name: 'Abort', sessionId: b });
    expect(w.session(b)).toMatchObject({ status: 'closing', stopCall: true, closesAt });
  });

  it('bills a call that did not finish after an abort at most abortGraceGas; finished calls in full', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId, 100_000_000n);
    const runner = new FakeRunner(w, id);
    const done = [runner.run(), runner.run()];
    w.ok('user', { name: 'Abort', sessionId: id });
    const stopped = runner.run(100_000, { abortAfterGas: 5_000_000n }); // needs 10,001,000 gas
    expect(stopped.status).toBe(CallStatus.Aborted);
    settled(w, ...done, stopped);
    const acked = done[1]!.cumulativeGas;
    expect(w.session(id)).toMatchObject({ billedGas: acked + w.state.params.abortGraceGas, settledGas: stopped.cumulativeGas });
  });
});

describe('prepareReceipts', () => {
  it('verifies every receipt (both signatures) and names the bad one', () => {
    const w = new World();
    const zAppId = w.setup();
    const runner = new FakeRunner(w, w.open(zAppId));
    const r = runner.run();
    const [v] = prepareReceipts(w.domain, [r]).receipts;
    expect(v).toMatchObject({ signer: ADDR.receiptSigner, invocationSigner: ADDR.user });
    const bad = { ...r, invocationSignature: `0x${'00'.repeat(65)}` as const };
    expect(() => prepareReceipts(w.domain, [r, bad])).toThrowError(expect.objectContaining({ details: expect.objectContaining({ index: 1 }) }));
  });
});

describe('ids', () => {
  it('sessions are keyed by the hash of the call that opened them', () => {
    const w = new World();
    const zAppId = w.setup();
    const id: Hash = w.open(zAppId);
    expect(w.state.sessions.has(id)).toBe(true);
  });
});
