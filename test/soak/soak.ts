/**
 * Soak (`npm run soak -- --duration 10m`): a real `zgas node` and `zgas worker` on the test
 * Postgres and Redis under a steady load of receipts and calls, sampled every interval: the RSS of
 * each process, the verification queue depth, the work not yet applied, every table's size
 * (pg_total_relation_size) and the p50/p99 time from a receipt's storage to the momentum that
 * applies it. Prints a table, writes JSON under test/soak/results/, and says of each series
 * whether it is flat: its slope over the last half against the first half.
 *
 * The node runs with short retentions (a minute), so the receipt table reaches its steady size
 * within the run; the momentums grow with the load by design (a replay reads all of them).
 */
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
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
  const { rows: tables } = await c.db.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname`,
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

  const cluster = await startCluster('soak', { ZGAS_RECEIPT_RETENTION_SECONDS: RETENTION_SECONDS, ZGAS_DUPLICATE_RETENTION_SECONDS: RETENTION_SECONDS });
  const samples: Sample[] = [];
  try {
    const work = await setup(cluster);
    console.log(`soak: ${opts.duration} at ${receiptsPerSecond} receipts/s and ${callsPerSecond} calls/s, sampled every ${opts.interval}`);
    const startedAt = Date.now();
    const stop = load(work, receiptsPerSecond, callsPerSecond);
    try {
      while (Date.now() - startedAt < durationMs && samples.length < MAX_SAMPLES) {
        await during(Math.min(intervalMs, durationMs - (Date.now() - startedAt)));
        const s = await sample(cluster, startedAt, Math.ceil(intervalMs / 1000));
        samples.push(s);
        console.log(`  ${s.atSeconds}s rss node ${s.nodeRssMb} MB worker ${s.workerRssMb} MB, queue ${s.queueDepth}, unapplied ${s.unapplied}, p50 ${s.latencyP50Ms} ms p99 ${s.latencyP99Ms} ms`);
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
      `load: ${receiptsPerSecond} receipts/s and ${callsPerSecond} calls/s for ${opts.duration}; retention of applied and no-op receipt copies ${RETENTION_SECONDS} s`,
      'flat: moves by under 10% of its level over the last half; falling: goes down; settling: grows at under half its first-half rate',
      'table sizes do not shrink when rows are deleted: Postgres reuses the space once vacuumed, so a table under retention levels off instead',
      'the momentums table grows with the load by design: a replay from genesis reads every momentum',
    ],
  };
  printTable(samplesTable);
  printTable(verdicts);
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${opts.duration}.json`);
  writeFileSync(file, `${JSON.stringify({ name: 'soak', at: new Date().toISOString(), machine: machine(), options: opts, tables: [samplesTable, verdicts] }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
