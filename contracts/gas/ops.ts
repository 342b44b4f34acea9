import { ZgasError } from '../errors.ts';
import type { Address, Hash } from '../types.ts';
import { add, cost, sub } from '../units.ts';
import type { Qsr } from '../units.ts';
import type { FraudKind } from './events.ts';
import { BPS_DENOMINATOR } from './genesis.ts';
import { outstanding } from './invariants.ts';
import { MAX_PENDING_EARNINGS_PER_PROVIDER, SETTLEMENT_BUCKET_SECONDS } from './limits.ts';
import { sessionRemoveAt } from './removal.ts';
import type { GenesisParams, PendingEarning, Provider } from './state.ts';
import type { Tx } from './tx.ts';

/** When receipts settled at `now` leave their challenge window (and their earnings mature). */
export function challengeDeadline(now: bigint, params: GenesisParams): bigint {
  const b = SETTLEMENT_BUCKET_SECONDS;
  return ((now + b - 1n) / b) * b + params.challengeWindowSeconds;
}

export function debit(tx: Tx, address: Address, amount: Qsr): void {
  const balance = tx.getAccount(address)?.balance ?? 0n;
  if (balance < amount) throw new ZgasError('InsufficientBalance', { address, balance: balance.toString(), amount: amount.toString() });
  const a = tx.account(address);
  a.balance = sub(a.balance, amount);
}

export function credit(tx: Tx, address: Address, amount: Qsr): void {
  if (amount === 0n) return;
  const a = tx.account(address);
  a.balance = add(a.balance, amount);
}

/** One refill from the owner's balance, if auto top-up is set and the owner can pay it. */
function refill(tx: Tx, zAppId: Hash): void {
  const z = tx.getZApp(zAppId);
  if (z === undefined || z.autoTopUp.refill === 0n) return;
  const owner = tx.getAccount(z.owner);
  if (owner === undefined || owner.balance < z.autoTopUp.refill) return;
  const amount = z.autoTopUp.refill;
  debit(tx, z.owner, amount);
  const d = tx.zApp(zAppId);
  d.available = add(d.available, amount);
  tx.emit({ type: 'AutoToppedUp', zAppId, owner: z.owner, amount });
}

/** After a hold is taken: refill once when `available` is below `minAvailable` (equal is enough). */
export function autoTopUp(tx: Tx, zAppId: Hash): void {
  const z = tx.getZApp(zAppId);
  if (z !== undefined && z.available < z.autoTopUp.minAvailable) refill(tx, zAppId);
}

/**
 * Moves `needed` from the zApp's `available` to `held`. When `available` cannot cover it, one
 * refill is tried first (so an auto-topped-up zApp does not fail its first session); after the
 * hold, auto top-up runs as docs/contract.md §Holds and auto top-up says.
 */
export function takeHold(tx: Tx, zAppId: Hash, needed: Qsr): void {
  const z = tx.getZApp(zAppId);
  if (z === undefined) throw new ZgasError('ZAppNotFound', { zAppId });
  if (z.available < needed) refill(tx, zAppId);
  const available = tx.getZApp(zAppId)!.available;
  if (available < needed) throw new ZgasError('InsufficientEscrow', { zAppId, available: available.toString(), needed: needed.toString() });
  const d = tx.zApp(zAppId);
  d.available = sub(d.available, needed);
  d.held = add(d.held, needed);
  autoTopUp(tx, zAppId);
}

const comparePending = (e: PendingEarning, claimableAt: bigint, sessionId: Hash): number =>
  e.claimableAt < claimableAt ? -1 : e.claimableAt > claimableAt ? 1 : e.sessionId < sessionId ? -1 : e.sessionId > sessionId ? 1 : 0;

function pendingIndex(list: readonly PendingEarning[], claimableAt: bigint, sessionId: Hash): number {
  let lo = 0;
  let hi = list.length;
  // New entries land at the newest deadline: look at the tail first.
  const last = list[hi - 1];
  if (last === undefined || comparePending(last, claimableAt, sessionId) < 0) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePending(list[mid]!, claimableAt, sessionId) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The provider's pending entry for (claimableAt, sessionId), if it holds one (O(log entries)). */
export function pendingEntry(p: Readonly<Provider>, claimableAt: bigint, sessionId: Hash): PendingEarning | undefined {
  const e = p.pendingEarnings[pendingIndex(p.pendingEarnings, claimableAt, sessionId)];
  return e !== undefined && e.claimableAt === claimableAt && e.sessionId === sessionId ? e : undefined;
}

/** Whether `addPending` can take this entry without exceeding the per-provider limit. */
export function pendingHasRoom(p: Readonly<Provider>, sessionId: Hash, claimableAt: bigint): boolean {
  if (p.pendingEarnings.length < MAX_PENDING_EARNINGS_PER_PROVIDER) return true;
  const i = pendingIndex(p.pendingEarnings, claimableAt, sessionId);
  const e = p.pendingEarnings[i];
  return e !== undefined && e.claimableAt === claimableAt && e.sessionId === sessionId;
}

/** Moves the provider's pending entries whose deadline has passed (`now ≥ claimableAt`) into `claimable`. */
export function mature(tx: Tx, provider: Address): void {
  const p = tx.provider(provider);
  let n = 0;
  let sum = 0n;
  for (; n < p.pendingEarnings.length && p.pendingEarnings[n]!.claimableAt <= tx.now; n++) {
    const e = p.pendingEarnings[n]!;
    sum += e.amount;
    tx.touchPending(provider, e.claimableAt, e.sessionId);
  }
  if (n === 0) return;
  p.pendingEarnings.splice(0, n);
  p.pendingTotal = sub(p.pendingTotal, sum as Qsr);
  p.claimable = add(p.claimable, sum as Qsr);
}

/** Adds earnings of a session, merged with the entry of the same session and deadline. */
export function addPending(tx: Tx, provider: Address, sessionId: Hash, amount: Qsr, claimableAt: bigint): void {
  if (amount === 0n) return;
  const p = tx.provider(provider);
  if (p.pendingEarnings.length > 0 && p.pendingEarnings[0]!.claimableAt <= tx.now) mature(tx, provider);
  const list = p.pendingEarnings;
  const i = pendingIndex(list, claimableAt, sessionId);
  const e = list[i];
  if (e !== undefined && e.claimableAt === claimableAt && e.sessionId === sessionId) {
    list[i] = { sessionId, claimableAt, amount: add(e.amount, amount) };
  } else {
    if (list.length >= MAX_PENDING_EARNINGS_PER_PROVIDER) throw new ZgasError('LimitExceeded', { what: 'pending earnings entries', max: MAX_PENDING_EARNINGS_PER_PROVIDER });
    if (i === list.length) list.push({ sessionId, claimableAt, amount });
    else list.splice(i, 0, { sessionId, claimableAt, amount });
  }
  tx.touchPending(provider, claimableAt, sessionId);
  p.pendingTotal = add(p.pendingTotal, amount);
}

/** Moves the provider's challengeableUntil to at least `until`. */
export function extendChallengeable(tx: Tx, provider: Address, until: bigint): void {
  if ((tx.getProvider(provider)?.challengeableUntil ?? 0n) >= until) return;
  tx.provider(provider).challengeableUntil = until;
}

/**
 * Makes a session final: what its hold still reserves returns to the zApp's `available`; no receipt
 * settles after it. Receipts it never settled stay challengeable `challengeWindowSeconds` longer.
 */
export function finalize(tx: Tx, sessionId: Hash): Qsr {
  const released = release(tx, sessionId);
  extendChallengeable(tx, tx.getSession(sessionId)!.provider, tx.now + tx.state.params.challengeWindowSeconds);
  return released;
}

/** Closes a session and returns what its hold still reserves to the zApp's `available`. */
function release(tx: Tx, sessionId: Hash): Qsr {
  const s = tx.session(sessionId);
  if (s.status === 'closed') return 0n as Qsr;
  const released = outstanding(s) as Qsr;
  const z = tx.zApp(s.zAppId);
  z.held = sub(z.held, released);
  z.available = add(z.available, released);
  s.status = 'closed';
  s.finalizedAt = tx.now;
  s.removeAt = sessionRemoveAt(s, tx.now, tx.state.params);
  tx.provider(s.provider).liveSessions -= 1;
  tx.emit({ type: 'SessionFinalized', sessionId, released, billedGas: s.billedGas });
  return released;
}

/**
 * Proven fraud on a session (a failed re-execution, an equivocation or a contradiction): the
 * provider loses slashFractionBps of its stake plus unbonding stake (stake first, then the newest
 * unbonding entries); challengerRewardBps of it goes to `challenger` and the rest is burned (all of
 * it without a challenger). The session's pending earnings go back to the zApp's `available` and
 * the session is final at once (the rest of its hold returns too): one slash per session.
 */
export function proveFraud(tx: Tx, sessionId: Hash, kind: FraudKind, receipt: Hash, challenger: Address | null): Qsr {
  const s0 = tx.getSession(sessionId)!;
  const p = tx.provider(s0.provider);
  let unbonding = 0n;
  for (const u of p.unbonding) unbonding += u.amount;
  const { params } = tx.state;
  const slashed = (((p.stake + unbonding) * params.slashFractionBps) / BPS_DENOMINATOR) as Qsr;
  let rest: bigint = slashed;
  const fromStake = p.stake < rest ? p.stake : (rest as Qsr);
  p.stake = sub(p.stake, fromStake);
  rest -= fromStake;
  for (let i = p.unbonding.length - 1; i >= 0 && rest > 0n; i--) {
    const u = p.unbonding[i]!;
    const take = u.amount < rest ? u.amount : (rest as Qsr);
    rest -= take;
    if (take === u.amount) p.unbonding.splice(i, 1);
    else p.unbonding[i] = { amount: sub(u.amount, take), releaseAt: u.releaseAt };
  }
  const reward = (challenger === null ? 0n : (slashed * params.challengerRewardBps) / BPS_DENOMINATOR) as Qsr;
  const burned = sub(slashed, reward);
  if (challenger !== null) credit(tx, challenger, reward);
  tx.burn(burned);

  let voided = 0n as Qsr;
  const kept: PendingEarning[] = [];
  for (const e of p.pendingEarnings) {
    if (e.sessionId === sessionId) {
      voided = add(voided, e.amount);
      tx.touchPending(s0.provider, e.claimableAt, sessionId);
    } else kept.push(e);
  }
  p.pendingEarnings = kept;
  p.pendingTotal = sub(p.pendingTotal, voided);
  const z = tx.zApp(s0.zAppId);
  z.available = add(z.available, voided);
  tx.emit({ type: 'FraudProven', sessionId, provider: s0.provider, kind, receipt, slashed, reward, challenger, burned, voided });

  release(tx, sessionId);
  const s = tx.session(sessionId);
  s.slashed = true;
  s.coverage = [];
  s.judgedSeqs = [];
  return slashed;
}

/** Total cost change of billing `newBilled` instead of `billed` at `price`. */
export const chargeFor = (billed: bigint, newBilled: bigint, price: Qsr): Qsr => sub(cost(newBilled, price), cost(billed, price));
