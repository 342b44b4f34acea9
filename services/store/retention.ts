import type { Db } from '../db/db.ts';

/**
 * Dead row versions (or rows changed since the last analyze) a table may have before the retention
 * vacuums it: this many plus `VACUUM_DEAD_FRACTION` of its live rows (the shape of Postgres's
 * autovacuum threshold, tighter).
 */
export const VACUUM_MIN_DEAD_ROWS = 500;
export const VACUUM_DEAD_FRACTION = 0.1;

export interface VacuumedTable {
  table: string;
  /** Dead row versions, and rows changed since the last analyze, counted before the vacuum. */
  dead: number;
  modified: number;
}

interface TableStats {
  target: string;
  relname: string;
  live: string;
  dead: string;
  modified: string;
}

/**
 * Vacuums and analyzes the store's tables whose dead row versions, or rows changed since their
 * last analyze, passed the threshold. Every receipt copy is inserted, updated twice and deleted,
 * every call inserted, updated and deleted, every session row updated by each momentum: the space
 * of the old versions is reused only once a vacuum marked it free (page pruning alone frees it on
 * its page, but the free-space map that places new versions learns of it only from a vacuum — so
 * a table of a few rows updated many times grows too, while its dead-row count stays low). A
 * server may run without autovacuum, or with one that falls behind a steady delete rate: that
 * left the tables growing by the insert rate while their row counts stayed flat. Tables another
 * vacuum holds are skipped, not waited for.
 *
 * PGlite has no autovacuum and reports no counts to the statistics views: there every table is
 * vacuumed (pages all visible since the last vacuum are skipped, so an idle table costs little).
 */
export async function vacuumChurned(db: Db): Promise<VacuumedTable[]> {
  if (db.kind === 'pglite') {
    await db.query('VACUUM');
    return [{ table: '*', dead: 0, modified: 0 }];
  }
  const { rows } = await db.query<TableStats>(
    `SELECT format('%I.%I', schemaname, relname) AS target, relname, n_live_tup::text AS live, n_dead_tup::text AS dead, n_mod_since_analyze::text AS modified
     FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname`,
  );
  const out: VacuumedTable[] = [];
  for (const t of rows) {
    const threshold = VACUUM_MIN_DEAD_ROWS + VACUUM_DEAD_FRACTION * Number(t.live);
    const dead = Number(t.dead);
    const modified = Number(t.modified);
    if (dead <= threshold && modified <= threshold) continue;
    await db.query(`VACUUM (SKIP_LOCKED, ANALYZE) ${t.target}`);
    out.push({ table: t.relname, dead, modified });
  }
  return out;
}
