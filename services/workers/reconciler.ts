import type { Db } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { ReceiptQueue } from '../queue/index.ts';
import { expireRejected, REJECTED_COPY_TTL_MS, resyncReceiptTallies, unverifiedReceipts } from '../store/index.ts';

/** How often the reconciler looks for stranded receipts. */
export const RECONCILE_INTERVAL_MS = 5_000;
/** A receipt is stranded once stored this long without being verified. */
export const RECONCILE_AFTER_MS = 10_000;
/** Receipts re-enqueued per pass at most (one store call). */
export const RECONCILE_BATCH = 1_000;
/**
 * Jobs already waiting above which a pass does nothing: the backlog is being worked off (or the
 * workers are down), and re-enqueueing would only pile duplicates onto it.
 */
export const RECONCILE_MAX_QUEUE_DEPTH = 50;
/**
 * How often the tallies of copies waiting to be applied are checked against a count of them (and
 * at start). The pipeline keeps them exact; this only undoes a change made outside it.
 */
export const TALLY_RESYNC_INTERVAL_MS = 10 * 60_000;
/** Passes per tick at most, so one tick stays bounded even after a long outage. */
const MAX_PASSES_PER_TICK = 20;

export interface ReconcilerOptions {
  db: Db;
  queue: ReceiptQueue;
  log?: Logger;
  intervalMs?: number;
  olderThanMs?: number;
  batch?: number;
  maxQueueDepth?: number;
  /** How long a rejected copy stays before it expires (default REJECTED_COPY_TTL_MS). */
  rejectedTtlMs?: number;
}

export interface Reconciler {
  /** One pass: re-enqueues every stranded receipt (bounded); returns how many. */
  runOnce(): Promise<number>;
  /** Deletes rejected copies past their time to live (bounded); returns how many. */
  expireOnce(): Promise<number>;
  /** Sets the tallies of copies waiting to be applied to a count of them; returns the drift corrected. */
  resyncOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Re-enqueues receipt copies that are stored but were never verified, e.g. after Redis lost its
 * jobs or a process died between storing and enqueueing. Re-enqueueing a copy that is merely slow
 * is harmless: verification and settlement are idempotent. A copy whose verification was lost (it
 * is committed without waiting for the WAL flush) is stored and unverified again, so it is found
 * the same way. Also expires copies rejected longer ago than their time to live (what failed
 * verification is dropped; only the momentums keep a record), and now and then sets the tallies
 * admission control reads back to a count of the copies they tally.
 */
export function startReconciler(opts: ReconcilerOptions): Reconciler {
  const log = opts.log ?? silentLogger;
  const intervalMs = opts.intervalMs ?? RECONCILE_INTERVAL_MS;
  const olderThanMs = opts.olderThanMs ?? RECONCILE_AFTER_MS;
  const batch = opts.batch ?? RECONCILE_BATCH;
  let stopped = false;
  let running: Promise<number> | null = null;

  const maxDepth = opts.maxQueueDepth ?? RECONCILE_MAX_QUEUE_DEPTH;
  const pass = async (): Promise<number> => {
    const depth = await opts.queue.depth();
    if (depth >= maxDepth) {
      log.debug({ depth }, 'reconciler skipped: the queue has a backlog');
      return 0;
    }
    let total = 0;
    for (let i = 0; i < MAX_PASSES_PER_TICK; i++) {
      const copyKeys = await unverifiedReceipts(opts.db, { olderThanMs, limit: batch });
      if (copyKeys.length === 0) break;
      await opts.queue.enqueue(copyKeys);
      total += copyKeys.length;
      // Without a running consumer the same copyKeys come back: one pass per tick then.
      if (copyKeys.length < batch || opts.queue.kind === 'memory') break;
    }
    if (total > 0) log.info({ receipts: total }, 'reconciler re-enqueued stored, unverified receipts');
    return total;
  };

  const rejectedTtlMs = opts.rejectedTtlMs ?? REJECTED_COPY_TTL_MS;
  const expireOnce = async (): Promise<number> => {
    let total = 0;
    for (let i = 0; i < MAX_PASSES_PER_TICK; i++) {
      const n = await expireRejected(opts.db, { olderThanMs: rejectedTtlMs, limit: batch });
      total += n;
      if (n < batch) break;
    }
    if (total > 0) log.info({ receipts: total }, 'reconciler expired rejected receipt copies');
    return total;
  };

  const resyncOnce = async (): Promise<number> => {
    const drift = await resyncReceiptTallies(opts.db);
    if (drift !== 0) log.warn({ drift }, 'the tallies of receipt copies waiting to be applied had drifted: set to a count of them');
    return drift;
  };
  let resyncedAt = -Infinity;
  const resyncDue = (): void => {
    if (performance.now() - resyncedAt < TALLY_RESYNC_INTERVAL_MS) return;
    resyncedAt = performance.now();
    resyncOnce().catch((err: unknown) => log.warn({ err }, 'resyncing the receipt tallies failed'));
  };

  const runOnce = (): Promise<number> => {
    if (running !== null) return running;
    running = pass().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    if (stopped) return;
    runOnce().catch((err: unknown) => log.warn({ err }, 'reconciler pass failed'));
    expireOnce().catch((err: unknown) => log.warn({ err }, 'expiring rejected receipt copies failed'));
    resyncDue();
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    expireOnce,
    resyncOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running !== null) await running.catch(() => 0);
    },
  };
}
