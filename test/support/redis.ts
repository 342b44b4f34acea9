import { Redis } from 'ioredis';

/** The Redis the tests use: the machine's own unless ZGAS_TEST_REDIS_URL names another. */
export const REDIS_URL = process.env['ZGAS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Deletes every key under a test's own prefix (queues, event channels' state), leaving the rest of the shared server alone. */
export async function dropRedisKeys(prefix: string, url: string = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    const stale = await redis.keys(`${prefix}*`);
    if (stale.length > 0) await redis.del(...stale);
  } finally {
    redis.disconnect();
  }
}
