/**
 * Settlement under load, through a whole system started in-process on the real Postgres (fresh
 * schema) and Redis (own queue and prefix) with `zgas worker` processes: pre-signed v2 receipts
 * POSTed to /v1/receipts after the zApp, provider and sessions were set up through POST /v1/calls.
 * Every figure is read against a naive baseline measured in the same run (one transaction per
 * receipt), and every row gives the machine's speed over it (machine-speed.ts), which drifts within
 * a run. Scenarios:
 * - raw: every receipt a distinct call of a session (no coalescing), offered as fast as answered;
 * - paced: a steady offered rate (2,500/s, then a lower one), for latency without a backlog;
 * - coalesced: as many receipts as the raw run, each the newest of a session's last few calls (as
 *   coalescing runners push, docs/protocol.md §Runner rules); its billed state must equal exactly
 *   what settling every call's receipt bills (the contract applied in process);
 * - large state: the raw load with many open sessions and funded accounts already in the state,
 *   read against fresh-state runs of the same load just before and just after it;
 * - per-receipt breakdown: intake, verify, host and SQL, each stage alone (settlement-breakdown.ts);
 * - cold start to the first momentum.
 *
 * Sizes (env, defaults in brackets; about 4 minutes idle, 8 at load average 12 on 2 cores):
 * - ZGAS_BENCH_SESSIONS [500] × ZGAS_BENCH_RECEIPTS_PER_SESSION [120]: the raw load (and the
 *   coalesced run's sessions);
 * - ZGAS_BENCH_PACED_RATES ["2500,1000"], each offered for ZGAS_BENCH_PACED_SECONDS [8] after ZGAS_BENCH_PACED_WARMUP_SECONDS
 *   [2] at the same rate, reported apart (a freshly started system runs its first second slower);
 * - ZGAS_BENCH_COALESCE_EVERY [10]: calls per coalesced flush;
 * - ZGAS_BENCH_LARGE_SESSIONS [10,000]: seeding runs at the speed of POST /v1/calls (~250/s
 *   loaded); ZGAS_BENCH_LARGE_ACCOUNTS [99,000], at least one per seed session: past what a
 *   genesis file holds (100,000 with the demo's) the large state and a fresh reference run without
 *   worker processes, which read that file;
 * - ZGAS_BENCH_BREAKDOWN_RECEIPTS [10,000]; ZGAS_BENCH_BASELINE_RECEIPTS [2,000, at most 10 s];
 * - ZGAS_BENCH_WORKER_PROCESSES [1]; ZGAS_BENCH_VERIFY_CONCURRENCY [2]: the node's own verification jobs;
 *   ZGAS_BENCH_REPLAY [1; 0 skips replaying the raw run's store];
 * - ZGAS_BENCH_SCENARIOS ["breakdown,raw,paced,coalesced,large"]: which to run.
 */
import { availableParallelism } from 'node:os';
import { keccakReady } from '../../contracts/eip712/index.ts';
import { MAX_GENESIS_ACCOUNTS } from '../../contracts/gas/genesis.ts';
import type { SettlementReceipt } from '../../contracts/types.ts';
import { billingDiff, billingView } from './billing.ts';
import type { BillingView } from './billing.ts';
import type { BenchTable } from './harness.ts';
import { fmt, printTable, writeResults } from './harness.ts';
import { collectGarbage } from './collect-garbage.ts';
import { probed } from './machine-speed.ts';
import { breakdown } from './settlement-breakdown.ts';
import type { Breakdown } from './settlement-breakdown.ts';
import { coalesced, committedState, envInt, everyCallBilling, everyReceipt, loadAverage, naiveBaseline, plan, replayCheck, setUp, startBenchSystem, submit, UNSIGNED, withSeeds } from './settlement-harness.ts';
import type { BenchSystem, Load, Plan, RunResult } from './settlement-harness.ts';

const SESSIONS = envInt('ZGAS_BENCH_SESSIONS', 500, 10_000);
const RECEIPTS_PER_SESSION = envInt('ZGAS_BENCH_RECEIPTS_PER_SESSION', 120, 10_000);
const PACED_RATES = (process.env['ZGAS_BENCH_PACED_RATES'] ?? '2500,1000').split(',').map(Number).filter((r) => Number.isFinite(r) && r > 0);
const PACED_SECONDS = envInt('ZGAS_BENCH_PACED_SECONDS', 8, 600);
const PACED_WARMUP_SECONDS = envInt('ZGAS_BENCH_PACED_WARMUP_SECONDS', 2, 600);
const COALESCE_EVERY = Math.max(1, envInt('ZGAS_BENCH_COALESCE_EVERY', 10, 10_000));
const LARGE_SESSIONS = envInt('ZGAS_BENCH_LARGE_SESSIONS', 10_000, 100_000);
const LARGE_ACCOUNTS = envInt('ZGAS_BENCH_LARGE_ACCOUNTS', 99_000, 10_000_000);
const BREAKDOWN_RECEIPTS = envInt('ZGAS_BENCH_BREAKDOWN_RECEIPTS', 10_000, 1_000_000);
const BASELINE_RECEIPTS = envInt('ZGAS_BENCH_BASELINE_RECEIPTS', 2_000, 100_000);
const BASELINE_TIME_LIMIT_MS = 10_000;
const WORKER_PROCESSES = envInt('ZGAS_BENCH_WORKER_PROCESSES', 1, 16);
/** The node's own verification jobs at once, beside the worker processes. */
const VERIFY_CONCURRENCY = envInt('ZGAS_BENCH_VERIFY_CONCURRENCY', 2, 16);
/** Whether the raw run's store is replayed from genesis at its end (ZGAS_BENCH_REPLAY=0 skips it). */
const REPLAY = process.env['ZGAS_BENCH_REPLAY'] !== '0';
const SCENARIOS = new Set((process.env['ZGAS_BENCH_SCENARIOS'] ?? 'breakdown,raw,paced,coalesced,large').split(','));
/** Receipts per POST (the API's limit) and POSTs in flight: the raw load. */
const RAW_LOAD: Load = { batch: 1_000, inFlight: 3 };
const PACED_BATCH = 100;

/** Starts a fresh system, sets it up and runs `body` on it; always closes it. */
async function withSystem<T>(p: ReturnType<typeof plan>, body: (b: BenchSystem, setup: { setupMs: number; seedMs: number }) => Promise<T>, workerProcesses = WORKER_PROCESSES): Promise<T> {
  const b = await startBenchSystem(p, { workerProcesses, verifyConcurrency: VERIFY_CONCURRENCY });
  try {
    return await body(b, await setUp(b));
  } finally {
    await b.close();
  }
}

const ms = (n: number): string => fmt(n, 1);
const ratio = (x: number, base: number): string => `${fmt(x / base, 2)}x`;

/** A run with the machine's speed over it (test/bench/machine-speed.ts). */
type ProbedRun = RunResult & { probeUs: number };

/** Submits `receipts` between two machine-speed probes. */
async function probedSubmit(b: BenchSystem, receipts: SettlementReceipt[], load: Load): Promise<ProbedRun> {
  // What preparing the run allocated is collected now, not during the run it would be billed to.
  collectGarbage();
  const { result, probeUs } = await probed(() => submit(b, receipts, load));
  return { ...result, probeUs };
}

function row(name: string, r: ProbedRun, naive: number, extra: Record<string, string | number> = {}): Record<string, string | number> {
  console.log(`${name}: ${fmt(r.applied)} receipts, ${fmt(r.receiptsPerSecond)}/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms; recovery ${fmt(r.probeUs, 1)} µs; load average ${r.loadAverage.join(' ')}`);
  return {
    scenario: name, receipts: r.applied, settled: r.settled, 'receipts/s': fmt(r.receiptsPerSecond), 'vs naive': ratio(r.receiptsPerSecond, naive),
    'billed calls/s': fmt(r.billedCallsPerSecond), 'p50 ms': ms(r.p50), 'p99 ms': ms(r.p99), 'submit s': fmt(r.submitMs / 1000, 1), 'settle s': fmt(r.settleMs / 1000, 1),
    '503s': r.refused, 'recovery µs': fmt(r.probeUs, 1), load: r.loadAverage[0]!.toFixed(2), ...extra,
  };
}

/**
 * The coalesced load: as many receipts pushed as in the raw run, each the newest of COALESCE_EVERY
 * calls of its session (the same sessions with COALESCE_EVERY times the calls, only the pushed
 * ones signed), and what settling every one of those calls bills. The system runs on the plan
 * without its receipts: the unpushed ones would only weigh on the heap the node shares with it.
 */
function coalescedLoad(): { coal: Plan; pushed: SettlementReceipt[]; reference: BillingView; calls: number; signMs: number; referenceMs: number } {
  const full = plan({ sessions: SESSIONS, receiptsPerSession: RECEIPTS_PER_SESSION * COALESCE_EVERY, signEvery: COALESCE_EVERY });
  const pushed = coalesced(full, COALESCE_EVERY);
  if (pushed.some((r) => r.signature === UNSIGNED)) throw new Error('coalesced: a pushed receipt is unsigned');
  const started = performance.now();
  const reference = everyCallBilling(full);
  return {
    coal: { ...full, receipts: [] }, pushed, reference, calls: full.receipts.length * full.sessionIds.length, signMs: full.signMs, referenceMs: performance.now() - started,
  };
}

export async function run(): Promise<void> {
  const benchStart = performance.now();
  const tables: BenchTable[] = [];
  // Digests on the WebAssembly keccak, as the node computes them (the pure-JS one is far slower).
  await keccakReady;
  const main = plan({ sessions: SESSIONS, receiptsPerSession: RECEIPTS_PER_SESSION });
  const all = everyReceipt(main);
  console.log(`signed ${all.length} receipts and ${main.opens.length} sessions in ${fmt(main.signMs)} ms; load average ${loadAverage().join(' ')}`);

  let bd: Breakdown | null = null;
  if (SCENARIOS.has('breakdown')) {
    bd = await breakdown(main, Math.max(1, Math.ceil(BREAKDOWN_RECEIPTS / SESSIONS)));
    const total = bd.stages.filter((s) => !s.stage.startsWith('host: whole')).reduce((x, s) => x + s.wallUs, 0);
    tables.push({
      title: `per-receipt breakdown: ${bd.receipts} receipts, each stage alone against the rows the one before stored (${bd.rounds} momentums)`,
      columns: ['stage', 'wall µs/receipt', 'CPU µs/receipt', 'share'],
      rows: bd.stages.map((s) => ({
        stage: s.stage, 'wall µs/receipt': fmt(s.wallUs, 1), 'CPU µs/receipt': s.cpuUs === null ? '' : fmt(s.cpuUs, 1),
        share: s.stage.startsWith('host: whole') ? '' : `${fmt((100 * s.wallUs) / total)}%`,
      })),
      notes: [
        'wall: elapsed per receipt while the stage ran alone; CPU: this process (API / verifier / host), not Postgres\'s.',
        'host rows are the sequencer\'s RoundTimings summed over the momentums that settled receipts; the whole-stage row includes startup (state load) and idle waits.',
        `load average ${loadAverage().join(' ')}`,
      ],
      data: bd,
    });
  }

  /** Where a run's CPU went, per receipt applied: the parts share the machine's cores. */
  const cpuNote = (r: RunResult): string => {
    const c = r.cpuUsPerReceipt;
    const part = (us: number | null): string => (us === null ? 'n/a' : `${fmt(us)} µs`);
    const share = r.cpuShareOfCores === null ? '' : `, together ${fmt(100 * r.cpuShareOfCores)}% of the ${availableParallelism()} cores over the run`;
    return `CPU per receipt: node process (API, sequencer, in-process verification, the POSTing client) ${part(c.self)}, worker processes ${part(c.workers)}, Postgres ${part(c.postgres)}, Redis ${part(c.redis)}${share}`;
  };

  // The naive baseline first: every ratio below is read against it.
  const { result: naive, probeUs: naiveProbeUs } = await probed(() => naiveBaseline(main, all, { receipts: BASELINE_RECEIPTS, ms: BASELINE_TIME_LIMIT_MS }));
  const rows: Record<string, string | number>[] = [];
  const data: Record<string, unknown> = { naive: { ...naive, probeUs: naiveProbeUs } };
  const notes: string[] = [];
  let rawBilling: ReturnType<typeof billingView> | null = null;
  let raw: ProbedRun | null = null;
  let coldStartMs: number | null = null;

  if (SCENARIOS.has('raw') || SCENARIOS.has('coalesced')) {
    raw = await withSystem(main, async (b) => {
      coldStartMs = b.coldStartMs;
      const r = await probedSubmit(b, all, RAW_LOAD);
      rawBilling = billingView(await committedState(b));
      const rp = REPLAY ? await replayCheck(b) : null;
      const replayed = rp === null ? 'not replayed' : `replay from genesis ${rp.ok ? 'ok' : `FAILED (${rp.mismatches} mismatches)`} in ${fmt(rp.ms)} ms`;
      notes.push(`raw: ${replayed}; stages from the first POST: all stored ${fmt(r.submitMs)} ms, all verified ${fmt(r.verifyMs)} ms, all in momentums ${fmt(r.settleMs)} ms; ${cpuNote(r)}; outcomes ${JSON.stringify(r.outcomes)}.`);
      if (rp?.ok === false) throw new Error('raw: replay from genesis did not reproduce the store');
      return r;
    });
    rows.push(row(`raw: every receipt, ${RAW_LOAD.inFlight} × ${RAW_LOAD.batch} in flight`, raw, naive.receiptsPerSecond));
    data['raw'] = raw;
  }

  if (SCENARIOS.has('paced')) {
    // One system, successive seqs: each rate offers its own receipts for PACED_SECONDS.
    await withSystem(main, async (b) => {
      let fromSeq = 0;
      const offer = async (rate: number, seconds: number): Promise<ProbedRun | null> => {
        const upTo = Math.min(main.receipts.length, fromSeq + Math.max(1, Math.ceil((rate * seconds) / SESSIONS)));
        if (upTo <= fromSeq) return null;
        const receipts = main.receipts.slice(fromSeq, upTo).flat();
        fromSeq = upTo;
        return probedSubmit(b, receipts, { batch: PACED_BATCH, inFlight: 3, receiptsPerSecond: rate });
      };
      for (const rate of PACED_RATES) {
        const warm = PACED_WARMUP_SECONDS > 0 ? await offer(rate, PACED_WARMUP_SECONDS) : null;
        if (warm !== null) notes.push(`paced ${fmt(rate)}/s: the warm-up before the row, ${fmt(warm.applied)} receipts at the same rate: p50 ${ms(warm.p50)} ms, p99 ${ms(warm.p99)} ms.`);
        const r = await offer(rate, PACED_SECONDS);
        if (r === null) break;
        rows.push(row(`paced ${fmt(rate)}/s in batches of ${PACED_BATCH}`, r, naive.receiptsPerSecond));
        data[`paced ${rate}`] = r;
      }
    });
  }

  if (SCENARIOS.has('coalesced')) {
    // What settling every call's receipt bills, applied in process; the method is checked first
    // against the pipeline itself: on the raw plan it must bill what the raw run committed.
    if (rawBilling !== null) {
      const diff = billingDiff(rawBilling, everyCallBilling(main));
      if (diff.length > 0) throw new Error(`the in-process reference differs from the raw run's committed state:\n${diff.join('\n')}`);
    }
    const { coal, pushed, reference, calls, signMs, referenceMs } = coalescedLoad();
    const c = await withSystem(coal, async (b) => {
      const r = await probedSubmit(b, pushed, RAW_LOAD);
      const diff = billingDiff(reference, billingView(await committedState(b)));
      if (diff.length > 0) throw new Error(`coalesced settlement billed differently from settling every receipt:\n${diff.join('\n')}`);
      notes.push(`coalesced: the newest receipt of each session every ${COALESCE_EVERY} calls (${fmt(pushed.length)} receipts for ${fmt(calls)} calls, signed in ${fmt(signMs)} ms; ${cpuNote(r)}); balances, escrow, stakes, earnings and every session's settled position equal exactly what settling every call's receipt bills (the contract applied in process in ${fmt(referenceMs)} ms${rawBilling === null ? '' : ', a method that reproduces the raw run\'s committed state'}).`);
      return r;
    });
    rows.push(row(`coalesced: newest of each session every ${COALESCE_EVERY} calls`, c, naive.receiptsPerSecond, { 'billed calls/s': `${fmt(c.billedCallsPerSecond)} (${ratio(c.billedCallsPerSecond, naive.receiptsPerSecond)})` }));
    data['coalesced'] = c;
  }

  let large: { run: ProbedRun; seedMs: number; coldStartMs: number; sessions: number; accounts: number } | null = null;
  if (SCENARIOS.has('large')) {
    const big = withSeeds(main, LARGE_SESSIONS, LARGE_ACCOUNTS);
    // Worker processes read the genesis file, which holds at most MAX_GENESIS_ACCOUNTS: a larger genesis runs
    // with the node's own verifier only, and is compared with a fresh state run the same way.
    const workers = big.genesis.accounts.length > MAX_GENESIS_ACCOUNTS ? 0 : WORKER_PROCESSES;
    // The machine's speed drifts within minutes: the large state is read against fresh-state runs
    // of the same load just before and just after it, not against the raw row run minutes earlier.
    const freshRun = (when: string): Promise<ProbedRun> => withSystem(main, async (b) => {
      const r = await probedSubmit(b, all, RAW_LOAD);
      rows.push(row(`raw, fresh state, ${workers} worker processes (the large state's reference, ${when})`, r, naive.receiptsPerSecond));
      return r;
    }, workers);
    const before = await freshRun('before');
    large = await withSystem(big, async (b, setup) => {
      const r = await probedSubmit(b, all, RAW_LOAD);
      return { run: r, seedMs: setup.seedMs, coldStartMs: b.coldStartMs, sessions: big.seeds.length, accounts: big.genesis.accounts.length };
    }, workers);
    const after = await freshRun('after');
    const freshPerSecond = (before.receiptsPerSecond + after.receiptsPerSecond) / 2;
    const vsFresh = ` (${fmt((100 * large.run.receiptsPerSecond) / freshPerSecond)}% of fresh)`;
    rows.push(row(`large state: +${fmt(large.sessions)} open sessions, ${fmt(large.accounts)} accounts, ${workers} worker processes${vsFresh}`, large.run, naive.receiptsPerSecond));
    notes.push(`large state: signing the seed ${fmt(big.signMs)} ms; cold start with its genesis to the first momentum ${fmt(large.coldStartMs)} ms; seeding ${fmt(large.sessions)} sessions through POST /v1/calls until applied ${fmt(large.seedMs)} ms (${fmt((large.sessions * 1000) / large.seedMs)} sessions/s). Accounts come from the genesis (a genesis file holds at most ${fmt(MAX_GENESIS_ACCOUNTS)}: past that, no worker processes).`);
    data['large'] = { ...large, freshBefore: before, freshAfter: after, percentOfFresh: (100 * large.run.receiptsPerSecond) / freshPerSecond };
  }

  rows.push({ scenario: 'naive: 1 tx per receipt (verify, apply, commit)', receipts: naive.receipts, 'receipts/s': fmt(naive.receiptsPerSecond), 'vs naive': '1.00x', 'p50 ms': ms(naive.p50), 'p99 ms': ms(naive.p99), 'recovery µs': fmt(naiveProbeUs, 1), load: loadAverage()[0]!.toFixed(2) });
  tables.push({
    title: `settlement under load: ${SESSIONS} sessions × ${RECEIPTS_PER_SESSION} receipts, ${WORKER_PROCESSES} worker process(es) + ${VERIFY_CONCURRENCY} in-process verify jobs`,
    columns: ['scenario', 'receipts', 'settled', 'receipts/s', 'vs naive', 'billed calls/s', 'p50 ms', 'p99 ms', 'submit s', 'settle s', '503s', 'recovery µs', 'load'],
    rows,
    notes: [
      'receipts/s: receipts applied ÷ (last committing momentum − first submission); p50/p99: POST start → commit of the receipt\'s momentum.',
      'settled: applied as Settled; the rest applied as Duplicate (a newer receipt of its session was verified, so settled, first: the gap is allowed and the older one changes nothing).',
      'billed calls/s: calls the settled receipts billed (a receipt with seq n after seq m bills n − m) per second. load: 1-minute load average at the end of the row.',
      '503s: POSTs refused by admission control (Overloaded) and sent again after the advised wait (at most 2 s); their receipts\' latency includes the wait.',
      'recovery µs: the machine\'s speed over the row, wall µs per native signature recovery on one core just before and just after it (test/bench/machine-speed.ts); the machine drifts, and a row run while it was slower shows a larger figure (two short samples: a guide to the drift, not a correction).',
      'aims: raw ≥ 5,000 receipts/s sustained; paced 2,500/s p99 ≤ 250 ms; coalesced ≥ 50,000 billed calls/s; large state within 20% of fresh (the mean of the fresh-state runs just before and after it).',
      ...notes,
    ],
    data,
  });
  if (coldStartMs !== null) {
    const t = coldStartMs as number;
    tables.push({
      title: 'time to first momentum (cold start: open the store, migrate, start host, queue, workers, API; aim ≤ 2 s)',
      columns: ['event', 'ms'],
      rows: [{ event: 'genesis momentum committed and API listening', ms: fmt(t) }],
    });
  }
  for (const t of tables) printTable(t);
  console.log(`settlement-load took ${fmt((performance.now() - benchStart) / 1000, 1)} s; load average ${loadAverage().join(' ')}`);
  writeResults(SCENARIOS.size === 5 ? 'settlement-load' : `settlement-load-${[...SCENARIOS].join('-')}`, tables);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
