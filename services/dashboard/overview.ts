import { ZgasError } from '../../contracts/errors.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { add, cost, parseGas, parseQsr, parseUint64 } from '../../contracts/units.ts';

/**
 * The dashboard's one read model: everything the page shows, assembled from the contract's JSON
 * state views, the newest momentums and the settlement pipeline's counters. Every integer is a
 * decimal string, as on every other wire of zgas; the page formats QSR from these strings.
 */
export interface Overview {
  chain: { chainId: string | null; contract: string | null };
  /** The newest committed momentum; null before the first one. */
  latest: { height: string; hash: string; timestamp: string } | null;
  totals: OverviewTotals;
  counts: OverviewCounts;
  zApps: ZAppRow[];
  providers: ProviderRow[];
  sessions: SessionRow[];
  /** Newest first, at most OVERVIEW_MAX_MOMENTUMS. */
  momentums: MomentumRow[];
  pipeline: PipelineCounters;
}

/**
 * QSR totals in base units. `supply` is the conservation sum — balances, escrow, providers' stake,
 * unbonding and earnings, and what slashing burned — recomputed here; `genesisSupply` is the supply
 * the state records (null when it records none): they must agree.
 */
export interface OverviewTotals {
  supply: string;
  genesisSupply: string | null;
  balances: string;
  escrowAvailable: string;
  escrowHeld: string;
  stake: string;
  unbonding: string;
  pending: string;
  claimable: string;
  burned: string;
}

/** Full counts, also when the row lists are cut at OVERVIEW_MAX_ROWS. */
export interface OverviewCounts {
  accounts: string;
  zApps: string;
  providers: string;
  sessions: string;
  openSessions: string;
  closingSessions: string;
}

export interface ZAppRow {
  id: string;
  owner: string;
  moduleHash: string;
  available: string;
  held: string;
  autoTopUp: { minAvailable: string; refill: string } | null;
}

/**
 * `pending` is still inside its challenge window at the newest momentum's time; `claimable` is
 * what ClaimEarnings would pay now (matured earnings, whether or not the state has moved them yet);
 * `nextClaimableAt` is when the soonest pending earning matures (unix seconds; null: none pending).
 */
export interface ProviderRow {
  address: string;
  pricePerMgas: string;
  stake: string;
  unbonding: string;
  pending: string;
  claimable: string;
  nextClaimableAt: string | null;
  /** false once the provider retired: it takes no new sessions. */
  accepting: boolean;
}

export type SessionStatus = 'open' | 'closing' | 'closed';

export interface SessionRow {
  id: string;
  zAppId: string;
  provider: string;
  user: string;
  status: SessionStatus;
  gasLimit: string;
  settledGas: string;
  billedGas: string;
  /** cost(billedGas, price): what the zApp has paid for this session so far. */
  billedQsr: string;
  /** Aborted: the runner stops the running call and runs no new one. */
  stopCall: boolean;
  /** When a closing session may be finalized (unix seconds); null unless closing. */
  closesAt: string | null;
  slashed: boolean;
  lastSeq: string;
}

export interface MomentumRow {
  height: string;
  hash: string;
  inputs: string;
  timestamp: string;
}

export interface PipelineCounters {
  receiptsStored: string;
  verified: string;
  applied: string;
  rejected: string;
}

// ── input: the contract's JSON state views ──────────────────────────────────────────────────

/** A keyed collection as a JSON view may give it: an object keyed by id, or a list of rows. */
export type JsonCollection<T> = Readonly<Record<string, T>> | readonly T[];

/** An amount list (unbonding entries, pending earnings) or an already summed amount. */
export type JsonAmounts = string | readonly { amount: string; claimableAt?: string }[];

export interface AccountJson {
  address?: string;
  balance: string;
}

export interface ZAppJson {
  id?: string;
  owner: string;
  moduleHash: string;
  available: string;
  held: string;
  /** A refill of 0 means auto top-up is off. */
  autoTopUp?: { minAvailable: string; refill: string } | null;
}

export interface ProviderJson {
  address?: string;
  pricePerMgas: string;
  stake: string;
  unbonding?: JsonAmounts;
  pendingEarnings?: JsonAmounts;
  claimable?: string;
  accepting?: boolean;
}

export interface SessionJson {
  id?: string;
  zAppId: string;
  provider: string;
  user: string;
  status: string;
  price: string;
  gasLimit: string;
  settledGas: string;
  billedGas: string;
  lastSeq: string;
  stopCall?: boolean;
  closesAt?: string | null;
  slashed?: boolean;
}

/**
 * The parts of the contract's JSON state the dashboard reads: `stateToJson` of
 * contracts/gas/state.ts fits it (lists of rows keyed by id/address, decimal strings).
 */
export interface OverviewState {
  chainId?: string;
  contract?: string;
  supply?: string;
  /** QSR burned by slashing (absent: none). */
  burned?: string;
  accounts: JsonCollection<AccountJson>;
  zApps: JsonCollection<ZAppJson>;
  providers: JsonCollection<ProviderJson>;
  sessions: JsonCollection<SessionJson>;
}

export interface MomentumSummary {
  height: string | bigint | number;
  hash: string;
  timestamp: string | bigint | number;
  /** The ordered inputs, or how many there were. */
  inputs: readonly unknown[] | string | bigint | number;
}

export interface PipelineCountersInput {
  receiptsStored: string | bigint | number;
  verified: string | bigint | number;
  applied: string | bigint | number;
  rejected: string | bigint | number;
}

/** Most rows per table; the counts still cover everything. */
export const OVERVIEW_MAX_ROWS = 200;
/** Most momentums listed. */
export const OVERVIEW_MAX_MOMENTUMS = 50;

const SESSION_STATUSES: readonly SessionStatus[] = ['open', 'closing', 'closed'];
const STATUS_ORDER: Record<SessionStatus, number> = { closing: 0, open: 1, closed: 2 };

function entries<T>(collection: JsonCollection<T>, idField: 'id' | 'address', path: string): [string, T][] {
  if (Array.isArray(collection)) {
    return (collection as readonly T[]).map((row, i) => {
      const id = (row as Record<string, unknown>)[idField];
      if (typeof id !== 'string') throw new ZgasError('InvalidField', { path: `${path}[${i}].${idField}` });
      return [id, row];
    });
  }
  if (typeof collection !== 'object' || collection === null) throw new ZgasError('InvalidField', { path });
  return Object.entries(collection as Readonly<Record<string, T>>);
}

function sumAmounts(value: JsonAmounts | undefined): Qsr {
  return splitMatured(value, null).pending;
}

/**
 * Sums an amount list, separating entries whose claimableAt is at or before `nowSeconds`; `next` is
 * the soonest claimableAt still ahead.
 */
function splitMatured(value: JsonAmounts | undefined, nowSeconds: bigint | null): { pending: Qsr; matured: Qsr; next: bigint | null } {
  let pending = 0n as Qsr;
  let matured = 0n as Qsr;
  let next: bigint | null = null;
  if (value === undefined) return { pending, matured, next };
  if (typeof value === 'string') return { pending: parseQsr(value), matured, next };
  for (const entry of value) {
    const amount = parseQsr(entry.amount);
    const at = entry.claimableAt === undefined ? null : parseUint64(entry.claimableAt);
    if (nowSeconds !== null && at !== null && at <= nowSeconds) {
      matured = add(matured, amount);
      continue;
    }
    pending = add(pending, amount);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return { pending, matured, next };
}

/** A non-negative integer of any shape the inputs use, as a checked decimal string. */
function count(value: string | bigint | number, path: string): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new ZgasError('InvalidField', { path });
    return value.toString(10);
  }
  if (typeof value === 'bigint') return parseUint64(value.toString(10)).toString(10);
  return parseUint64(value).toString(10);
}

function inputCount(inputs: MomentumSummary['inputs'], path: string): string {
  return Array.isArray(inputs) ? inputs.length.toString(10) : count(inputs as string | bigint | number, path);
}

function sessionStatus(text: string, path: string): SessionStatus {
  const status = SESSION_STATUSES.find((s) => s === text);
  if (status === undefined) throw new ZgasError('InvalidField', { path, status: text });
  return status;
}

function compareDecimal(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Assembles the overview. Totals are exact bigint sums of the whole state (checked arithmetic);
 * row lists are cut at OVERVIEW_MAX_ROWS (sessions: closing, then open, then closed, newest seq
 * first within each). Earnings mature at the newest momentum's timestamp (chain time, never the
 * clock). Malformed input fails with a typed error rather than a wrong figure.
 */
export function buildOverview(state: OverviewState, momentums: readonly MomentumSummary[], counters: PipelineCountersInput): Overview {
  const momentumRows: MomentumRow[] = momentums.map((m, i) => ({
    height: count(m.height, `momentums[${i}].height`),
    hash: m.hash,
    inputs: inputCount(m.inputs, `momentums[${i}].inputs`),
    timestamp: count(m.timestamp, `momentums[${i}].timestamp`),
  }));
  momentumRows.sort((a, b) => -compareDecimal(a.height, b.height));
  const newest = momentumRows[0];
  const chainNow = newest === undefined ? null : BigInt(newest.timestamp);

  let balances = 0n as Qsr;
  const accounts = entries(state.accounts, 'address', 'accounts');
  for (const [, account] of accounts) balances = add(balances, parseQsr(account.balance));

  let escrowAvailable = 0n as Qsr;
  let escrowHeld = 0n as Qsr;
  const zApps: ZAppRow[] = [];
  for (const [id, z] of entries(state.zApps, 'id', 'zApps')) {
    const available = parseQsr(z.available);
    const held = parseQsr(z.held);
    escrowAvailable = add(escrowAvailable, available);
    escrowHeld = add(escrowHeld, held);
    const top = z.autoTopUp === undefined || z.autoTopUp === null || parseQsr(z.autoTopUp.refill) === 0n ? null : z.autoTopUp;
    zApps.push({
      id,
      owner: z.owner,
      moduleHash: z.moduleHash,
      available: available.toString(10),
      held: held.toString(10),
      autoTopUp: top === null ? null : { minAvailable: parseQsr(top.minAvailable).toString(10), refill: parseQsr(top.refill).toString(10) },
    });
  }

  let stake = 0n as Qsr;
  let unbonding = 0n as Qsr;
  let pending = 0n as Qsr;
  let claimable = 0n as Qsr;
  const providers: ProviderRow[] = [];
  for (const [address, p] of entries(state.providers, 'address', 'providers')) {
    const earnings = splitMatured(p.pendingEarnings, chainNow);
    const row = {
      stake: parseQsr(p.stake),
      unbonding: sumAmounts(p.unbonding),
      pending: earnings.pending,
      claimable: add(p.claimable === undefined ? (0n as Qsr) : parseQsr(p.claimable), earnings.matured),
    };
    stake = add(stake, row.stake);
    unbonding = add(unbonding, row.unbonding);
    pending = add(pending, row.pending);
    claimable = add(claimable, row.claimable);
    providers.push({
      address,
      pricePerMgas: parseQsr(p.pricePerMgas).toString(10),
      stake: row.stake.toString(10),
      unbonding: row.unbonding.toString(10),
      pending: row.pending.toString(10),
      claimable: row.claimable.toString(10),
      nextClaimableAt: earnings.next === null ? null : earnings.next.toString(10),
      accepting: p.accepting ?? true,
    });
  }

  const sessions: SessionRow[] = [];
  let openSessions = 0;
  let closingSessions = 0;
  for (const [id, s] of entries(state.sessions, 'id', 'sessions')) {
    const status = sessionStatus(s.status, `sessions.${id}.status`);
    if (status === 'open') openSessions += 1;
    if (status === 'closing') closingSessions += 1;
    const billedGas: Gas = parseGas(s.billedGas);
    const closesAt = s.closesAt === undefined || s.closesAt === null ? null : parseUint64(s.closesAt).toString(10);
    sessions.push({
      id,
      zAppId: s.zAppId,
      provider: s.provider,
      user: s.user,
      status,
      gasLimit: parseGas(s.gasLimit).toString(10),
      settledGas: parseGas(s.settledGas).toString(10),
      billedGas: billedGas.toString(10),
      billedQsr: cost(billedGas, parseQsr(s.price)).toString(10),
      stopCall: s.stopCall ?? false,
      closesAt: status === 'closing' ? closesAt : null,
      slashed: s.slashed ?? false,
      lastSeq: parseUint64(s.lastSeq).toString(10),
    });
  }
  sessions.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || -compareDecimal(a.lastSeq, b.lastSeq) || (a.id < b.id ? -1 : 1));

  const burned = state.burned === undefined ? (0n as Qsr) : parseQsr(state.burned);
  const supply = [balances, escrowAvailable, escrowHeld, stake, unbonding, pending, claimable, burned].reduce((a, b) => add(a, b), 0n as Qsr);
  return {
    chain: { chainId: state.chainId ?? null, contract: state.contract ?? null },
    latest: newest === undefined ? null : { height: newest.height, hash: newest.hash, timestamp: newest.timestamp },
    totals: {
      supply: supply.toString(10),
      genesisSupply: state.supply === undefined ? null : parseQsr(state.supply).toString(10),
      balances: balances.toString(10),
      escrowAvailable: escrowAvailable.toString(10),
      escrowHeld: escrowHeld.toString(10),
      stake: stake.toString(10),
      unbonding: unbonding.toString(10),
      pending: pending.toString(10),
      claimable: claimable.toString(10),
      burned: burned.toString(10),
    },
    counts: {
      accounts: accounts.length.toString(10),
      zApps: zApps.length.toString(10),
      providers: providers.length.toString(10),
      sessions: sessions.length.toString(10),
      openSessions: openSessions.toString(10),
      closingSessions: closingSessions.toString(10),
    },
    zApps: zApps.slice(0, OVERVIEW_MAX_ROWS),
    providers: providers.slice(0, OVERVIEW_MAX_ROWS),
    sessions: sessions.slice(0, OVERVIEW_MAX_ROWS),
    momentums: momentumRows.slice(0, OVERVIEW_MAX_MOMENTUMS),
    pipeline: {
      receiptsStored: count(counters.receiptsStored, 'pipeline.receiptsStored'),
      verified: count(counters.verified, 'pipeline.verified'),
      applied: count(counters.applied, 'pipeline.applied'),
      rejected: count(counters.rejected, 'pipeline.rejected'),
    },
  };
}

/** An overview of an empty chain: what the page shows before the host has state. */
export function emptyOverview(): Overview {
  return buildOverview({ accounts: {}, zApps: {}, providers: {}, sessions: {} }, [], { receiptsStored: 0, verified: 0, applied: 0, rejected: 0 });
}
