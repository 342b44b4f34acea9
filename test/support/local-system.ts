/**
 * Where a test's local system (`startLocalSystem` on the real Postgres and Redis) keeps its data:
 * its own schema, queue and key prefix, the options that wire them, and how to clear them after.
 */
import { randomBytes } from 'node:crypto';
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from './db.ts';
import { dropRedisKeys, REDIS_URL } from './redis.ts';

export function testServers(name: string, schemaName: string = name) {
  const tag = randomBytes(4).toString('hex');
  const schema = uniqueSchemaName(schemaName);
  const prefix = `zgas-test-${name}-${tag}`;
  return {
    options: {
      databaseUrl: TEST_DATABASE_URL,
      schema,
      redisUrl: REDIS_URL,
      queueName: `${name}-${tag}`,
      redisPrefix: prefix,
      apiHost: '127.0.0.1',
      apiPort: 0,
      momentumIntervalMs: 50,
    },
    async drop(): Promise<void> {
      await dropSchema(schema);
      await dropRedisKeys(prefix);
    },
  };
}
