import type { Db } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { ReceiptQueue } from '../queue/index.ts';
import { unverifiedReceipts } from '../store/index.ts';

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
}

export interface Reconciler {
  /** One pass: re-enqueues every stranded receipt (bounded); returns how many. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Re-enqueues receipts that are stored but were never verified, e.g. after Redis lost its jobs or
 * a process died between storing and enqueueing. Re-enqueueing a receipt that is merely slow is
 * harmless: verification and settlement are idempotent.
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
      const digests = await unverifiedReceipts(opts.db, { olderThanMs, limit: batch });
      if (digests.length === 0) break;
      await opts.queue.enqueue(digests);
      total += digests.length;
      // Without a running consumer the same digests come back: one pass per tick then.
      if (digests.length < batch || opts.queue.kind === 'memory') break;
    }
    if (total > 0) log.info({ receipts: total }, 'reconciler re-enqueued stored, unverified receipts');
    return total;
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
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running !== null) await running.catch(() => 0);
    },
  };
}
