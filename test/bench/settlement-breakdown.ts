/**
 * Where a receipt's time goes, stage by stage, each stage run alone against the rows the one before
 * it stored: intake (POST /v1/receipts: parse, check, insert, enqueue) with no verifier running;
 * verification (verifyCopies over the stored copies) with no API and no sequencer; the host
 * (load, prepare, apply, seal, and the commit's SQL) over the verified rows, timed by its onRound
 * RoundTimings. Wall time and this process's CPU (process.cpuUsage) per receipt; Postgres's own
 * CPU is not in the CPU figures, only in the wall times.
 */
import { receiptDigest } from '../../contracts/eip712/index.ts';
import { receiptToJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import { openPgDb } from '../../services/db/pg.ts';
import { startHost } from '../../services/host/index.ts';
import type { RoundTimings } from '../../services/host/index.ts';
import { receiptCopyKey } from '../../services/store/index.ts';
import { verifyCopies } from '../../services/workers/verify.ts';
import { TEST_DATABASE_URL } from '../support/db.ts';
import { everyReceipt, setUp, startBenchSystem, SETUP_TIMEOUT_MS, until } from './settlement-harness.ts';
import type { Plan } from './settlement-harness.ts';

/** Copies one verification job takes (as the API enqueues a POST of a full batch). */
const VERIFY_CHUNK = 1_000;

export interface Stage {
  stage: string;
  /** Wall time per receipt, µs. */
  wallUs: number;
  /** This process's CPU per receipt, µs (null when the stage's time is not this process's alone). */
  cpuUs: number | null;
}

export interface Breakdown {
  receipts: number;
  stages: Stage[];
  rounds: number;
}

const cpuNow = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

export async function breakdown(p: Plan, upTo: number): Promise<Breakdown> {
  const receipts = everyReceipt(p, upTo);
  const n = receipts.length;
  const b = await startBenchSystem(p, { workerProcesses: 0, verifyConcurrency: 0 });
  const stages: Stage[] = [];
  try {
    await setUp(b);
    // Intake alone: nothing verifies, so nothing settles.
    const bodies: string[] = [];
    for (let i = 0; i < n; i += 1_000) bodies.push(JSON.stringify({ receipts: receipts.slice(i, i + 1_000).map(receiptToJson) }));
    let next = 0;
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await fetch(`${b.sys.apiUrl}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (response.status !== 202) throw new Error(`POST /v1/receipts: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }));
    stages.push({ stage: 'intake (API parse + checks + insert + enqueue)', wallUs: ((performance.now() - t0) * 1000) / n, cpuUs: (cpuNow() - cpu0) / n });
    await b.sys.close();

    const db = await openPgDb({ databaseUrl: TEST_DATABASE_URL, schema: b.schema });
    try {
      // Verification alone: the stored copies, a job's worth at a time.
      const keys: Hash[] = receipts.map((r) => receiptCopyKey(receiptDigest(p.domain, r), r));
      const cpu1 = cpuNow();
      const t1 = performance.now();
      let verified = 0;
      for (let i = 0; i < keys.length; i += VERIFY_CHUNK) verified += (await verifyCopies({ db, domain: p.domain }, keys.slice(i, i + VERIFY_CHUNK))).verified;
      stages.push({ stage: 'verify (load rows + 2 recoveries + mark verified)', wallUs: ((performance.now() - t1) * 1000) / n, cpuUs: (cpuNow() - cpu1) / n });
      if (verified !== n) throw new Error(`breakdown: ${verified} of ${n} receipts verified`);

      // The host alone over the verified rows.
      const rounds: RoundTimings[] = [];
      const cpu2 = cpuNow();
      const t2 = performance.now();
      const host = await startHost({ db, genesis: p.genesis, intervalMs: 100, onRound: (t) => { if (t.receipts > 0) rounds.push(t); } });
      try {
        await until('the host settles the verified receipts', SETUP_TIMEOUT_MS, async () => rounds.reduce((s, r) => s + r.receipts, 0) >= n, 10);
      } finally {
        await host.stop();
      }
      const hostWall = performance.now() - t2;
      const hostCpu = cpuNow() - cpu2;
      const sum = (f: (r: RoundTimings) => number): number => (rounds.reduce((s, r) => s + f(r), 0) * 1000) / n;
      stages.push(
        { stage: 'host: load batch', wallUs: sum((r) => r.loadMs), cpuUs: null },
        { stage: 'host: prepare', wallUs: sum((r) => r.prepareMs), cpuUs: null },
        { stage: 'host: apply', wallUs: sum((r) => r.applyMs), cpuUs: null },
        { stage: 'host: seal (results, digest, hash)', wallUs: sum((r) => r.sealMs), cpuUs: null },
        { stage: 'SQL: commit (one transaction per momentum)', wallUs: sum((r) => r.commitMs), cpuUs: null },
        { stage: 'host: whole stage (start → all settled)', wallUs: (hostWall * 1000) / n, cpuUs: hostCpu / n },
      );
      return { receipts: n, stages, rounds: rounds.length };
    } finally {
      await db.close();
    }
  } finally {
    await b.close();
  }
}
