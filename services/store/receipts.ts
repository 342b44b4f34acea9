import { ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { concatBytes, hexToBytes, parseAddress, parseHash } from '../../contracts/hex.ts';
import { receiptFromJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, SettlementReceipt } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { NOTIFY_INPUTS } from './notices.ts';

/** Receipt copies one call may insert, load or mark (a Settle batch's size). */
export const MAX_RECEIPTS_PER_CALL = 1_000;
/**
 * Copies one submitter may have stored and not yet verified. Verification workers free the room
 * as they go; past it the submitter is refused (IntakeFull) until they catch up, so no client can
 * fill the store with copies that are never going to verify.
 */
export const MAX_UNVERIFIED_COPIES_PER_SUBMITTER = 100_000;
/** Bytes (JSON text) of the copies one submitter may have stored and not yet verified. */
export const MAX_UNVERIFIED_BYTES_PER_SUBMITTER = 64 * 1024 * 1024;
/** How long a copy that was rejected stays visible (GET /v1/receipts/:digest) before it expires. */
export const REJECTED_COPY_TTL_MS = 60 * 60 * 1000;

export type ReceiptState = 'stored' | 'verified' | 'applied' | 'rejected';

/**
 * The intake key of one submitted copy: SHA3-256(digest ‖ signature ‖ invocationSignature). The
 * receipt's identity (its digest) leaves the signatures out (docs/protocol.md §Signatures); the
 * intake keeps them, so a copy signed by anyone else never takes the place of the copy the
 * session's parties signed.
 */
export function receiptCopyKey(digest: Hash, receipt: SettlementReceipt): Hash {
  return sha3(concatBytes(hexToBytes(digest), hexToBytes(receipt.signature), hexToBytes(receipt.invocationSignature)));
}

export interface ReceiptCopy {
  copyKey: Hash;
  /** The receipt's EIP-712 digest (its identity). */
  digest: Hash;
  receipt: SettlementReceipt;
}

export interface StoredReceipt extends ReceiptCopy {
  state: ReceiptState;
  /** The recovered receipt signer, once verified. */
  signer: Address | null;
  /** The recovered invocation signer, once verified. */
  invocationSigner: Address | null;
  /** Why it was rejected (verification or contract), or null. */
  code: string | null;
  /** What settlement made of it: 'Settled', 'Duplicate', 'Fraud' or an error code. */
  outcome: string | null;
  momentumHeight: bigint | null;
}

interface ReceiptRow {
  copy_key: string;
  digest: string;
  signed: unknown;
  state: ReceiptState;
  signer: string | null;
  invocation_signer: string | null;
  code: string | null;
  outcome: string | null;
  momentum_height: string | null;
}

function limit(n: number, what: string): void {
  if (n > MAX_RECEIPTS_PER_CALL) throw new ZgasError('BatchTooLarge', { what, count: n, max: MAX_RECEIPTS_PER_CALL });
}

/** How much unverified intake one submitter may have stored. */
export interface IntakeBounds {
  copies: number;
  bytes: number;
}

export const DEFAULT_INTAKE_BOUNDS: Readonly<IntakeBounds> = Object.freeze({ copies: MAX_UNVERIFIED_COPIES_PER_SUBMITTER, bytes: MAX_UNVERIFIED_BYTES_PER_SUBMITTER });

export interface InsertOutcome {
  /** Digests of the copies stored now. */
  accepted: Hash[];
  /** Digests of copies already stored (the same signatures), or of receipts the contract already took. */
  duplicates: Hash[];
  /** Copy keys of the copies stored now: what the verification queue carries. */
  stored: Hash[];
  /** The submitter's unverified copies before this batch, if they were counted (from above), and what this batch added. */
  intake: { counted: IntakeCount | null; added: IntakeCount };
}

/**
 * Stores copies for settlement, durably before it returns. A copy already stored (same digest and
 * signatures, in any state) is a duplicate, as is a repeat within the batch and any copy of a
 * receipt the contract has already applied. A copy with other signatures than a stored one is
 * stored too. The submitter's unverified copies are bounded (IntakeFull past the bound).
 *
 * Counting them costs a visit to each (a long backlog makes every batch pay for all of it), so a
 * caller may give a recent `estimate` from above (an earlier outcome's `intake`): while the
 * estimate with this batch stays within half of each bound, nothing is counted.
 */
export async function insertReceipts(db: Db, copies: readonly ReceiptCopy[], submitter: string, bounds: IntakeBounds = DEFAULT_INTAKE_BOUNDS, estimate?: IntakeCount): Promise<InsertOutcome> {
  limit(copies.length, 'receipts');
  const keys = copies.map((c) => parseHash(c.copyKey));
  const firstAt = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!firstAt.has(k)) firstAt.set(k, i);
  });
  const candidates = [...firstAt.values()];
  const settled = candidates.length === 0 ? [] : (await db.query<{ digest: Hash }>(
    `SELECT DISTINCT digest FROM receipts WHERE digest = ANY($1::text[]) AND state = 'applied'`,
    [[...new Set(candidates.map((i) => copies[i]!.digest))]],
  )).rows;
  const applied = new Set(settled.map((r) => r.digest));
  const fresh = candidates.filter((i) => !applied.has(copies[i]!.digest)).map((i) => ({ i, text: JSON.stringify(receiptToJson(copies[i]!.receipt)) }));

  const inserted = new Set<string>();
  let counted: IntakeCount | null = null;
  let insertedBytes = 0;
  if (fresh.length > 0) {
    const bytes = fresh.reduce((n, b) => n + b.text.length, 0);
    const withinHalf = estimate !== undefined && 2 * (estimate.copies + fresh.length) <= bounds.copies && 2 * (estimate.bytes + bytes) <= bounds.bytes;
    if (!withinHalf) {
      // Stored copies bound the unverified ones from above: only when they do not fit are the
      // verified ones left out, a lookup each.
      const fits = (p: IntakeCount): boolean => p.copies + fresh.length <= bounds.copies && p.bytes + bytes <= bounds.bytes;
      const stored = await storedIntake(db, submitter, bounds, 'with verified');
      const pending = fits(stored) ? stored : await storedIntake(db, submitter, bounds, 'unverified');
      if (!fits(pending)) {
        throw new ZgasError('IntakeFull', { submitter, unverifiedCopies: pending.copies, maxCopies: bounds.copies, unverifiedBytes: pending.bytes, maxBytes: bounds.bytes });
      }
      counted = pending;
    }
    // Column arrays, and the receipts as one JSON array: Postgres checks the JSON once and stores
    // each element as written (a text[] of JSON would be escaped element by element on the way).
    const { rows } = await db.query<{ copy_key: Hash }>(
      `WITH stored AS (
         INSERT INTO receipts (copy_key, digest, session_id, seq, signed, submitter, size_bytes)
         SELECT u.copy_key, u.digest, u.session_id, u.seq, s.signed, $6, octet_length(s.signed::text)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[]) WITH ORDINALITY AS u(copy_key, digest, session_id, seq, i)
         JOIN json_array_elements($5::json) WITH ORDINALITY AS s(signed, i) ON s.i = u.i
         ON CONFLICT (copy_key) DO NOTHING
         RETURNING copy_key), ${tally('stored', 'stored')}
       SELECT copy_key FROM stored`,
      [
        fresh.map((b) => keys[b.i]!), fresh.map((b) => parseHash(copies[b.i]!.digest)), fresh.map((b) => parseHash(copies[b.i]!.receipt.sessionId)),
        fresh.map((b) => copies[b.i]!.receipt.seq.toString()), `[${fresh.map((b) => b.text).join(',')}]`, submitter,
      ],
    );
    for (const r of rows) inserted.add(r.copy_key);
    for (const b of fresh) if (inserted.has(keys[b.i]!)) insertedBytes += b.text.length;
  }
  // In input order: the first occurrence of a copy stored now is accepted, everything else a duplicate.
  const accepted: Hash[] = [];
  const duplicates: Hash[] = [];
  const stored: Hash[] = [];
  keys.forEach((k, i) => {
    const digest = parseHash(copies[i]!.digest);
    if (firstAt.get(k) === i && inserted.has(k)) {
      accepted.push(digest);
      stored.push(k);
    } else duplicates.push(digest);
  });
  return { accepted, duplicates, stored, intake: { counted, added: { copies: stored.length, bytes: insertedBytes } } };
}

interface IntakeCount {
  copies: number;
  bytes: number;
}

/**
 * A submitter's stored copies (all, or only those not verified yet) and their bytes, counted up to
 * bound + 1 copies. An index scan: it marks the entries of copies gone from 'stored' as dead on the
 * way, so later counts skip them (a bitmap scan would visit them all until a vacuum).
 */
async function storedIntake(db: Db, submitter: string, bounds: IntakeBounds, which: 'with verified' | 'unverified'): Promise<IntakeCount> {
  const unverified = which === 'unverified' ? 'AND NOT EXISTS (SELECT 1 FROM receipt_verifications v WHERE v.copy_key = r.copy_key)' : '';
  const { rows: [row] } = await db.query<{ copies: string; bytes: string }>(
    `SELECT count(*)::text AS copies, coalesce(sum(size_bytes), 0)::text AS bytes FROM (
       SELECT size_bytes FROM receipts r WHERE submitter = $1 AND state = 'stored' ${unverified} LIMIT $2) AS waiting`,
    [submitter, bounds.copies + 1],
  );
  return { copies: Number(row?.copies ?? '0'), bytes: Number(row?.bytes ?? '0') };
}

function toStored(row: ReceiptRow): StoredReceipt {
  return {
    copyKey: row.copy_key as Hash,
    digest: row.digest as Hash,
    receipt: receiptFromJson(row.signed),
    state: row.state,
    signer: row.signer === null ? null : parseAddress(row.signer),
    invocationSigner: row.invocation_signer === null ? null : parseAddress(row.invocation_signer),
    code: row.code,
    outcome: row.outcome,
    momentumHeight: row.momentum_height === null ? null : BigInt(row.momentum_height),
  };
}

/**
 * A copy's columns as the readers see them (`r`: receipts, `v`: its receipt_verifications row, if
 * any): a stored copy with a verification is 'verified', with the signers recorded there.
 */
const RECEIPT_COLUMNS = `r.copy_key, r.digest, r.signed, CASE WHEN v.copy_key IS NULL THEN r.state ELSE 'verified' END AS state,
  coalesce(v.signer, r.signer) AS signer, coalesce(v.invocation_signer, r.invocation_signer) AS invocation_signer, r.code, r.outcome, r.momentum_height`;
/** Receipts with their verification, if any (only a stored copy has one that counts). */
const RECEIPTS_WITH_VERIFICATION = `receipts r LEFT JOIN receipt_verifications v ON v.copy_key = r.copy_key AND r.state = 'stored'`;
/** The same for a few receipts: one primary-key lookup each (see markVerified), however many are verified. */
const FEW_RECEIPTS_WITH_VERIFICATION = `receipts r LEFT JOIN LATERAL
  (SELECT * FROM receipt_verifications WHERE copy_key = r.copy_key AND r.state = 'stored' OFFSET 0) v ON true`;

/** The stored copies among `copyKeys` (unknown keys are left out), in the order asked. */
export async function loadReceipts(db: Db, copyKeys: readonly Hash[]): Promise<StoredReceipt[]> {
  limit(copyKeys.length, 'copy keys');
  if (copyKeys.length === 0) return [];
  const wanted = copyKeys.map((d) => parseHash(d));
  const { rows } = await db.query<ReceiptRow>(`SELECT ${RECEIPT_COLUMNS} FROM ${FEW_RECEIPTS_WITH_VERIFICATION} WHERE r.copy_key = ANY($1::text[])`, [wanted]);
  const byKey = new Map(rows.map((r) => [r.copy_key, r]));
  const out: StoredReceipt[] = [];
  for (const d of new Set(wanted)) {
    const row = byKey.get(d);
    if (row !== undefined) out.push(toStored(row));
  }
  return out;
}

/** Copies of one receipt one lookup returns at most. */
export const MAX_COPIES_PER_LOOKUP = 100;

/**
 * The stored copies of a receipt (by digest), the one that went furthest first: applied, then
 * verified, stored, rejected.
 */
export async function receiptCopies(db: Db, digest: Hash): Promise<StoredReceipt[]> {
  const { rows } = await db.query<ReceiptRow>(
    `SELECT ${RECEIPT_COLUMNS} FROM ${FEW_RECEIPTS_WITH_VERIFICATION} WHERE r.digest = $1
     ORDER BY CASE WHEN r.state = 'applied' THEN 0 WHEN v.copy_key IS NOT NULL THEN 1 WHEN r.state = 'stored' THEN 2 ELSE 3 END, r.submitted_at, r.copy_key
     LIMIT $2`,
    [parseHash(digest), MAX_COPIES_PER_LOOKUP],
  );
  return rows.map(toStored);
}

/**
 * Records stored copies as verified with their recovered signers (a row of receipt_verifications
 * each; the receipt row is left as it is); copies past 'stored' or verified already are left as
 * they are, and so is a copy settled while this was recording it. Returns how many changed.
 *
 * Committed without waiting for the WAL flush: a verification lost in a crash leaves the copy
 * stored, and the reconciler sends it to verification again.
 */
export async function markVerified(db: Db, verified: readonly { copyKey: Hash; signer: Address; invocationSigner: Address }[]): Promise<number> {
  limit(verified.length, 'receipts');
  if (verified.length === 0) return 0;
  const keys = verified.map((v) => parseHash(v.copyKey));
  // One primary-key lookup per copy (the OFFSET 0 keeps the lookup a subquery of its own): a
  // join lets the planner scan every stored copy when its statistics are stale.
  const { rows } = await db.query<{ copy_key: Hash }>(
    `WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true)),
     verified AS (
       INSERT INTO receipt_verifications (copy_key, session_id, seq, signer, invocation_signer)
       SELECT u.copy_key, r.session_id, r.seq, u.signer, u.invocation_signer
       FROM unflushed, unnest($1::text[], $2::text[], $3::text[]) AS u(copy_key, signer, invocation_signer)
       CROSS JOIN LATERAL (SELECT session_id, seq FROM receipts WHERE copy_key = u.copy_key AND state = 'stored' OFFSET 0) r
       ON CONFLICT (copy_key) DO NOTHING
       RETURNING copy_key)
     SELECT copy_key, ${NOTIFY_INPUTS} FROM verified`,
    [keys, verified.map((v) => parseAddress(v.signer)), verified.map((v) => parseAddress(v.invocationSigner))],
  );
  if (rows.length === 0) return 0;
  // A copy whose settlement committed while this statement waited on the verification it deleted
  // was checked as stored before the wait and recorded verified after it: that row is stray. The
  // next statement sees the settlement, drops the row and leaves it uncounted.
  const { rows: strays } = await db.query(
    `WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true))
     DELETE FROM receipt_verifications v USING unflushed
     WHERE v.copy_key = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.copy_key = v.copy_key AND r.state = 'stored')
     RETURNING v.copy_key`,
    [rows.map((r) => r.copy_key)],
  );
  return rows.length - strays.length;
}

/**
 * Marks copies that failed verification as rejected with the error code, and drops their
 * verification if they had one (the sequencer found its signers or digest wrong); applied copies
 * are never changed. A rejected copy is final for itself only: other copies of the receipt are
 * rows of their own. Returns how many changed.
 */
export async function markRejected(db: Db, rejected: readonly { copyKey: Hash; code: ErrorCode }[]): Promise<number> {
  limit(rejected.length, 'receipts');
  if (rejected.length === 0) return 0;
  const keys = rejected.map((v) => parseHash(v.copyKey));
  const { rows } = await db.query(
    `WITH dropped AS (DELETE FROM receipt_verifications WHERE copy_key = ANY($1::text[])),
     rejected AS (
       UPDATE receipts r SET state = 'rejected', code = u.code, outcome = u.code, updated_at = now()
       FROM unnest($1::text[], $2::text[]) AS u(copy_key, code)
       WHERE r.copy_key = ANY($1::text[]) AND r.copy_key = u.copy_key AND r.state = 'stored'
       RETURNING r.copy_key), ${tally('moved', 'rejected')}
     SELECT copy_key FROM rejected`,
    [keys, rejected.map((v) => v.code)],
  );
  return rows.length;
}

/**
 * A statement's part that adds the rows of its CTE `from` to a tally of receipt_tallies (in the
 * statement itself, so the tally and the change it counts commit together): 'stored' counts every
 * copy stored, 'moved' every copy that left 'stored'. What waits is their difference.
 */
function tally(name: 'stored' | 'moved', from: string): string {
  return `counted AS (UPDATE receipt_tallies SET copies = copies + (SELECT count(*) FROM ${from}) WHERE name = '${name}' AND EXISTS (SELECT 1 FROM ${from}))`;
}

/**
 * With the deleted copies (`gone`), any verification left of them: a worker that verified a copy
 * again just as the sequencer settled it, and stopped before it dropped that row (markVerified),
 * leaves one. It never counts (a verification counts only while its copy is stored) and lives no
 * longer than its copy.
 */
const DROP_STRAY_VERIFICATIONS = `strays AS (DELETE FROM receipt_verifications WHERE copy_key IN (SELECT copy_key FROM gone))`;

/** Copies stored at least `olderThanMs` ago and still unverified, oldest first: what the reconciler enqueues again. */
export async function unverifiedReceipts(db: Db, opts: { olderThanMs: number; limit: number }): Promise<Hash[]> {
  const n = Math.max(0, Math.min(Math.trunc(opts.limit), MAX_RECEIPTS_PER_CALL));
  const olderThanMs = Math.max(0, Math.trunc(opts.olderThanMs));
  const { rows } = await db.query<{ copy_key: Hash }>(
    `SELECT copy_key FROM receipts r
     WHERE state = 'stored' AND submitted_at <= now() - ($1::bigint * interval '1 millisecond')
       AND NOT EXISTS (SELECT 1 FROM receipt_verifications v WHERE v.copy_key = r.copy_key)
     ORDER BY submitted_at, copy_key LIMIT $2`,
    [olderThanMs, n],
  );
  return rows.map((r) => r.copy_key);
}

/** Deletes copies rejected at least `olderThanMs` ago (at most `limit`); returns how many. */
export async function expireRejected(db: Db, opts: { olderThanMs: number; limit: number }): Promise<number> {
  const n = Math.max(0, Math.min(Math.trunc(opts.limit), MAX_RECEIPTS_PER_CALL));
  const olderThanMs = Math.max(0, Math.trunc(opts.olderThanMs));
  const { rows } = await db.query(
    `WITH gone AS (DELETE FROM receipts WHERE copy_key IN (
       SELECT copy_key FROM receipts
       WHERE state = 'rejected' AND updated_at <= now() - ($1::bigint * interval '1 millisecond')
       ORDER BY updated_at LIMIT $2)
     RETURNING copy_key), ${DROP_STRAY_VERIFICATIONS}
     SELECT copy_key FROM gone`,
    [olderThanMs, n],
  );
  return rows.length;
}

/**
 * Deletes applied copies (at most `limit`) settled in a momentum at least `olderThanMs` ago, and
 * copies the contract took as no-ops (outcome Duplicate: another copy of the receipt, or a newer
 * receipt of the session, settled it) after the shorter `duplicatesOlderThanMs`. The momentums keep
 * every input as it was applied, which is all `zgas replay` reads; a copy submitted again after
 * its row is gone is stored, verified and settled as a no-op. Returns how many were deleted.
 */
export async function expireApplied(db: Db, opts: { olderThanMs: number; duplicatesOlderThanMs: number; limit: number }): Promise<number> {
  const n = Math.max(0, Math.min(Math.trunc(opts.limit), MAX_RECEIPTS_PER_CALL));
  const { rows } = await db.query(
    `WITH gone AS (DELETE FROM receipts WHERE copy_key IN (
       SELECT copy_key FROM receipts
       WHERE state = 'applied' AND (updated_at <= now() - ($1::bigint * interval '1 millisecond')
             OR (outcome = 'Duplicate' AND updated_at <= now() - ($2::bigint * interval '1 millisecond')))
       ORDER BY updated_at LIMIT $3)
     RETURNING copy_key), ${DROP_STRAY_VERIFICATIONS}
     SELECT copy_key FROM gone`,
    [Math.max(0, Math.trunc(opts.olderThanMs)), Math.max(0, Math.trunc(opts.duplicatesOlderThanMs)), n],
  );
  return rows.length;
}

/** Counts of receipt copies by state (for metrics and readiness). */
export async function receiptCounts(db: Db): Promise<Record<ReceiptState, number>> {
  const { rows } = await db.query<{ state: ReceiptState; n: string }>(
    `SELECT CASE WHEN v.copy_key IS NULL THEN r.state ELSE 'verified' END AS state, count(*) AS n FROM ${RECEIPTS_WITH_VERIFICATION} GROUP BY 1`,
  );
  const out: Record<ReceiptState, number> = { stored: 0, verified: 0, applied: 0, rejected: 0 };
  for (const r of rows) out[r.state] = Number(r.n);
  return out;
}

// ── for the sequencer ──────────────────────────────────────────────────────────────────
/**
 * Verified copies waiting for settlement, ordered by session and seq, leaving out `exclude` (copy
 * keys of a batch whose momentum is being committed while the next one loads).
 */
export async function verifiedReceipts(db: Db, max: number, exclude: readonly Hash[] = []): Promise<StoredReceipt[]> {
  const n = Math.max(0, Math.min(Math.trunc(max), MAX_RECEIPTS_PER_CALL));
  limit(exclude.length, 'excluded copies');
  // A verification whose copy is no longer stored (verified again just as it settled) is stray:
  // it never counts, and goes with its copy when it expires. One primary-key lookup per verification (see
  // markVerified).
  const { rows } = await db.query<ReceiptRow>(
    `SELECT ${RECEIPT_COLUMNS} FROM receipt_verifications v
     CROSS JOIN LATERAL (SELECT * FROM receipts WHERE copy_key = v.copy_key AND state = 'stored' OFFSET 0) r
     WHERE v.copy_key <> ALL($2::text[])
     ORDER BY v.session_id, v.seq, v.copy_key LIMIT $1`,
    [n, [...exclude]],
  );
  return rows.map(toStored);
}

/**
 * Records settlement outcomes per verified copy: applied copies with their outcome, those the
 * contract rejected with their code. Each copy's verification is consumed (deleted) and its
 * signers move onto the receipt row, so an outcome is recorded exactly once: a copy without a
 * verification is left as it is. The keys are primary-key lookups: a stored copy's state is not
 * tested again (the sequencer loaded them stored, and only it moves a verified copy on).
 */
export async function markSettled(db: Db, height: bigint, outcomes: readonly { copyKey: Hash; applied: boolean; outcome: string; code: string | null }[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `WITH settled AS (DELETE FROM receipt_verifications v USING unnest($1::text[]) AS k(copy_key) WHERE v.copy_key = k.copy_key
                      RETURNING v.copy_key, v.signer, v.invocation_signer),
     moved AS (
       UPDATE receipts r SET state = CASE WHEN u.applied THEN 'applied' ELSE 'rejected' END,
         signer = s.signer, invocation_signer = s.invocation_signer,
         outcome = u.outcome, code = u.code, momentum_height = $5, updated_at = now()
       FROM settled s JOIN unnest($1::text[], $2::boolean[], $3::text[], $4::text[]) AS u(copy_key, applied, outcome, code) ON u.copy_key = s.copy_key
       WHERE r.copy_key = ANY($1::text[]) AND r.copy_key = s.copy_key
       RETURNING r.copy_key), ${tally('moved', 'moved')}
     SELECT count(*) FROM moved`,
    [outcomes.map((o) => o.copyKey), outcomes.map((o) => o.applied), outcomes.map((o) => o.outcome), outcomes.map((o) => o.code), height.toString()],
  );
}
