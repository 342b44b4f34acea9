import { ZgasError } from '../errors.ts';
import { sha3 } from '../hash.ts';
import { parseAddress, parseHash, utf8Bytes } from '../hex.ts';
import type { Address, Hash } from '../types.ts';
import { formatUnits, MAX_UINT256, parseGas, parseQsr, parseUint256, parseUint64 } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';

/** The contract's tunable rules, fixed at genesis (DESIGN §5, §9). Durations are unix seconds. */
export interface GenesisParams {
  /** The least stake a provider may hold while registered (and to be offered new sessions). */
  minProviderStake: Qsr;
  /** How long unbonded stake stays slashable before WithdrawUnbonded releases it; longer than the challenge window. */
  unbondingPeriodSeconds: bigint;
  /** How long after settlement a receipt can be challenged; earnings become claimable when it ends. */
  challengeWindowSeconds: bigint;
  /** Gas a provider may still bill past the newest receipt the aborting party holds. */
  abortGraceGas: Gas;
  /** After expiry or an abort, how long only the user/owner may close the session; then anyone may. */
  abortGracePeriodSeconds: bigint;
  /** Share of a provider's stake (stake + unbonding) slashed on proven fraud, in basis points. */
  slashFractionBps: bigint;
  /** The longest session OpenSession accepts. */
  maxSessionDurationSeconds: bigint;
}

export interface Account {
  balance: Qsr;
  /** The nonce the account's next call must carry. */
  nonce: bigint;
}

export interface ZAppPolicy {
  maxPricePerMgas: Qsr;
  maxGasPerSession: Gas;
  /** Whether any user may open a session for itself (within userGasPerDay); otherwise only the owner opens sessions. */
  openToAll: boolean;
  /** Gas a user may open or extend per UTC day on this zApp by itself. */
  userGasPerDay: Gas;
}

export interface AutoTopUp {
  /** When `available` falls below this after a hold, the contract refills it from the owner's balance. */
  minAvailable: Qsr;
  /** How much one refill moves; 0 disables auto top-up. */
  refill: Qsr;
}

export interface ZApp {
  owner: Address;
  moduleHash: Hash;
  /** Escrow free for new holds and withdrawal. */
  available: Qsr;
  /** Escrow reserved by open sessions: Σ (hold − cost(billedGas)) over them. */
  held: Qsr;
  policy: ZAppPolicy;
  autoTopUp: AutoTopUp;
}

export interface Unbonding {
  amount: Qsr;
  /** Unix seconds from which WithdrawUnbonded releases it. */
  releaseAt: bigint;
}

/** Earnings of one session that mature together; sorted by (claimableAt, sessionId), one entry per pair. */
export interface PendingEarning {
  sessionId: Hash;
  amount: Qsr;
  /** The end of the challenge window of the receipts that earned it. */
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
  /** Sessions with this provider that are not closed. */
  openSessions: number;
}

export type SessionStatus = 'open' | 'aborting' | 'closed';

/**
 * Receipts up to `upToSeq` (and above the previous checkpoint) were settled in the same
 * settlement bucket; they can be challenged until `challengeableUntil`.
 */
export interface SettlementCheckpoint {
  upToSeq: bigint;
  challengeableUntil: bigint;
}

export interface Session {
  zAppId: Hash;
  provider: Address;
  user: Address;
  /** The provider's price when the session opened; later offers never change it. */
  price: Qsr;
  receiptSigner: Address;
  gasLimit: Gas;
  /** cost(gasLimit, price): what the zApp reserved for the session. */
  hold: Qsr;
  upfrontGas: Gas;
  /** cumulativeGas of the newest settled receipt. */
  settledGas: Gas;
  /** Gas the zApp has paid for: starts at upfrontGas, never decreases. */
  billedGas: Gas;
  lastSeq: bigint;
  /** EIP-712 digest of the newest settled receipt (null before the first). */
  lastReceiptHash: Hash | null;
  lastPostStateHash: Hash;
  status: SessionStatus;
  openedAt: bigint;
  expiresAt: bigint;
  abortCap: Gas | null;
  abortedAt: bigint | null;
  closedAt: bigint | null;
  /** Whether the session was opened by its user on an open-to-all zApp (its gas counts against userGasPerDay). */
  openedByUser: boolean;
  /** Whether fraud was proven on this session (its provider was slashed; it is closed and unchallengeable). */
  slashed: boolean;
  /** Receipts with seq ≤ this are past their challenge window. */
  challengeFloorSeq: bigint;
  settlements: SettlementCheckpoint[];
  /** Every gasLimit the session has had (opened, then each extension), oldest first. */
  gasLimits: Gas[];
}

/** Gas a user has opened or extended by itself on one zApp during one UTC day. */
export interface UserGasDay {
  day: bigint;
  usedGas: Gas;
}

/** Running sums of the three places QSR can be; their total is the supply. */
export interface Totals {
  balances: bigint;
  escrow: bigint;
  providers: bigint;
}

export interface State {
  chainId: bigint;
  contract: Address;
  gasTable: Hash;
  params: GenesisParams;
  /** Σ genesis balances; conserved by every input. */
  supply: Qsr;
  accounts: Map<Address, Account>;
  zApps: Map<Hash, ZApp>;
  providers: Map<Address, Provider>;
  sessions: Map<Hash, Session>;
  /** Keyed by userGasKey(zAppId, user). */
  userGas: Map<string, UserGasDay>;
  totals: Totals;
}

export const userGasKey = (zAppId: Hash, user: Address): string => `${zAppId}:${user}`;

export function emptyState(chainId: bigint, contract: Address, gasTable: Hash, params: GenesisParams): State {
  return {
    chainId, contract, gasTable, params, supply: 0n as Qsr,
    accounts: new Map(), zApps: new Map(), providers: new Map(), sessions: new Map(), userGas: new Map(),
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

/** Σ balances + Σ escrow + Σ provider funds, recomputed from every entity. */
export function totalSupply(state: State): Qsr {
  const t = computeTotals(state);
  return (t.balances + t.escrow + t.providers) as Qsr;
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
      openToAll: z.policy.openToAll, userGasPerDay: dec(z.policy.userGasPerDay),
    },
    autoTopUp: { minAvailable: dec(z.autoTopUp.minAvailable), refill: dec(z.autoTopUp.refill) },
  };
}

export function providerJson(address: Address, p: Provider) {
  return {
    address, receiptSigner: p.receiptSigner, pricePerMgas: dec(p.pricePerMgas), upfrontGas: dec(p.upfrontGas),
    stake: dec(p.stake),
    unbonding: p.unbonding.map((u) => ({ amount: dec(u.amount), releaseAt: dec(u.releaseAt) })),
    pendingEarnings: p.pendingEarnings.map((e) => ({ sessionId: e.sessionId, amount: dec(e.amount), claimableAt: dec(e.claimableAt) })),
    pendingTotal: dec(p.pendingTotal), claimable: dec(p.claimable), openSessions: p.openSessions,
  };
}

export function sessionJson(id: Hash, s: Session) {
  return {
    id, zAppId: s.zAppId, provider: s.provider, user: s.user, price: dec(s.price), receiptSigner: s.receiptSigner,
    gasLimit: dec(s.gasLimit), hold: dec(s.hold), upfrontGas: dec(s.upfrontGas), settledGas: dec(s.settledGas),
    billedGas: dec(s.billedGas), lastSeq: dec(s.lastSeq), lastReceiptHash: s.lastReceiptHash,
    lastPostStateHash: s.lastPostStateHash, status: s.status, openedAt: dec(s.openedAt), expiresAt: dec(s.expiresAt),
    abortCap: optDec(s.abortCap), abortedAt: optDec(s.abortedAt), closedAt: optDec(s.closedAt),
    openedByUser: s.openedByUser, slashed: s.slashed, challengeFloorSeq: dec(s.challengeFloorSeq),
    settlements: s.settlements.map((c) => ({ upToSeq: dec(c.upToSeq), challengeableUntil: dec(c.challengeableUntil) })),
    gasLimits: s.gasLimits.map(dec),
  };
}

export function paramsJson(p: GenesisParams) {
  return {
    minProviderStake: dec(p.minProviderStake), unbondingPeriodSeconds: dec(p.unbondingPeriodSeconds),
    challengeWindowSeconds: dec(p.challengeWindowSeconds), abortGraceGas: dec(p.abortGraceGas),
    abortGracePeriodSeconds: dec(p.abortGracePeriodSeconds), slashFractionBps: dec(p.slashFractionBps),
    maxSessionDurationSeconds: dec(p.maxSessionDurationSeconds),
  };
}

const byKey = <V>(map: Map<string, V>): Array<[string, V]> => [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

export const STATE_JSON_VERSION = 1;

/** The whole state as JSON, entities sorted by key: canonical, so equal states give equal text. */
export function stateToJson(state: State) {
  return {
    version: STATE_JSON_VERSION,
    chainId: dec(state.chainId), contract: state.contract, gasTable: state.gasTable,
    params: paramsJson(state.params), supply: dec(state.supply),
    accounts: byKey(state.accounts).map(([k, v]) => accountJson(k as Address, v)),
    zApps: byKey(state.zApps).map(([k, v]) => zAppJson(k as Hash, v)),
    providers: byKey(state.providers).map(([k, v]) => providerJson(k as Address, v)),
    sessions: byKey(state.sessions).map(([k, v]) => sessionJson(k as Hash, v)),
    userGas: byKey(state.userGas).map(([k, v]) => ({ key: k, day: dec(v.day), usedGas: dec(v.usedGas) })),
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

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
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

function count(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(path, 'expected a non-negative integer');
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
    abortGracePeriodSeconds: u64At(p.abortGracePeriodSeconds, `${path}.abortGracePeriodSeconds`),
    slashFractionBps: u64At(p.slashFractionBps, `${path}.slashFractionBps`),
    maxSessionDurationSeconds: u64At(p.maxSessionDurationSeconds, `${path}.maxSessionDurationSeconds`),
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
      userGasPerDay: gasAt(policy.userGasPerDay, `${path}.policy.userGasPerDay`),
    },
    autoTopUp: { minAvailable: qsrAt(top.minAvailable, `${path}.autoTopUp.minAvailable`), refill: qsrAt(top.refill, `${path}.autoTopUp.refill`) },
  }];
}

export function providerFromJson(v: unknown, path = 'provider'): [Address, Provider] {
  const p = obj(v, path);
  const pendingEarnings = arr(p.pendingEarnings, `${path}.pendingEarnings`).map((e, i) => {
    const q = obj(e, `${path}.pendingEarnings[${i}]`);
    return { sessionId: hashAt(q.sessionId, `${path}.pendingEarnings[${i}].sessionId`), amount: qsrAt(q.amount, `${path}.pendingEarnings[${i}].amount`), claimableAt: u64At(q.claimableAt, `${path}.pendingEarnings[${i}].claimableAt`) };
  });
  let pendingTotal = 0n;
  for (const e of pendingEarnings) pendingTotal += e.amount;
  if (pendingTotal !== qsrAt(p.pendingTotal, `${path}.pendingTotal`)) fail(`${path}.pendingTotal`, 'does not equal the sum of pendingEarnings');
  return [addrAt(p.address, `${path}.address`), {
    receiptSigner: addrAt(p.receiptSigner, `${path}.receiptSigner`), pricePerMgas: qsrAt(p.pricePerMgas, `${path}.pricePerMgas`),
    upfrontGas: gasAt(p.upfrontGas, `${path}.upfrontGas`), stake: qsrAt(p.stake, `${path}.stake`),
    unbonding: arr(p.unbonding, `${path}.unbonding`).map((u, i) => {
      const q = obj(u, `${path}.unbonding[${i}]`);
      return { amount: qsrAt(q.amount, `${path}.unbonding[${i}].amount`), releaseAt: u64At(q.releaseAt, `${path}.unbonding[${i}].releaseAt`) };
    }),
    pendingEarnings, pendingTotal: pendingTotal as Qsr,
    claimable: qsrAt(p.claimable, `${path}.claimable`), openSessions: count(p.openSessions, `${path}.openSessions`),
  }];
}

const STATUSES: ReadonlySet<string> = new Set(['open', 'aborting', 'closed']);

export function sessionFromJson(v: unknown, path = 'session'): [Hash, Session] {
  const s = obj(v, path);
  const status = str(s.status, `${path}.status`);
  if (!STATUSES.has(status)) fail(`${path}.status`, 'expected open, aborting or closed');
  return [hashAt(s.id, `${path}.id`), {
    zAppId: hashAt(s.zAppId, `${path}.zAppId`), provider: addrAt(s.provider, `${path}.provider`), user: addrAt(s.user, `${path}.user`),
    price: qsrAt(s.price, `${path}.price`), receiptSigner: addrAt(s.receiptSigner, `${path}.receiptSigner`),
    gasLimit: gasAt(s.gasLimit, `${path}.gasLimit`), hold: qsrAt(s.hold, `${path}.hold`), upfrontGas: gasAt(s.upfrontGas, `${path}.upfrontGas`),
    settledGas: gasAt(s.settledGas, `${path}.settledGas`), billedGas: gasAt(s.billedGas, `${path}.billedGas`),
    lastSeq: u64At(s.lastSeq, `${path}.lastSeq`),
    lastReceiptHash: s.lastReceiptHash === null ? null : hashAt(s.lastReceiptHash, `${path}.lastReceiptHash`),
    lastPostStateHash: hashAt(s.lastPostStateHash, `${path}.lastPostStateHash`),
    status: status as SessionStatus,
    openedAt: u64At(s.openedAt, `${path}.openedAt`), expiresAt: u64At(s.expiresAt, `${path}.expiresAt`),
    abortCap: optU64At(s.abortCap, `${path}.abortCap`) as Gas | null,
    abortedAt: optU64At(s.abortedAt, `${path}.abortedAt`), closedAt: optU64At(s.closedAt, `${path}.closedAt`),
    openedByUser: bool(s.openedByUser, `${path}.openedByUser`), slashed: bool(s.slashed, `${path}.slashed`),
    challengeFloorSeq: u64At(s.challengeFloorSeq, `${path}.challengeFloorSeq`),
    settlements: arr(s.settlements, `${path}.settlements`).map((c, i) => {
      const q = obj(c, `${path}.settlements[${i}]`);
      return { upToSeq: u64At(q.upToSeq, `${path}.settlements[${i}].upToSeq`), challengeableUntil: u64At(q.challengeableUntil, `${path}.settlements[${i}].challengeableUntil`) };
    }),
    gasLimits: arr(s.gasLimits, `${path}.gasLimits`).map((g, i) => gasAt(g, `${path}.gasLimits[${i}]`)),
  }];
}

export function userGasFromJson(v: unknown, path = 'userGas'): [string, UserGasDay] {
  const u = obj(v, path);
  return [str(u.key, `${path}.key`), { day: u64At(u.day, `${path}.day`), usedGas: gasAt(u.usedGas, `${path}.usedGas`) }];
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
  arr(j.accounts, 'accounts').forEach((v, i) => { const [k, e] = accountFromJson(v, `accounts[${i}]`); state.accounts.set(k, e); });
  arr(j.zApps, 'zApps').forEach((v, i) => { const [k, e] = zAppFromJson(v, `zApps[${i}]`); state.zApps.set(k, e); });
  arr(j.providers, 'providers').forEach((v, i) => { const [k, e] = providerFromJson(v, `providers[${i}]`); state.providers.set(k, e); });
  arr(j.sessions, 'sessions').forEach((v, i) => { const [k, e] = sessionFromJson(v, `sessions[${i}]`); state.sessions.set(k, e); });
  arr(j.userGas, 'userGas').forEach((v, i) => { const [k, e] = userGasFromJson(v, `userGas[${i}]`); state.userGas.set(k, e); });
  state.totals = computeTotals(state);
  const total = state.totals.balances + state.totals.escrow + state.totals.providers;
  if (total !== state.supply || total > MAX_UINT256) fail('supply', 'the entities do not add up to the supply');
  return state;
}

/** An independent deep copy (O(state)); apply() never needs one, tests and hosts that fork state may. */
export function cloneState(state: State): State {
  return stateFromJson(JSON.parse(JSON.stringify(stateToJson(state))));
}
