import type { Db } from '../db/db.ts';

/**
 * Receipts and calls stored but not yet applied (receipts awaiting verification or settlement: a
 * verified copy stays 'stored' until it settles; pending calls), counted up to `cap` + 1 at most
 * so the count stays cheap however large the backlog: the answer is exact up to the cap, and
 * `cap + 1` means "above it".
 */
export async function unappliedWork(db: Db, cap: number): Promise<number> {
  const bound = Math.max(0, Math.trunc(cap)) + 1;
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM receipts WHERE state = 'stored' LIMIT $1) s)
          + (SELECT count(*) FROM (SELECT 1 FROM calls WHERE status = 'pending' LIMIT $1) c) AS n`,
    [bound],
  );
  return Math.min(bound, Number(rows[0]?.n ?? 0));
}
