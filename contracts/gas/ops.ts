import { ZgasError } from '../errors.ts';
import { CallStatus } from '../types.ts';
import type { Address, GasReceipt, Hash } from '../types.ts';
import { add, cost, sub } from '../units.ts';
import type { Qsr } from '../units.ts';
import type { FraudKind } from './events.ts';
import { BPS_DENOMINATOR } from './genesis.ts';
import { outstanding } from './invariants.ts';
import { MAX_PENDING_EARNINGS_PER_PROVIDER, SETTLEMENT_BUCKET_SECONDS } from './limits.ts';
import type { GenesisParams, PendingEarning, Provider } from './state.ts';
import type { Tx } from './tx.ts';

/** When receipts settled at `now` leave their challenge window (and their earnings mature). */
export function challengeDeadline(now: bigint, params: GenesisParams): bigint {
  const b = SETTLEMENT_BUCKET_SECONDS;
  return ((now + b - 1n) / b) * b + params.challengeWindowSeconds;
}

/** Structural checks every receipt must pass before its numbers are trusted. */
export function checkReceiptShape(r: GasReceipt): void {
  const status: number = r.status;
  if (r.seq < 1n || r.callGas > r.cumulativeGas || r.callGas < 0n || !(status >= CallStatus.Ok && status <= CallStatus.Aborted && Number.isInteger(status))) {
    throw new ZgasError('InvalidReceipt', { seq: String(r.seq), callGas: String(r.callGas), cumulativeGas: String(r.cumulativeGas), status });
  }
}

export function debit(tx: Tx, address: Address, amount: Qsr): void {
  const balance = tx.getAccount(address)?.balance ?? 0n;
  if (balance < amount) throw new ZgasError('InsufficientBalance', { address, balance: balance.toString(), amount: amount.toString() });
  const a = tx.account(address);
  a.balance = sub(a.balance, amount);
}

export function credit(tx: Tx, address: Address, amount: Qsr): void {
  const a = tx.account(address);
  a.balance = add(a.balance, amount);
}

/** One auto top-up when `available` is below `minAvailable` and the owner can pay `refill`. */
export function autoTopUp(tx: Tx, zAppId: Hash, force = false): void {
  const z = tx.getZApp(zAppId);
  if (z === undefined || z.autoTopUp.refill === 0n) return;
  if (!force && z.available >= z.autoTopUp.minAvailable) return;
  const owner = tx.getAccount(z.owner);
  if (owner === undefined || owner.balance < z.autoTopUp.refill) return;
  const amount = z.autoTopUp.refill;
  debit(tx, z.owner, amount);
  const d = tx.zApp(zAppId);
  d.available = add(d.available, amount);
  tx.emit({ type: 'AutoToppedUp', zAppId, owner: z.owner, amount });
}

/** Makes sure `available` covers `needed`, refilling once from the owner first if auto top-up is set. */
export function reserve(tx: Tx, zAppId: Hash, needed: Qsr): void {
  const z = tx.getZApp(zAppId);
  if (z === undefined) throw new ZgasError('ZAppNotFound', { zAppId });
  if (z.available < needed) autoTopUp(tx, zAppId, true);
  const available = tx.getZApp(zAppId)!.available;
  if (available < needed) throw new ZgasError('InsufficientEscrow', { zAppId, available: available.toString(), needed: needed.toString() });
  const d = tx.zApp(zAppId);
  d.available = sub(d.available, needed);
  d.held = add(d.held, needed);
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

/** Whether `addPending` can take this entry without exceeding the per-provider limit. */
export function pendingHasRoom(p: Readonly<Provider>, sessionId: Hash, claimableAt: bigint): boolean {
  if (p.pendingEarnings.length < MAX_PENDING_EARNINGS_PER_PROVIDER) return true;
  const i = pendingIndex(p.pendingEarnings, claimableAt, sessionId);
  const e = p.pendingEarnings[i];
  return e !== undefined && e.claimableAt === claimableAt && e.sessionId === sessionId;
}

/** Moves pending entries whose deadline has passed into `claimable`. */
export function mature(p: Provider, now: bigint): void {
  let n = 0;
  let sum = 0n;
  while (n < p.pendingEarnings.length && p.pendingEarnings[n]!.claimableAt <= now) sum += p.pendingEarnings[n++]!.amount;
  if (n === 0) return;
  p.pendingEarnings.splice(0, n);
  p.pendingTotal = sub(p.pendingTotal, sum as Qsr);
  p.claimable = add(p.claimable, sum as Qsr);
}

/** Adds earnings of a session, merged with the entry of the same session and deadline. */
export function addPending(tx: Tx, provider: Address, sessionId: Hash, amount: Qsr, claimableAt: bigint): void {
  if (amount === 0n) return;
  const p = tx.provider(provider);
  if (p.pendingEarnings.length > 0 && p.pendingEarnings[0]!.claimableAt <= tx.now) mature(p, tx.now);
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
  p.pendingTotal = add(p.pendingTotal, amount);
}

/** Closes a session: what its hold still reserves goes back to the zApp's `available`. */
export function closeSession(tx: Tx, sessionId: Hash): Qsr {
  const s = tx.session(sessionId);
  if (s.status === 'closed') return 0n as Qsr;
  const released = outstanding(s) as Qsr;
  const z = tx.zApp(s.zAppId);
  z.held = sub(z.held, released);
  z.available = add(z.available, released);
  s.status = 'closed';
  s.closedAt = tx.now;
  tx.provider(s.provider).openSessions -= 1;
  tx.emit({ type: 'SessionClosed', sessionId, released, billedGas: s.billedGas });
  return released;
}

/**
 * Proven fraud on a session (a failed re-execution, or two contradicting receipts): the provider loses
 * slashFractionBps of its stake and unbonding stake (stake first, then the newest unbonding entries),
 * half to `challenger` — or, without one, to the zApp too — and half to the zApp's escrow. The
 * session's pending earnings go back to the zApp, and the session closes: nothing more of it can be
 * settled or challenged, so one session can be slashed once.
 */
export function proveFraud(tx: Tx, sessionId: Hash, kind: FraudKind, receipt: Hash, challenger: Address | null): Qsr {
  const s0 = tx.getSession(sessionId)!;
  const p = tx.provider(s0.provider);
  let unbonding = 0n;
  for (const u of p.unbonding) unbonding += u.amount;
  const slashed = (((p.stake + unbonding) * tx.state.params.slashFractionBps) / BPS_DENOMINATOR) as Qsr;
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
  const toChallenger = (challenger === null ? 0n : slashed / 2n) as Qsr;
  const toZApp = sub(slashed, toChallenger);
  if (challenger !== null && toChallenger > 0n) credit(tx, challenger, toChallenger);

  let voided = 0n as Qsr;
  const kept: PendingEarning[] = [];
  for (const e of p.pendingEarnings) {
    if (e.sessionId === sessionId) voided = add(voided, e.amount);
    else kept.push(e);
  }
  p.pendingEarnings = kept;
  p.pendingTotal = sub(p.pendingTotal, voided);

  const z = tx.zApp(s0.zAppId);
  z.available = add(add(z.available, toZApp), voided);
  tx.emit({ type: 'FraudProven', sessionId, provider: s0.provider, kind, receipt, slashed, toChallenger, challenger, toZApp, voided });
  closeSession(tx, sessionId);
  const s = tx.session(sessionId);
  s.slashed = true;
  s.settlements = [];
  s.challengeFloorSeq = s.lastSeq;
  return slashed;
}

/** Total cost change of billing `newBilled` instead of `billed` at `price`. */
export const chargeFor = (billed: bigint, newBilled: bigint, price: Qsr): Qsr => sub(cost(newBilled, price), cost(billed, price));
