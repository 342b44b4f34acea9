import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionStopEvent, sessionStopEventFromJson } from '../../contracts/events.ts';
import { createMemoryBus, createRedisBus } from './index.ts';
import type { ZgasEvent } from './index.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function next(bus: { subscribe(h: (e: ZgasEvent) => void): () => void }, count: number): Promise<ZgasEvent[]> {
  return new Promise((resolve, reject) => {
    const got: ZgasEvent[] = [];
    const timer = setTimeout(() => reject(new Error('no event')), 10_000);
    const off = bus.subscribe((e) => {
      got.push(e);
      if (got.length === count) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

describe('event bus', () => {
  it('in-process: delivers published events to subscribers as plain JSON', async () => {
    const bus = createMemoryBus();
    const received = next(bus, 2);
    const stop = sessionStopEvent({ kind: 'abort', sessionId: `0x${'bb'.repeat(32)}`, provider: `0x${'cc'.repeat(20)}`, stopCall: true, closesAt: 1_800_000_060n, height: 7n });
    await bus.publish([{ type: 'momentum', height: 7n, hash: '0xaa' }, stop]);
    const [momentum, delivered] = await received;
    expect(momentum).toEqual({ type: 'momentum', height: '7', hash: '0xaa' });
    // The stop event crosses the bus in its one wire shape and parses back strictly.
    expect(sessionStopEventFromJson(delivered)).toEqual(stop);
    expect(delivered).toEqual({ type: 'sessionStop', kind: 'abort', sessionId: `0x${'bb'.repeat(32)}`, provider: stop.provider, stopCall: true, closesAt: '1800000060', height: '7' });
    await bus.close();
  });

  it('Redis pub/sub: an event published by one process reaches subscribers of another', async () => {
    const channel = `zgas-test:${randomBytes(4).toString('hex')}:events`;
    const a = await createRedisBus({ url: REDIS_URL, channel });
    const b = await createRedisBus({ url: REDIS_URL, channel });
    const other = await createRedisBus({ url: REDIS_URL, channel: `${channel}:other` });
    let leaked = 0;
    other.subscribe(() => leaked++);
    const received = next(b, 1);
    await a.publish([{ type: 'momentum', height: 1n, hash: '0x01' }]);
    expect(await received).toEqual([{ type: 'momentum', height: '1', hash: '0x01' }]);
    expect(leaked).toBe(0);
    await Promise.all([a.close(), b.close(), other.close()]);
  });
});
