import type { Db } from '../db/db.ts';

/**
 * Dead row versions a table may hold before the retention vacuums it: this many plus
 * `VACUUM_DEAD_FRACTION` of its live rows (the shape of Postgres's autovacuum threshold, tighter).
 */
export const VACUUM_MIN_DEAD_ROWS = 500;
export const VACUUM_DEAD_FRACTION = 0.1;

export interface VacuumedTable {
  table: string;
  /** Dead row versions counted before the vacuum. */
  dead: number;
  analyzed: boolean;
}

interface TableStats {
  target: string;
  relname: string;
  live: string;
  dead: string;
  modified: string;
}

/**
 * Vacuums (and analyzes) the store's tables whose dead row versions or changes since the last
 * analyze passed the threshold. Every receipt copy is inserted, updated twice and deleted, every
 * call inserted, updated and deleted: the space of those versions is reused only once a vacuum
 * marked it free, and a server may run without autovacuum (or with one that falls behind a
 * steady delete rate), which left the tables growing by the insert rate while their row counts
 * stayed flat. Tables another vacuum holds are skipped, not waited for.
 *
 * PGlite has no autovacuum and reports no counts to the statistics views: there every table is
 * vacuumed (pages all visible since the last vacuum are skipped, so an idle table costs little).
 */
export async function vacuumChurned(db: Db): Promise<VacuumedTable[]> {
  if (db.kind === 'pglite') {
    await db.query('VACUUM');
    return [{ table: '*', dead: 0, analyzed: false }];
  }
  const { rows } = await db.query<TableStats>(
    `SELECT format('%I.%I', schemaname, relname) AS target, relname, n_live_tup::text AS live, n_dead_tup::text AS dead, n_mod_since_analyze::text AS modified
     FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname`,
  );
  const out: VacuumedTable[] = [];
  for (const t of rows) {
    const threshold = VACUUM_MIN_DEAD_ROWS + VACUUM_DEAD_FRACTION * Number(t.live);
    const dead = Number(t.dead);
    const analyze = Number(t.modified) > threshold;
    if (dead > threshold) {
      await db.query(`VACUUM (SKIP_LOCKED${analyze ? ', ANALYZE' : ''}) ${t.target}`);
      out.push({ table: t.relname, dead, analyzed: analyze });
    } else if (analyze) {
      // Inserted and updated rows only: fresh planner statistics, nothing to reclaim.
      await db.query(`ANALYZE (SKIP_LOCKED) ${t.target}`);
      out.push({ table: t.relname, dead, analyzed: true });
    }
  }
  return out;
}
