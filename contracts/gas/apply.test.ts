import { describe, expect, it } from 'vitest';
import { encodeMethod } from '../abi/index.ts';
import { signCall } from '../eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../hash.ts';
import { bytesToHex } from '../hex.ts';
import { CallStatus } from '../types.ts';
import { cost, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply, prepareCall, prepareReceipts } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { challengeDeadline } from './ops.ts';
import { stateDigest, totalSupply } from './state.ts';
import { ADDR, FakeRunner, TEST_KEYS, World } from './testkit.ts';

const price = 1_000_000n; // 1 base unit per gas

function settled(w: World, runner: FakeRunner, ...receipts: ReturnType<FakeRunner['run']>[]) {
  const out = w.settle(receipts.map((r) => runner.verified(r)));
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
    expect(z.owner).toBe(ADDR.owner);
    expect(z.available).toBe(wholeQsr(1_000));
    w.ok('owner', { name: 'WithdrawEscrow', zAppId, amount: wholeQsr(400) });
    expect(w.state.zApps.get(zAppId)!.available).toBe(wholeQsr(600));
    w.ok('other', { name: 'TopUp', zAppId, amount: 7n as Qsr });
    expect(w.state.zApps.get(zAppId)!.available).toBe(wholeQsr(600) + 7n);
    w.ok('owner', { name: 'SetPolicy', zAppId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 5n as Gas, openToAll: true, userGasPerDay: 3n as Gas });
    expect(w.state.zApps.get(zAppId)!.policy).toEqual({ maxPricePerMgas: 1n, maxGasPerSession: 5n, openToAll: true, userGasPerDay: 3n });
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
    const method = { name: 'RegisterZApp', moduleHash: sha3(new Uint8Array([1])), maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: false, userGasPerDay: 0n as Gas } as const;
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
  it('stakes, unbonds and withdraws only after the unbonding period', () => {
    const w = new World();
    w.setup();
    const start = w.balance(ADDR.provider);
    w.ok('provider', { name: 'AddStake', amount: wholeQsr(5) });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(2_000) });
    expect(w.state.providers.get(ADDR.provider)!.stake).toBe(wholeQsr(8_005));
    w.now += w.state.params.unbondingPeriodSeconds - 1n;
    expect(w.call('provider', { name: 'WithdrawUnbonded' }).result).toMatchObject({ ok: false, code: 'NothingToWithdraw' });
    w.now += 1n;
    w.ok('provider', { name: 'WithdrawUnbonded' });
    expect(w.balance(ADDR.provider)).toBe(start - wholeQsr(5) + wholeQsr(2_000));
    expect(w.state.providers.get(ADDR.provider)!.unbonding).toEqual([]);
    // full exit is allowed, a remainder below the minimum is not
    expect(w.call('provider', { name: 'Unbond', amount: wholeQsr(8_000) }).result).toMatchObject({ ok: false, code: 'InsufficientStake' });
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(8_005) });
    checkInvariants(w.state);
  });

  it('UpdateOffer never changes the terms of an open session', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const id = w.open(zAppId);
    w.ok('provider', { name: 'UpdateOffer', receiptSigner: ADDR.signer2, pricePerMgas: 5n as Qsr, upfrontGas: 0n as Gas });
    const s = w.session(id);
    expect(s.price).toBe(price);
    expect(s.receiptSigner).toBe(ADDR.receiptSigner);
    const runner = new FakeRunner(w, id);
    expect(settled(w, runner, runner.run())[0]!.outcome).toBe('Settled');
    const id2 = w.open(zAppId);
    expect(w.session(id2).price).toBe(5n);
    expect(w.session(id2).receiptSigner).toBe(ADDR.signer2);
  });
});

describe('sessions and settlement', () => {
  it('opens a session: holds cost(gasLimit), bills upfrontGas at once, starts from the empty state', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 10_000n });
    const id = w.open(zAppId, 1_000_000n);
    const s = w.session(id);
    expect(s).toMatchObject({ hold: 1_000_000n, billedGas: 10_000n, settledGas: 0n, lastSeq: 0n, lastPostStateHash: EMPTY_STATE_HASH, status: 'open' });
    const z = w.state.zApps.get(zAppId)!;
    expect(z.available).toBe(wholeQsr(1_000) - 1_000_000n);
    expect(z.held).toBe(1_000_000n - 10_000n);
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(10_000n);
    checkInvariants(w.state);
  });

  it('settles receipts cumulatively, reports duplicates, and is idempotent', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const [r1, r2, r3] = [runner.run(), runner.run(), runner.run(16)];
    const outcomes = settled(w, runner, r2!, r1!);
    expect(outcomes.map((o) => o.outcome)).toEqual(['Settled', 'Settled']);
    const s = w.session(id);
    expect(s.billedGas).toBe(r2!.cumulativeGas);
    expect(w.state.zApps.get(zAppId)!.held).toBe(1_000_000n - r2!.cumulativeGas);
    const digest = stateDigest(w.state);
    const again = settled(w, runner, r1!, r2!);
    expect(again.map((o) => o.outcome)).toEqual(['Duplicate', 'Duplicate']);
    expect(stateDigest(w.state)).toBe(digest);
    // a gap is fine: the newest wins
    const r5 = (runner.run(), runner.run());
    expect(settled(w, runner, r5)[0]!.outcome).toBe('Settled');
    expect(w.session(id).lastSeq).toBe(5n);
    expect(settled(w, runner, r3!)[0]!.outcome).toBe('Duplicate');
  });

  it('rejects receipts individually: wrong signer, over limit, non-monotonic, unknown session', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId, 5_000n);
    const runner = new FakeRunner(w, id);
    const good = runner.run();
    const forged = new FakeRunner(w, id, TEST_KEYS.other).run();
    const over = runner.run(8, (r) => ({ ...r, cumulativeGas: 6_000n as Gas, callGas: 1n as Gas }));
    const out = w.settle([runner.verified(forged), runner.verified(good), runner.verified(over)]);
    expect(out.result.ok && out.result.outcomes!.map((o) => (o.outcome === 'Rejected' ? o.code : o.outcome))).toEqual(['InvalidSigner', 'Settled', 'OverLimit']);
    const lower = runner.run(8, (r) => ({ ...r, seq: 9n, cumulativeGas: 10n as Gas, callGas: 10n as Gas }));
    const res = w.settle([runner.verified(lower)]);
    expect(res.result.ok && res.result.outcomes![0]).toMatchObject({ outcome: 'Rejected', code: 'NonMonotonic' });
    checkInvariants(w.state);
  });

  it('earnings become claimable when the challenge window ends, not before', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    const r = runner.run();
    settled(w, runner, r);
    const due = challengeDeadline(w.now, w.state.params);
    expect(due).toBeGreaterThanOrEqual(w.now + w.state.params.challengeWindowSeconds);
    w.now = due - 1n;
    expect(w.call('provider', { name: 'ClaimEarnings' }).result).toMatchObject({ ok: false, code: 'NothingToClaim' });
    w.now = due;
    const before = w.balance(ADDR.provider);
    w.ok('provider', { name: 'ClaimEarnings' });
    expect(w.balance(ADDR.provider) - before).toBe(cost(r.cumulativeGas, price));
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(0n);
    checkInvariants(w.state);
  });

  it('auto top-up refills available from the owner after a hold, and before one that needs it', () => {
    const w = new World();
    const zAppId = w.setup({ price, fund: 3_000_000n });
    w.ok('owner', { name: 'SetAutoTopUp', zAppId, minAvailable: 2_500_000n as Qsr, refill: 2_000_000n as Qsr });
    const ownerBefore = w.balance(ADDR.owner);
    const out = w.ok('owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 1_000_000n as Gas, durationSeconds: 60n });
    expect(out.result.ok && out.result.events.map((e) => e.type)).toEqual(['SessionOpened', 'AutoToppedUp']);
    expect(w.state.zApps.get(zAppId)!.available).toBe(4_000_000n);
    // a hold larger than available refills first
    w.open(zAppId, 5_000_000n);
    expect(w.state.zApps.get(zAppId)!.available).toBe(1_000_000n + 2_000_000n);
    expect(ownerBefore - w.balance(ADDR.owner)).toBe(6_000_000n);
    checkInvariants(w.state);
  });

  it('users open sessions themselves only on open zApps, within userGasPerDay per UTC day', () => {
    const w = new World();
    const zAppId = w.setup({ price, openToAll: true, userGasPerDay: 1_500_000n });
    w.open(zAppId, 1_000_000n, 60n, 'user');
    expect(w.call('user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 600_000n as Gas, durationSeconds: 60n }).result).toMatchObject({ ok: false, code: 'UserGasPerDayExceeded' });
    w.now = (w.now / 86_400n + 1n) * 86_400n;
    w.open(zAppId, 600_000n, 60n, 'user');
    expect(w.call('user', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.other, gasLimit: 1n as Gas, durationSeconds: 60n }).result).toMatchObject({ ok: false, code: 'NotAllowedToOpen' });
  });

  it('extends a session with more hold, not after expiry', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const id = w.open(zAppId, 1_000_000n, 100n);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 500_000n as Gas });
    expect(w.session(id)).toMatchObject({ gasLimit: 1_500_000n, hold: 1_500_000n });
    w.now += 100n;
    expect(w.call('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1n as Gas }).result).toMatchObject({ ok: false, code: 'SessionExpired' });
    // receipts for gas run before expiry still settle
    const runner = new FakeRunner(w, id);
    expect(settled(w, runner, runner.run())[0]!.outcome).toBe('Settled');
  });
});

describe('abort and close', () => {
  it('abort caps billing at max(settledGas, lastReceipt.cumulativeGas) + abortGraceGas', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId, 100_000_000n);
    const runner = new FakeRunner(w, id);
    const r1 = runner.run();
    settled(w, runner, r1);
    const r2 = runner.run();
    w.ok('user', { name: 'Abort', sessionId: id, lastReceipt: r2 });
    const cap = r2.cumulativeGas + w.state.params.abortGraceGas;
    expect(w.session(id)).toMatchObject({ status: 'aborting', abortCap: cap });
    // the runner claims far more gas than the cap
    const big = runner.run(8, (r) => ({ ...r, seq: 10n, cumulativeGas: 50_000_000n as Gas, callGas: 1n as Gas }));
    expect(settled(w, runner, big)[0]!.outcome).toBe('Settled');
    expect(w.session(id)).toMatchObject({ billedGas: cap, settledGas: 50_000_000n });
    expect(w.call('user', { name: 'Abort', sessionId: id, lastReceipt: null }).result).toMatchObject({ ok: false, code: 'SessionNotOpen' });
    checkInvariants(w.state);
  });

  it('abort refuses a lastReceipt of another session or signer', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const a = w.open(zAppId);
    const b = w.open(zAppId);
    const rb = new FakeRunner(w, b).run();
    expect(w.call('user', { name: 'Abort', sessionId: a, lastReceipt: rb }).result).toMatchObject({ ok: false, code: 'WrongSession' });
    const forged = new FakeRunner(w, a, TEST_KEYS.other).run();
    expect(w.call('user', { name: 'Abort', sessionId: a, lastReceipt: forged }).result).toMatchObject({ ok: false, code: 'InvalidSigner' });
    expect(w.call('other', { name: 'Abort', sessionId: a, lastReceipt: null }).result).toMatchObject({ ok: false, code: 'NotSessionParty' });
  });

  it('closes: hold − cost(billedGas) back to available; a third party only after the grace period', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 10_000n });
    const id = w.open(zAppId, 1_000_000n, 100n);
    const runner = new FakeRunner(w, id);
    const r = runner.run();
    settled(w, runner, r);
    w.now += 100n + w.state.params.abortGracePeriodSeconds - 1n;
    expect(w.call('other', { name: 'CloseSession', sessionId: id }).result).toMatchObject({ ok: false, code: 'CloseTooEarly' });
    w.now += 1n;
    const available = w.state.zApps.get(zAppId)!.available;
    w.ok('other', { name: 'CloseSession', sessionId: id });
    const billed = r.cumulativeGas > 10_000n ? r.cumulativeGas : 10_000n;
    expect(w.state.zApps.get(zAppId)!.available - available).toBe(1_000_000n - billed);
    expect(w.state.zApps.get(zAppId)!.held).toBe(0n);
    expect(w.session(id).status).toBe('closed');
    expect(w.state.providers.get(ADDR.provider)!.openSessions).toBe(0);
    expect(settled(w, runner, runner.run())[0]).toMatchObject({ outcome: 'Rejected', code: 'SessionClosed' });
    checkInvariants(w.state);
  });

  it('anyone may close an aborted session after abortGracePeriodSeconds', () => {
    const w = new World();
    const zAppId = w.setup({ price });
    const id = w.open(zAppId, 1_000_000n, 86_400n);
    w.ok('owner', { name: 'Abort', sessionId: id, lastReceipt: null });
    w.now += w.state.params.abortGracePeriodSeconds;
    w.ok('other', { name: 'CloseSession', sessionId: id });
    expect(w.session(id).status).toBe('closed');
  });
});

describe('fraud', () => {
  function slashSetup() {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    return { w, zAppId, id, runner };
  }

  it('equivocation (another receipt for the settled seq) slashes; the caller of Settle gets half', () => {
    const { w, zAppId, id, runner } = slashSetup();
    const r1 = runner.run();
    settled(w, runner, r1);
    const evil = runner.run(8, (r) => ({ ...r, seq: 1n, outputHash: sha3(new Uint8Array([9])) }));
    const stake = w.state.providers.get(ADDR.provider)!.stake;
    const zBefore = w.state.zApps.get(zAppId)!;
    const otherBefore = w.balance(ADDR.other);
    const out = w.ok('other', { name: 'Settle', receipts: [evil] });
    expect(out.result.ok && out.result.outcomes![0]).toMatchObject({ outcome: 'Fraud', kind: 'equivocation' });
    const slashed = stake / 2n;
    expect(w.state.providers.get(ADDR.provider)!.stake).toBe(stake - slashed);
    expect(w.balance(ADDR.other) - otherBefore).toBe(slashed / 2n);
    const z = w.state.zApps.get(zAppId)!;
    // the zApp gets its half, the voided earnings and the released hold
    expect(z.available - zBefore.available).toBe(slashed - slashed / 2n + cost(r1.cumulativeGas, price) + zBefore.held);
    expect(w.session(id)).toMatchObject({ status: 'closed', slashed: true });
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(0n);
    checkInvariants(w.state);
  });

  it('contradiction (next receipt not continuing the settled one) slashes; anonymous batches give all to the zApp', () => {
    const { w, zAppId, runner } = slashSetup();
    settled(w, runner, runner.run());
    const bad = runner.run(8, (r) => ({ ...r, preStateHash: sha3(new Uint8Array([1])) }));
    const zBefore = w.state.zApps.get(zAppId)!.available;
    const stake = w.state.providers.get(ADDR.provider)!.stake;
    const outcomes = settled(w, runner, bad);
    expect(outcomes[0]).toMatchObject({ outcome: 'Fraud', kind: 'contradiction', slashed: stake / 2n });
    expect(w.state.zApps.get(zAppId)!.available - zBefore).toBeGreaterThanOrEqual(stake / 2n);
  });

  it('slashing reaches unbonding stake', () => {
    const { w, runner } = slashSetup();
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(9_000) });
    settled(w, runner, runner.run());
    settled(w, runner, runner.run(8, (r) => ({ ...r, cumulativeGas: (r.cumulativeGas + 1n) as Gas })));
    const p = w.state.providers.get(ADDR.provider)!;
    expect(p.stake + p.unbonding.reduce((a, u) => a + u.amount, 0n)).toBe(wholeQsr(5_000));
    expect(p.stake).toBe(0n);
  });

  it('a challenge that re-execution disproves slashes; one it reproduces fails and changes only the nonce', () => {
    const { w, id, runner } = slashSetup();
    const honest = runner.run();
    const lying = runner.run(8, (r) => ({ ...r, callGas: (r.callGas + 500n) as Gas, cumulativeGas: (r.cumulativeGas + 500n) as Gas }));
    settled(w, runner, honest, lying);
    const h1 = runner.history.get(1n)!;
    const digest = stateDigest(w.state);
    const fail = w.call('user', { name: 'Challenge', receipt: honest, input: bytesToHex(h1.input), preState: bytesToHex(h1.preState) });
    expect(fail.result).toMatchObject({ ok: false, code: 'ReceiptHolds' });
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(w.session(id).gasLimit);
    expect(stateDigest(w.state)).not.toBe(digest); // the nonce moved
    const h2 = runner.history.get(2n)!;
    expect(w.call('user', { name: 'Challenge', receipt: lying, input: bytesToHex(h2.input), preState: '0x01' }).result).toMatchObject({ ok: false, code: 'PreStateMismatch' });
    expect(w.call('user', { name: 'Challenge', receipt: lying, input: '0x01', preState: bytesToHex(h2.preState) }).result).toMatchObject({ ok: false, code: 'InputMismatch' });
    const userBefore = w.balance(ADDR.user);
    const ok = w.ok('user', { name: 'Challenge', receipt: lying, input: bytesToHex(h2.input), preState: bytesToHex(h2.preState) });
    expect(ok.result.ok && ok.result.events.map((e) => e.type)).toEqual(['FraudProven', 'SessionClosed']);
    expect(w.balance(ADDR.user) - userBefore).toBe(wholeQsr(10_000) / 2n / 2n);
    // the same session cannot be slashed twice
    expect(w.call('user', { name: 'Challenge', receipt: lying, input: bytesToHex(h2.input), preState: bytesToHex(h2.preState) }).result).toMatchObject({ ok: false, code: 'ChallengeWindowClosed' });
    checkInvariants(w.state);
  });

  it('challenges close with the window, and need settlement and the module', () => {
    const { w, runner } = slashSetup();
    const r1 = runner.run();
    const h = () => runner.history.get(1n)!;
    expect(w.call('user', { name: 'Challenge', receipt: r1, input: bytesToHex(h().input), preState: bytesToHex(h().preState) }).result).toMatchObject({ ok: false, code: 'ChallengeWindowClosed' });
    settled(w, runner, r1);
    w.modules.clear();
    expect(w.call('user', { name: 'Challenge', receipt: r1, input: bytesToHex(h().input), preState: bytesToHex(h().preState) }).result).toMatchObject({ ok: false, code: 'ModuleUnavailable' });
    w.now = challengeDeadline(w.now, w.state.params);
    expect(w.call('user', { name: 'Challenge', receipt: r1, input: bytesToHex(h().input), preState: bytesToHex(h().preState) }).result).toMatchObject({ ok: false, code: 'ChallengeWindowClosed' });
  });

  it('an OutOfGas receipt is judged under the gasLimit it ran out of, even after an extension', () => {
    const w = new World();
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId, 3_000n); // the fake call with 8 input bytes needs 1,800 gas
    const runner = new FakeRunner(w, id);
    const first = runner.run();
    const starved = runner.run(); // 1,200 gas left: runs out
    expect(starved.status).toBe(CallStatus.OutOfGas);
    expect(starved.cumulativeGas).toBe(3_000n);
    settled(w, runner, first, starved);
    w.ok('owner', { name: 'ExtendSession', sessionId: id, extraGas: 1_000_000n as Gas });
    const h = runner.history.get(2n)!;
    expect(w.call('user', { name: 'Challenge', receipt: starved, input: bytesToHex(h.input), preState: bytesToHex(h.preState) }).result).toMatchObject({ ok: false, code: 'ReceiptHolds' });
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(1_200n);
    // a call cut short before the end of any limit the session had is fraud
    const cut = runner.run(8, (r) => ({ ...r, callGas: 700n as Gas, cumulativeGas: 3_700n as Gas, postStateHash: r.preStateHash, outputHash: sha3(new Uint8Array(0)), status: CallStatus.OutOfGas }));
    settled(w, runner, cut);
    const h3 = runner.history.get(3n)!;
    expect(w.call('user', { name: 'Challenge', receipt: cut, input: bytesToHex(h3.input), preState: bytesToHex(h3.preState) }).result.ok).toBe(true);
    expect(w.session(id).slashed).toBe(true);
  });

  it('an Aborted receipt must not finish within callGas and must keep the pre-state', () => {
    const { w, runner } = slashSetup();
    settled(w, runner, runner.run());
    // honest abort: stopped after 500 gas of a call that needs more
    const honest = runner.run(8, (r) => ({ ...r, callGas: 500n as Gas, cumulativeGas: (r.cumulativeGas - r.callGas + 500n) as Gas, postStateHash: r.preStateHash, outputHash: sha3(new Uint8Array(0)), status: CallStatus.Aborted }));
    settled(w, runner, honest);
    const h = runner.history.get(2n)!;
    expect(w.call('user', { name: 'Challenge', receipt: honest, input: bytesToHex(h.input), preState: bytesToHex(h.preState) }).result).toMatchObject({ ok: false, code: 'ReceiptHolds' });
    expect(w.reexecutor.calls.at(-1)!.gasLimit).toBe(500n);
    // dishonest abort: claims 5,000 gas for a call that finishes in 1,800
    runner.cumulative = honest.cumulativeGas;
    const lying = runner.run(8, (r) => ({ ...r, preStateHash: honest.postStateHash, callGas: 5_000n as Gas, cumulativeGas: (honest.cumulativeGas + 5_000n) as Gas, postStateHash: honest.postStateHash, status: CallStatus.Aborted }));
    settled(w, runner, lying);
    const h3 = runner.history.get(3n)!;
    const out = w.call('user', { name: 'Challenge', receipt: lying, input: bytesToHex(h3.input), preState: bytesToHex(runner.history.get(2n)!.preState) });
    expect(out.result.ok).toBe(true);
  });
});

describe('prepareReceipts', () => {
  it('verifies every receipt and names the bad one', () => {
    const w = new World();
    const zAppId = w.setup();
    const runner = new FakeRunner(w, w.open(zAppId));
    const r = runner.run();
    expect(prepareReceipts(w.domain, [r]).receipts[0]!.signer).toBe(ADDR.receiptSigner);
    const bad = { ...r, signature: `0x${'00'.repeat(65)}` as const };
    expect(() => prepareReceipts(w.domain, [r, bad])).toThrowError(expect.objectContaining({ details: expect.objectContaining({ index: 1 }) }));
  });
});
