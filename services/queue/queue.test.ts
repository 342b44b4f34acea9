import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Hash } from '../../contracts/types.ts';
import { DIGESTS_PER_JOB, REDIS_RECONNECT_MAX_MS, createBullQueue, createMemoryQueue, openQueue, redisOptions, redisReachable, redisRetryDelay } from './index.ts';
import type { QueueConsumer, ReceiptQueue } from './index.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const digest = (): Hash => `0x${randomBytes(32).toString('hex')}` as Hash;
const tag = randomBytes(4).toString('hex');

function until(predicate: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - started > 15_000) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`zgas-test-${tag}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const adapters: [string, () => ReceiptQueue][] = [
  ['memory', () => createMemoryQueue()],
  ['bullmq', () => createBullQueue({ url: REDIS_URL, name: `q-${tag}-${randomBytes(3).toString('hex')}`, prefix: `zgas-test-${tag}` })],
];

describe.each(adapters)('receipt queue (%s)', (_kind, make) => {
  let queue: ReceiptQueue;
  let consumers: QueueConsumer[] = [];
  afterEach(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    consumers = [];
    await queue.close();
  });

  it('delivers every enqueued digest, split into jobs, across concurrent consumers', async () => {
    queue = make();
    const digests = Array.from({ length: DIGESTS_PER_JOB * 2 + 7 }, digest);
    await queue.enqueue(digests);
    expect(await queue.depth()).toBe(3);
    const seen: Hash[] = [];
    consumers.push(queue.process(async (batch) => void seen.push(...batch), { concurrency: 2 }));
    await until(() => seen.length === digests.length, 'all digests');
    expect(new Set(seen)).toEqual(new Set(digests));
    expect(await queue.ping()).toBe(true);
  });

  it('retries a job whose handler fails', async () => {
    queue = make();
    const d = digest();
    let calls = 0;
    consumers.push(
      queue.process(async () => {
        calls++;
        if (calls === 1) throw new Error('transient');
      }, { concurrency: 1 }),
    );
    await queue.enqueue([d]);
    await until(() => calls === 2, 'the retry');
    expect(calls).toBe(2);
  });
});

describe('reconnecting', () => {
  it('waits at most REDIS_RECONNECT_MAX_MS between attempts however long Redis is away (BullMQ alone waits up to 20 s)', () => {
    expect(REDIS_RECONNECT_MAX_MS).toBeLessThanOrEqual(2_000);
    const delays = Array.from({ length: 1_000 }, (_, i) => redisRetryDelay(i + 1));
    expect(Math.max(...delays)).toBe(REDIS_RECONNECT_MAX_MS);
    expect(delays[0]).toBeGreaterThan(0);
    const options = redisOptions('redis://127.0.0.1:6379') as { retryStrategy?: (times: number) => number | null };
    expect(options.retryStrategy?.(50)).toBe(REDIS_RECONNECT_MAX_MS);
  });
});

describe('openQueue', () => {
  it('chooses BullMQ when Redis answers and the in-process queue otherwise', async () => {
    expect(await redisReachable(REDIS_URL)).toBe(true);
    const bull = await openQueue({ redisUrl: REDIS_URL, name: `open-${tag}`, prefix: `zgas-test-${tag}` });
    expect(bull.kind).toBe('bullmq');
    await bull.close();
    const none = await openQueue({});
    expect(none.kind).toBe('memory');
    await none.close();
    const dead = await openQueue({ redisUrl: 'redis://127.0.0.1:1' });
    expect(dead.kind).toBe('memory');
    await dead.close();
  });
});
