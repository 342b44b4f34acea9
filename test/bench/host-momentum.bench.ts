/**
 * The contract host alone: how long a momentum of 1,000 verified receipts takes from the moment the
 * receipts are marked verified to the commit of the momentum that settles them (apply + digest of
 * the changed entities + one Postgres/PGlite transaction), on the real Postgres (fresh schema) and
 * on in-memory PGlite, and what the full O(state) digest (genesis, end of replay) would cost per
 * momentum at that size.
 *
 * Sizes: ZGAS_BENCH_HOST_SESSIONS (500), ZGAS_BENCH_HOST_ROUNDS (6).
 */
import { genesisState } from '../../contracts/gas/genesis.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, VerifiedReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import type { Db } from '../../services/db/db.ts';
import { startHost } from '../../services/host/host.ts';
import type { RoundTimings } from '../../services/host/host.ts';
import { insertCall } from '../../services/store/calls.ts';
import { insertReceipts, markVerified, receiptCopyKey, receiptCounts } from '../../services/store/receipts.ts';
import { loadState } from '../../services/store/state.ts';
import { KEYS, TestAccount, testGenesis, testReceipt, TEST_GENESIS_TIMESTAMP } from '../support/chain.ts';
import { freshPglite, freshSchema } from '../support/db.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import type { BenchTable } from './harness.ts';

const SESSIONS = Number(process.env['ZGAS_BENCH_HOST_SESSIONS'] ?? 500);
const ROUNDS = Number(process.env['ZGAS_BENCH_HOST_ROUNDS'] ?? 6);
const PER_ROUND = 1_000;
const QSR = 100_000_000n;

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function measure(kind: string, db: Db): Promise<Record<string, string | number>> {
  const genesis = testGenesis({ owner: (1_000_000n * QSR).toString(), provider: (5_000n * QSR).toString() });
  const rounds: RoundTimings[] = [];
  const host = await startHost({ db, genesis, clock: () => TEST_GENESIS_TIMESTAMP + 1n, intervalMs: 1, onRound: (t) => void (t.receipts > 0 && rounds.push(t)) });
  try {
    await host.waitForHeight(0n);
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const put = async (acc: TestAccount, m: Parameters<TestAccount['call']>[0]): Promise<Hash> => {
      const { signed, hash } = acc.call(m);
      await insertCall(db, signed, hash);
      return hash;
    };
    const zAppId = await put(owner, { name: 'RegisterZApp', moduleHash: sha3(new Uint8Array([1])), maxPricePerMgas: QSR as Qsr, maxGasPerSession: 10n ** 12n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await put(owner, { name: 'TopUp', zAppId, amount: (900_000n * QSR) as Qsr });
    await put(provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: 1_000n as Qsr, upfrontGas: 0n as Gas, stake: (1_000n * QSR) as Qsr });
    const sessions: Hash[] = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push(await put(owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: 10n ** 10n as Gas, durationSeconds: 86_400n, maxPricePerMgas: MAX_UINT256 as Qsr, maxUpfrontGas: MAX_UINT64 as Gas }));
    await waitFor(async () => (await db.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE status = 'pending'")).rows[0]?.n === '0');

    // Pre-signed: receipts seq 1.. per session, PER_ROUND per round, spread over the sessions.
    const perSession = Math.ceil((PER_ROUND * ROUNDS) / SESSIONS);
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
    let applied = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const batch = all.slice(round * PER_ROUND, (round + 1) * PER_ROUND);
      const t0 = performance.now();
      const copies = batch.map((r) => ({ receipt: r.receipt, digest: r.digest, copyKey: receiptCopyKey(r.digest, r.receipt) }));
      await insertReceipts(db, copies, 'bench');
      await markVerified(db, batch.map((r, i) => ({ copyKey: copies[i]!.copyKey, signer: r.signer, invocationSigner: r.invocationSigner })));
      const t1 = performance.now();
      applied += batch.length;
      await waitFor(async () => (await receiptCounts(db)).applied >= applied);
      ingestMs.push(t1 - t0);
      settleMs.push(performance.now() - t1);
    }
    const state = await loadState(db, genesisState(genesis));
    const d0 = performance.now();
    const reps = 5;
    for (let i = 0; i < reps; i++) stateDigest(state);
    const digestMs = (performance.now() - d0) / reps;
    settleMs.sort((a, b) => a - b);
    ingestMs.sort((a, b) => a - b);
    // Per receipt, the median over the momentums of each step's time divided by its receipts.
    const perReceiptUs = (step: (t: RoundTimings) => number): string =>
      fmt(percentile(rounds.map((t) => (step(t) * 1000) / t.receipts).sort((a, b) => a - b), 50), 1);
    return {
      store: kind, sessions: SESSIONS, 'receipts/momentum': PER_ROUND,
      'ingest ms p50': fmt(percentile(ingestMs, 50), 1),
      'verified→committed ms p50': fmt(percentile(settleMs, 50), 1), 'max': fmt(settleMs[settleMs.length - 1]!, 1),
      'receipts/s': fmt((PER_ROUND * 1000) / percentile(settleMs, 50)),
      'stateDigest ms': fmt(digestMs, 1),
      'µs/receipt load': perReceiptUs((t) => t.loadMs), 'prepare': perReceiptUs((t) => t.prepareMs), 'apply': perReceiptUs((t) => t.applyMs),
      'seal': perReceiptUs((t) => t.sealMs), 'commit (SQL)': perReceiptUs((t) => t.commitMs),
    };
  } finally {
    await host.stop();
  }
}

export async function run(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const pg = await freshSchema('bench_host');
  try {
    rows.push(await measure('postgres', pg));
  } finally {
    await pg.close();
  }
  const lite = await freshPglite();
  try {
    rows.push(await measure('pglite', lite));
  } finally {
    await lite.close();
  }
  const table: BenchTable = {
    title: 'contract host: one momentum of 1,000 verified receipts',
    columns: ['store', 'sessions', 'receipts/momentum', 'ingest ms p50', 'verified→committed ms p50', 'max', 'receipts/s', 'stateDigest ms', 'µs/receipt load', 'prepare', 'apply', 'seal', 'commit (SQL)'],
    rows,
    notes: [
      'ingest = insertReceipts + markVerified of 1,000 receipts (what the API and a worker do);',
      'verified→committed = until the momentum settling them is committed (apply, digest of the changed entities, one transaction).',
      'stateDigest: the full O(state) digest, no longer computed per momentum (only for momentum 0 and at the end of a replay).',
      'µs/receipt: the host\'s steps per momentum (median) divided by its receipts: load = reading the batch (0 when it loaded while the previous momentum committed),',
      '  prepare = re-deriving each receipt\'s digest, apply = the contract, seal = results + changes digest + momentum hash, commit = the one transaction.',
    ],
  };
  printTable(table);
  writeResults('host-momentum', [table]);
}
