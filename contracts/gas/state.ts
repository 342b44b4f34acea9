import { ZgasError } from '../errors.ts';
import { sha3 } from '../hash.ts';
import { parseAddress, parseHash, utf8Bytes } from '../hex.ts';
import type { Address, Hash } from '../types.ts';
import { formatUnits, MAX_UINT256, parseGas, parseQsr, parseUint256, parseUint64 } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { MAX_COVERAGE_ENTRIES, MAX_JUDGED_SEQS_PER_SESSION, MAX_LIVE_SESSIONS_PER_PROVIDER, MAX_PENDING_EARNINGS_PER_PROVIDER, MAX_STATE_ENTITIES, MAX_UNBONDING_ENTRIES } from './limits.ts';

/** The contract's tunable rules, fixed at genesis (docs/contract.md §Parameters). Durations are unix seconds. */
export interface GenesisParams {
  /** The least stake a provider must hold to be offered sessions; Unbond keeps it while sessions are live. */
  minProviderStake: Qsr;
  /** How long unbonded stake stays slashable before WithdrawUnbonded may release it. */
  unbondingPeriodSeconds: bigint;
  /** How long after its settlement bucket a receipt can be challenged; earnings become claimable when it ends. */
  challengeWindowSeconds: bigint;
  /** The most gas a call that did not finish may bill once its session was aborted (docs/contract.md §Settling receipts, step 5). */
  abortGraceGas: Gas;
  /** How long a closing session (CloseSession, Abort) or an expired one waits before FinalizeSession. */
  closeGracePeriodSeconds: bigint;
  /** Share of a provider's stake plus unbonding stake slashed on proven fraud, in basis points (1..10000). */
  slashFractionBps: bigint;
  /** Share of a slash paid to whoever proved the fraud, in basis points (at most 5000); the rest is burned. */
  challengerRewardBps: bigint;
  /** What a challenger puts up; it goes to the provider when re-execution upholds the receipt. */
  challengeBond: Qsr;
  /** The longest session OpenSession accepts. */
  maxSessionDurationSeconds: bigint;
  /** The largest session state (stateHash encoding) a runner may hold; a write beyond it traps. */
  maxStateBytes: bigint;
  /** The largest input of one call; a runner refuses larger ones before running them. */
  maxInputBytes: bigint;
}

export interface Account {
  balance: Qsr;
  /** The nonce the account's next call must carry. */
  nonce: bigint;
}

export interface ZAppPolicy {
  maxPricePerMgas: Qsr;
  maxGasPerSession: Gas;
  /** Whether any user may open (and extend) a session for itself; otherwise only the owner may. */
  openToAll: boolean;
  /** Gas all users together may open or extend by themselves per UTC day (momentum time). */
  openGasPerDay: Gas;
}

export interface AutoTopUp {
  /** When `available` is below this after a hold is taken, the contract refills it from the owner's balance. */
  minAvailable: Qsr;
  /** How much one refill moves; 0 disables auto top-up. */
  refill: Qsr;
}

export interface ZApp {
  owner: Address;
  moduleHash: Hash;
  /** Escrow free for new holds and withdrawal. */
  available: Qsr;
  /** Escrow reserved by sessions not closed: Σ (hold − cost(billedGas)) over them. */
  held: Qsr;
  policy: ZAppPolicy;
  autoTopUp: AutoTopUp;
  /** Gas users opened or extended by themselves during UTC day `openGasDay`. */
  openGasToday: Gas;
  /** The UTC day (momentum timestamp / 86400) `openGasToday` counts. */
  openGasDay: bigint;
}

export interface Unbonding {
  amount: Qsr;
  /** Unix seconds from which WithdrawUnbonded may release it (once challengeableUntil has passed too). */
  releaseAt: bigint;
}

/** Earnings of one session that mature together; sorted by (claimableAt, sessionId), one entry per pair. */
export interface PendingEarning {
  sessionId: Hash;
  amount: Qsr;
  /** The challenge deadline of the settlement that earned it: claimable when `now ≥ claimableAt`. */
  claimableAt: bigint;
}

export interface Provider {
  receiptSigner: Address;
  pricePerMgas: Qsr;
  upfrontGas: Gas;
  stake: Qsr;
  unbonding: Unbonding[];
  pendingEarnings: PendingEarning[];
  /** Σ pendingEarnings amounts (kept alongside the list). */
  pendingTotal: Qsr;
  /** Matured earnings not yet claimed. */
  claimable: Qsr;
  /** Whether new sessions may be opened with it (Retire clears it, UpdateOffer sets it). */
  accepting: boolean;
  /** Sessions with this provider that are not closed. */
  liveSessions: number;
  /** No receipt of this provider can be challenged from this time on (unix seconds; 0 before any). */
  challengeableUntil: bigint;
}

export type SessionStatus = 'open' | 'closing' | 'closed';

/**
 * One settlement bucket of a session: the receipts with seq up to `upToSeq` (above the previous
 * entry's) were first covered by a settlement in this bucket and can be challenged until
 * `challengeDeadline`.
 */
export interface Coverage {
  upToSeq: bigint;
  challengeDeadline: bigint;
}

/** The user-signed fields of the newest settled receipt's invocation (what tells equivocation from ConflictingInvocation). */
export interface SettledInvocation {
  callGasLimit: Gas;
  inputHash: Hash;
  preStateHash: Hash;
  ackedGas: Gas;
}

export interface Session {
  zAppId: Hash;
  provider: Address;
  user: Address;
  /** Opened by the zApp owner (bills upfront gas) rather than by the user itself (counts against openGasPerDay). */
  openedByOwner: boolean;
  /** The provider's price when the session opened; later offers never change it. */
  price: Qsr;
  receiptSigner: Address;
  gasLimit: Gas;
  /** cost(gasLimit, price): what the zApp reserved for the session. */
  hold: Qsr;
  /** Gas billed at open (owner-opened sessions only; 0 otherwise). */
  upfrontGas: Gas;
  /** cumulativeGas of the newest settled receipt (0 before the first). */
  settledGas: Gas;
  /** Gas the zApp has paid for: starts at upfrontGas, never decreases. */
  billedGas: Gas;
  lastSeq: bigint;
  /** EIP-712 digest of the newest settled GasReceipt (null before the first). */
  lastReceiptHash: Hash | null;
  lastPostStateHash: Hash;
  /** The invocation fields of the newest settled receipt (null before the first). */
  lastInvocation: SettledInvocation | null;
  /** Receipts with seq ≤ this were covered by settlements whose challenge deadline has passed. */
  coverageFloorSeq: bigint;
  /** Live coverage, oldest first, one entry per settlement bucket. */
  coverage: Coverage[];
  /** Seqs judged by a failed challenge, oldest first (bounded: docs/contract.md §Judging). */
  judgedSeqs: bigint[];
  status: SessionStatus;
  /** Set by Abort: the runner stops the running call and runs no new invocation. */
  stopCall: boolean;
  /** Fraud was proven on this session: its provider was slashed, it is closed and unchallengeable. */
  slashed: boolean;
  openedAt: bigint;
  expiresAt: bigint;
  /** When a closing session may be finalized (null while open). */
  closesAt: bigint | null;
  /** When the session was finalized or slashed (null until closed); never-covered receipts stay challengeable until this + challengeWindowSeconds. */
  finalizedAt: bigint | null;
  /**
   * When the closed session leaves the state (null until closed): no receipt of it can be challenged
   * from then on, so nothing needs it — max(finalizedAt + challengeWindowSeconds, newest coverage deadline).
   */
  removeAt: bigint | null;
}

/** A closed session due to leave the state at `removeAt`. */
export interface Removal {
  removeAt: bigint;
  sessionId: Hash;
}

/** Orders removals by (removeAt, sessionId): the order in which sessions leave. */
export function compareRemovals(a: Removal, b: Removal): number {
  if (a.removeAt !== b.removeAt) return a.removeAt < b.removeAt ? -1 : 1;
  return a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0;
}

export interface State {
  chainId: bigint;
  contract: Address;
  gasTable: Hash;
  params: GenesisParams;
  /** Σ genesis balances; conserved by every input (burned included). */
  supply: Qsr;
  accounts: Map<Address, Account>;
  zApps: Map<Hash, ZApp>;
  providers: Map<Address, Provider>;
  sessions: Map<Hash, Session>;
  /**
   * Every closed session, ordered by (removeAt, sessionId): the sessions still to be removed. An
   * index of the sessions' `removeAt` (rebuilt from them on load), so the state digest covers it.
   */
  removals: Removal[];
  /** QSR destroyed by slashing. */
  burned: Qsr;
  /** Running sums of where the QSR is; balances + escrow + providers + burned = supply. */
  totals: Totals;
}

/** Running sums of the three places live QSR can be. */
export interface Totals {
  balances: bigint;
  escrow: bigint;
  providers: bigint;
}

export function emptyState(chainId: bigint, contract: Address, gasTable: Hash, params: GenesisParams): State {
  return {
    chainId, contract, gasTable, params, supply: 0n as Qsr,
    accounts: new Map(), zApps: new Map(), providers: new Map(), sessions: new Map(), removals: [], burned: 0n as Qsr,
    totals: { balances: 0n, escrow: 0n, providers: 0n },
  };
}

// ── contributions to the supply ─────────────────────────────────────────────────────────
export const accountValue = (a: Account): bigint => a.balance;
export const zAppValue = (z: ZApp): bigint => z.available + z.held;
export function providerValue(p: Provider): bigint {
  let v = p.stake + p.pendingTotal + p.claimable;
  for (const u of p.unbonding) v += u.amount;
  return v;
}

/** Recomputes the three totals from every entity (O(state)); the running totals must agree. */
export function computeTotals(state: State): Totals {
  const totals: Totals = { balances: 0n, escrow: 0n, providers: 0n };
  for (const a of state.accounts.values()) totals.balances += accountValue(a);
  for (const z of state.zApps.values()) totals.escrow += zAppValue(z);
  for (const p of state.providers.values()) totals.providers += providerValue(p);
  return totals;
}

/** Σ balances + Σ escrow + Σ provider funds + burned, recomputed from every entity: always the genesis supply. */
export function totalSupply(state: State): Qsr {
  const t = computeTotals(state);
  return (t.balances + t.escrow + t.providers + state.burned) as Qsr;
}

// ── JSON views: decimal strings, EIP-55 addresses, lowercase hashes ─────────────────────
const dec = formatUnits;
const optDec = (v: bigint | null): string | null => (v === null ? null : dec(v));

export function accountJson(address: Address, a: Account) {
  return { address, balance: dec(a.balance), nonce: dec(a.nonce) };
}

export function zAppJson(id: Hash, z: ZApp) {
  return {
    id, owner: z.owner, moduleHash: z.moduleHash, available: dec(z.available), held: dec(z.held),
    policy: {
      maxPricePerMgas: dec(z.policy.maxPricePerMgas), maxGasPerSession: dec(z.policy.maxGasPerSession),
      openToAll: z.policy.openToAll, openGasPerDay: dec(z.policy.openGasPerDay),
    },
    autoTopUp: { minAvailable: dec(z.autoTopUp.minAvailable), refill: dec(z.autoTopUp.refill) },
    openGasToday: dec(z.openGasToday), openGasDay: dec(z.openGasDay),
  };
}

export function providerJson(address: Address, p: Provider) {
  return {
    address, receiptSigner: p.receiptSigner, pricePerMgas: dec(p.pricePerMgas), upfrontGas: dec(p.upfrontGas),
    stake: dec(p.stake),
    unbonding: p.unbonding.map((u) => ({ amount: dec(u.amount), releaseAt: dec(u.releaseAt) })),
    pendingEarnings: p.pendingEarnings.map((e) => ({ sessionId: e.sessionId, amount: dec(e.amount), claimableAt: dec(e.claimableAt) })),
    pendingTotal: dec(p.pendingTotal), claimable: dec(p.claimable), accepting: p.accepting, liveSessions: p.liveSessions,
    challengeableUntil: dec(p.challengeableUntil),
  };
}

export function sessionJson(id: Hash, s: Session) {
  const inv = s.lastInvocation;
  return {
    id, zAppId: s.zAppId, provider: s.provider, user: s.user, openedByOwner: s.openedByOwner, price: dec(s.price),
    receiptSigner: s.receiptSigner, gasLimit: dec(s.gasLimit), hold: dec(s.hold), upfrontGas: dec(s.upfrontGas),
    settledGas: dec(s.settledGas), billedGas: dec(s.billedGas), lastSeq: dec(s.lastSeq), lastReceiptHash: s.lastReceiptHash,
    lastPostStateHash: s.lastPostStateHash,
    lastInvocation: inv === null ? null : { callGasLimit: dec(inv.callGasLimit), inputHash: inv.inputHash, preStateHash: inv.preStateHash, ackedGas: dec(inv.ackedGas) },
    coverageFloorSeq: dec(s.coverageFloorSeq),
    coverage: s.coverage.map((c) => ({ upToSeq: dec(c.upToSeq), challengeDeadline: dec(c.challengeDeadline) })),
    judgedSeqs: s.judgedSeqs.map(dec),
    status: s.status, stopCall: s.stopCall, slashed: s.slashed,
    openedAt: dec(s.openedAt), expiresAt: dec(s.expiresAt), closesAt: optDec(s.closesAt), finalizedAt: optDec(s.finalizedAt),
    removeAt: optDec(s.removeAt),
  };
}

export function paramsJson(p: GenesisParams) {
  return {
    minProviderStake: dec(p.minProviderStake), unbondingPeriodSeconds: dec(p.unbondingPeriodSeconds),
    challengeWindowSeconds: dec(p.challengeWindowSeconds), abortGraceGas: dec(p.abortGraceGas),
    closeGracePeriodSeconds: dec(p.closeGracePeriodSeconds), slashFractionBps: dec(p.slashFractionBps),
    challengerRewardBps: dec(p.challengerRewardBps), challengeBond: dec(p.challengeBond),
    maxSessionDurationSeconds: dec(p.maxSessionDurationSeconds), maxStateBytes: dec(p.maxStateBytes),
    maxInputBytes: dec(p.maxInputBytes),
  };
}

const byKey = <V>(map: Map<string, V>): Array<[string, V]> => [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

export const STATE_JSON_VERSION = 3;

/** The whole state as JSON, entities sorted by key: canonical, so equal states give equal text. */
export function stateToJson(state: State) {
  return {
    version: STATE_JSON_VERSION,
    chainId: dec(state.chainId), contract: state.contract, gasTable: state.gasTable,
    params: paramsJson(state.params), supply: dec(state.supply), burned: dec(state.burned),
    accounts: byKey(state.accounts).map(([k, v]) => accountJson(k as Address, v)),
    zApps: byKey(state.zApps).map(([k, v]) => zAppJson(k as Hash, v)),
    providers: byKey(state.providers).map(([k, v]) => providerJson(k as Address, v)),
    sessions: byKey(state.sessions).map(([k, v]) => sessionJson(k as Hash, v)),
  };
}

export type StateJson = ReturnType<typeof stateToJson>;

/** SHA3-256 of the canonical JSON of the state (O(state)): for momentum hashes and replay checks. */
export function stateDigest(state: State): Hash {
  return sha3(utf8Bytes(JSON.stringify(stateToJson(state))));
}

// ── reading JSON back (strict: a store that returns something else is corrupt) ──────────
function fail(path: string, reason: string): never {
  throw new ZgasError('InvalidField', { path, reason });
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  if (v.length > max) fail(path, `at most ${max} entries`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'expected a string');
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'expected a boolean');
  return v;
}

function count(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(path, `expected an integer from 0 to ${max}`);
  return v;
}

const with_ = <T>(path: string, f: () => T): T => {
  try {
    return f();
  } catch (error) {
    if (error instanceof ZgasError && error.code !== 'InvalidField') fail(path, error.message);
    throw error;
  }
};
const qsrAt = (v: unknown, path: string): Qsr => with_(path, () => parseQsr(str(v, path)));
const gasAt = (v: unknown, path: string): Gas => with_(path, () => parseGas(str(v, path)));
const u64At = (v: unknown, path: string): bigint => with_(path, () => parseUint64(str(v, path)));
const optU64At = (v: unknown, path: string): bigint | null => (v === null ? null : u64At(v, path));
const addrAt = (v: unknown, path: string): Address => with_(path, () => parseAddress(v));
const hashAt = (v: unknown, path: string): Hash => with_(path, () => parseHash(v));

export function paramsFromJson(v: unknown, path = 'params'): GenesisParams {
  const p = obj(v, path);
  return {
    minProviderStake: qsrAt(p.minProviderStake, `${path}.minProviderStake`),
    unbondingPeriodSeconds: u64At(p.unbondingPeriodSeconds, `${path}.unbondingPeriodSeconds`),
    challengeWindowSeconds: u64At(p.challengeWindowSeconds, `${path}.challengeWindowSeconds`),
    abortGraceGas: gasAt(p.abortGraceGas, `${path}.abortGraceGas`),
    closeGracePeriodSeconds: u64At(p.closeGracePeriodSeconds, `${path}.closeGracePeriodSeconds`),
    slashFractionBps: u64At(p.slashFractionBps, `${path}.slashFractionBps`),
    challengerRewardBps: u64At(p.challengerRewardBps, `${path}.challengerRewardBps`),
    challengeBond: qsrAt(p.challengeBond, `${path}.challengeBond`),
    maxSessionDurationSeconds: u64At(p.maxSessionDurationSeconds, `${path}.maxSessionDurationSeconds`),
    maxStateBytes: u64At(p.maxStateBytes, `${path}.maxStateBytes`),
    maxInputBytes: u64At(p.maxInputBytes, `${path}.maxInputBytes`),
  };
}

export function accountFromJson(v: unknown, path = 'account'): [Address, Account] {
  const a = obj(v, path);
  return [addrAt(a.address, `${path}.address`), { balance: qsrAt(a.balance, `${path}.balance`), nonce: u64At(a.nonce, `${path}.nonce`) }];
}

export function zAppFromJson(v: unknown, path = 'zApp'): [Hash, ZApp] {
  const z = obj(v, path);
  const policy = obj(z.policy, `${path}.policy`);
  const top = obj(z.autoTopUp, `${path}.autoTopUp`);
  return [hashAt(z.id, `${path}.id`), {
    owner: addrAt(z.owner, `${path}.owner`), moduleHash: hashAt(z.moduleHash, `${path}.moduleHash`),
    available: qsrAt(z.available, `${path}.available`), held: qsrAt(z.held, `${path}.held`),
    policy: {
      maxPricePerMgas: qsrAt(policy.maxPricePerMgas, `${path}.policy.maxPricePerMgas`),
      maxGasPerSession: gasAt(policy.maxGasPerSession, `${path}.policy.maxGasPerSession`),
      openToAll: bool(policy.openToAll, `${path}.policy.openToAll`),
      openGasPerDay: gasAt(policy.openGasPerDay, `${path}.policy.openGasPerDay`),
    },
    autoTopUp: { minAvailable: qsrAt(top.minAvailable, `${path}.autoTopUp.minAvailable`), refill: qsrAt(top.refill, `${path}.autoTopUp.refill`) },
    openGasToday: gasAt(z.openGasToday, `${path}.openGasToday`), openGasDay: u64At(z.openGasDay, `${path}.openGasDay`),
  }];
}

export function providerFromJson(v: unknown, path = 'provider'): [Address, Provider] {
  const p = obj(v, path);
  const pendingEarnings = arr(p.pendingEarnings, `${path}.pendingEarnings`, MAX_PENDING_EARNINGS_PER_PROVIDER).map((e, i) => {
    const q = obj(e, `${path}.pendingEarnings[${i}]`);
    return { sessionId: hashAt(q.sessionId, `${path}.pendingEarnings[${i}].sessionId`), amount: qsrAt(q.amount, `${path}.pendingEarnings[${i}].amount`), claimableAt: u64At(q.claimableAt, `${path}.pendingEarnings[${i}].claimableAt`) };
  });
  let pendingTotal = 0n;
  for (const e of pendingEarnings) pendingTotal += e.amount;
  if (pendingTotal !== qsrAt(p.pendingTotal, `${path}.pendingTotal`)) fail(`${path}.pendingTotal`, 'does not equal the sum of pendingEarnings');
  return [addrAt(p.address, `${path}.address`), {
    receiptSigner: addrAt(p.receiptSigner, `${path}.receiptSigner`), pricePerMgas: qsrAt(p.pricePerMgas, `${path}.pricePerMgas`),
    upfrontGas: gasAt(p.upfrontGas, `${path}.upfrontGas`), stake: qsrAt(p.stake, `${path}.stake`),
    unbonding: arr(p.unbonding, `${path}.unbonding`, MAX_UNBONDING_ENTRIES).map((u, i) => {
      const q = obj(u, `${path}.unbonding[${i}]`);
      return { amount: qsrAt(q.amount, `${path}.unbonding[${i}].amount`), releaseAt: u64At(q.releaseAt, `${path}.unbonding[${i}].releaseAt`) };
    }),
    pendingEarnings, pendingTotal: pendingTotal as Qsr,
    claimable: qsrAt(p.claimable, `${path}.claimable`), accepting: bool(p.accepting, `${path}.accepting`),
    liveSessions: count(p.liveSessions, `${path}.liveSessions`, MAX_LIVE_SESSIONS_PER_PROVIDER),
    challengeableUntil: u64At(p.challengeableUntil, `${path}.challengeableUntil`),
  }];
}

const STATUSES: ReadonlySet<string> = new Set(['open', 'closing', 'closed']);

export function sessionFromJson(v: unknown, path = 'session'): [Hash, Session] {
  const s = obj(v, path);
  const status = str(s.status, `${path}.status`);
  if (!STATUSES.has(status)) fail(`${path}.status`, 'expected open, closing or closed');
  // The removal queue is rebuilt from removeAt: a closed session without one would never leave.
  if ((status === 'closed') !== (s.removeAt !== null)) fail(`${path}.removeAt`, 'set exactly when the session is closed');
  let lastInvocation: SettledInvocation | null = null;
  if (s.lastInvocation !== null) {
    const q = obj(s.lastInvocation, `${path}.lastInvocation`);
    lastInvocation = {
      callGasLimit: gasAt(q.callGasLimit, `${path}.lastInvocation.callGasLimit`), inputHash: hashAt(q.inputHash, `${path}.lastInvocation.inputHash`),
      preStateHash: hashAt(q.preStateHash, `${path}.lastInvocation.preStateHash`), ackedGas: gasAt(q.ackedGas, `${path}.lastInvocation.ackedGas`),
    };
  }
  return [hashAt(s.id, `${path}.id`), {
    zAppId: hashAt(s.zAppId, `${path}.zAppId`), provider: addrAt(s.provider, `${path}.provider`), user: addrAt(s.user, `${path}.user`),
    openedByOwner: bool(s.openedByOwner, `${path}.openedByOwner`),
    price: qsrAt(s.price, `${path}.price`), receiptSigner: addrAt(s.receiptSigner, `${path}.receiptSigner`),
    gasLimit: gasAt(s.gasLimit, `${path}.gasLimit`), hold: qsrAt(s.hold, `${path}.hold`), upfrontGas: gasAt(s.upfrontGas, `${path}.upfrontGas`),
    settledGas: gasAt(s.settledGas, `${path}.settledGas`), billedGas: gasAt(s.billedGas, `${path}.billedGas`),
    lastSeq: u64At(s.lastSeq, `${path}.lastSeq`),
    lastReceiptHash: s.lastReceiptHash === null ? null : hashAt(s.lastReceiptHash, `${path}.lastReceiptHash`),
    lastPostStateHash: hashAt(s.lastPostStateHash, `${path}.lastPostStateHash`),
    lastInvocation,
    coverageFloorSeq: u64At(s.coverageFloorSeq, `${path}.coverageFloorSeq`),
    coverage: arr(s.coverage, `${path}.coverage`, MAX_COVERAGE_ENTRIES).map((c, i) => {
      const q = obj(c, `${path}.coverage[${i}]`);
      return { upToSeq: u64At(q.upToSeq, `${path}.coverage[${i}].upToSeq`), challengeDeadline: u64At(q.challengeDeadline, `${path}.coverage[${i}].challengeDeadline`) };
    }),
    judgedSeqs: arr(s.judgedSeqs, `${path}.judgedSeqs`, MAX_JUDGED_SEQS_PER_SESSION).map((q, i) => u64At(q, `${path}.judgedSeqs[${i}]`)),
    status: status as SessionStatus, stopCall: bool(s.stopCall, `${path}.stopCall`), slashed: bool(s.slashed, `${path}.slashed`),
    openedAt: u64At(s.openedAt, `${path}.openedAt`), expiresAt: u64At(s.expiresAt, `${path}.expiresAt`),
    closesAt: optU64At(s.closesAt, `${path}.closesAt`), finalizedAt: optU64At(s.finalizedAt, `${path}.finalizedAt`),
    removeAt: optU64At(s.removeAt, `${path}.removeAt`),
  }];
}

/** Rebuilds a state from `stateToJson` output; `stateToJson(stateFromJson(j))` equals `j`. */
export function stateFromJson(json: unknown): State {
  const j = obj(json, '');
  if (j.version !== STATE_JSON_VERSION) fail('version', `expected ${STATE_JSON_VERSION}`);
  const state = emptyState(
    with_('chainId', () => parseUint256(str(j.chainId, 'chainId'))), addrAt(j.contract, 'contract'),
    hashAt(j.gasTable, 'gasTable'), paramsFromJson(j.params),
  );
  state.supply = qsrAt(j.supply, 'supply');
  state.burned = qsrAt(j.burned, 'burned');
  arr(j.accounts, 'accounts', MAX_STATE_ENTITIES).forEach((v, i) => { const [k, e] = accountFromJson(v, `accounts[${i}]`); state.accounts.set(k, e); });
  arr(j.zApps, 'zApps', MAX_STATE_ENTITIES).forEach((v, i) => { const [k, e] = zAppFromJson(v, `zApps[${i}]`); state.zApps.set(k, e); });
  arr(j.providers, 'providers', MAX_STATE_ENTITIES).forEach((v, i) => { const [k, e] = providerFromJson(v, `providers[${i}]`); state.providers.set(k, e); });
  arr(j.sessions, 'sessions', MAX_STATE_ENTITIES).forEach((v, i) => { const [k, e] = sessionFromJson(v, `sessions[${i}]`); state.sessions.set(k, e); });
  state.removals = removalsOf(state.sessions);
  state.totals = computeTotals(state);
  const total = state.totals.balances + state.totals.escrow + state.totals.providers + state.burned;
  if (total !== state.supply || total > MAX_UINT256) fail('supply', 'the entities and burned do not add up to the supply');
  return state;
}

/** The removal queue of these sessions: one entry per closed session, in removal order. */
export function removalsOf(sessions: ReadonlyMap<Hash, Session>): Removal[] {
  const out: Removal[] = [];
  for (const [sessionId, s] of sessions) if (s.removeAt !== null) out.push({ removeAt: s.removeAt, sessionId });
  return out.sort(compareRemovals);
}

/** An independent deep copy (O(state)); apply() never needs one, tests and hosts that fork state may. */
export function cloneState(state: State): State {
  return stateFromJson(JSON.parse(JSON.stringify(stateToJson(state))));
}
