import { ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import { receiptFromJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, SignedReceipt } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';

/** Receipts one call may insert, load or mark (a Settle batch's size). */
export const MAX_RECEIPTS_PER_CALL = 1_000;

export type ReceiptState = 'stored' | 'verified' | 'applied' | 'rejected';

export interface StoredReceipt {
  digest: Hash;
  receipt: SignedReceipt;
  state: ReceiptState;
  /** The recovered signer, once verified. */
  signer: Address | null;
  /** Why it was rejected (verification or contract), or the contract's failure code when applied. */
  code: string | null;
  /** What settlement made of it: 'Settled', 'Duplicate', 'Fraud' or an error code. */
  outcome: string | null;
  momentumHeight: bigint | null;
}

interface ReceiptRow {
  digest: string;
  signed: unknown;
  state: ReceiptState;
  signer: string | null;
  code: string | null;
  outcome: string | null;
  momentum_height: string | null;
}

function limit(n: number, what: string): void {
  if (n > MAX_RECEIPTS_PER_CALL) throw new ZgasError('BatchTooLarge', { what, count: n, max: MAX_RECEIPTS_PER_CALL });
}

/**
 * Stores receipts for settlement, durably before it returns. `digests[i]` is the EIP-712 digest of
 * `receipts[i]` (computed by the caller). A receipt already stored — in any state — is a duplicate,
 * as is a repeat within the batch.
 */
export async function insertReceipts(db: Db, receipts: SignedReceipt[], digests: Hash[]): Promise<{ accepted: Hash[]; duplicates: Hash[] }> {
  if (receipts.length !== digests.length) throw new ZgasError('InvalidRequest', { reason: 'one digest per receipt' });
  limit(receipts.length, 'receipts');
  const seen = new Set<string>();
  const batch: { digest: Hash; receipt: SignedReceipt }[] = [];
  const duplicates: Hash[] = [];
  receipts.forEach((receipt, i) => {
    const digest = parseHash(digests[i]);
    if (seen.has(digest)) duplicates.push(digest);
    else {
      seen.add(digest);
      batch.push({ digest, receipt });
    }
  });
  if (batch.length === 0) return { accepted: [], duplicates };
  // One JSON document for the whole batch: text arrays of JSON would cost the driver an escaping
  // pass over every character of every receipt.
  const { rows } = await db.query<{ digest: Hash }>(
    `INSERT INTO receipts (digest, session_id, seq, signed)
     SELECT e->>'d', e->'r'->>'sessionId', (e->'r'->>'seq')::numeric, e->'r' FROM jsonb_array_elements($1::jsonb) AS e
     ON CONFLICT (digest) DO NOTHING
     RETURNING digest`,
    [JSON.stringify(batch.map((b) => ({ d: b.digest, r: receiptToJson(b.receipt) })))],
  );
  const inserted = new Set(rows.map((r) => r.digest));
  const accepted: Hash[] = [];
  for (const b of batch) (inserted.has(b.digest) ? accepted : duplicates).push(b.digest);
  return { accepted, duplicates };
}

function toStored(row: ReceiptRow): StoredReceipt {
  return {
    digest: row.digest as Hash,
    receipt: receiptFromJson(row.signed),
    state: row.state,
    signer: row.signer === null ? null : parseAddress(row.signer),
    code: row.code,
    outcome: row.outcome,
    momentumHeight: row.momentum_height === null ? null : BigInt(row.momentum_height),
  };
}

const RECEIPT_COLUMNS = 'digest, signed, state, signer, code, outcome, momentum_height';

/** The stored receipts among `digests` (unknown digests are left out), in the order asked. */
export async function loadReceipts(db: Db, digests: Hash[]): Promise<StoredReceipt[]> {
  limit(digests.length, 'digests');
  if (digests.length === 0) return [];
  const wanted = digests.map((d) => parseHash(d));
  const { rows } = await db.query<ReceiptRow>(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE digest = ANY($1::text[])`, [wanted]);
  const byDigest = new Map(rows.map((r) => [r.digest, r]));
  const out: StoredReceipt[] = [];
  for (const d of new Set(wanted)) {
    const row = byDigest.get(d);
    if (row !== undefined) out.push(toStored(row));
  }
  return out;
}

/** Marks stored receipts as verified with their recovered signer; receipts past 'stored' are left as they are. Returns how many changed. */
export async function markVerified(db: Db, verified: { digest: Hash; signer: Address }[]): Promise<number> {
  limit(verified.length, 'receipts');
  if (verified.length === 0) return 0;
  const { rows } = await db.query(
    `UPDATE receipts r SET state = 'verified', signer = u.signer, updated_at = now()
     FROM unnest($1::text[], $2::text[]) AS u(digest, signer)
     WHERE r.digest = u.digest AND r.state = 'stored'
     RETURNING r.digest`,
    [verified.map((v) => parseHash(v.digest)), verified.map((v) => parseAddress(v.signer))],
  );
  return rows.length;
}

/** Marks receipts that failed verification as rejected with the error code; applied receipts are never changed. Returns how many changed. */
export async function markRejected(db: Db, rejected: { digest: Hash; code: ErrorCode }[]): Promise<number> {
  limit(rejected.length, 'receipts');
  if (rejected.length === 0) return 0;
  const { rows } = await db.query(
    `UPDATE receipts r SET state = 'rejected', code = u.code, outcome = u.code, updated_at = now()
     FROM unnest($1::text[], $2::text[]) AS u(digest, code)
     WHERE r.digest = u.digest AND r.state IN ('stored', 'verified')
     RETURNING r.digest`,
    [rejected.map((v) => parseHash(v.digest)), rejected.map((v) => v.code)],
  );
  return rows.length;
}

/** Receipts stored at least `olderThanMs` ago and still unverified, oldest first: what the reconciler enqueues again. */
export async function unverifiedReceipts(db: Db, opts: { olderThanMs: number; limit: number }): Promise<Hash[]> {
  const n = Math.max(0, Math.min(Math.trunc(opts.limit), MAX_RECEIPTS_PER_CALL));
  const olderThanMs = Math.max(0, Math.trunc(opts.olderThanMs));
  const { rows } = await db.query<{ digest: Hash }>(
    `SELECT digest FROM receipts
     WHERE state = 'stored' AND submitted_at <= now() - ($1::bigint * interval '1 millisecond')
     ORDER BY submitted_at, digest LIMIT $2`,
    [olderThanMs, n],
  );
  return rows.map((r) => r.digest);
}

/** Counts of receipts by state (for metrics and readiness). */
export async function receiptCounts(db: Db): Promise<Record<ReceiptState, number>> {
  const { rows } = await db.query<{ state: ReceiptState; n: string }>('SELECT state, count(*) AS n FROM receipts GROUP BY state');
  const out: Record<ReceiptState, number> = { stored: 0, verified: 0, applied: 0, rejected: 0 };
  for (const r of rows) out[r.state] = Number(r.n);
  return out;
}

// ── for the sequencer ──────────────────────────────────────────────────────────────────
/**
 * Verified receipts waiting for settlement, ordered by session and seq, leaving out `exclude` (a
 * batch whose momentum is being committed while the next one loads).
 */
export async function verifiedReceipts(db: Db, max: number, exclude: readonly Hash[] = []): Promise<StoredReceipt[]> {
  const n = Math.max(0, Math.min(Math.trunc(max), MAX_RECEIPTS_PER_CALL));
  limit(exclude.length, 'excluded digests');
  const { rows } = exclude.length === 0
    ? await db.query<ReceiptRow>(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE state = 'verified' ORDER BY session_id, seq, digest LIMIT $1`, [n])
    : await db.query<ReceiptRow>(
      `SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE state = 'verified' AND digest <> ALL($2::text[]) ORDER BY session_id, seq, digest LIMIT $1`,
      [n, [...exclude]],
    );
  return rows.map(toStored);
}

/** Records settlement outcomes: applied receipts with their outcome; those the contract rejected with their code. */
export async function markSettled(db: Db, height: bigint, outcomes: { digest: Hash; applied: boolean; outcome: string; code: string | null }[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `UPDATE receipts r SET state = CASE WHEN u.applied THEN 'applied' ELSE 'rejected' END,
       outcome = u.outcome, code = u.code, momentum_height = $5, updated_at = now()
     FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[]) AS u(digest, applied, outcome, code)
     WHERE r.digest = u.digest AND r.state = 'verified'`,
    [outcomes.map((o) => o.digest), outcomes.map((o) => o.applied), outcomes.map((o) => o.outcome), outcomes.map((o) => o.code), height.toString()],
  );
}
