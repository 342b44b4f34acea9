import { Queue, Worker } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import type { Hash } from '../../contracts/types.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { DigestHandler, QueueConsumer, ReceiptQueue } from './queue.ts';
import { DIGESTS_PER_JOB, JOB_ATTEMPTS, JOB_RETRY_DELAY_MS, chunk, redisRetryDelay } from './queue.ts';

/** Completed jobs kept for inspection; failed ones too (a bounded history, never unbounded growth). */
const KEEP_COMPLETED_JOBS = 1_000;
const KEEP_FAILED_JOBS = 5_000;
const PING_TIMEOUT_MS = 1_000;

interface JobData {
  digests: Hash[];
}

/** Redis connection options from a redis:// URL (BullMQ wants options), reconnecting within a bounded delay. */
export function redisOptions(url: string): ConnectionOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port === '' ? 6379 : Number(u.port),
    db: Number.isInteger(db) ? db : 0,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: redisRetryDelay,
  };
}

/**
 * BullMQ adapter. `name` and `prefix` isolate instances (each test file, each deployment) on one
 * Redis. Any number of processes may call `process` on the same name and prefix.
 */
export function createBullQueue(opts: { url: string; name: string; prefix: string; log?: Logger }): ReceiptQueue {
  const log = opts.log ?? silentLogger;
  const connection = redisOptions(opts.url);
  const queue = new Queue<JobData>(opts.name, { connection, prefix: opts.prefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'receipt queue error'));
  const workers = new Set<Worker<JobData>>();

  return {
    kind: 'bullmq',
    async enqueue(digests) {
      const parts = chunk(digests, DIGESTS_PER_JOB);
      if (parts.length === 0) return;
      await queue.addBulk(
        parts.map((part) => ({
          name: 'verify',
          data: { digests: part },
          opts: {
            attempts: JOB_ATTEMPTS,
            backoff: { type: 'exponential', delay: JOB_RETRY_DELAY_MS },
            removeOnComplete: KEEP_COMPLETED_JOBS,
            removeOnFail: KEEP_FAILED_JOBS,
          },
        })),
      );
    },
    process(handler: DigestHandler, { concurrency }): QueueConsumer {
      const worker = new Worker<JobData>(
        opts.name,
        async (job) => {
          await handler(job.data.digests);
        },
        { connection, prefix: opts.prefix, concurrency: Math.max(1, concurrency) },
      );
      worker.on('error', (err) => log.warn({ err: err.message }, 'receipt worker error'));
      worker.on('failed', (job, err) => log.warn({ err: err.message, attempts: job?.attemptsMade }, 'verification job failed'));
      workers.add(worker);
      return {
        async close() {
          workers.delete(worker);
          await worker.close();
        },
      };
    },
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      });
      try {
        return await Promise.race([queue.getJobCounts('waiting').then(() => true, () => false), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.all([...workers].map((w) => w.close()));
      workers.clear();
      await queue.close();
    },
  };
}
