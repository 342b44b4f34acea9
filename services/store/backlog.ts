import { InvariantViolation } from '../../contracts/errors.ts';
import type { Db } from '../db/db.ts';

/**
 * Receipts and calls stored but not yet applied: receipt copies still 'stored' (awaiting
 * verification or settlement), from the tallies kept as they arrive and leave, and pending calls,
 * counted up to `cap` + 1 so the count stays cheap however large the backlog: the answer is exact
 * up to the cap, and `cap + 1` means "above it".
 */
/** The copies the tallies say wait: every copy stored less every copy that left 'stored'. */
const TALLIED_WAITING = `SELECT sum(CASE WHEN name = 'stored' THEN copies ELSE -copies END) FROM receipt_tallies`;

export async function unappliedWork(db: Db, cap: number): Promise<number> {
  const bound = Math.max(0, Math.trunc(cap)) + 1;
  const { rows } = await db.query<{ receipts: string; calls: string }>(
    `SELECT (${TALLIED_WAITING})::text AS receipts,
            (SELECT count(*) FROM (SELECT 1 FROM calls WHERE status = 'pending' LIMIT $1) c)::text AS calls`,
    [bound],
  );
  const receipts = Number(rows[0]?.receipts ?? 0);
  if (!(receipts >= 0)) throw new InvariantViolation(`receipt tallies: more copies moved on than were stored (${rows[0]?.receipts})`);
  return Math.min(bound, receipts + Number(rows[0]?.calls ?? 0));
}

/**
 * Sets the receipt tallies to what the store holds: 'stored' to the copies still stored, 'moved'
 * to 0. Both rows are locked first, so a statement that stores or settles copies meanwhile waits
 * for this transaction and then adds its own copies to the values set here, while the count sees
 * every copy whose tally change committed before. Nothing the pipeline does makes them drift; a
 * change made to the receipts table by hand, or by a process of an earlier version, would.
 * Returns the drift it corrected (tallied − counted).
 */
export async function resyncReceiptTallies(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT 1 FROM receipt_tallies ORDER BY name FOR UPDATE`);
    const { rows: [row] } = await tx.query<{ tallied: string; counted: string }>(
      `SELECT (${TALLIED_WAITING})::text AS tallied, (SELECT count(*) FROM receipts WHERE state = 'stored')::text AS counted`,
    );
    const tallied = BigInt(row?.tallied ?? '0');
    const counted = BigInt(row?.counted ?? '0');
    if (tallied !== counted) await tx.query(`UPDATE receipt_tallies SET copies = CASE WHEN name = 'stored' THEN $1::bigint ELSE 0 END`, [counted.toString()]);
    return Number(tallied - counted);
  });
}
