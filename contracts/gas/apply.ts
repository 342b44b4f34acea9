import { isZgasError, ZgasError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { contextSeed, EMPTY_STATE_HASH, sha3 } from '../hash.ts';
import { hexToBytes, parseAddress, parseHash } from '../hex.ts';
import { CallStatus } from '../types.ts';
import type { Address, Hash, Hex, Method, VerifiedReceipt } from '../types.ts';
import { add, cost, MAX_UINT64, sub } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import type { ContractEvent } from './events.ts';
import { MAX_CHALLENGE_INPUT_BYTES, MAX_CHALLENGE_STATE_BYTES, MAX_EXTENSIONS_PER_SESSION, MAX_OPEN_SESSIONS_PER_PROVIDER, MAX_UNBONDING_ENTRIES, SECONDS_PER_DAY } from './limits.ts';
import { addPending, autoTopUp, challengeDeadline, checkReceiptShape, closeSession, credit, debit, mature, pendingHasRoom, proveFraud, reserve } from './ops.ts';
import { settleBatch } from './settle.ts';
import type { ReceiptOutcome } from './settle.ts';

import { userGasKey } from './state.ts';
import type { Session, State } from './state.ts';
import { noChanges, Tx } from './tx.ts';
import type { Changed } from './tx.ts';

export type { Changed } from './tx.ts';
export type { ReceiptOutcome } from './settle.ts';
export type { ContractEvent } from './events.ts';
export { prepareCall, prepareReceipts } from './prepare.ts';
export type { CallInput, Context, Input, ReceiptsInput } from './input.ts';
import type { CallInput, Context, Input } from './input.ts';

export type InputResult =
  | { ok: true; events: ContractEvent[]; created?: Hash; outcomes?: ReceiptOutcome[] }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

export interface ApplyOutput {
  /** The state after the input: the same object, updated in place on success, untouched on failure. */
  state: State;
  result: InputResult;
  /** Keys of the entities the input changed (a failed call changes only its sender's account nonce). */
  changed: Changed;
}

interface Done { created?: Hash; outcomes?: ReceiptOutcome[] }
type Handler<M> = (tx: Tx, from: Address, method: M, input: CallInput, context: Context) => Done | void;
type Handlers = { [N in Method['name']]: Handler<Extract<Method<VerifiedReceipt>, { name: N }>> };

const failure = (error: ZgasError): InputResult => ({ ok: false, code: error.code, message: error.message, details: error.details });

/**
 * Applies one input (DESIGN §5). Pure and deterministic: time comes from `context`. Only the
 * entities the input touches are copied; on success they replace the committed ones in `state`
 * (which is updated in place and returned), after the invariants are checked on them. A failed
 * call changes nothing but its sender's nonce; a bad nonce or a bad batch changes nothing.
 * Errors other than ZgasError (invariant violations) are bugs and propagate.
 */
export function apply(state: State, input: Input, context: Context): ApplyOutput {
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

function openSessionOf(tx: Tx, id: Hash): Readonly<Session> {
  const s = sessionOf(tx, id);
  if (s.status === 'closed') throw new ZgasError('SessionClosed', { sessionId: id });
  if (s.status !== 'open') throw new ZgasError('SessionNotOpen', { sessionId: id, status: s.status });
  return s;
}

/** Counts gas a user opens or extends by itself against the zApp's userGasPerDay (per UTC day). */
function chargeUserDay(tx: Tx, zAppId: Hash, user: Address, gasAmount: Gas, allowance: Gas): void {
  const key = userGasKey(zAppId, user);
  const day = tx.now / SECONDS_PER_DAY;
  const current = tx.getUserGas(key);
  const used = current !== undefined && current.day === day ? current.usedGas : 0n;
  const next = used + gasAmount;
  if (next > allowance) throw new ZgasError('UserGasPerDayExceeded', { zAppId, user, usedGas: used.toString(), userGasPerDay: allowance.toString() });
  tx.setUserGas(key, { day, usedGas: next as Gas });
}

function checkVerified(tx: Tx, s: Readonly<Session>, sessionId: Hash, vr: VerifiedReceipt): void {
  checkReceiptShape(vr.receipt);
  if (vr.receipt.sessionId.toLowerCase() !== sessionId) throw new ZgasError('WrongSession', { sessionId, receiptSessionId: vr.receipt.sessionId });
  if (vr.signer.toLowerCase() !== s.receiptSigner.toLowerCase()) throw new ZgasError('InvalidSigner', { signer: vr.signer, receiptSigner: s.receiptSigner });
  void tx;
}

function bytesWithin(hex: Hex, max: number, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length > 2 + 2 * max) throw new ZgasError('LimitExceeded', { what, maxBytes: max });
  return hexToBytes(hex);
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
      policy: { maxPricePerMgas: m.maxPricePerMgas, maxGasPerSession: m.maxGasPerSession, openToAll: m.openToAll, userGasPerDay: m.userGasPerDay },
      autoTopUp: { minAvailable: 0n as Qsr, refill: 0n as Qsr },
    });
    tx.emit({ type: 'ZAppRegistered', zAppId: id, owner: from, moduleHash });
    return { created: id };
  },

  SetPolicy(tx, from, m) {
    const id = parseHash(m.zAppId);
    ownedZApp(tx, from, id);
    tx.zApp(id).policy = { maxPricePerMgas: m.maxPricePerMgas, maxGasPerSession: m.maxGasPerSession, openToAll: m.openToAll, userGasPerDay: m.userGasPerDay };
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
      unbonding: [], pendingEarnings: [], pendingTotal: 0n as Qsr, claimable: 0n as Qsr, openSessions: 0,
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
    tx.emit({ type: 'OfferUpdated', provider: from, receiptSigner, pricePerMgas: m.pricePerMgas, upfrontGas: m.upfrontGas });
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
    if (rest !== 0n && rest < min) throw new ZgasError('InsufficientStake', { remaining: rest.toString(), minProviderStake: min.toString() });
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
    if (p.stake < params.minProviderStake) throw new ZgasError('InsufficientStake', { provider: providerAddress, stake: p.stake.toString(), minProviderStake: params.minProviderStake.toString() });
    if (p.openSessions >= MAX_OPEN_SESSIONS_PER_PROVIDER) throw new ZgasError('LimitExceeded', { what: 'open sessions of the provider', max: MAX_OPEN_SESSIONS_PER_PROVIDER });
    if (p.pricePerMgas > z.policy.maxPricePerMgas) throw new ZgasError('PriceAboveMax', { pricePerMgas: p.pricePerMgas.toString(), maxPricePerMgas: z.policy.maxPricePerMgas.toString() });
    if (m.gasLimit === 0n || m.gasLimit < p.upfrontGas || m.gasLimit > z.policy.maxGasPerSession) {
      throw new ZgasError('GasLimitOutOfRange', { gasLimit: m.gasLimit.toString(), upfrontGas: p.upfrontGas.toString(), maxGasPerSession: z.policy.maxGasPerSession.toString() });
    }
    if (m.durationSeconds < 1n || m.durationSeconds > params.maxSessionDurationSeconds) {
      throw new ZgasError('DurationOutOfRange', { durationSeconds: m.durationSeconds.toString(), max: params.maxSessionDurationSeconds.toString() });
    }
    const id = parseHash(input.callHash);
    if (tx.getSession(id) !== undefined) throw new ZgasError('SessionExists', { sessionId: id });
    if (!byOwner) chargeUserDay(tx, zAppId, user, m.gasLimit, z.policy.userGasPerDay);

    const price = p.pricePerMgas;
    const hold = cost(m.gasLimit, price);
    const deadline = challengeDeadline(tx.now, params);
    const upfront = cost(p.upfrontGas, price);
    if (upfront > 0n && !pendingHasRoom(p, id, deadline)) throw new ZgasError('LimitExceeded', { what: 'pending earnings entries' });
    reserve(tx, zAppId, hold);
    const zd = tx.zApp(zAppId);
    zd.held = sub(zd.held, upfront);
    tx.provider(providerAddress).openSessions += 1;
    const expiresAt = tx.now + m.durationSeconds;
    tx.createSession(id, {
      zAppId, provider: providerAddress, user, price, receiptSigner: p.receiptSigner, gasLimit: m.gasLimit, hold,
      upfrontGas: p.upfrontGas, settledGas: 0n as Gas, billedGas: p.upfrontGas, lastSeq: 0n, lastReceiptHash: null,
      lastPostStateHash: EMPTY_STATE_HASH, status: 'open', openedAt: tx.now, expiresAt, abortCap: null, abortedAt: null,
      closedAt: null, openedByUser: !byOwner, slashed: false, challengeFloorSeq: 0n, settlements: [], gasLimits: [m.gasLimit],
    });
    addPending(tx, providerAddress, id, upfront, deadline);
    tx.emit({ type: 'SessionOpened', sessionId: id, zAppId, provider: providerAddress, user, gasLimit: m.gasLimit, hold, expiresAt });
    autoTopUp(tx, zAppId);
    return { created: id };
  },

  ExtendSession(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = openSessionOf(tx, id);
    const z = zAppOf(tx, s.zAppId);
    const byOwner = from === z.owner;
    if (!byOwner) {
      if (from !== s.user) throw new ZgasError('NotSessionParty', { sessionId: id });
      if (!z.policy.openToAll) throw new ZgasError('NotAllowedToOpen', { zAppId: s.zAppId, from });
    }
    positive(m.extraGas, 'extraGas');
    if (tx.now >= s.expiresAt) throw new ZgasError('SessionExpired', { sessionId: id, expiresAt: s.expiresAt.toString() });
    const gasLimit = (s.gasLimit + m.extraGas) as Gas;
    if (gasLimit > z.policy.maxGasPerSession || gasLimit > MAX_UINT64) {
      throw new ZgasError('GasLimitOutOfRange', { gasLimit: gasLimit.toString(), maxGasPerSession: z.policy.maxGasPerSession.toString() });
    }
    if (s.gasLimits.length >= MAX_EXTENSIONS_PER_SESSION) throw new ZgasError('LimitExceeded', { what: 'extensions of the session', max: MAX_EXTENSIONS_PER_SESSION });
    if (!byOwner) chargeUserDay(tx, s.zAppId, from, m.extraGas, z.policy.userGasPerDay);
    const hold = cost(gasLimit, s.price);
    reserve(tx, s.zAppId, sub(hold, s.hold));
    const d = tx.session(id);
    d.gasLimit = gasLimit;
    d.hold = hold;
    d.gasLimits = [...d.gasLimits, gasLimit];
    tx.emit({ type: 'SessionExtended', sessionId: id, gasLimit, hold });
    autoTopUp(tx, s.zAppId);
  },

  Abort(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = openSessionOf(tx, id);
    const z = zAppOf(tx, s.zAppId);
    if (from !== s.user && from !== z.owner) throw new ZgasError('NotSessionParty', { sessionId: id });
    let reached: Gas = s.settledGas;
    if (m.lastReceipt !== null) {
      checkVerified(tx, s, id, m.lastReceipt);
      const cumulative = m.lastReceipt.receipt.cumulativeGas;
      if (cumulative > s.gasLimit) throw new ZgasError('OverLimit', { cumulativeGas: cumulative.toString(), gasLimit: s.gasLimit.toString() });
      if (cumulative > reached) reached = cumulative;
    }
    const abortCap = add(reached, tx.state.params.abortGraceGas);
    const d = tx.session(id);
    d.status = 'aborting';
    d.abortCap = abortCap;
    d.abortedAt = tx.now;
    tx.emit({ type: 'SessionAborted', sessionId: id, provider: s.provider, abortCap });
  },

  CloseSession(tx, from, m) {
    const id = parseHash(m.sessionId);
    const s = sessionOf(tx, id);
    if (s.status === 'closed') throw new ZgasError('SessionClosed', { sessionId: id });
    const z = zAppOf(tx, s.zAppId);
    if (from !== s.user && from !== z.owner) {
      const grace = tx.state.params.abortGracePeriodSeconds;
      const afterExpiry = tx.now >= s.expiresAt + grace;
      const afterAbort = s.abortedAt !== null && tx.now >= s.abortedAt + grace;
      if (!afterExpiry && !afterAbort) throw new ZgasError('CloseTooEarly', { sessionId: id, expiresAt: s.expiresAt.toString(), abortedAt: s.abortedAt?.toString() ?? null });
    }
    closeSession(tx, id);
  },

  Settle(tx, from, m) {
    return { outcomes: settleBatch(tx, m.receipts, from) };
  },

  Challenge(tx, from, m, _input, context) {
    const vr = m.receipt;
    const r = vr.receipt;
    const id = parseHash(r.sessionId);
    const s = sessionOf(tx, id);
    checkVerified(tx, s, id, vr);
    const closed = (reason: string): never => { throw new ZgasError('ChallengeWindowClosed', { sessionId: id, seq: r.seq.toString(), reason }); };
    if (s.slashed) closed('the session was already slashed');
    if (r.seq > s.lastSeq) closed('not settled');
    if (r.seq <= s.challengeFloorSeq) closed('window passed');
    const checkpoint = s.settlements.find((c) => c.upToSeq >= r.seq);
    if (checkpoint === undefined || checkpoint.challengeableUntil <= tx.now) closed('window passed');

    const input = bytesWithin(m.input, MAX_CHALLENGE_INPUT_BYTES, 'challenge input bytes');
    const preState = bytesWithin(m.preState, MAX_CHALLENGE_STATE_BYTES, 'challenge pre-state bytes');
    if (sha3(preState) !== r.preStateHash.toLowerCase()) throw new ZgasError('PreStateMismatch', { preStateHash: r.preStateHash });
    if (sha3(input) !== r.inputHash.toLowerCase()) throw new ZgasError('InputMismatch', { inputHash: r.inputHash });
    const z = zAppOf(tx, s.zAppId);
    const module = context.loadModule?.(z.moduleHash);
    if (context.reexecutor === undefined || module === undefined) throw new ZgasError('ModuleUnavailable', { moduleHash: z.moduleHash, reexecutor: context.reexecutor !== undefined });
    if (sha3(module) !== z.moduleHash) throw new ZgasError('ModuleUnavailable', { moduleHash: z.moduleHash, reason: 'the bytes do not hash to moduleHash' });

    // The limit the call ran under. An Aborted receipt is judged with callGas: the call must not
    // finish within it. An OutOfGas receipt that ends exactly at a gasLimit the session had ran under
    // that limit (callGas); any other receipt under what the session has left before the call.
    const aborted = r.status === CallStatus.Aborted;
    const ranOut = r.status === CallStatus.OutOfGas && s.gasLimits.includes(r.cumulativeGas);
    const gasLimit = (aborted || ranOut ? r.callGas : s.gasLimit - (r.cumulativeGas - r.callGas)) as Gas;
    const rerun = context.reexecutor.rerun({ module, preState, input, gasLimit, seed: contextSeed(id, r.seq) });
    const fraud = aborted
      ? rerun.status !== CallStatus.OutOfGas || r.postStateHash.toLowerCase() !== r.preStateHash.toLowerCase()
      : rerun.callGas !== r.callGas || rerun.status !== r.status
        || rerun.postStateHash.toLowerCase() !== r.postStateHash.toLowerCase()
        || rerun.outputHash.toLowerCase() !== r.outputHash.toLowerCase();
    if (!fraud) throw new ZgasError('ReceiptHolds', { sessionId: id, seq: r.seq.toString() });
    proveFraud(tx, id, 'challenge', vr.digest.toLowerCase() as Hash, from);
  },

  ClaimEarnings(tx, from) {
    const p0 = providerOf(tx, from);
    let ready = p0.claimable;
    for (const e of p0.pendingEarnings) {
      if (e.claimableAt > tx.now) break;
      ready = add(ready, e.amount);
    }
    if (ready === 0n) throw new ZgasError('NothingToClaim', { provider: from });
    const p = tx.provider(from);
    mature(p, tx.now);
    const amount = p.claimable;
    p.claimable = 0n as Qsr;
    credit(tx, from, amount);
    tx.emit({ type: 'EarningsClaimed', provider: from, amount });
  },
};
