import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import { callFromJson, callToJson } from '../../contracts/json.ts';
import type { Address, Hash, SignedCall } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { NOTIFY_INPUTS } from './notices.ts';

export type CallStatus = 'pending' | 'applied' | 'failed';

/** What GET /v1/calls/:hash reports. */
export interface CallRecord {
  status: CallStatus;
  code?: string;
  momentumHeight?: bigint;
  result?: unknown;
}

/** Pending calls one sequencer batch takes at most. */
export const MAX_CALLS_PER_BATCH = 1_000;
/** Settled calls one expiry deletes at most. */
export const MAX_CALLS_PER_EXPIRY = 1_000;

/**
 * Stores a signed call (its signature and nonce already checked by the caller) for the sequencer.
 * The same call again is 'duplicate'; another call with the same sender and nonce is BadNonce.
 */
export async function insertCall(db: Db, signed: SignedCall, callHash: Hash): Promise<'accepted' | 'duplicate'> {
  const hash = parseHash(callHash);
  const from = parseAddress(signed.from);
  const { rows } = await db.query(
    `WITH stored AS (
       INSERT INTO calls (hash, from_address, nonce, signed) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT DO NOTHING RETURNING hash)
     SELECT hash, ${NOTIFY_INPUTS} FROM stored`,
    [hash, from, signed.nonce.toString(), JSON.stringify(callToJson(signed))],
  );
  if (rows.length > 0) return 'accepted';
  const existing = await db.query('SELECT 1 FROM calls WHERE hash = $1', [hash]);
  if (existing.rows.length > 0) return 'duplicate';
  throw new ZgasError('BadNonce', { from, nonce: signed.nonce.toString(), reason: 'another call with this nonce is already stored' });
}

interface CallRow {
  status: CallStatus;
  code: string | null;
  momentum_height: string | null;
  result: unknown;
}

export async function getCall(db: Db, hash: string): Promise<CallRecord | null> {
  const { rows } = await db.query<CallRow>('SELECT status, code, momentum_height, result FROM calls WHERE hash = $1', [parseHash(hash)]);
  const row = rows[0];
  if (row === undefined) return null;
  const record: CallRecord = { status: row.status };
  if (row.code !== null) record.code = row.code;
  if (row.momentum_height !== null) record.momentumHeight = BigInt(row.momentum_height);
  if (row.result !== null && row.result !== undefined) record.result = row.result;
  return record;
}

/** The nonce the account's next call must carry, counting calls stored but not yet applied. */
export async function pendingNonce(db: Db, address: string): Promise<bigint> {
  const from = parseAddress(address);
  const { rows } = await db.query<{ next: string | null }>(
    `SELECT GREATEST(
       (SELECT nonce FROM accounts WHERE address = $1),
       (SELECT max(nonce) + 1 FROM calls WHERE from_address = $1 AND (status <> 'failed' OR momentum_height IS NOT NULL))
     )::text AS next`,
    [from],
  );
  return BigInt(rows[0]?.next ?? '0');
}

// ── for the sequencer ──────────────────────────────────────────────────────────────────
export interface PendingCall {
  hash: Hash;
  call: SignedCall;
}

/**
 * Pending calls the contract can take now, ordered by sender then nonce: for each sender the run
 * of consecutive nonces starting at its account's next nonce (`nextNonce`, from the contract
 * state). A sender's calls after a gap wait. `exclude`: calls of a momentum being committed while
 * the next batch loads.
 */
export async function pendingCalls(db: Db, max: number, nextNonce: (from: Address) => bigint, exclude: readonly Hash[] = []): Promise<PendingCall[]> {
  const n = Math.max(0, Math.min(Math.trunc(max), MAX_CALLS_PER_BATCH));
  if (exclude.length > MAX_CALLS_PER_BATCH) throw new ZgasError('BatchTooLarge', { what: 'excluded calls', count: exclude.length, max: MAX_CALLS_PER_BATCH });
  const { rows } = exclude.length === 0
    ? await db.query<{ hash: Hash; signed: unknown }>(`SELECT hash, signed FROM calls WHERE status = 'pending' ORDER BY from_address, nonce LIMIT $1`, [n])
    : await db.query<{ hash: Hash; signed: unknown }>(
      `SELECT hash, signed FROM calls WHERE status = 'pending' AND hash <> ALL($2::text[]) ORDER BY from_address, nonce LIMIT $1`,
      [n, [...exclude]],
    );
  const expected = new Map<Address, bigint>();
  const out: PendingCall[] = [];
  for (const row of rows) {
    const call = callFromJson(row.signed);
    const want = expected.get(call.from) ?? nextNonce(call.from);
    if (call.nonce < want) continue; // already taken by an applied call: never the next one
    if (call.nonce !== want) {
      expected.set(call.from, -1n); // a gap: nothing more from this sender in this batch
      continue;
    }
    expected.set(call.from, want + 1n);
    out.push({ hash: row.hash, call });
  }
  return out;
}

/** Records the calls' outcomes at `height`. */
export async function markCalls(db: Db, height: bigint, outcomes: { hash: Hash; ok: boolean; code: string | null; result: unknown }[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `UPDATE calls c SET status = CASE WHEN u.ok THEN 'applied' ELSE 'failed' END, code = u.code, result = u.result::jsonb, momentum_height = $5, settled_at = now()
     FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[]) AS u(hash, ok, code, result)
     WHERE c.hash = u.hash AND c.status = 'pending'`,
    [outcomes.map((o) => o.hash), outcomes.map((o) => o.ok), outcomes.map((o) => o.code), outcomes.map((o) => JSON.stringify(o.result ?? null)), height.toString()],
  );
}

/** Records calls refused before any momentum (their signature or data does not hold): failed, holding no nonce. */
export async function markRefused(db: Db, refused: { hash: Hash; code: string }[]): Promise<void> {
  if (refused.length === 0) return;
  await db.query(
    `UPDATE calls c SET status = 'failed', code = u.code, settled_at = now()
     FROM unnest($1::text[], $2::text[]) AS u(hash, code)
     WHERE c.hash = u.hash AND c.status = 'pending'`,
    [refused.map((r) => r.hash), refused.map((r) => r.code)],
  );
}

/**
 * Deletes calls settled (applied or failed) at least `olderThanMs` ago, oldest first, at most
 * `limit`; how many. Nothing later needs them: `zgas replay` reads the calls from the momentums,
 * the nonce checks read the accounts' nonces (an applied call's nonce is below its sender's), and
 * GET /v1/calls/:hash answers NotFound for a call deleted this way, as for one never submitted.
 * Pending calls are never deleted.
 */
export async function expireCalls(db: Db, opts: { olderThanMs: number; limit: number }): Promise<number> {
  const n = Math.max(0, Math.min(Math.trunc(opts.limit), MAX_CALLS_PER_EXPIRY));
  const { rows } = await db.query(
    `DELETE FROM calls WHERE hash IN (
       SELECT hash FROM calls
       WHERE status <> 'pending' AND settled_at <= now() - ($1::bigint * interval '1 millisecond')
       ORDER BY settled_at LIMIT $2)
     RETURNING hash`,
    [Math.max(0, Math.trunc(opts.olderThanMs)), n],
  );
  return rows.length;
}
