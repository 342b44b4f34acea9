import { pendingEntry } from '../../contracts/gas/ops.ts';
import type { State } from '../../contracts/gas/state.ts';
import { parsePendingKey } from '../../contracts/gas/tx.ts';
import type { PendingKey } from '../../contracts/gas/tx.ts';
import type { Db } from '../db/db.ts';

/** Entries one statement writes or deletes at most. */
const ENTRIES_PER_STATEMENT = 5_000;

interface PendingRow {
  provider: string;
  claimable_at: string;
  session_id: string;
  amount: string;
}

/** A provider's pending entry as its JSON view holds it. */
interface EntryJson {
  sessionId: string;
  amount: string;
  claimableAt: string;
}

async function upsertEntries(db: Db, rows: readonly (readonly [provider: string, claimableAt: string, sessionId: string, amount: string])[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ENTRIES_PER_STATEMENT) {
    const part = rows.slice(i, i + ENTRIES_PER_STATEMENT);
    await db.query(
      `INSERT INTO pending_earnings (provider, claimable_at, session_id, amount)
       SELECT * FROM unnest($1::text[], $2::numeric[], $3::text[], $4::numeric[])
       ON CONFLICT (provider, claimable_at, session_id) DO UPDATE SET amount = EXCLUDED.amount`,
      [part.map((r) => r[0]), part.map((r) => r[1]), part.map((r) => r[2]), part.map((r) => r[3])],
    );
  }
}

async function deleteEntries(db: Db, keys: readonly (readonly [provider: string, claimableAt: string, sessionId: string])[]): Promise<void> {
  for (let i = 0; i < keys.length; i += ENTRIES_PER_STATEMENT) {
    const part = keys.slice(i, i + ENTRIES_PER_STATEMENT);
    await db.query(
      `DELETE FROM pending_earnings p USING unnest($1::text[], $2::numeric[], $3::text[]) AS d (provider, claimable_at, session_id)
       WHERE p.provider = d.provider AND p.claimable_at = d.claimable_at AND p.session_id = d.session_id`,
      [part.map((k) => k[0]), part.map((k) => k[1]), part.map((k) => k[2])],
    );
  }
}

/** The pending entries a momentum changed, as rows: present ones to upsert, the others to delete. */
export interface PendingRows {
  present: [provider: string, claimableAt: string, sessionId: string, amount: string][];
  gone: [provider: string, claimableAt: string, sessionId: string][];
}

/** The rows of the pending entries `keys` names, as `state` holds them now (a snapshot: later changes to the state do not reach it). */
export function pendingRows(state: State, keys: ReadonlySet<PendingKey>): PendingRows {
  const rows: PendingRows = { present: [], gone: [] };
  for (const key of keys) {
    const { provider, claimableAt, sessionId } = parsePendingKey(key);
    const p = state.providers.get(provider);
    const e = p === undefined ? undefined : pendingEntry(p, claimableAt, sessionId);
    if (e === undefined) rows.gone.push([provider, claimableAt.toString(), sessionId]);
    else rows.present.push([provider, claimableAt.toString(), sessionId, e.amount.toString()]);
  }
  return rows;
}

/** Writes pending rows made by `pendingRows`. */
export async function savePendingRows(db: Db, rows: PendingRows): Promise<void> {
  await deleteEntries(db, rows.gone);
  await upsertEntries(db, rows.present);
}

/**
 * Writes the pending entries a momentum changed (`keys`, from the contract's Changed) as `state`
 * holds them: present ones upserted, the others deleted. O(changes), whatever the lists' length.
 */
export async function savePending(db: Db, state: State, keys: ReadonlySet<PendingKey>): Promise<void> {
  await savePendingRows(db, pendingRows(state, keys));
}

/** Writes every pending entry of the state (genesis, or a rebuild). */
export async function saveAllPending(db: Db, state: State): Promise<void> {
  const rows: [string, string, string, string][] = [];
  for (const [provider, p] of state.providers) for (const e of p.pendingEarnings) rows.push([provider, e.claimableAt.toString(), e.sessionId, e.amount.toString()]);
  await upsertEntries(db, rows);
}

/**
 * Provider views with their `pendingEarnings` from the rows, in the contract's order (claimableAt,
 * then sessionId bytewise). `providers`: whose entries to read (null: every provider's).
 */
export async function withPending(db: Db, views: Record<string, unknown>[], providers: readonly string[] | null): Promise<Record<string, unknown>[]> {
  if (views.length === 0) return views;
  const { rows } = providers === null
    ? await db.query<PendingRow>('SELECT provider, claimable_at::text AS claimable_at, session_id, amount::text AS amount FROM pending_earnings ORDER BY provider, claimable_at, session_id')
    : await db.query<PendingRow>(
      'SELECT provider, claimable_at::text AS claimable_at, session_id, amount::text AS amount FROM pending_earnings WHERE provider = ANY($1::text[]) ORDER BY provider, claimable_at, session_id',
      [[...providers]],
    );
  const byProvider = new Map<string, EntryJson[]>();
  for (const r of rows) {
    let list = byProvider.get(r.provider);
    if (list === undefined) byProvider.set(r.provider, (list = []));
    list.push({ sessionId: r.session_id, amount: r.amount, claimableAt: r.claimable_at });
  }
  for (const v of views) v['pendingEarnings'] = byProvider.get(v['address'] as string) ?? [];
  return views;
}
