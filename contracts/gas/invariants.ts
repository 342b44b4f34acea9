import { assert } from '../errors.ts';
import type { Hash } from '../types.ts';
import { cost, MAX_UINT256 } from '../units.ts';
import { computeTotals } from './state.ts';
import type { Provider, Session, State, ZApp } from './state.ts';

/** What a session still reserves in its zApp's `held`: hold − cost(billedGas), nothing once closed. */
export function outstanding(s: Session): bigint {
  return s.status === 'closed' ? 0n : s.hold - cost(s.billedGas, s.price);
}

const inRange = (v: bigint): boolean => v >= 0n && v <= MAX_UINT256;

/**
 * The per-session rules of DESIGN §5.3; O(1) apart from its checkpoint list. Given the committed
 * version `base`, the hold is recomputed only when its terms changed.
 */
export function checkSession(id: Hash, s: Session, base?: Session): void {
  const where = `session ${id}`;
  for (const [name, v] of [['gasLimit', s.gasLimit], ['hold', s.hold], ['billedGas', s.billedGas], ['settledGas', s.settledGas], ['lastSeq', s.lastSeq], ['price', s.price]] as const) {
    assert(inRange(v), `${where}: ${name} out of range`);
  }
  if (base === undefined || base.hold !== s.hold || base.gasLimit !== s.gasLimit || base.price !== s.price) {
    assert(s.hold === cost(s.gasLimit, s.price), `${where}: hold is not cost(gasLimit, price)`);
  }
  assert(s.upfrontGas <= s.billedGas, `${where}: billed below upfrontGas`);
  assert(s.billedGas <= s.gasLimit, `${where}: billed above gasLimit`);
  // cost is monotonic in gas and hold = cost(gasLimit): billedGas <= gasLimit means cost(billedGas) <= hold.
  assert(s.settledGas <= s.gasLimit, `${where}: settled above gasLimit`);
  if (s.status === 'aborting') assert(s.abortCap !== null && s.abortedAt !== null, `${where}: aborting without a cap`);
  if (s.abortCap !== null) {
    const cap = s.upfrontGas > s.abortCap ? s.upfrontGas : s.abortCap;
    assert(s.billedGas <= cap, `${where}: billed above max(upfrontGas, abortCap)`);
  }
  if (s.status === 'closed') assert(s.closedAt !== null, `${where}: closed without closedAt`);
  assert(s.challengeFloorSeq <= s.lastSeq, `${where}: challenge floor above lastSeq`);
  assert(s.gasLimits[s.gasLimits.length - 1] === s.gasLimit, `${where}: gasLimit history does not end at gasLimit`);
  let previous = s.challengeFloorSeq;
  for (const c of s.settlements) {
    assert(c.upToSeq > previous && c.upToSeq <= s.lastSeq, `${where}: settlement checkpoints out of order`);
    previous = c.upToSeq;
  }
}

export function checkZApp(id: Hash, z: ZApp): void {
  assert(inRange(z.available) && inRange(z.held), `zApp ${id}: escrow out of range`);
}

export function checkProvider(address: string, p: Provider): void {
  const where = `provider ${address}`;
  assert(inRange(p.stake) && inRange(p.claimable) && inRange(p.pendingTotal), `${where}: amount out of range`);
  assert(p.openSessions >= 0, `${where}: negative open sessions`);
  for (const u of p.unbonding) assert(u.amount > 0n && inRange(u.amount), `${where}: bad unbonding amount`);
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
 * Every invariant of DESIGN §5.3 over the whole state (O(state)); apply() checks the same rules
 * incrementally on what an input touched. Throws InvariantViolation.
 */
export function checkInvariants(state: State): void {
  const t = computeTotals(state);
  assert(t.balances === state.totals.balances && t.escrow === state.totals.escrow && t.providers === state.totals.providers, 'running totals drifted from the entities');
  assert(t.balances + t.escrow + t.providers === state.supply, 'conservation: balances + escrow + provider funds != supply');
  for (const [a, acc] of state.accounts) assert(inRange(acc.balance) && acc.nonce >= 0n, `account ${a}: out of range`);
  const heldBy = new Map<Hash, bigint>();
  const openBy = new Map<string, number>();
  for (const [id, s] of state.sessions) {
    checkSession(id, s);
    assert(state.zApps.has(s.zAppId), `session ${id}: unknown zApp`);
    assert(state.providers.has(s.provider), `session ${id}: unknown provider`);
    heldBy.set(s.zAppId, (heldBy.get(s.zAppId) ?? 0n) + outstanding(s));
    if (s.status !== 'closed') openBy.set(s.provider, (openBy.get(s.provider) ?? 0) + 1);
  }
  for (const [id, z] of state.zApps) {
    checkZApp(id, z);
    assert(z.held === (heldBy.get(id) ?? 0n), `zApp ${id}: held != Σ outstanding holds of its sessions`);
  }
  for (const [a, p] of state.providers) {
    checkProvider(a, p);
    checkPending(a, p);
    assert(p.openSessions === (openBy.get(a) ?? 0), `provider ${a}: openSessions miscounted`);
  }
}
