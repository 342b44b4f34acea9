/**
 * CPU time of each part of a local run, read from /proc (Linux): this process (API, sequencer,
 * in-process verification), the `zgas worker` processes, the Postgres server and the Redis server.
 * A run on two cores is bound by their sum, so a receipt's cost is told per part. Postgres and
 * Redis are whatever processes of those names run on this machine: the figures are theirs only
 * when nothing else uses them during the run. Where /proc is not readable, the parts outside this
 * process are null.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux reports process times in USER_HZ ticks, 100 per second on every architecture it runs on. */
const TICKS_PER_SECOND = 100;
const US_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

export interface CpuSample {
  /** This process, µs. */
  self: number;
  /** The given child processes, µs (null: /proc unreadable). */
  workers: number | null;
  /** Every process named postgres, with the backends that exited (their parent's reaped time), µs. */
  postgres: number | null;
  /** Every redis-server process, µs. */
  redis: number | null;
}

export type CpuParts = CpuSample;

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** Own user + system ticks. */
  ownTicks: number;
  /** Ticks of children it waited for. */
  reapedTicks: number;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited meanwhile, or no /proc
  }
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17, ppid 4.
  const at = (field: number): number => Number(fields[field - 3]);
  return { pid, comm: text.slice(open + 1, close), ppid: at(4), ownTicks: at(14) + at(15), reapedTicks: at(16) + at(17) };
}

function allStats(): ProcStat[] | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const out: ProcStat[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) out.push(stat);
  }
  return out;
}

/** Ticks of the processes named `comm`, plus what the root ones reaped of their exited children (Postgres backends). */
function ticksOf(stats: ProcStat[], comm: string): number | null {
  const group = stats.filter((s) => s.comm === comm || s.comm.startsWith(`${comm}:`));
  if (group.length === 0) return null;
  const pids = new Set(group.map((s) => s.pid));
  let ticks = 0;
  for (const s of group) ticks += s.ownTicks + (pids.has(s.ppid) ? 0 : s.reapedTicks);
  return ticks;
}

/** CPU time so far of this process, the given worker processes, Postgres and Redis. */
export function sampleCpu(workerPids: readonly number[]): CpuSample {
  const usage = process.cpuUsage();
  const stats = allStats();
  if (stats === null) return { self: usage.user + usage.system, workers: null, postgres: null, redis: null };
  let workers = 0;
  for (const pid of workerPids) workers += stats.find((s) => s.pid === pid)?.ownTicks ?? 0;
  const postgres = ticksOf(stats, 'postgres');
  const redis = ticksOf(stats, 'redis-server');
  return {
    self: usage.user + usage.system,
    workers: workers * US_PER_TICK,
    postgres: postgres === null ? null : postgres * US_PER_TICK,
    redis: redis === null ? null : redis * US_PER_TICK,
  };
}

/** The parts' CPU between two samples as a share of every core of the machine over `wallMs` (null: a part unreadable). */
export function shareOfCores(before: CpuSample, after: CpuSample, wallMs: number): number | null {
  const parts = cpuBetween(before, after, 1);
  if (parts.workers === null || parts.postgres === null || parts.redis === null) return null;
  return (parts.self + parts.workers + parts.postgres + parts.redis) / (wallMs * 1_000 * availableParallelism());
}

/** µs of each part between two samples, divided by `per` (e.g. the receipts settled). */
export function cpuBetween(before: CpuSample, after: CpuSample, per: number): CpuParts {
  const d = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : (b - a) / Math.max(1, per));
  return { self: (after.self - before.self) / Math.max(1, per), workers: d(before.workers, after.workers), postgres: d(before.postgres, after.postgres), redis: d(before.redis, after.redis) };
}
