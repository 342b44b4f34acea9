import { assert } from '../errors.ts';
import type { Hash } from '../types.ts';
import { cost, MAX_UINT256, MAX_UINT64 } from '../units.ts';
import { MAX_COVERAGE_ENTRIES, MAX_JUDGED_SEQS_PER_SESSION, MAX_LIVE_SESSIONS_PER_PROVIDER, MAX_PENDING_EARNINGS_PER_PROVIDER, MAX_UNBONDING_ENTRIES } from './limits.ts';
import { computeTotals, removalsOf } from './state.ts';
import type { Provider, Session, State, ZApp } from './state.ts';

/** What a session still reserves in its zApp's `held`: hold − cost(billedGas), nothing once closed. */
export function outstanding(s: Session): bigint {
  return s.status === 'closed' ? 0n : s.hold - cost(s.billedGas, s.price);
}

const inRange = (v: bigint): boolean => v >= 0n && v <= MAX_UINT256;
const inGas = (v: bigint): boolean => v >= 0n && v <= MAX_UINT64;

/**
 * The per-session rules of docs/contract.md §Invariants; O(1) apart from its lists. Given the
 * committed version `base`, the hold is recomputed only when its terms changed.
 */
export function checkSession(id: Hash, s: Session, base?: Session): void {
  const where = `session ${id}`;
  for (const [name, v] of [['gasLimit', s.gasLimit], ['upfrontGas', s.upfrontGas], ['billedGas', s.billedGas], ['settledGas', s.settledGas], ['lastSeq', s.lastSeq], ['openedAt', s.openedAt], ['expiresAt', s.expiresAt]] as const) {
    assert(inGas(v), `${where}: ${name} is not a uint64`);
  }
  assert(inRange(s.hold) && inRange(s.price), `${where}: hold or price out of range`);
  assert((s.closesAt === null || inGas(s.closesAt)) && (s.finalizedAt === null || inGas(s.finalizedAt)), `${where}: a time is not a uint64`);
  if (s.lastInvocation !== null) assert(inGas(s.lastInvocation.callGasLimit) && inGas(s.lastInvocation.ackedGas), `${where}: invocation gas is not a uint64`);
  if (base === undefined || base.hold !== s.hold || base.gasLimit !== s.gasLimit || base.price !== s.price) {
    assert(s.hold === cost(s.gasLimit, s.price), `${where}: hold is not cost(gasLimit, price)`);
  }
  // cost is monotonic in gas and hold = cost(gasLimit): billedGas ≤ gasLimit means cost(billedGas) ≤ hold.
  assert(s.billedGas <= s.gasLimit, `${where}: billed above gasLimit`);
  assert(s.settledGas <= s.gasLimit, `${where}: settled above gasLimit`);
  // Every billed gas is covered by a settlement receipt (≤ settledGas) or the upfront gas of an owner-opened session.
  assert(s.openedByOwner || s.upfrontGas === 0n, `${where}: upfront gas on a user-opened session`);
  assert(s.upfrontGas <= s.billedGas, `${where}: billed below upfrontGas`);
  assert(s.billedGas <= (s.settledGas > s.upfrontGas ? s.settledGas : s.upfrontGas), `${where}: billed gas no receipt covers`);
  if (base !== undefined) {
    assert(s.billedGas >= base.billedGas && s.lastSeq >= base.lastSeq && s.gasLimit >= base.gasLimit, `${where}: billedGas, lastSeq or gasLimit went down`);
    assert(!base.stopCall || s.stopCall, `${where}: stopCall cleared`);
    assert(!base.slashed || s.slashed, `${where}: slashed cleared`);
    assert(base.status !== 'closed' || s.status === 'closed', `${where}: reopened`);
  }
  assert((s.lastSeq === 0n) === (s.lastReceiptHash === null) && (s.lastSeq === 0n) === (s.lastInvocation === null), `${where}: settled receipt fields disagree with lastSeq`);
  assert(s.status !== 'open' || (s.closesAt === null && !s.stopCall), `${where}: open but closing or stopped`);
  assert(s.status !== 'closing' || s.closesAt !== null, `${where}: closing without closesAt`);
  assert((s.status === 'closed') === (s.finalizedAt !== null), `${where}: finalizedAt disagrees with the status`);
  assert(!s.slashed || s.status === 'closed', `${where}: slashed but not closed`);
  assert((s.status === 'closed') === (s.removeAt !== null), `${where}: removeAt disagrees with the status`);
  if (s.removeAt !== null) assert(inGas(s.removeAt) && s.finalizedAt !== null && s.removeAt >= s.finalizedAt, `${where}: removeAt before finalizedAt`);
  if (base !== undefined && base.removeAt !== null) assert(s.removeAt === base.removeAt, `${where}: removeAt moved after closing`);
  assert(s.coverageFloorSeq <= s.lastSeq, `${where}: coverage floor above lastSeq`);
  assert(s.coverage.length <= MAX_COVERAGE_ENTRIES && s.judgedSeqs.length <= MAX_JUDGED_SEQS_PER_SESSION, `${where}: a list over its limit`);
  let previous = s.coverageFloorSeq;
  let deadline = 0n;
  for (const c of s.coverage) {
    assert(c.upToSeq > previous && c.upToSeq <= s.lastSeq && c.challengeDeadline > deadline && inGas(c.challengeDeadline), `${where}: coverage out of order`);
    previous = c.upToSeq;
    deadline = c.challengeDeadline;
  }
  // A closed session leaves only when none of its receipts can be challenged any more.
  assert(s.removeAt === null || s.removeAt >= deadline, `${where}: removed before a coverage deadline`);
}

/** The provider's challengeableUntil covers every deadline of the session (settlements, and never-covered receipts after finalization). */
export function checkCoveredByProvider(id: Hash, s: Session, p: Readonly<Provider> | undefined, windowSeconds: bigint): void {
  assert(p !== undefined, `session ${id}: unknown provider`);
  const last = s.coverage[s.coverage.length - 1];
  if (last !== undefined && !s.slashed) assert(p.challengeableUntil >= last.challengeDeadline, `session ${id}: covered past its provider's challengeableUntil`);
  if (s.finalizedAt !== null && !s.slashed) assert(p.challengeableUntil >= s.finalizedAt + windowSeconds, `session ${id}: finalized past its provider's challengeableUntil`);
  if (s.finalizedAt !== null) assert(s.removeAt !== null && s.removeAt >= s.finalizedAt + windowSeconds, `session ${id}: removed before its never-covered receipts' deadline`);
}

export function checkZApp(id: Hash, z: ZApp): void {
  assert(inRange(z.available) && inRange(z.held), `zApp ${id}: escrow out of range`);
  assert(inGas(z.openGasToday) && inGas(z.openGasDay) && inGas(z.policy.maxGasPerSession) && inGas(z.policy.openGasPerDay), `zApp ${id}: gas is not a uint64`);
}

export function checkProvider(address: string, p: Provider): void {
  const where = `provider ${address}`;
  assert(inRange(p.stake) && inRange(p.claimable) && inRange(p.pendingTotal) && inRange(p.pricePerMgas), `${where}: amount out of range`);
  assert(inGas(p.upfrontGas) && inGas(p.challengeableUntil), `${where}: not a uint64`);
  assert(p.liveSessions >= 0 && p.liveSessions <= MAX_LIVE_SESSIONS_PER_PROVIDER, `${where}: live sessions out of range`);
  assert(p.unbonding.length <= MAX_UNBONDING_ENTRIES && p.pendingEarnings.length <= MAX_PENDING_EARNINGS_PER_PROVIDER, `${where}: a list over its limit`);
  for (const u of p.unbonding) assert(u.amount > 0n && inRange(u.amount) && inGas(u.releaseAt), `${where}: bad unbonding entry`);
}

/** Deep check of a provider's pending list (O(entries)): sorted, unique, positive, summing to pendingTotal. */
export function checkPending(address: string, p: Provider): void {
  let sum = 0n;
  for (let i = 0; i < p.pendingEarnings.length; i++) {
    const e = p.pendingEarnings[i]!;
    assert(e.amount > 0n, `provider ${address}: empty pending entry`);
    sum += e.amount;
    const prev = p.pendingEarnings[i - 1];
    if (prev !== undefined) {
      assert(prev.claimableAt < e.claimableAt || (prev.claimableAt === e.claimableAt && prev.sessionId < e.sessionId), `provider ${address}: pending earnings not sorted`);
    }
  }
  assert(sum === p.pendingTotal, `provider ${address}: pendingTotal is not the sum of its entries`);
}

/**
 * Every invariant of docs/contract.md §Invariants over the whole state (O(state)); apply() checks
 * the same rules incrementally on what an input touched. Throws InvariantViolation.
 */
export function checkInvariants(state: State): void {
  const t = computeTotals(state);
  assert(t.balances === state.totals.balances && t.escrow === state.totals.escrow && t.providers === state.totals.providers, 'running totals drifted from the entities');
  assert(t.balances + t.escrow + t.providers + state.burned === state.supply, 'conservation: balances + escrow + provider funds + burned != supply');
  for (const [a, acc] of state.accounts) assert(inRange(acc.balance) && inGas(acc.nonce), `account ${a}: out of range`);
  const heldBy = new Map<Hash, bigint>();
  const liveBy = new Map<string, number>();
  for (const [id, s] of state.sessions) {
    checkSession(id, s);
    assert(state.zApps.has(s.zAppId), `session ${id}: unknown zApp`);
    checkCoveredByProvider(id, s, state.providers.get(s.provider), state.params.challengeWindowSeconds);
    heldBy.set(s.zAppId, (heldBy.get(s.zAppId) ?? 0n) + outstanding(s));
    if (s.status !== 'closed') liveBy.set(s.provider, (liveBy.get(s.provider) ?? 0) + 1);
  }
  for (const [id, z] of state.zApps) {
    checkZApp(id, z);
    assert(z.held === (heldBy.get(id) ?? 0n), `zApp ${id}: held != Σ (hold − cost(billedGas)) of its sessions not closed`);
  }
  for (const [a, p] of state.providers) {
    checkProvider(a, p);
    checkPending(a, p);
    assert(p.liveSessions === (liveBy.get(a) ?? 0), `provider ${a}: liveSessions miscounted`);
  }
  const expected = removalsOf(state.sessions);
  assert(expected.length === state.removals.length && expected.every((r, i) => r.removeAt === state.removals[i]!.removeAt && r.sessionId === state.removals[i]!.sessionId), 'the removal queue is not the closed sessions in (removeAt, sessionId) order');
}
