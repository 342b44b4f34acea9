import type { StorageConfig } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { expireApplied, expireModules, MAX_MODULES_PER_EXPIRY, MAX_RECEIPTS_PER_CALL } from '../store/index.ts';

/** How often expired uploads and receipt copies past their retention are deleted. */
export const RETENTION_INTERVAL_MS = 60_000;
/** Deleting calls per kind and tick at most, so one tick stays bounded after a long stop. */
const MAX_BATCHES_PER_TICK = 20;

export interface RetentionOptions {
  db: Db;
  storage: StorageConfig;
  log?: Logger;
  intervalMs?: number;
}

export interface Retention {
  /** One pass: expired unregistered modules and applied copies past their retention; how many of each were deleted. */
  runOnce(): Promise<{ modules: number; receipts: number }>;
  stop(): Promise<void>;
}

/**
 * Keeps the store to what `zgas replay` and the live flows need: uploads no zApp registered are
 * deleted after their time to live, applied receipt copies after the retention (the momentums keep
 * every settled input), copies settled as no-ops after the shorter one.
 */
export function startRetention(opts: RetentionOptions): Retention {
  const log = opts.log ?? silentLogger;
  let running: Promise<{ modules: number; receipts: number }> | null = null;

  const pass = async (): Promise<{ modules: number; receipts: number }> => {
    let modules = 0;
    let receipts = 0;
    for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
      const n = await expireModules(opts.db, MAX_MODULES_PER_EXPIRY);
      modules += n;
      if (n < MAX_MODULES_PER_EXPIRY) break;
    }
    for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
      const n = await expireApplied(opts.db, { olderThanMs: opts.storage.receiptRetentionMs, duplicatesOlderThanMs: opts.storage.duplicateRetentionMs, limit: MAX_RECEIPTS_PER_CALL });
      receipts += n;
      if (n < MAX_RECEIPTS_PER_CALL) break;
    }
    if (modules + receipts > 0) log.info({ modules, receipts }, 'retention deleted expired uploads and applied receipt copies');
    return { modules, receipts };
  };

  const runOnce = (): Promise<{ modules: number; receipts: number }> => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => log.warn({ err }, 'retention pass failed'));
  }, opts.intervalMs ?? RETENTION_INTERVAL_MS);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      if (running !== null) await running.catch(() => undefined);
    },
  };
}
