/**
 * Soak (`npm run soak -- --duration 10m`): a real `zgas node` and `zgas worker` on the test
 * Postgres and Redis under a steady load of receipts and calls, sampled every interval: the RSS of
 * each process, the verification queue depth, the work not yet applied, every table's size split
 * into heap, TOAST and indexes with its live and dead rows and vacuums, the oldest transaction
 * holding back the vacuum horizon, and the p50/p99 time from a receipt's storage to the momentum
 * that applies it. Prints per-minute figures, writes JSON under test/soak/results/, says of each
 * series whether it is flat (its slope over the last half against the first half), and gives each
 * table's size slope after the warm-up, flagging every table that grows (exit code 1).
 *
 * The node runs with short retentions (a minute), so the receipt and call tables reach their
 * steady size within the run; the momentums grow with the load by design (a replay reads all of
 * them).
 */
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { machine, printTable } from '../bench/harness.ts';
import type { BenchTable } from '../bench/harness.ts';
import { startCluster } from '../faults/cluster.ts';
import type { Cluster } from '../faults/cluster.ts';
import { during, setup } from '../faults/workload.ts';
import type { Workload } from '../faults/workload.ts';
import { transfer } from '../faults/work.ts';

const RETENTION_SECONDS = '60';
/** Most samples one run keeps (a 10-minute run at 10 s has 60). */
const MAX_SAMPLES = 10_000;
/** Table sizes are judged over the last this long of the run (the last half of a shorter run). */
const SIZE_WINDOW_MS = 5 * 60_000;
/**
 * A table's size is flat when over the window it grows by less than this share of its mean size,
 * or by less than SIZE_GROWTH_FLOOR_BYTES (a few pages of a small table's index).
 */
const SIZE_GROWTH_SHARE = 0.05;
const SIZE_GROWTH_FLOOR_BYTES = 128 * 1024;
/** Tables that grow with the load by design: every momentum is kept for `zgas replay`. */
const GROWS_BY_DESIGN = new Set(['momentums']);

interface TableSample {
  heap: number;
  toast: number;
  indexes: number;
  live: number;
  dead: number;
  vacuums: number;
  autovacuums: number;
}

/** The oldest transaction of another session of the database: what holds back the vacuum horizon. */
interface HorizonSample {
  /** Transactions since the oldest snapshot (age of backend_xmin), 0 when none is open. */
  oldestXminAge: number;
  oldestTransactionSeconds: number;
  idleInTransaction: number;
}

interface Sample {
  atSeconds: number;
  nodeRssMb: number;
  workerRssMb: number;
  queueDepth: number;
  unapplied: number;
  receiptsApplied: number;
  callsApplied: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  tableBytes: Record<string, number>;
  tables: Record<string, TableSample>;
  horizon: HorizonSample;
}

function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`--duration: expected e.g. 120s, 2m or 10m, got ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

/** Resident memory of a process and its descendants, in MB (Linux /proc). */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  let kb = 0;
  const visit = (p: number): void => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      kb += Number(/VmRSS:\s+([0-9]+)/.exec(status)?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const c of children === '' ? [] : children.split(/\s+/)) visit(Number(c));
      }
    } catch {
      /* the process ended */
    }
  };
  visit(pid);
  return Math.round(kb / 1024);
}

async function queueDepth(c: Cluster): Promise<number> {
  try {
    const text = await (await fetch(`${c.base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    return Number(/^zgas_queue_depth ([0-9.e+]+)$/m.exec(text)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

async function sample(c: Cluster, startedAt: number, windowSeconds: number): Promise<Sample> {
  const { rows: tables } = await c.db.query<{ name: string; bytes: string; heap: string; toast: string; indexes: string; live: string; dead: string; vacuums: string; autovacuums: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes, pg_relation_size(c.oid)::text AS heap,
            (CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(c.reltoastrelid) END)::text AS toast,
            pg_indexes_size(c.oid)::text AS indexes, coalesce(s.n_live_tup, 0)::text AS live, coalesce(s.n_dead_tup, 0)::text AS dead,
            coalesce(s.vacuum_count, 0)::text AS vacuums, coalesce(s.autovacuum_count, 0)::text AS autovacuums
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname`,
  );
  const { rows: [horizon] } = await c.db.query<{ xmin_age: string; xact_seconds: string; idle: string }>(
    `SELECT coalesce(max(age(backend_xmin)), 0)::text AS xmin_age,
            coalesce(extract(epoch FROM max(now() - xact_start)), 0)::text AS xact_seconds,
            count(*) FILTER (WHERE state LIKE 'idle in transaction%')::text AS idle
     FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)`,
  );
  const { rows: [counts] } = await c.db.query<{ unapplied: string; receipts: string; calls: string }>(
    `SELECT (SELECT count(*) FROM receipts WHERE state IN ('stored', 'verified'))
          + (SELECT count(*) FROM calls WHERE status = 'pending') AS unapplied,
            (SELECT count(*) FROM receipts WHERE state = 'applied') AS receipts,
            (SELECT count(*) FROM calls WHERE status = 'applied') AS calls`,
  );
  // Storage (before 202) to the commit of the applying momentum, for copies applied in the last window.
  const { rows: [latency] } = await c.db.query<{ p50: number | null; p99: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
     FROM (SELECT extract(epoch FROM (m.committed_at - r.submitted_at)) * 1000 AS ms
           FROM receipts r JOIN momentums m ON m.height = r.momentum_height
           WHERE r.state = 'applied' AND m.committed_at > now() - ($1::bigint * interval '1 second')) AS t`,
    [windowSeconds],
  );
  return {
    atSeconds: Math.round((Date.now() - startedAt) / 1000),
    nodeRssMb: rssMb(c.node.child.pid),
    workerRssMb: rssMb(c.worker.child.pid),
    queueDepth: await queueDepth(c),
    unapplied: Number(counts?.unapplied ?? 0),
    receiptsApplied: Number(counts?.receipts ?? 0),
    callsApplied: Number(counts?.calls ?? 0),
    latencyP50Ms: latency?.p50 === null || latency?.p50 === undefined ? null : Math.round(Number(latency.p50)),
    latencyP99Ms: latency?.p99 === null || latency?.p99 === undefined ? null : Math.round(Number(latency.p99)),
    tableBytes: Object.fromEntries(tables.map((t) => [t.name, Number(t.bytes)])),
    tables: Object.fromEntries(tables.map((t) => [t.name, {
      heap: Number(t.heap), toast: Number(t.toast), indexes: Number(t.indexes), live: Number(t.live), dead: Number(t.dead), vacuums: Number(t.vacuums), autovacuums: Number(t.autovacuums),
    }])),
    horizon: { oldestXminAge: Number(horizon?.xmin_age ?? 0), oldestTransactionSeconds: Math.round(Number(horizon?.xact_seconds ?? 0)), idleInTransaction: Number(horizon?.idle ?? 0) },
  };
}

const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(2);

/**
 * Each table's size over the window after the warm-up: least-squares slope, growth over the
 * window, and whether that growth passes the bound (flagged) — momentums are expected to grow.
 */
function tableSlopes(samples: Sample[], tables: string[], durationMs: number): BenchTable {
  const last = samples.at(-1)?.atSeconds ?? 0;
  const windowSeconds = Math.min(SIZE_WINDOW_MS, durationMs / 2) / 1000;
  const inWindow = samples.filter((s) => s.atSeconds >= last - windowSeconds);
  const spanMin = inWindow.length < 2 ? 0 : (inWindow.at(-1)!.atSeconds - inWindow[0]!.atSeconds) / 60;
  const rows = tables.map((t) => {
    const points = inWindow.map((s): [number, number] => [s.atSeconds, s.tableBytes[t] ?? 0]);
    const slope = slopePerMinute(points);
    const mean = points.reduce((a, p) => a + p[1], 0) / Math.max(1, points.length);
    const bound = Math.max(SIZE_GROWTH_SHARE * mean, SIZE_GROWTH_FLOOR_BYTES);
    const growth = slope * spanMin;
    const first = samples[0]?.tables[t];
    const end = samples.at(-1)?.tables[t];
    const verdict = growth <= bound ? 'flat' : GROWS_BY_DESIGN.has(t) ? 'grows (by design)' : 'GROWING';
    return {
      table: t,
      'MB at start': mb(samples[0]?.tableBytes[t] ?? 0),
      'MB at end': mb(samples.at(-1)?.tableBytes[t] ?? 0),
      'heap/toast/idx MB at end': end === undefined ? '—' : `${mb(end.heap)}/${mb(end.toast)}/${mb(end.indexes)}`,
      'slope kB/min': Math.round(slope / 1024),
      'growth over window kB': Math.round(growth / 1024),
      'bound kB': Math.round(bound / 1024),
      'dead rows at end': end?.dead ?? 0,
      vacuums: end === undefined || first === undefined ? 0 : end.vacuums - first.vacuums,
      autovacuums: end === undefined || first === undefined ? 0 : end.autovacuums - first.autovacuums,
      verdict,
    };
  });
  return {
    title: `table sizes over the last ${Math.round(spanMin * 10) / 10} min (after the warm-up)`,
    columns: ['table', 'MB at start', 'MB at end', 'heap/toast/idx MB at end', 'slope kB/min', 'growth over window kB', 'bound kB', 'dead rows at end', 'vacuums', 'autovacuums', 'verdict'],
    rows,
    notes: [
      `flat: total size (heap + TOAST + indexes) grows over the window by at most ${SIZE_GROWTH_SHARE * 100}% of its mean there or ${SIZE_GROWTH_FLOOR_BYTES / 1024} kB, whichever is larger (least-squares slope × window)`,
      'vacuums / autovacuums: counted during the run (pg_stat_user_tables)',
    ],
  };
}

/** One row per minute: the sample closing the minute, with the worst 10-s p99 and the most dead rows of the minute. */
function perMinute(samples: Sample[], tables: string[]): BenchTable {
  const byMinute = new Map<number, Sample[]>();
  for (const s of samples) {
    const m = Math.max(1, Math.ceil(s.atSeconds / 60));
    byMinute.set(m, [...(byMinute.get(m) ?? []), s]);
  }
  const shown = tables.filter((t) => samples.some((s) => (s.tableBytes[t] ?? 0) > 64 * 1024));
  const rows = [...byMinute.entries()].map(([minute, group]) => {
    const end = group.at(-1)!;
    const p99s = group.flatMap((s) => (s.latencyP99Ms === null ? [] : [s.latencyP99Ms]));
    const p50s = group.flatMap((s) => (s.latencyP50Ms === null ? [] : [s.latencyP50Ms])).sort((a, b) => a - b);
    const row: Record<string, string | number> = {
      min: minute, 'node MB': end.nodeRssMb, 'worker MB': end.workerRssMb, queue: Math.max(...group.map((s) => s.queueDepth)), unapplied: Math.max(...group.map((s) => s.unapplied)),
      'p50 ms': p50s.length === 0 ? '—' : p50s[Math.floor(p50s.length / 2)]!, 'p99 ms (worst)': p99s.length === 0 ? '—' : Math.max(...p99s),
      'oldest xact s': Math.max(...group.map((s) => s.horizon.oldestTransactionSeconds)),
    };
    for (const t of shown) row[`${t} MB`] = mb(end.tableBytes[t] ?? 0);
    row['receipts dead'] = Math.max(...group.map((s) => s.tables['receipts']?.dead ?? 0));
    return row;
  });
  return {
    title: 'per minute',
    columns: ['min', 'node MB', 'worker MB', 'queue', 'unapplied', 'p50 ms', 'p99 ms (worst)', 'oldest xact s', ...shown.map((t) => `${t} MB`), 'receipts dead'],
    rows,
    notes: [
      'queue, unapplied, receipts dead: the most of the minute; p50: median of the 10-s p50s; p99: the worst 10-s p99',
      'oldest xact s: the longest open transaction of another session of the database (it holds back what a vacuum may remove)',
    ],
  };
}

/** Least-squares slope of (x, y), per minute of x in seconds. */
function slopePerMinute(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

/**
 * Flat: over the last half the series moves by less than 10% of its level (or less than `floor`,
 * for series near zero). Falling: it goes down. Settling: it still grows, at under half its
 * first-half rate. Else growing.
 */
function verdict(points: [number, number][], floor: number): { firstHalfPerMin: number; lastHalfPerMin: number; verdict: 'flat' | 'falling' | 'settling' | 'growing' } {
  const half = Math.floor(points.length / 2);
  const first = slopePerMinute(points.slice(0, half));
  const last = slopePerMinute(points.slice(half));
  const lastPoints = points.slice(half);
  const spanMin = lastPoints.length < 2 ? 0 : (lastPoints.at(-1)![0] - lastPoints[0]![0]) / 60;
  const level = Math.max(Math.abs(lastPoints.reduce((s, p) => s + p[1], 0) / Math.max(1, lastPoints.length)), floor);
  const round = (v: number): number => Math.round(v * 100) / 100;
  if (Math.abs(last * spanMin) < 0.1 * level) return { firstHalfPerMin: round(first), lastHalfPerMin: round(last), verdict: 'flat' };
  if (last < 0) return { firstHalfPerMin: round(first), lastHalfPerMin: round(last), verdict: 'falling' };
  return { firstHalfPerMin: round(first), lastHalfPerMin: round(last), verdict: last < first / 2 ? 'settling' : 'growing' };
}

/** Sends receipt batches and transfers at steady rates until stopped. */
function load(work: Workload, receiptsPerSecond: number, callsPerSecond: number): () => Promise<void> {
  let stopped = false;
  const batch = 20;
  const paced = async (perSecond: number, step: () => Promise<void>): Promise<void> => {
    const everyMs = 1000 / perSecond;
    let next = Date.now();
    while (!stopped) {
      await step();
      next += everyMs;
      const wait = next - Date.now();
      if (wait > 0) await during(wait);
      else next = Date.now(); // behind: no burst to catch up, the rate stays steady
    }
  };
  let i = 0;
  const receipts = paced(receiptsPerSecond / batch, async () => {
    const chain = work.chains[i++ % work.chains.length]!;
    const b = chain.next(batch);
    const { status } = await work.client.send('POST', '/v1/receipts', JSON.stringify(b.body));
    if (status !== 202) throw new Error(`receipts refused: ${status}`);
  });
  const calls = paced(callsPerSecond, async () => {
    const t = transfer(work.nonce);
    await work.client.call(t.hash, t.body);
    work.client.calls.clear(); // the soak keeps no per-call record
    work.nonce++;
    work.transfers++;
  });
  return async () => {
    stopped = true;
    await Promise.all([receipts, calls]);
  };
}

async function main(): Promise<void> {
  const opts = new Command('soak')
    .option('--duration <time>', 'how long the load runs, e.g. 2m, 600s', '10m')
    .option('--interval <time>', 'sampling interval', '10s')
    .option('--receipts-per-second <n>', 'steady rate of receipts', '100')
    .option('--calls-per-second <n>', 'steady rate of calls (transfers)', '5')
    .parse(process.argv)
    .opts<{ duration: string; interval: string; receiptsPerSecond: string; callsPerSecond: string }>();
  const durationMs = parseDuration(opts.duration);
  const intervalMs = parseDuration(opts.interval);
  const receiptsPerSecond = Number(opts.receiptsPerSecond);
  const callsPerSecond = Number(opts.callsPerSecond);
  if (!(receiptsPerSecond > 0 && callsPerSecond > 0)) throw new Error('rates must be positive numbers');

  const cluster = await startCluster('soak', {
    ZGAS_RECEIPT_RETENTION_SECONDS: RETENTION_SECONDS, ZGAS_DUPLICATE_RETENTION_SECONDS: RETENTION_SECONDS, ZGAS_CALL_RETENTION_SECONDS: RETENTION_SECONDS,
  });
  const samples: Sample[] = [];
  let autovacuum = 'unknown';
  try {
    autovacuum = (await cluster.db.query<{ a: string }>(`SELECT current_setting('autovacuum') AS a`)).rows[0]?.a ?? 'unknown';
    const work = await setup(cluster);
    console.log(`soak: ${opts.duration} at ${receiptsPerSecond} receipts/s and ${callsPerSecond} calls/s, sampled every ${opts.interval}`);
    const startedAt = Date.now();
    const stop = load(work, receiptsPerSecond, callsPerSecond);
    try {
      while (Date.now() - startedAt < durationMs && samples.length < MAX_SAMPLES) {
        await during(Math.min(intervalMs, durationMs - (Date.now() - startedAt)));
        const s = await sample(cluster, startedAt, Math.ceil(intervalMs / 1000));
        samples.push(s);
        const receipts = s.tables['receipts'];
        console.log(`  ${s.atSeconds}s rss node ${s.nodeRssMb} MB worker ${s.workerRssMb} MB, queue ${s.queueDepth}, unapplied ${s.unapplied}, p50 ${s.latencyP50Ms} ms p99 ${s.latencyP99Ms} ms, `
          + `receipts ${mb(s.tableBytes['receipts'] ?? 0)} MB (${receipts?.live ?? 0} live, ${receipts?.dead ?? 0} dead), calls ${mb(s.tableBytes['calls'] ?? 0)} MB, oldest xact ${s.horizon.oldestTransactionSeconds} s`);
      }
    } finally {
      await stop();
    }
  } finally {
    await cluster.close();
  }

  const tables = [...new Set(samples.flatMap((s) => Object.keys(s.tableBytes)))].sort();
  const series: Record<string, { points: [number, number][]; floor: number }> = {
    'node RSS MB': { points: samples.map((s) => [s.atSeconds, s.nodeRssMb]), floor: 50 },
    'worker RSS MB': { points: samples.map((s) => [s.atSeconds, s.workerRssMb]), floor: 50 },
    'queue depth': { points: samples.map((s) => [s.atSeconds, s.queueDepth]), floor: 50 },
    'unapplied work': { points: samples.map((s) => [s.atSeconds, s.unapplied]), floor: 500 },
    'applied receipt rows': { points: samples.map((s) => [s.atSeconds, s.receiptsApplied]), floor: 1_000 },
    'p50 storage→momentum ms': { points: samples.filter((s) => s.latencyP50Ms !== null).map((s) => [s.atSeconds, s.latencyP50Ms!]), floor: 200 },
    'p99 storage→momentum ms': { points: samples.filter((s) => s.latencyP99Ms !== null).map((s) => [s.atSeconds, s.latencyP99Ms!]), floor: 500 },
    ...Object.fromEntries(tables.map((t) => [`table ${t} bytes`, { points: samples.map((s): [number, number] => [s.atSeconds, s.tableBytes[t] ?? 0]), floor: 1024 * 1024 }])),
  };
  const samplesTable: BenchTable = {
    title: 'soak samples',
    columns: ['t s', 'node MB', 'worker MB', 'queue', 'unapplied', 'receipt rows', 'p50 ms', 'p99 ms', 'receipts table', 'momentums table'],
    rows: samples.map((s) => ({
      't s': s.atSeconds, 'node MB': s.nodeRssMb, 'worker MB': s.workerRssMb, queue: s.queueDepth, unapplied: s.unapplied, 'receipt rows': s.receiptsApplied,
      'p50 ms': s.latencyP50Ms ?? '—', 'p99 ms': s.latencyP99Ms ?? '—',
      'receipts table': `${((s.tableBytes['receipts'] ?? 0) / 1048576).toFixed(1)} MB`, 'momentums table': `${((s.tableBytes['momentums'] ?? 0) / 1048576).toFixed(1)} MB`,
    })),
    data: samples,
  };
  const verdicts: BenchTable = {
    title: 'flat? (slope per minute, first half against last half)',
    columns: ['series', 'first half /min', 'last half /min', 'verdict'],
    rows: Object.entries(series).map(([name, { points, floor }]) => {
      const v = verdict(points, floor);
      return { series: name, 'first half /min': v.firstHalfPerMin, 'last half /min': v.lastHalfPerMin, verdict: v.verdict };
    }),
    notes: [
      `load: ${receiptsPerSecond} receipts/s and ${callsPerSecond} calls/s for ${opts.duration}; retention of applied and no-op receipt copies and of settled calls ${RETENTION_SECONDS} s; server autovacuum ${autovacuum}`,
      'flat: moves by under 10% of its level over the last half; falling: goes down; settling: grows at under half its first-half rate',
      'table sizes do not shrink when rows are deleted: Postgres reuses the space once vacuumed (the retention vacuums what it churned), so a table under retention levels off instead',
      'the momentums table grows with the load by design: a replay from genesis reads every momentum',
    ],
  };
  const minutes = perMinute(samples, tables);
  const sizes = tableSlopes(samples, tables, durationMs);
  printTable(samplesTable);
  printTable(minutes);
  printTable(verdicts);
  printTable(sizes);
  const growing = sizes.rows.filter((r) => r['verdict'] === 'GROWING').map((r) => String(r['table']));
  const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(`load average (1, 5, 15 min): ${loadAverage.join(', ')}; server autovacuum: ${autovacuum}`);
  if (growing.length > 0) console.log(`GROWING tables: ${growing.join(', ')}`);
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${opts.duration}.json`);
  writeFileSync(file, `${JSON.stringify({ name: 'soak', at: new Date().toISOString(), machine: machine(), loadAverage, autovacuum, options: opts, growing, tables: [samplesTable, minutes, verdicts, sizes] }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  if (growing.length > 0) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
