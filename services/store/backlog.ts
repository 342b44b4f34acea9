import { InvariantViolation } from '../../contracts/errors.ts';
import type { Db } from '../db/db.ts';

/**
 * Receipts and calls stored but not yet applied: receipt copies still 'stored' (awaiting
 * verification or settlement), from the tallies kept as they arrive and leave, and pending calls,
 * counted up to `cap` + 1 so the count stays cheap however large the backlog: the answer is exact
 * up to the cap, and `cap + 1` means "above it".
 */
export async function unappliedWork(db: Db, cap: number): Promise<number> {
  const bound = Math.max(0, Math.trunc(cap)) + 1;
  const { rows } = await db.query<{ receipts: string; calls: string }>(
    `SELECT (SELECT sum(CASE WHEN name = 'stored' THEN copies ELSE -copies END) FROM receipt_tallies)::text AS receipts,
            (SELECT count(*) FROM (SELECT 1 FROM calls WHERE status = 'pending' LIMIT $1) c)::text AS calls`,
    [bound],
  );
  const receipts = Number(rows[0]?.receipts ?? 0);
  if (!(receipts >= 0)) throw new InvariantViolation(`receipt tallies: more copies moved on than were stored (${rows[0]?.receipts})`);
  return Math.min(bound, receipts + Number(rows[0]?.calls ?? 0));
}
