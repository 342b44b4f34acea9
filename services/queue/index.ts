import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { createBullQueue } from './bullmq.ts';
import { createMemoryQueue } from './memory.ts';
import type { ReceiptQueue } from './queue.ts';

export type { DigestHandler, QueueConsumer, ReceiptQueue } from './queue.ts';
export { DIGESTS_PER_JOB, REDIS_RECONNECT_MAX_MS, chunk, redisRetryDelay } from './queue.ts';
export { createBullQueue, redisOptions } from './bullmq.ts';
export { createMemoryQueue } from './memory.ts';

export const DEFAULT_QUEUE_NAME = 'zgas-receipts';
export const DEFAULT_REDIS_PREFIX = 'zgas';
const REDIS_PROBE_TIMEOUT_MS = 1_500;

/** Whether a Redis server answers PING at `url` within a short timeout. */
export async function redisReachable(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * The receipt queue for this process: BullMQ when a Redis answers at `redisUrl`, otherwise the
 * in-process queue (announced in the log: jobs then live and die with this process).
 */
export async function openQueue(opts: { redisUrl?: string | undefined; name?: string; prefix?: string; log?: Logger }): Promise<ReceiptQueue> {
  const log = opts.log ?? silentLogger;
  if (opts.redisUrl !== undefined && opts.redisUrl !== '') {
    if (await redisReachable(opts.redisUrl)) {
      const name = opts.name ?? DEFAULT_QUEUE_NAME;
      const prefix = opts.prefix ?? DEFAULT_REDIS_PREFIX;
      log.info({ queue: name, prefix }, 'receipt queue: BullMQ on Redis');
      return createBullQueue({ url: opts.redisUrl, name, prefix, log });
    }
    log.warn('REDIS_URL is set but Redis does not answer; using the in-process receipt queue');
  } else {
    log.info('no REDIS_URL: using the in-process receipt queue (jobs do not survive a restart; the reconciler recovers them from the store)');
  }
  return createMemoryQueue({ log });
}
