import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { accountJson, providerJson, sessionJson, stateFromJson, stateToJson, zAppJson } from '../../contracts/gas/state.ts';
import type { State, StateJson } from '../../contracts/gas/state.ts';
import type { Changed } from '../../contracts/gas/tx.ts';
import type { Db } from '../db/db.ts';
import { saveAllPending, savePending, withPending } from './pending.ts';

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

/** Writes the entities `changed` names as they are in `state` (deleting those it no longer holds). Run inside the momentum's transaction. */
export async function saveChanged(db: Db, state: State, changed: Changed): Promise<void> {
  const split = <K extends string, V>(keys: Iterable<K>, map: Map<K, V>, view: (k: K, v: V) => Record<string, unknown>) => {
    const present: Record<string, unknown>[] = [];
    const gone: string[] = [];
    for (const k of keys) {
      const v = map.get(k);
      if (v === undefined) gone.push(k);
      else present.push(view(k, v));
    }
    return { present, gone };
  };
  const parts = [
    [ACCOUNTS, split(changed.accounts, state.accounts, accountJson)],
    [ZAPPS, split(changed.zApps, state.zApps, zAppJson)],
    [PROVIDERS, split(changed.providers, state.providers, providerJson)],
    [SESSIONS, split(changed.sessions, state.sessions, sessionJson)],
  ] as const;
  for (const [table, { present, gone }] of parts) {
    await upsert(db, table, present);
    await remove(db, table, gone);
  }
  await savePending(db, state, changed.pendingEarnings);
  if (changed.burned) await saveGlobals(db, state);
}

/** The contract's global counters (one row). */
async function saveGlobals(db: Db, state: State): Promise<void> {
  await db.query(
    'INSERT INTO contract_globals (id, burned) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET burned = EXCLUDED.burned',
    [state.burned.toString()],
  );
}

/** Writes every entity of the state (genesis, or a rebuild). */
export async function saveAll(db: Db, state: State): Promise<void> {
  const json = stateToJson(state);
  await upsert(db, ACCOUNTS, json.accounts);
  await upsert(db, ZAPPS, json.zApps);
  await upsert(db, PROVIDERS, json.providers);
  await saveAllPending(db, state);
  await upsert(db, SESSIONS, json.sessions);
  await saveGlobals(db, state);
}

/**
 * Rebuilds the contract state from the tables. `base` supplies what genesis fixes (chain id,
 * contract, gas table, params, supply); the entities come from the rows.
 */
export async function loadState(db: Db, base: State): Promise<State> {
  const globals = stateToJson(base);
  const json: StateJson = {
    ...globals,
    accounts: (await selectAll(db, ACCOUNTS)) as AccountJson[],
    zApps: (await selectAll(db, ZAPPS)) as ZAppJson[],
    providers: (await withPending(db, await selectAll(db, PROVIDERS), null)) as ProviderJson[],
    sessions: (await selectAll(db, SESSIONS)) as SessionJson[],
    burned: (await db.query<{ burned: string }>('SELECT burned::text AS burned FROM contract_globals WHERE id = 1')).rows[0]?.burned ?? '0',
  };
  return stateFromJson(json);
}

// ── reads for the API (JSON views of DESIGN §5) ────────────────────────────────────────
export async function getAccount(db: Db, address: string): Promise<AccountJson | null> {
  return (await selectOne(db, ACCOUNTS, parseAddress(address))) as AccountJson | null;
}

export async function getZApp(db: Db, id: string): Promise<ZAppJson | null> {
  return (await selectOne(db, ZAPPS, parseHash(id))) as ZAppJson | null;
}

export async function getProvider(db: Db, address: string): Promise<ProviderJson | null> {
  const view = await selectOne(db, PROVIDERS, parseAddress(address));
  return view === null ? null : ((await withPending(db, [view], [view['address'] as string]))[0] as ProviderJson);
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
