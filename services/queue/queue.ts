import type { Hash } from '../../contracts/types.ts';

/** Copy keys per job: a receipts POST of up to 1,000 receipts is split into jobs of this size. */
export const DIGESTS_PER_JOB = 250;
/** Attempts per job before it is dropped (the reconciler finds its receipts again later). */
export const JOB_ATTEMPTS = 5;
/** Delay before the first retry of a failed job; doubled on every further attempt. */
export const JOB_RETRY_DELAY_MS = 200;

/**
 * Longest wait between two attempts to reconnect to Redis. BullMQ's own strategy grows the wait
 * exponentially to 20 s, so after a long outage the queue came back up to 20 s after Redis did.
 */
export const REDIS_RECONNECT_MAX_MS = 1_000;

/** ioredis `retryStrategy`: 100 ms more per attempt, capped; never gives up. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(Math.max(1, attempt) * 100, REDIS_RECONNECT_MAX_MS);
}

export type DigestHandler = (digests: Hash[]) => Promise<void>;

/** What `process` returns: a running consumer that can be stopped. */
export interface QueueConsumer {
  close(): Promise<void>;
}

/**
 * The receipt queue port. Jobs carry only the intake keys of receipt copies (services/store
 * `receiptCopyKey`): the copies themselves are stored in Postgres before a job exists, so a lost job
 * delays settlement but never loses a receipt, and a job run twice changes nothing (exactly-once
 * effects come from the store and the contract).
 */
export interface ReceiptQueue {
  readonly kind: 'bullmq' | 'memory';
  enqueue(digests: readonly Hash[]): Promise<void>;
  process(handler: DigestHandler, opts: { concurrency: number }): QueueConsumer;
  /** Jobs waiting or running. */
  depth(): Promise<number>;
  /** Whether the backing store answers (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
