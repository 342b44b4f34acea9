import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { redisReachable } from '../queue/index.ts';
import { createMemoryBus, createRedisBus } from './bus.ts';
import type { EventBus } from './bus.ts';

export * from './bus.ts';

/** The event bus for this process: Redis pub/sub when a Redis answers, otherwise in-process (announced). */
export async function openEventBus(opts: { redisUrl?: string | undefined; channel?: string; log?: Logger }): Promise<EventBus> {
  const log = opts.log ?? silentLogger;
  const channel = opts.channel ?? 'zgas:events';
  if (opts.redisUrl !== undefined && opts.redisUrl !== '' && (await redisReachable(opts.redisUrl))) {
    log.info({ channel }, 'event bus: Redis pub/sub');
    return createRedisBus({ url: opts.redisUrl, channel, log });
  }
  log.info('event bus: in-process (events reach only this process)');
  return createMemoryBus(log);
}
