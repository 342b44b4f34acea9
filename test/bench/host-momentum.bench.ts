/**
 * The contract host alone: how long a momentum of 1,000 verified receipts takes from the moment the
 * receipts are marked verified to the commit of the momentum that settles them (apply + digest of
 * the changed entities + one Postgres/PGlite transaction), on the real Postgres (fresh schema) and
 * on in-memory PGlite, and what the full O(state) digest (genesis, end of replay) would cost per
 * momentum at that size.
 *
 * The large-state scenario runs the same momentums on a store that also holds
 * ZGAS_BENCH_HOST_LARGE_SESSIONS open sessions (default 100,000 with the measured ones, on one
 * provider: its bound) with their coverage and pending earnings, and ZGAS_BENCH_HOST_LARGE_ACCOUNTS
 * accounts (default 1,000,000), seeded in SQL; it reports each step per receipt against the fresh
 * store, the host's startup (loading that state), and the rows the last momentum wrote per table.
 *
 * Sizes: ZGAS_BENCH_HOST_SESSIONS (500), ZGAS_BENCH_HOST_ROUNDS (6). ZGAS_BENCH_HOST_LARGE=0 skips the large state.
 */
import os from 'node:os';
import { genesisState } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { MAX_LIVE_SESSIONS_PER_PROVIDER, SETTLEMENT_BUCKET_SECONDS } from '../../contracts/gas/limits.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, VerifiedReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import type { Db } from '../../services/db/db.ts';
import { loadOrCommitGenesis } from '../../services/host/head.ts';
import { startHost } from '../../services/host/host.ts';
import type { Host, RoundTimings } from '../../services/host/host.ts';
import { silentLogger } from '../../services/log.ts';
import { insertCall } from '../../services/store/calls.ts';
import { insertReceipts, markVerified, receiptCopyKey, receiptCounts } from '../../services/store/receipts.ts';
import { loadState } from '../../services/store/state.ts';
import { KEYS, TestAccount, testGenesis, testReceipt, TEST_GENESIS_TIMESTAMP } from '../support/chain.ts';
import { freshPglite, freshSchema, openSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import type { BenchTable } from './harness.ts';

const SESSIONS = Number(process.env['ZGAS_BENCH_HOST_SESSIONS'] ?? 500);
const ROUNDS = Number(process.env['ZGAS_BENCH_HOST_ROUNDS'] ?? 6);
const LARGE = process.env['ZGAS_BENCH_HOST_LARGE'] !== '0';
const LARGE_SESSIONS = Math.min(MAX_LIVE_SESSIONS_PER_PROVIDER, Number(process.env['ZGAS_BENCH_HOST_LARGE_SESSIONS'] ?? 100_000));
const LARGE_ACCOUNTS = Number(process.env['ZGAS_BENCH_HOST_LARGE_ACCOUNTS'] ?? 1_000_000);
const PER_ROUND = 1_000;
/** Batches of the sustained run: verified back to back while the host runs. */
const BURST = Number(process.env['ZGAS_BENCH_HOST_BURST'] ?? 5);
const QSR = 100_000_000n;
const NOW = TEST_GENESIS_TIMESTAMP + 1n;

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** SQL time per kind of statement (what a momentum's commit is made of). */
class StatementTimes {
  readonly ms = new Map<string, number>();
  static kind(sql: string): string {
    const m = /^\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT)\s+(\w+)/i.exec(sql);
    if (m === null) return 'other';
    if (m[1]!.toUpperCase() === 'SELECT') return 'select';
    return `${m[1]!.split(' ')[0]!.toLowerCase()} ${m[2]}`;
  }
  wrap(db: Db): Db {
    const add = (sql: string, t: number): void => {
      const k = StatementTimes.kind(sql);
      this.ms.set(k, (this.ms.get(k) ?? 0) + performance.now() - t);
    };
    return {
      kind: db.kind,
      async query(sql, params) {
        const t = performance.now();
        try {
          return await db.query(sql, params);
        } finally {
          add(sql, t);
        }
      },
      transaction: (fn) => db.transaction((tx) => fn(this.wrap(tx))),
      snapshot: (fn) => db.snapshot((tx) => fn(this.wrap(tx))),
      withAdvisoryLock: (key, fn, opts) => db.withAdvisoryLock(key, fn, opts),
      withMigrationClient: (fn) => db.withMigrationClient(fn),
      listen: (channel, onNotice, onLost) => db.listen(channel, onNotice, onLost),
      close: () => db.close(),
    };
  }
}

interface Setup {
  genesis: Genesis;
  sessions: Hash[];
}

const put = async (db: Db, acc: TestAccount, m: Parameters<TestAccount['call']>[0]): Promise<Hash> => {
  const { signed, hash } = acc.call(m);
  await insertCall(db, signed, hash);
  return hash;
};

/** Genesis, a zApp, a provider and the measured sessions, committed by a host that then stops. */
export async function setUp(db: Db): Promise<Setup> {
  const genesis = testGenesis({ owner: (1_000_000n * QSR).toString(), provider: (5_000n * QSR).toString() });
  const host = await startHost({ db, genesis, clock: () => NOW, intervalMs: 1 });
  try {
    await host.waitForHeight(0n);
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const zAppId = await put(db, owner, { name: 'RegisterZApp', moduleHash: sha3(new Uint8Array([1])), maxPricePerMgas: QSR as Qsr, maxGasPerSession: 10n ** 12n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await put(db, owner, { name: 'TopUp', zAppId, amount: (900_000n * QSR) as Qsr });
    await put(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: 1_000n as Qsr, upfrontGas: 0n as Gas, stake: (1_000n * QSR) as Qsr });
    const sessions: Hash[] = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push(await put(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: 10n ** 10n as Gas, durationSeconds: 86_400n, maxPricePerMgas: MAX_UINT256 as Qsr, maxUpfrontGas: MAX_UINT64 as Gas }));
    await waitFor(async () => (await db.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE status = 'pending'")).rows[0]?.n === '0');
    return { genesis, sessions };
  } finally {
    await host.stop();
  }
}

/**
 * Adds `sessions` open sessions (copies of a measured one, each with a settled receipt's fields, a
 * coverage entry and a pending entry of an earlier bucket) and `accounts` accounts holding one base
 * unit each (decimal digits: addresses without letters are their own checksummed form), in SQL. What they hold comes from the owner (accounts, pending) and from the zApp's
 * available escrow (holds), so the supply still adds up; the provider counts them as live.
 */
export async function seedLarge(db: Db, template: Hash, sessions: number, accounts: number): Promise<void> {
  const owner = KEYS.owner.address;
  const deadline = ((NOW + SETTLEMENT_BUCKET_SECONDS - 1n) / SETTLEMENT_BUCKET_SECONDS) * SETTLEMENT_BUCKET_SECONDS + 86_400n;
  const earlier = (deadline - SETTLEMENT_BUCKET_SECONDS).toString();
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO accounts (address, balance, nonce, extra)
       SELECT '0x' || lpad(i::text, 40, '0'), 1, 0, '{}' FROM generate_series(1, $1::int) i`,
      [accounts],
    );
    const seq = 5;
    await tx.query(
      `INSERT INTO sessions
       SELECT '0x' || lpad(to_hex(i), 64, '0'), zapp_id, provider, user_address, opened_by_owner, price, receipt_signer, gas_limit, hold, upfront_gas,
         0, 0, $2::numeric, '0x' || lpad(to_hex(i), 64, 'a'), '0x' || lpad(to_hex(i), 64, 'b'),
         jsonb_build_object('callGasLimit', '1000', 'inputHash', '0x' || lpad(to_hex(i), 64, 'c'), 'preStateHash', '0x' || lpad(to_hex(i), 64, 'd'), 'ackedGas', '0'),
         coverage_floor_seq, jsonb_build_array(jsonb_build_object('upToSeq', $2::text, 'challengeDeadline', $3::text)), judged_seqs,
         status, stop_call, slashed, opened_at, expires_at, closes_at, finalized_at, extra, remove_at
       FROM sessions, generate_series(1, $1::int) i WHERE id = $4`,
      [sessions, seq, earlier, template],
    );
    await tx.query(
      `INSERT INTO pending_earnings (provider, claimable_at, session_id, amount)
       SELECT s.provider, $2::numeric, '0x' || lpad(to_hex(i), 64, '0'), 1 FROM sessions s, generate_series(1, $1::int) i WHERE s.id = $3`,
      [sessions, earlier, template],
    );
    await tx.query(
      `UPDATE zapps z SET held = z.held + s.hold * $1::numeric, available = z.available - s.hold * $1::numeric
       FROM sessions s WHERE s.id = $2 AND z.id = s.zapp_id`,
      [sessions, template],
    );
    await tx.query('UPDATE providers p SET live_sessions = live_sessions + $1::int, pending_total = pending_total + $1::numeric FROM sessions s WHERE s.id = $2 AND p.address = s.provider', [sessions, template]);
    await tx.query('UPDATE accounts SET balance = balance - $1::numeric WHERE address = $2', [accounts + sessions, owner]);
  });
}

/** Rows of each state table written by the transaction that committed momentum `height` (by xmin). */
async function rowsWrittenBy(db: Db, height: bigint): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['accounts', 'zapps', 'providers', 'sessions', 'pending_earnings']) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table} WHERE xmin::text = (SELECT xmin::text FROM momentums WHERE height = $1)`,
      [height.toString()],
    );
    out[table] = Number(rows[0]!.n);
  }
  return out;
}

interface Measured {
  row: Record<string, string | number>;
  perReceipt: Record<string, number>;
  startupMs: number;
  written: Record<string, number> | null;
  stats: Record<string, Record<string, number>> | null;
}

type PgStats = Record<string, Record<string, number>>;

async function tableStats(db: Db): Promise<PgStats> {
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.query<{ relname: string; ins: string; upd: string; hot: string; del: string; live: string; dead: string }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del, n_live_tup AS live, n_dead_tup AS dead
     FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname IN ('accounts', 'zapps', 'providers', 'sessions', 'pending_earnings', 'momentums')`,
  );
  const out: PgStats = {};
  for (const r of rows) out[r.relname] = { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot), del: Number(r.del), live: Number(r.live), dead: Number(r.dead) };
  return out;
}

/** Runs ROUNDS momentums of PER_ROUND receipts on `db` (set up already), timing each step. */
async function measure(kind: string, db: Db, setup: Setup, hostDb: Db): Promise<Measured> {
  const { genesis, sessions } = setup;
  // Loading the state as a new leader does (the startup a large state costs).
  const l0 = performance.now();
  await loadOrCommitGenesis(db, genesis, silentLogger);
  const startupMs = performance.now() - l0;

  const statements = new StatementTimes();
  const rounds: RoundTimings[] = [];
  const sql: Map<string, number>[] = [];
  let host: Host | null = await startHost({
    db: statements.wrap(hostDb), genesis, clock: () => NOW, intervalMs: 1,
    onRound: (t) => {
      if (t.receipts === 0) return;
      rounds.push(t);
      sql.push(new Map(statements.ms));
      statements.ms.clear();
    },
  });
  let written: Record<string, number> | null = null;
  let before: PgStats | null = null;
  try {
    // Pre-signed: receipts seq 1.. per session, PER_ROUND per round, spread over the sessions.
    const perSession = Math.ceil((PER_ROUND * (ROUNDS + 1 + BURST)) / sessions.length);
    const bySeq: VerifiedReceipt[][] = [];
    for (let seq = 1; seq <= perSession; seq++) {
      bySeq.push(sessions.map((sessionId) => {
        const pre = seq === 1 ? EMPTY_STATE_HASH : sha3(new Uint8Array([seq - 1]));
        const post = sha3(new Uint8Array([seq]));
        return testReceipt({ sessionId, seq: BigInt(seq), callGasLimit: 1_000n as Gas, callGas: 1_000n as Gas, cumulativeGas: BigInt(1_000 * seq) as Gas, inputHash: post, preStateHash: pre, postStateHash: post, outputHash: post, status: CallStatus.Ok });
      }));
    }
    const all = bySeq.flat();
    const ingestMs: number[] = [];
    const settleMs: number[] = [];
    let applied = (await receiptCounts(db)).applied;
    // Round 0 warms up (the host is still loading the state as it starts): left out of the figures.
    for (let round = 0; round <= ROUNDS; round++) {
      const batch = all.slice(round * PER_ROUND, (round + 1) * PER_ROUND);
      const t0 = performance.now();
      const copies = batch.map((r) => ({ receipt: r.receipt, digest: r.digest, copyKey: receiptCopyKey(r.digest, r.receipt) }));
      await insertReceipts(db, copies, 'bench');
      await markVerified(db, batch.map((r, i) => ({ copyKey: copies[i]!.copyKey, signer: r.signer, invocationSigner: r.invocationSigner })));
      const t1 = performance.now();
      applied += batch.length;
      await waitFor(async () => (await receiptCounts(db)).applied >= applied);
      if (round === 0) {
        rounds.length = 0;
        sql.length = 0;
        if (db.kind === 'pg') before = await tableStats(db);
        continue;
      }
      ingestMs.push(t1 - t0);
      settleMs.push(performance.now() - t1);
    }
    const measuredRounds = rounds.length;
    const measuredSql = sql.length;

    // Sustained: BURST batches stored, then verified one statement after another while the host
    // runs (full batches: the next momentum is applied while the previous one commits).
    const burst = all.slice((ROUNDS + 1) * PER_ROUND, (ROUNDS + 1 + BURST) * PER_ROUND);
    const marks: Parameters<typeof markVerified>[1][] = [];
    for (let i = 0; i < burst.length; i += PER_ROUND) {
      const part = burst.slice(i, i + PER_ROUND);
      const copies = part.map((r) => ({ receipt: r.receipt, digest: r.digest, copyKey: receiptCopyKey(r.digest, r.receipt) }));
      await insertReceipts(db, copies, 'bench');
      marks.push(part.map((r, j) => ({ copyKey: copies[j]!.copyKey, signer: r.signer, invocationSigner: r.invocationSigner })));
    }
    const b0 = performance.now();
    for (const m of marks) await markVerified(db, m);
    applied += burst.length;
    await waitFor(async () => (await receiptCounts(db)).applied >= applied);
    const burstMs = performance.now() - b0;
    const burstRounds = rounds.splice(measuredRounds);
    sql.splice(measuredSql);
    const burstWait = percentile(burstRounds.map((t) => (t as { waitMs?: number }).waitMs ?? 0).sort((a, b) => a - b), 50);

    await host.stop();
    host = null;
    if (db.kind === 'pg') written = await rowsWrittenBy(db, (burstRounds.at(-1) ?? rounds.at(-1)!).height);
    const state = await loadState(db, genesisState(genesis));
    const d0 = performance.now();
    const reps = 3;
    for (let i = 0; i < reps; i++) stateDigest(state);
    const digestMs = (performance.now() - d0) / reps;
    settleMs.sort((a, b) => a - b);
    ingestMs.sort((a, b) => a - b);
    // Per receipt, the median over the momentums of each step's time divided by its receipts.
    const median = (step: (t: RoundTimings, i: number) => number): number =>
      percentile(rounds.map((t, i) => (step(t, i) * 1000) / t.receipts).sort((a, b) => a - b), 50);
    const perReceipt: Record<string, number> = {
      load: median((t) => t.loadMs), prepare: median((t) => t.prepareMs), apply: median((t) => t.applyMs),
      seal: median((t) => t.sealMs), commit: median((t) => t.commitMs),
    };
    const kinds = new Set(sql.flatMap((m) => [...m.keys()]));
    // `select` is mostly the next batch loading while the momentum commits (on another connection).
    for (const k of kinds) perReceipt[`sql ${k}`] = median((_t, i) => sql[i]!.get(k) ?? 0);
    const state0 = { accounts: state.accounts.size, sessions: state.sessions.size };
    const row: Record<string, string | number> = {
      store: kind, accounts: fmt(state0.accounts), sessions: fmt(state0.sessions), 'receipts/momentum': PER_ROUND,
      'ingest ms p50': fmt(percentile(ingestMs, 50), 1),
      'verified→committed ms p50': fmt(percentile(settleMs, 50), 1), 'max': fmt(settleMs[settleMs.length - 1]!, 1),
      'receipts/s': fmt((PER_ROUND * 1000) / percentile(settleMs, 50)),
      'sustained receipts/s': fmt((burst.length * 1000) / burstMs), 'commit wait ms p50': fmt(burstWait, 1),
      'stateDigest ms': fmt(digestMs, 1), 'startup ms': fmt(startupMs),
      'µs/receipt load': fmt(perReceipt['load']!, 1), 'prepare': fmt(perReceipt['prepare']!, 1), 'apply': fmt(perReceipt['apply']!, 1),
      'seal': fmt(perReceipt['seal']!, 1), 'commit (SQL)': fmt(perReceipt['commit']!, 1),
    };
    return { row, perReceipt, startupMs, written, stats: before };
  } finally {
    await host?.stop();
  }
}

/** pg_stat_user_tables growth over the measured momentums (the host's connections flush their counters when they close). */
async function statsDelta(db: Db, before: PgStats, sessionsUpdated: number): Promise<PgStats> {
  let after = await tableStats(db);
  // Counters arrive when the host's backends exit: wait for the sessions' updates (bounded).
  for (let i = 0; i < 500 && (after['sessions']?.['upd'] ?? 0) - (before['sessions']?.['upd'] ?? 0) < sessionsUpdated; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await tableStats(db);
  }
  const out: PgStats = {};
  for (const [t, a] of Object.entries(after)) {
    const b = before[t] ?? {};
    out[t] = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, k === 'live' || k === 'dead' ? v : v - (b[k] ?? 0)]));
  }
  return out;
}

async function pgRun(kind: string, large: boolean): Promise<Measured> {
  const db: TestDb = await freshSchema('bench_host');
  try {
    // Set up on a pool of its own, closed at once: its table statistics are flushed before the measured rounds.
    const setupDb = await openSchema(db.schema);
    let setup: Setup;
    try {
      setup = await setUp(setupDb);
    } finally {
      await setupDb.close();
    }
    if (large) await seedLarge(db, setup.sessions[0]!, LARGE_SESSIONS - setup.sessions.length, LARGE_ACCOUNTS);
    // A settled store, fresh or large: statistics, visibility map and a checkpoint behind it, so
    // autovacuum and full-page writes after the bulk insert do not land in the measured momentums.
    await db.query('VACUUM ANALYZE accounts, zapps, providers, sessions, pending_earnings, calls, receipts, momentums');
    await db.query('CHECKPOINT');
    const hostDb = await openSchema(db.schema);
    let m: Measured;
    try {
      m = await measure(kind, db, setup, hostDb);
    } finally {
      await hostDb.close();
    }
    // Statistics arrive when the host's connections close; wait for the sessions the rounds settled (at least one update each).
    if (m.stats !== null) m.stats = await statsDelta(db, m.stats, (ROUNDS + BURST) * Math.min(PER_ROUND, setup.sessions.length) * 0.9);
    return m;
  } finally {
    await db.close();
  }
}

export async function run(): Promise<void> {
  const fresh = await pgRun('postgres', false);
  const measured: Measured[] = [fresh];
  const lite = await freshPglite();
  try {
    const setup = await setUp(lite);
    measured.push(await measure('pglite', lite, setup, lite));
  } finally {
    await lite.close();
  }
  let large: Measured | null = null;
  if (LARGE) {
    large = await pgRun('postgres, large state', true);
    measured.push(large);
  }
  const table: BenchTable = {
    title: 'contract host: one momentum of 1,000 verified receipts',
    columns: ['store', 'accounts', 'sessions', 'receipts/momentum', 'ingest ms p50', 'verified→committed ms p50', 'max', 'receipts/s', 'sustained receipts/s', 'commit wait ms p50', 'stateDigest ms', 'startup ms', 'µs/receipt load', 'prepare', 'apply', 'seal', 'commit (SQL)'],
    rows: measured.map((m) => m.row),
    notes: [
      'ingest = insertReceipts + markVerified of 1,000 receipts (what the API and a worker do);',
      'verified→committed = until the momentum settling them is committed (apply, digest of the changed entities, one transaction).',
      'stateDigest: the full O(state) digest, no longer computed per momentum (only for momentum 0 and at the end of a replay).',
      'startup: a new leader loading the committed state (loadOrCommitGenesis).',
      `sustained: ${BURST} batches of 1,000 stored, then verified one statement after another while the host runs, until all are applied;`,
      '  commit wait: how long a sealed momentum of that run waited for the previous commit (0 when commits are not overlapped).',
      'µs/receipt: the host\'s steps per momentum (median) divided by its receipts: load = reading the batch (0 when it loaded while the previous momentum committed),',
      '  prepare = re-deriving each receipt\'s digest, apply = the contract, seal = results + changes digest + momentum hash, commit = the one transaction.',
      `load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`,
    ],
    data: measured.map((m) => ({ store: m.row['store'], perReceiptUs: m.perReceipt, startupMs: m.startupMs, rowsWrittenByLastMomentum: m.written, tableStatsOverRounds: m.stats })),
  };
  printTable(table);
  const tables = [table];
  const stepTable: BenchTable = {
    title: 'µs per receipt by step and by SQL statement (median over the momentums)',
    columns: ['step', ...measured.map((m) => String(m.row['store']))],
    rows: [...new Set(measured.flatMap((m) => Object.keys(m.perReceipt)))].map((k) => ({ step: k, ...Object.fromEntries(measured.map((m) => [String(m.row['store']), fmt(m.perReceipt[k] ?? 0, 1)])) })),
  };
  printTable(stepTable);
  tables.push(stepTable);
  if (large !== null) {
    const ratio = (k: string): string => fmt((large.perReceipt[k] ?? 0) / (fresh.perReceipt[k] ?? Number.NaN), 2);
    const growth: BenchTable = {
      title: 'large state against fresh (Postgres)',
      columns: ['', 'fresh', 'large', 'large/fresh'],
      rows: [
        ...['load', 'prepare', 'apply', 'seal', 'commit'].map((k) => ({ '': `µs/receipt ${k}`, fresh: fmt(fresh.perReceipt[k]!, 1), large: fmt(large.perReceipt[k]!, 1), 'large/fresh': ratio(k) })),
        { '': 'µs/receipt seal+commit', fresh: fmt(fresh.perReceipt['seal']! + fresh.perReceipt['commit']!, 1), large: fmt(large.perReceipt['seal']! + large.perReceipt['commit']!, 1), 'large/fresh': fmt((large.perReceipt['seal']! + large.perReceipt['commit']!) / (fresh.perReceipt['seal']! + fresh.perReceipt['commit']!), 2) },
        { '': 'startup ms (load the state)', fresh: fmt(fresh.startupMs), large: fmt(large.startupMs), 'large/fresh': '' },
        ...Object.keys(large.written ?? {}).map((t) => ({ '': `rows the last momentum wrote: ${t}`, fresh: String(fresh.written?.[t] ?? ''), large: String(large.written?.[t] ?? ''), 'large/fresh': '' })),
        ...Object.keys(large.stats ?? {}).map((t) => {
          const f = fresh.stats?.[t];
          const l = large.stats![t]!;
          const show = (s: Record<string, number> | undefined): string => (s === undefined ? '' : `ins ${s['ins']} upd ${s['upd']} (hot ${s['hot']}) del ${s['del']}`);
          return { '': `pg_stat ${t} over ${ROUNDS + 1 + BURST} momentums`, fresh: show(f), large: show(l), 'large/fresh': '' };
        }),
      ],
      notes: [
        `large: ${fmt(LARGE_SESSIONS)} open sessions on the one provider (its bound), each with a coverage entry and a pending entry, and ${fmt(LARGE_ACCOUNTS)} more accounts.`,
        'rows the last momentum wrote: rows of each table whose xmin is the momentum\'s transaction (the measured sessions, the zApp, the provider, its new pending entries);',
        'pg_stat: inserts, updates (of which heap-only, no index entries) and deletes over the measured momentums and the sustained run.',
      ],
    };
    printTable(growth);
    tables.push(growth);
  }
  writeResults('host-momentum', tables);
}
