import type { StorageConfig } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { expireApplied, expireCalls, expireModules, MAX_CALLS_PER_EXPIRY, MAX_MODULES_PER_EXPIRY, MAX_RECEIPTS_PER_CALL, vacuumChurned } from '../store/index.ts';
import type { VacuumedTable } from '../store/index.ts';

/** Deleting calls per kind and tick at most, so one tick stays bounded after a long stop. */
const MAX_BATCHES_PER_TICK = 20;

export interface RetentionOptions {
  db: Db;
  storage: StorageConfig;
  log?: Logger;
  /** Overrides `storage.retentionIntervalMs` (tests). */
  intervalMs?: number;
}

export interface RetentionPass {
  modules: number;
  receipts: number;
  calls: number;
  /** Tables vacuumed or analyzed after the deletions. */
  vacuumed: VacuumedTable[];
}

export interface Retention {
  /** One pass: expired unregistered modules, applied receipt copies and settled calls past their retention, then the vacuum. */
  runOnce(): Promise<RetentionPass>;
  stop(): Promise<void>;
}

/**
 * Keeps the store to what `zgas replay` and the live flows need: uploads no zApp registered are
 * deleted after their time to live, applied receipt copies after the retention (the momentums keep
 * every settled input), copies settled as no-ops after the shorter one, settled calls after theirs.
 * Then the tables that churned past a threshold are vacuumed, so the space of deleted and updated
 * rows is reused whether or not the server's autovacuum runs or keeps up.
 */
export function startRetention(opts: RetentionOptions): Retention {
  const log = opts.log ?? silentLogger;
  let running: Promise<RetentionPass> | null = null;

  const drain = async (expire: () => Promise<number>, batch: number): Promise<number> => {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
      const n = await expire();
      total += n;
      if (n < batch) break;
    }
    return total;
  };

  const pass = async (): Promise<RetentionPass> => {
    const { storage, db } = opts;
    const modules = await drain(() => expireModules(db, MAX_MODULES_PER_EXPIRY), MAX_MODULES_PER_EXPIRY);
    const receipts = await drain(
      () => expireApplied(db, { olderThanMs: storage.receiptRetentionMs, duplicatesOlderThanMs: storage.duplicateRetentionMs, limit: MAX_RECEIPTS_PER_CALL }),
      MAX_RECEIPTS_PER_CALL,
    );
    const calls = await drain(() => expireCalls(db, { olderThanMs: storage.callRetentionMs, limit: MAX_CALLS_PER_EXPIRY }), MAX_CALLS_PER_EXPIRY);
    if (modules + receipts + calls > 0) log.info({ modules, receipts, calls }, 'retention deleted expired uploads, applied receipt copies and settled calls');
    const vacuumed = await vacuumChurned(db);
    if (vacuumed.length > 0) log.debug({ vacuumed }, 'retention vacuumed churned tables');
    return { modules, receipts, calls, vacuumed };
  };

  const runOnce = (): Promise<RetentionPass> => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => log.warn({ err }, 'retention pass failed'));
  }, opts.intervalMs ?? opts.storage.retentionIntervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      if (running !== null) await running.catch(() => undefined);
    },
  };
}
