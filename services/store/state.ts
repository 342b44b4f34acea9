import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { accountJson, computeTotals, providerJson, sessionJson, stateFromJson, stateToJson, zAppJson } from '../../contracts/gas/state.ts';
import type { Account, Session, State, StateJson } from '../../contracts/gas/state.ts';
import { MAX_UINT256, parseQsr, parseUint64 } from '../../contracts/units.ts';
import { ALL_SESSION_FIELDS, SESSION_FIELDS } from '../../contracts/gas/tx.ts';
import type { Changed } from '../../contracts/gas/tx.ts';
import type { Db } from '../db/db.ts';
import { pendingRows, saveAllPending, savePendingRows, withPending } from './pending.ts';
import type { PendingRows } from './pending.ts';

export type AccountJson = ReturnType<typeof accountJson>;
export type ZAppJson = ReturnType<typeof zAppJson>;
export type ProviderJson = ReturnType<typeof providerJson>;
export type SessionJson = ReturnType<typeof sessionJson>;

/**
 * How an entity's JSON view maps onto its table: one column per field (nested objects flattened
 * with dotted paths), NUMERIC domains for decimal strings, JSONB for lists and nested records.
 */
type Kind = 'text' | 'num' | 'bool' | 'int' | 'json';
type Column = readonly [field: string, column: string, kind: Kind];

interface Table {
  name: string;
  key: string;
  columns: readonly Column[];
  /** Fields kept in a table of their own (neither columns nor `extra`). */
  elsewhere?: ReadonlySet<string>;
}

const ACCOUNTS: Table = {
  name: 'accounts', key: 'address',
  columns: [['address', 'address', 'text'], ['balance', 'balance', 'num'], ['nonce', 'nonce', 'num']],
};
const ZAPPS: Table = {
  name: 'zapps', key: 'id',
  columns: [
    ['id', 'id', 'text'], ['owner', 'owner', 'text'], ['moduleHash', 'module_hash', 'text'], ['available', 'available', 'num'], ['held', 'held', 'num'],
    ['policy.maxPricePerMgas', 'max_price_per_mgas', 'num'], ['policy.maxGasPerSession', 'max_gas_per_session', 'num'],
    ['policy.openToAll', 'open_to_all', 'bool'], ['policy.openGasPerDay', 'open_gas_per_day', 'num'],
    ['autoTopUp.minAvailable', 'top_up_min_available', 'num'], ['autoTopUp.refill', 'top_up_refill', 'num'],
    ['openGasToday', 'open_gas_today', 'num'], ['openGasDay', 'open_gas_day', 'num'],
  ],
};
const PROVIDERS: Table = {
  name: 'providers', key: 'address',
  columns: [
    ['address', 'address', 'text'], ['receiptSigner', 'receipt_signer', 'text'], ['pricePerMgas', 'price_per_mgas', 'num'],
    ['upfrontGas', 'upfront_gas', 'num'], ['stake', 'stake', 'num'], ['unbonding', 'unbonding', 'json'],
    ['pendingTotal', 'pending_total', 'num'], ['claimable', 'claimable', 'num'],
    ['accepting', 'accepting', 'bool'], ['liveSessions', 'live_sessions', 'int'], ['challengeableUntil', 'challengeable_until', 'num'],
  ],
  // One row per entry in pending_earnings (pending.ts): a momentum writes the entries it changed.
  elsewhere: new Set(['pendingEarnings']),
};
const SESSIONS: Table = {
  name: 'sessions', key: 'id',
  columns: [
    ['id', 'id', 'text'], ['zAppId', 'zapp_id', 'text'], ['provider', 'provider', 'text'], ['user', 'user_address', 'text'],
    ['openedByOwner', 'opened_by_owner', 'bool'], ['price', 'price', 'num'], ['receiptSigner', 'receipt_signer', 'text'],
    ['gasLimit', 'gas_limit', 'num'], ['hold', 'hold', 'num'], ['upfrontGas', 'upfront_gas', 'num'], ['settledGas', 'settled_gas', 'num'],
    ['billedGas', 'billed_gas', 'num'], ['lastSeq', 'last_seq', 'num'], ['lastReceiptHash', 'last_receipt_hash', 'text'],
    ['lastPostStateHash', 'last_post_state_hash', 'text'], ['lastInvocation', 'last_invocation', 'json'],
    ['coverageFloorSeq', 'coverage_floor_seq', 'num'], ['coverage', 'coverage', 'json'], ['judgedSeqs', 'judged_seqs', 'json'],
    ['status', 'status', 'text'], ['stopCall', 'stop_call', 'bool'], ['slashed', 'slashed', 'bool'],
    ['openedAt', 'opened_at', 'num'], ['expiresAt', 'expires_at', 'num'], ['closesAt', 'closes_at', 'num'], ['finalizedAt', 'finalized_at', 'num'],
    ['removeAt', 'remove_at', 'num'],
  ],
};

/** Rows one upsert statement carries at most. */
const ROWS_PER_STATEMENT = 1_000;

/** Field paths split at their dots, once per path (the tables name a fixed few). */
const splitPaths = new Map<string, readonly string[]>();
function pathParts(path: string): readonly string[] {
  let parts = splitPaths.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    splitPaths.set(path, parts);
  }
  return parts;
}

function getPath(view: Record<string, unknown>, path: string): unknown {
  let value: unknown = view;
  for (const part of pathParts(path)) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

function setPath(view: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let target = view;
  for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
  target[parts[parts.length - 1]!] = value;
}

function toRow(table: Table, view: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, column] of table.columns) row[column] = getPath(view, field) ?? null;
  const extra: Record<string, unknown> = {};
  const known = mapped(table);
  for (const [field, value] of Object.entries(view)) if (!known.has(field) && table.elsewhere?.has(field) !== true) extra[field] = value;
  row['extra'] = extra;
  return row;
}

function fromRow(table: Table, row: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [field, column, kind] of table.columns) {
    const value = row[column] ?? null;
    // NUMERIC arrives as a decimal string from both adapters; INTEGER as a number.
    setPath(view, field, kind === 'int' && value !== null ? Number(value) : value);
  }
  const extra = row['extra'];
  if (typeof extra === 'object' && extra !== null) Object.assign(view, extra);
  return view;
}

const topFields = new Map<Table, Set<string>>();
function mapped(table: Table): Set<string> {
  let set = topFields.get(table);
  if (set === undefined) {
    set = new Set(table.columns.map(([field]) => field.split('.')[0]!));
    topFields.set(table, set);
  }
  return set;
}

const columnList = (table: Table): string => [...table.columns.map(([, c]) => c), 'extra'].join(', ');

async function upsert(db: Db, table: Table, views: readonly Record<string, unknown>[]): Promise<void> {
  const columns = columnList(table);
  const updates = [...table.columns.map(([, c]) => c), 'extra'].filter((c) => c !== table.key).map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  for (let i = 0; i < views.length; i += ROWS_PER_STATEMENT) {
    const rows = views.slice(i, i + ROWS_PER_STATEMENT).map((v) => toRow(table, v));
    // jsonb_populate_recordset converts decimal strings with NUMERIC's own input function: exact.
    await db.query(
      `INSERT INTO ${table.name} (${columns})
       SELECT ${columns} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb)
       ON CONFLICT (${table.key}) DO UPDATE SET ${updates}`,
      [JSON.stringify(rows)],
    );
  }
}

async function remove(db: Db, table: Table, keys: string[]): Promise<void> {
  if (keys.length > 0) await db.query(`DELETE FROM ${table.name} WHERE ${table.key} = ANY($1::text[])`, [keys]);
}

async function selectAll(db: Db, table: Table): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(`SELECT ${columnList(table)} FROM ${table.name} ORDER BY ${table.key}`);
  return rows.map((r) => fromRow(table, r));
}

async function selectOne(db: Db, table: Table, key: string): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query(`SELECT ${columnList(table)} FROM ${table.name} WHERE ${table.key} = $1`, [key]);
  return rows[0] === undefined ? null : fromRow(table, rows[0]);
}

/** SQL array type of each column kind, for UPDATE … FROM unnest (JSON travels as text, cast per row). */
const ARRAY_TYPE: Record<Kind, string> = { text: 'text[]', num: 'numeric[]', bool: 'boolean[]', int: 'int[]', json: 'text[]' };

/** The sessions table's column of each SESSION_FIELDS bit. */
const SESSION_COLUMN_OF_BIT: readonly Column[] = SESSION_FIELDS.map((field) => {
  const column = SESSIONS.columns.find(([f]) => f === field);
  if (column === undefined) throw new Error(`sessions: no column for ${field}`);
  return column;
});

/** A column's value as a row of `UPDATE … FROM unnest` carries it. */
function cell(view: Record<string, unknown>, field: string, kind: Kind): unknown {
  const value = getPath(view, field) ?? null;
  return kind === 'json' && value !== null ? JSON.stringify(value) : value;
}

/**
 * Writes only the named columns of rows that exist: one UPDATE for the sessions sharing a field
 * mask (settling receipts changes the same few fields of every session it touches).
 */
async function updateSessionColumns(db: Db, mask: number, ids: readonly string[], views: readonly Record<string, unknown>[]): Promise<void> {
  const columns = SESSION_COLUMN_OF_BIT.filter((_c, i) => (mask & (1 << i)) !== 0);
  for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
    const part = views.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [ids.slice(i, i + ROWS_PER_STATEMENT)];
    for (const [field, , kind] of columns) params.push(part.map((v) => cell(v, field, kind)));
    const sets = columns.map(([, column, kind], j) => `${column} = u.c${j}${kind === 'json' ? '::jsonb' : ''}`).join(', ');
    const arrays = columns.map(([, , kind], j) => `$${j + 2}::${ARRAY_TYPE[kind]}`).join(', ');
    const names = columns.map((_c, j) => `c${j}`).join(', ');
    await db.query(`UPDATE sessions s SET ${sets} FROM unnest($1::text[], ${arrays}) AS u (id, ${names}) WHERE s.id = u.id`, params);
  }
}

/** Rows of one table a momentum writes: views to upsert whole, keys to delete. */
interface TableRows {
  present: Record<string, unknown>[];
  gone: string[];
}

/**
 * What a momentum writes, taken from the state as the momentum left it: plain data, so the state
 * may move on (the next momentum applied) while these rows are being written.
 */
export interface ChangedRows {
  accounts: TableRows;
  zApps: TableRows;
  providers: TableRows;
  /** Sessions created (or of unknown change) whole; the others by field mask, only those columns; removed ones deleted. */
  sessions: { whole: Record<string, unknown>[]; byMask: Map<number, { ids: string[]; views: Record<string, unknown>[] }>; gone: string[] };
  pending: PendingRows;
  /** The new burned total, when the momentum burned QSR. */
  burned: string | null;
}

function tableRows<K extends string, V>(keys: Iterable<K>, map: ReadonlyMap<K, V>, view: (k: K, v: V) => Record<string, unknown>): TableRows {
  const rows: TableRows = { present: [], gone: [] };
  for (const k of keys) {
    const v = map.get(k);
    if (v === undefined) rows.gone.push(k);
    else rows.present.push(view(k, v));
  }
  return rows;
}

/**
 * The sessions `changed` names: created ones (and those of unknown change) whole, the others only
 * in the columns that changed (a Settle moves a few numbers and hashes of a session, not its lists
 * and fixed terms); a session that ended as it was, not at all; removed ones deleted.
 */
function sessionRows(state: State, changed: Changed, sessionView: (id: Hash, s: Session) => SessionJson): ChangedRows['sessions'] {
  const rows: ChangedRows['sessions'] = { whole: [], byMask: new Map(), gone: [] };
  for (const id of changed.sessions) {
    const s = state.sessions.get(id);
    if (s === undefined) {
      rows.gone.push(id);
      continue;
    }
    const mask = changed.sessionFields.get(id) ?? ALL_SESSION_FIELDS;
    if (mask === 0) continue;
    const view: Record<string, unknown> = sessionView(id, s);
    if (mask === ALL_SESSION_FIELDS) {
      rows.whole.push(view);
      continue;
    }
    let group = rows.byMask.get(mask);
    if (group === undefined) rows.byMask.set(mask, (group = { ids: [], views: [] }));
    group.ids.push(id);
    group.views.push(view);
  }
  return rows;
}

/**
 * The rows of the entities `changed` names as they are in `state` now (O(changes)). `sessionView`:
 * sessionJson, or a memo of it shared with the momentum's digest.
 */
export function changedRows(state: State, changed: Changed, sessionView: (id: Hash, s: Session) => SessionJson = sessionJson): ChangedRows {
  return {
    accounts: tableRows(changed.accounts, state.accounts, accountJson),
    zApps: tableRows(changed.zApps, state.zApps, zAppJson),
    // Without the pending list, which has rows of its own (the changed entries): O(changes), not O(list).
    providers: tableRows(changed.providers, state.providers, (k, p) => providerJson(k, { ...p, pendingEarnings: [] })),
    sessions: sessionRows(state, changed, sessionView),
    pending: pendingRows(state, changed.pendingEarnings),
    burned: changed.burned ? state.burned.toString() : null,
  };
}

/** Writes rows made by `changedRows`. Run inside the momentum's transaction. */
export async function saveChangedRows(db: Db, rows: ChangedRows): Promise<void> {
  for (const [table, { present, gone }] of [[ACCOUNTS, rows.accounts], [ZAPPS, rows.zApps], [PROVIDERS, rows.providers]] as const) {
    await upsert(db, table, present);
    await remove(db, table, gone);
  }
  await upsert(db, SESSIONS, rows.sessions.whole);
  for (const [mask, { ids, views }] of rows.sessions.byMask) await updateSessionColumns(db, mask, ids, views);
  await remove(db, SESSIONS, rows.sessions.gone);
  await savePendingRows(db, rows.pending);
  if (rows.burned !== null) await saveBurned(db, rows.burned);
}

/** Writes the entities `changed` names as they are in `state` (deleting those it no longer holds). Run inside the momentum's transaction. */
export async function saveChanged(db: Db, state: State, changed: Changed): Promise<void> {
  await saveChangedRows(db, changedRows(state, changed));
}

/** The contract's global counters (one row). */
async function saveBurned(db: Db, burned: string): Promise<void> {
  await db.query('INSERT INTO contract_globals (id, burned) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET burned = EXCLUDED.burned', [burned]);
}

/** Writes every entity of the state (genesis, or a rebuild). */
export async function saveAll(db: Db, state: State): Promise<void> {
  const json = stateToJson(state);
  await upsert(db, ACCOUNTS, json.accounts);
  await upsert(db, ZAPPS, json.zApps);
  await upsert(db, PROVIDERS, json.providers);
  await saveAllPending(db, state);
  await upsert(db, SESSIONS, json.sessions);
  await saveBurned(db, state.burned.toString());
}

/** Accounts read per query when the whole state is loaded (keyset pages keep each result small). */
const ACCOUNTS_PER_PAGE = 50_000;
/** An address as the sequencer writes it (the contract's checksummed form; see loadAccounts). */
const STORED_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

const corrupt = (path: string, reason: string): never => {
  throw new ZgasError('InvalidField', { path, reason });
};

/**
 * Every account, page by page, straight into the contract's map. The accounts are most of a large
 * state (a million rows): each row is checked for form and range as it is read, without building
 * its JSON view first; the address is taken as stored, being the contract's own key written by
 * the sequencer (recomputing a million EIP-55 checksums would take seconds of the startup).
 */
async function loadAccounts(db: Db): Promise<Map<Address, Account>> {
  const out = new Map<Address, Account>();
  let after = '';
  for (;;) {
    const { rows } = await db.query<{ address: string; balance: string; nonce: string }>(
      'SELECT address, balance::text AS balance, nonce::text AS nonce FROM accounts WHERE address > $1 ORDER BY address LIMIT $2',
      [after, ACCOUNTS_PER_PAGE],
    );
    for (const r of rows) {
      if (!STORED_ADDRESS.test(r.address)) corrupt('accounts.address', 'expected an address');
      out.set(r.address as Address, { balance: parseQsr(r.balance), nonce: parseUint64(r.nonce) });
    }
    if (rows.length < ACCOUNTS_PER_PAGE) return out;
    after = rows[rows.length - 1]!.address;
  }
}

/**
 * Rebuilds the contract state from the tables. `base` supplies what genesis fixes (chain id,
 * contract, gas table, params, supply); the entities come from the rows.
 */
export async function loadState(db: Db, base: State): Promise<State> {
  // All reads on one snapshot: a momentum committing between two of them would leave them disagreeing.
  return db.snapshot(async (db) => {
    const globals = stateToJson(base);
    const accounts = await loadAccounts(db);
    let balances = 0n;
    for (const a of accounts.values()) balances += a.balance;
    const json: StateJson = {
      ...globals,
      // The other entities through the contract's strict reader, with the supply the accounts leave them.
      supply: (base.supply - balances).toString(),
      accounts: [],
      zApps: (await selectAll(db, ZAPPS)) as ZAppJson[],
      providers: (await withPending(db, await selectAll(db, PROVIDERS), null)) as ProviderJson[],
      sessions: (await selectAll(db, SESSIONS)) as SessionJson[],
      burned: (await db.query<{ burned: string }>('SELECT burned::text AS burned FROM contract_globals WHERE id = 1')).rows[0]?.burned ?? '0',
    };
    if (balances > base.supply) corrupt('supply', 'the accounts hold more than the supply');
    const state = stateFromJson(json);
    state.accounts = accounts;
    state.supply = base.supply;
    state.totals = computeTotals(state);
    const total = state.totals.balances + state.totals.escrow + state.totals.providers + state.burned;
    if (total !== state.supply || total > MAX_UINT256) corrupt('supply', 'the entities and burned do not add up to the supply');
    return state;
  });
}

// ── reads for the API (JSON views of docs/contract.md §State) ─────────────────────────────
export async function getAccount(db: Db, address: string): Promise<AccountJson | null> {
  return (await selectOne(db, ACCOUNTS, parseAddress(address))) as AccountJson | null;
}

export async function getZApp(db: Db, id: string): Promise<ZAppJson | null> {
  return (await selectOne(db, ZAPPS, parseHash(id))) as ZAppJson | null;
}

export async function getProvider(db: Db, address: string): Promise<ProviderJson | null> {
  // The row and its pending entries on one snapshot, so that they agree however momentums commit.
  return db.snapshot(async (s) => {
    const view = await selectOne(s, PROVIDERS, parseAddress(address));
    return view === null ? null : ((await withPending(s, [view], [view['address'] as string]))[0] as ProviderJson);
  });
}

export async function getSession(db: Db, id: string): Promise<SessionJson | null> {
  return (await selectOne(db, SESSIONS, parseHash(id))) as SessionJson | null;
}

/** Sessions of a provider not yet closed (for a runner catching up on aborts). */
export async function providerSessions(db: Db, provider: Address, limit = 1_000): Promise<SessionJson[]> {
  const { rows } = await db.query(
    `SELECT ${columnList(SESSIONS)} FROM sessions WHERE provider = $1 AND status <> 'closed' ORDER BY id LIMIT $2`,
    [parseAddress(provider), Math.max(0, Math.min(limit, 10_000))],
  );
  return rows.map((r) => fromRow(SESSIONS, r) as SessionJson);
}


/** Keys of the entities a partial state holds. */
export interface EntityKeys {
  accounts: Iterable<string>;
  zApps: Iterable<string>;
  providers: Iterable<string>;
  sessions: Iterable<string>;
}

/** Keys one partial load may name per kind. */
export const MAX_ENTITIES_PER_LOAD = 10_000;

async function selectMany(db: Db, table: Table, keys: Iterable<string>): Promise<Record<string, unknown>[]> {
  const list = [...new Set(keys)];
  if (list.length === 0) return [];
  if (list.length > MAX_ENTITIES_PER_LOAD) throw new ZgasError('LimitExceeded', { what: `${table.name} to load`, count: list.length, max: MAX_ENTITIES_PER_LOAD });
  const { rows } = await db.query(`SELECT ${columnList(table)} FROM ${table.name} WHERE ${table.key} = ANY($1::text[]) ORDER BY ${table.key}`, [list]);
  return rows.map((r) => fromRow(table, r));
}

/**
 * The entities named by `keys` as they are committed, as a state of their own (what genesis fixes
 * from `base`; the supply is what these entities hold). For checking one call against the latest
 * state without loading all of it: the contract only reads the entities a call names.
 */
export async function loadEntities(db: Db, base: State, keys: EntityKeys): Promise<State> {
  // On one snapshot, like loadState.
  return db.snapshot(async (db) => {
    const json = stateToJson(base);
    const partial: StateJson = {
      ...json,
      accounts: (await selectMany(db, ACCOUNTS, keys.accounts)) as AccountJson[],
      zApps: (await selectMany(db, ZAPPS, keys.zApps)) as ZAppJson[],
      providers: (await withProviderPending(db, await selectMany(db, PROVIDERS, keys.providers))) as ProviderJson[],
      sessions: (await selectMany(db, SESSIONS, keys.sessions)) as SessionJson[],
      burned: '0',
    };
    return stateFromJson({ ...partial, supply: supplyOf(partial) });
  });
}

/** Provider views with their pending entries. */
function withProviderPending(db: Db, views: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  return withPending(db, views, views.map((v) => v['address'] as string));
}

/** What the entities of a state view hold together (the supply of a partial state). */
function supplyOf(json: StateJson): string {
  let total = 0n;
  for (const a of json.accounts) total += BigInt(a.balance);
  for (const z of json.zApps) total += BigInt(z.available) + BigInt(z.held);
  for (const p of json.providers) {
    total += BigInt(p.stake) + BigInt(p.pendingTotal) + BigInt(p.claimable);
    for (const u of p.unbonding) total += BigInt(u.amount);
  }
  return total.toString();
}

/** Who must have signed a session's settlement receipts: its receipt signer and its user (both fixed at open). */
export interface SessionSigners {
  receiptSigner: Address;
  user: Address;
}

/** The signers of the sessions among `ids` that exist (keys lowercase). */
export async function sessionSigners(db: Db, ids: Iterable<string>): Promise<Map<Hash, SessionSigners>> {
  const list = [...new Set([...ids].map((id) => parseHash(id)))];
  const out = new Map<Hash, SessionSigners>();
  if (list.length === 0) return out;
  if (list.length > MAX_ENTITIES_PER_LOAD) throw new ZgasError('LimitExceeded', { what: 'sessions to load', count: list.length, max: MAX_ENTITIES_PER_LOAD });
  const { rows } = await db.query<{ id: Hash; receipt_signer: string; user_address: string }>(
    'SELECT id, receipt_signer, user_address FROM sessions WHERE id = ANY($1::text[])',
    [list],
  );
  for (const r of rows) out.set(r.id, { receiptSigner: parseAddress(r.receipt_signer), user: parseAddress(r.user_address) });
  return out;
}
