import { isZgasError, ZgasError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { EMPTY_STATE_HASH } from '../hash.ts';
import { parseAddress, parseHash } from '../hex.ts';
import type { Address, Hash, Method, VerifiedReceipt } from '../types.ts';
import { add, cost, MAX_UINT64, sub } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { judgeChallenge } from './challenge.ts';
import type { ChallengeOutcome } from './challenge.ts';
import type { ContractEvent } from './events.ts';
import { MAX_LIVE_SESSIONS_PER_PROVIDER, MAX_UNBONDING_ENTRIES, SECONDS_PER_DAY } from './limits.ts';
import { addPending, challengeDeadline, credit, debit, finalize, mature, pendingHasRoom, takeHold } from './ops.ts';
import { removeDueSessions } from './removal.ts';
import { settleBatch } from './settle.ts';
import type { ReceiptOutcome } from './settle.ts';
import type { Session, State } from './state.ts';
import { noChanges, Tx } from './tx.ts';
import type { Changed } from './tx.ts';

export type { Changed } from './tx.ts';
export type { ReceiptOutcome } from './settle.ts';
export type { ChallengeOutcome } from './challenge.ts';
export type { ContractEvent } from './events.ts';
export { prepareCall, prepareReceipts } from './prepare.ts';
export type { CallInput, Context, Input, ReceiptsInput } from './input.ts';
import type { CallInput, Context, Input } from './input.ts';

export type InputResult =
  | { ok: true; events: ContractEvent[]; created?: Hash; outcomes?: ReceiptOutcome[]; challenge?: ChallengeOutcome }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

export interface ApplyOutput {
  /** The state after the input: the same object, updated in place on success, untouched on failure. */
  state: State;
  result: InputResult;
  /** Keys of the entities the input changed (a failed call changes only its sender's account nonce). */
  changed: Changed;
}

interface Done { created?: Hash; outcomes?: ReceiptOutcome[]; challenge?: ChallengeOutcome }
type Handler<M> = (tx: Tx, from: Address, method: M, input: CallInput, context: Context) => Done | void;
type Handlers = { [N in Method['name']]: Handler<Extract<Method<VerifiedReceipt>, { name: N }>> };

const failure = (error: ZgasError): InputResult => ({ ok: false, code: error.code, message: error.message, details: error.details });

/**
 * Applies one input (docs/contract.md §Applying inputs). Pure and deterministic: time comes from
 * `context`. Only the entities the input touches are copied; on success they replace the committed
 * ones in `state` (which is updated in place and returned), after the invariants are checked on
 * them. A failed call changes nothing but its sender's nonce; a bad nonce or a bad batch changes
 * nothing. Errors other than ZgasError (invariant violations) are bugs and propagate. First,
 * whatever the input's outcome, closed sessions whose removeAt has come leave the state (at most
 * MAX_SESSION_REMOVALS_PER_INPUT; `changed.removedSessions` names them).
 */
export function apply(state: State, input: Input, context: Context): ApplyOutput {
  const removed = removeDueSessions(state, context.timestamp);
  const out = applyInput(state, input, context);
  for (const id of removed) {
    out.changed.sessions.add(id);
    out.changed.removedSessions.add(id);
  }
  return out;
}

/** The input itself, after the due sessions were removed. */
function applyInput(state: State, input: Input, context: Context): ApplyOutput {
  if (input.kind === 'receipts') {
    const tx = new Tx(state, context.timestamp);
    try {
      const outcomes = settleBatch(tx, input.receipts, null);
      const changed = tx.commit();
      return { state, result: { ok: true, events: tx.events, outcomes }, changed };
    } catch (error) {
      tx.rollback();
      if (!isZgasError(error)) throw error;
      return { state, result: failure(error), changed: noChanges() };
    }
  }

  let from: Address;
  try {
    from = parseAddress(input.from);
  } catch (error) {
    if (!isZgasError(error)) throw error;
    return { state, result: failure(error), changed: noChanges() };
  }
  const expected = state.accounts.get(from)?.nonce ?? 0n;
  if (input.nonce !== expected) {
    return { state, result: failure(new ZgasError('BadNonce', { from, nonce: String(input.nonce), expected: expected.toString() })), changed: noChanges() };
  }
  const tx = new Tx(state, context.timestamp);
  try {
    const handler = handlers[input.method.name] as Handler<Method<VerifiedReceipt>>;
    const done = handler(tx, from, input.method, input, context) ?? {};
    tx.account(from).nonce += 1n;
    const changed = tx.commit();
    return { state, result: { ok: true, events: tx.events, ...done }, changed };
  } catch (error) {
    tx.rollback();
    if (!isZgasError(error)) throw error;
    const bump = new Tx(state, context.timestamp);
    bump.account(from).nonce += 1n;
    return { state, result: failure(error), changed: bump.commit() };
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────
function positive(amount: bigint, what: string): void {
  if (amount <= 0n) throw new ZgasError('ZeroAmount', { what });
}

function zAppOf(tx: Tx, id: Hash) {
  const z = tx.getZApp(id);
  if (z === undefined) throw new ZgasError('ZAppNotFound', { zAppId: id });
  return z;
}

function ownedZApp(tx: Tx, from: Address, id: Hash) {
  const z = zAppOf(tx, id);
  if (z.owner !== from) throw new ZgasError('NotZAppOwner', { zAppId: id, owner: z.owner });
  return z;
}

function providerOf(tx: Tx, address: Address) {
  const p = tx.getProvider(address);
  if (p === undefined) throw new ZgasError('ProviderNotFound', { provider: address });
  return p;
}

function sessionOf(tx: Tx, id: Hash): Readonly<Session> {
  const s = tx.getSession(id);
  if (s === undefined) throw new ZgasError('SessionNotFound', { sessionId: id });
  return s;
}

/** The session, if `from` is its user or its zApp's owner. */
function partySessionOf(tx: Tx, from: Address, id: Hash): Readonly<Session> {
  const s = sessionOf(tx, id);
  if (from !== s.user && from !== zAppOf(tx, s.zAppId).owner) throw new ZgasError('NotSessionParty', { sessionId: id });
  if (s.status === 'closed') throw new ZgasError('SessionClosed', { sessionId: id });
  return s;
}

/** A gas sum that must stay a uint64. */
function gasSum(a: bigint, b: bigint, what: string): Gas {
  const sum = a + b;
  if (sum > MAX_UINT64) throw new ZgasError('GasOverflow', { what, a: a.toString(), b: b.toString() });
  return sum as Gas;
}

/** Counts gas users open or extend by themselves against the zApp-wide openGasPerDay (per UTC day of momentum time). */
function chargeOpenGas(tx: Tx, zAppId: Hash, gasAmount: Gas): void {
  const z = zAppOf(tx, zAppId);
  const day = tx.now / SECONDS_PER_DAY;
  const used = z.openGasDay === day ? z.openGasToday : 0n;
  const next = used + gasAmount;
  if (next > z.policy.openGasPerDay) {
    throw new ZgasError('OpenGasPerDayExceeded', { zAppId, openGasToday: used.toString(), gas: gasAmount.toString(), openGasPerDay: z.policy.openGasPerDay.toString() });
  }
  const d = tx.zApp(zAppId);
  d.openGasDay = day;
  d.openGasToday = next as Gas;
}

// ── the methods ─────────────────────────────────────────────────────────────────────────
const handlers: Handlers = {
  Transfer(tx, from, m) {
    const to = parseAddress(m.to);
    positive(m.amount, 'amount');
    debit(tx, from, m.amount);
    credit(tx, to, m.amount);
    tx.emit({ type: 'Transferred', from, to, amount: m.amount });
  },

  RegisterZApp(tx, from, m, input) {
    const id = parseHash(input.callHash);
    if (tx.getZApp(id) !== undefined) throw new ZgasError('ZAppExists', { zAppId: id });
    const moduleHash = parseHash(m.moduleHash);
    tx.createZApp(id, {
      owner: from, moduleHash, available: 0n as Qsr, held: 0n as Qsr,
      policy: { maxPricePerMgas: m.maxPricePerMgas, maxGasPerSession: m.maxGasPerSession, openToAll: m.openToAll, openGasPerDay: m.openGasPerDay },
      autoTopUp: { minAvailable: 0n as Qsr, refill: 0n as Qsr },
      openGasToday: 0n as Gas, openGasDay: tx.now / SECONDS_PER_DAY,
    });
    tx.emit({ type: 'ZAppRegistered', zAppId: id, owner: from, moduleHash });
    return { created: id };
  },

  SetPolicy(tx, from, m) {
    const id = parseHash(m.zAppId);
    ownedZApp(tx, from, id);
    tx.zApp(id).policy = { maxPricePerMgas: m.maxPricePerMgas, maxGasPerSession: m.maxGasPerSession, openToAll: m.openToAll, openGasPerDay: m.openGasPerDay };
    tx.emit({ type: 'PolicySet', zAppId: id });
  },

  SetAutoTopUp(tx, from, m) {
    const id = parseHash(m.zAppId);
    ownedZApp(tx, from, id);
    tx.zApp(id).autoTopUp = { minAvailable: m.minAvailable, refill: m.refill };
    tx.emit({ type: 'AutoTopUpSet', zAppId: id, minAvailable: m.minAvailable, refill: m.refill });
  },

  TopUp(tx, from, m) {
    const id = parseHash(m.zAppId);
    positive(m.amount, 'amount');
    zAppOf(tx, id);
    debit(tx, from, m.amount);
    const z = tx.zApp(id);
    z.available = add(z.available, m.amount);
    tx.emit({ type: 'ToppedUp', zAppId: id, from, amount: m.amount });
  },

  WithdrawEscrow(tx, from, m) {
    const id = parseHash(m.zAppId);
    positive(m.amount, 'amount');
    const z0 = ownedZApp(tx, from, id);
    if (z0.available < m.amount) throw new ZgasError('InsufficientAvailable', { zAppId: id, available: z0.available.toString(), amount: m.amount.toString() });
    const z = tx.zApp(id);
    z.available = sub(z.available, m.amount);
    credit(tx, from, m.amount);
    tx.emit({ type: 'EscrowWithdrawn', zAppId: id, owner: from, amount: m.amount });
  },

  RegisterProvider(tx, from, m) {
    if (tx.getProvider(from) !== undefined) throw new ZgasError('ProviderExists', { provider: from });
    const receiptSigner = parseAddress(m.receiptSigner);
    const min = tx.state.params.minProviderStake;
    if (m.stake < min) throw new ZgasError('InsufficientStake', { stake: m.stake.toString(), minProviderStake: min.toString() });
    debit(tx, from, m.stake);
    tx.createProvider(from, {
      receiptSigner, pricePerMgas: m.pricePerMgas, upfrontGas: m.upfrontGas, stake: m.stake,
      unbonding: [], pendingEarnings: [], pendingTotal: 0n as Qsr, claimable: 0n as Qsr,
      accepting: true, liveSessions: 0, challengeableUntil: 0n,
    });
    tx.emit({ type: 'ProviderRegistered', provider: from, receiptSigner, stake: m.stake });
  },

  UpdateOffer(tx, from, m) {
    providerOf(tx, from);
    const receiptSigner = parseAddress(m.receiptSigner);
    const p = tx.provider(from);
    p.receiptSigner = receiptSigner;
    p.pricePerMgas = m.pricePerMgas;
    p.upfrontGas = m.upfrontGas;
    p.accepting = true;
    tx.emit({ type: 'OfferUpdated', provider: from, receiptSigner, pricePerMgas: m.pricePerMgas, upfrontGas: m.upfrontGas });
  },

  Retire(tx, from) {
    providerOf(tx, from);
    tx.provider(from).accepting = false;
    tx.emit({ type: 'ProviderRetired', provider: from });
  },

  AddStake(tx, from, m) {
    positive(m.amount, 'amount');
    providerOf(tx, from);
    debit(tx, from, m.amount);
    const p = tx.provider(from);
    p.stake = add(p.stake, m.amount);
    tx.emit({ type: 'StakeAdded', provider: from, amount: m.amount });
  },

  Unbond(tx, from, m) {
    positive(m.amount, 'amount');
    const p0 = providerOf(tx, from);
    const min = tx.state.params.minProviderStake;
    if (m.amount > p0.stake) throw new ZgasError('InsufficientStake', { stake: p0.stake.toString(), amount: m.amount.toString() });
    const rest = p0.stake - m.amount;
    // Sessions not yet closed are backed by at least the minimum stake until they close.
    if (p0.liveSessions > 0 && rest < min) {
      throw new ZgasError('InsufficientStake', { remaining: rest.toString(), minProviderStake: min.toString(), liveSessions: p0.liveSessions });
    }
    if (p0.unbonding.length >= MAX_UNBONDING_ENTRIES) throw new ZgasError('LimitExceeded', { what: 'unbonding entries', max: MAX_UNBONDING_ENTRIES });
    const p = tx.provider(from);
    const releaseAt = tx.now + tx.state.params.unbondingPeriodSeconds;
    p.stake = sub(p.stake, m.amount);
    p.unbonding.push({ amount: m.amount, releaseAt });
    tx.emit({ type: 'Unbonding', provider: from, amount: m.amount, releaseAt });
  },

  WithdrawUnbonded(tx, from) {
    const p0 = providerOf(tx, from);
    let released = 0n as Qsr;
    for (const u of p0.unbonding) if (u.releaseAt <= tx.now) released = add(released, u.amount);
    if (released === 0n) throw new ZgasError('NothingToWithdraw', { provider: from });
    if (tx.now < p0.challengeableUntil) {
      throw new ZgasError('StakeStillChallengeable', { provider: from, challengeableUntil: p0.challengeableUntil.toString() });
    }
    const p = tx.provider(from);
    p.unbonding = p.unbonding.filter((u) => u.releaseAt > tx.now);
    credit(tx, from, released);
    tx.emit({ type: 'UnbondedWithdrawn', provider: from, amount: released });
  },

  OpenSession(tx, from, m, input) {
    const zAppId = parseHash(m.zAppId);
    const z = zAppOf(tx, zAppId);
    const user = parseAddress(m.user);
    const providerAddress = parseAddress(m.provider);
    const byOwner = from === z.owner;
    if (!byOwner && !(from === user && z.policy.openToAll)) throw new ZgasError('NotAllowedToOpen', { zAppId, from });
    const p = providerOf(tx, providerAddress);
    const { params } = tx.state;
    if (!p.accepting) throw new ZgasError('ProviderRetired', { provider: providerAddress });
    if (p.stake < params.minProviderStake) throw new ZgasError('InsufficientStake', { provider: providerAddress, stake: p.stake.toString(), minProviderStake: params.minProviderStake.toString() });
    if (p.liveSessions >= MAX_LIVE_SESSIONS_PER_PROVIDER) throw new ZgasError('LimitExceeded', { what: 'live sessions of the provider', max: MAX_LIVE_SESSIONS_PER_PROVIDER });
    // A user-opened session bills no upfront gas, so only the owner's signed maxUpfrontGas can be front-run.
    const upfrontGas = (byOwner ? p.upfrontGas : 0n) as Gas;
    if (p.pricePerMgas > m.maxPricePerMgas || upfrontGas > m.maxUpfrontGas) {
      throw new ZgasError('OfferChanged', { provider: providerAddress, pricePerMgas: p.pricePerMgas.toString(), maxPricePerMgas: m.maxPricePerMgas.toString(), upfrontGas: upfrontGas.toString(), maxUpfrontGas: m.maxUpfrontGas.toString() });
    }
    if (p.pricePerMgas > z.policy.maxPricePerMgas) throw new ZgasError('PriceAboveMax', { pricePerMgas: p.pricePerMgas.toString(), maxPricePerMgas: z.policy.maxPricePerMgas.toString() });
    if (m.gasLimit === 0n || m.gasLimit < upfrontGas || m.gasLimit > z.policy.maxGasPerSession) {
      throw new ZgasError('GasLimitOutOfRange', { gasLimit: m.gasLimit.toString(), upfrontGas: upfrontGas.toString(), maxGasPerSession: z.policy.maxGasPerSession.toString() });
    }
    if (m.durationSeconds < 1n || m.durationSeconds > params.maxSessionDurationSeconds) {
      throw new ZgasError('DurationOutOfRange', { durationSeconds: m.durationSeconds.toString(), max: params.maxSessionDurationSeconds.toString() });
    }
    const id = parseHash(input.callHash);
    if (tx.getSession(id) !== undefined) throw new ZgasError('SessionExists', { sessionId: id });
    if (!byOwner) chargeOpenGas(tx, zAppId, m.gasLimit);

    const price = p.pricePerMgas;
    const hold = cost(m.gasLimit, price);
    const deadline = challengeDeadline(tx.now, params);
    const upfront = cost(upfrontGas, price);
    if (upfront > 0n && !pendingHasRoom(p, id, deadline)) throw new ZgasError('LimitExceeded', { what: 'pending earnings entries' });
    takeHold(tx, zAppId, hold);
    const zd = tx.zApp(zAppId);
    zd.held = sub(zd.held, upfront);
    tx.provider(providerAddress).liveSessions += 1;
    const expiresAt = tx.now + m.durationSeconds;
    tx.createSession(id, {
      zAppId, provider: providerAddress, user, openedByOwner: byOwner, price, receiptSigner: p.receiptSigner,
      gasLimit: m.gasLimit, hold, upfrontGas, settledGas: 0n as Gas, billedGas: upfrontGas, lastSeq: 0n,
      lastReceiptHash: null, lastPostStateHash: EMPTY_STATE_HASH, lastInvocation: null, coverageFloorSeq: 0n,
      coverage: [], judgedSeqs: [], status: 'open', stopCall: false, slashed: false, openedAt: tx.now, expiresAt,
      closesAt: null, finalizedAt: null, removeAt: null,
    });
    addPending(tx, providerAddress, id, upfront, deadline);
    tx.emit({ type: 'SessionOpened', sessionId: id, zAppId, provider: providerAddress, user, gasLimit: m.gasLimit, hold, upfrontGas, expiresAt });
    return { created: id };
  },

  ExtendSession(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = sessionOf(tx, id);
    const z = zAppOf(tx, s.zAppId);
    const byOwner = from === z.owner;
    if (!byOwner) {
      if (from !== s.user) throw new ZgasError('NotSessionParty', { sessionId: id });
      if (!z.policy.openToAll) throw new ZgasError('NotAllowedToOpen', { zAppId: s.zAppId, from });
    }
    if (s.status === 'closed') throw new ZgasError('SessionClosed', { sessionId: id });
    if (s.status !== 'open') throw new ZgasError('SessionNotOpen', { sessionId: id, status: s.status });
    positive(m.extraGas, 'extraGas');
    if (tx.now >= s.expiresAt) throw new ZgasError('SessionExpired', { sessionId: id, expiresAt: s.expiresAt.toString() });
    const gasLimit = gasSum(s.gasLimit, m.extraGas, 'gasLimit + extraGas');
    if (gasLimit > z.policy.maxGasPerSession) {
      throw new ZgasError('GasLimitOutOfRange', { gasLimit: gasLimit.toString(), maxGasPerSession: z.policy.maxGasPerSession.toString() });
    }
    if (!byOwner) chargeOpenGas(tx, s.zAppId, m.extraGas);
    const hold = cost(gasLimit, s.price);
    takeHold(tx, s.zAppId, sub(hold, s.hold));
    const d = tx.session(id);
    d.gasLimit = gasLimit;
    d.hold = hold;
    tx.emit({ type: 'SessionExtended', sessionId: id, gasLimit, hold });
  },

  Abort(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = partySessionOf(tx, from, id);
    const d = tx.session(id);
    if (s.status === 'open') {
      d.status = 'closing';
      d.closesAt = tx.now + tx.state.params.closeGracePeriodSeconds;
    }
    d.stopCall = true;
    tx.emit({ type: 'SessionAborted', sessionId: id, provider: s.provider, closesAt: d.closesAt! });
  },

  CloseSession(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = partySessionOf(tx, from, id);
    if (s.status !== 'open') throw new ZgasError('SessionNotOpen', { sessionId: id, status: s.status });
    const d = tx.session(id);
    d.status = 'closing';
    d.closesAt = tx.now + tx.state.params.closeGracePeriodSeconds;
    tx.emit({ type: 'SessionClosing', sessionId: id, provider: s.provider, closesAt: d.closesAt });
  },

  FinalizeSession(tx, _from, m) {
    const id = parseHash(m.sessionId);
    const s = sessionOf(tx, id);
    if (s.status === 'closed') throw new ZgasError('SessionClosed', { sessionId: id });
    const closed = s.closesAt !== null && tx.now >= s.closesAt;
    const expired = tx.now >= s.expiresAt + tx.state.params.closeGracePeriodSeconds;
    if (!closed && !expired) {
      throw new ZgasError('FinalizeTooEarly', { sessionId: id, closesAt: s.closesAt?.toString() ?? null, expiresAt: s.expiresAt.toString() });
    }
    finalize(tx, id);
  },

  Settle(tx, from, m) {
    return { outcomes: settleBatch(tx, m.receipts, from) };
  },

  Challenge(tx, from, m, _input, context) {
    return { challenge: judgeChallenge(tx, from, m.receipt, m.input, m.preState, context) };
  },

  ClaimEarnings(tx, from) {
    const p0 = providerOf(tx, from);
    let ready = p0.claimable;
    for (const e of p0.pendingEarnings) {
      if (e.claimableAt > tx.now) break;
      ready = add(ready, e.amount);
    }
    if (ready === 0n) throw new ZgasError('NothingToClaim', { provider: from });
    mature(tx, from);
    const p = tx.provider(from);
    const amount = p.claimable;
    p.claimable = 0n as Qsr;
    credit(tx, from, amount);
    tx.emit({ type: 'EarningsClaimed', provider: from, amount });
  },
};
