import { EventEmitter } from 'node:events';
import type { SessionStopEvent } from '../../contracts/events.ts';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { redisRetryDelay } from '../queue/queue.ts';

/** A momentum was committed (its inputs are read with GET /v1/momentums/:height). */
export interface MomentumEvent {
  type: 'momentum';
  height: bigint | number | string;
  hash: string;
  timestamp?: bigint | number | string;
  /** How many inputs it applied. */
  inputCount?: number;
  /** How many receipt copies its inputs carried (each one applied or refused by the contract). */
  receiptCount?: number;
}

/** A session was aborted or closed: its provider's runner stops (contracts/events.ts, the one wire shape). */
export type { SessionStopEvent } from '../../contracts/events.ts';

export type ZgasEvent = MomentumEvent | SessionStopEvent;
export type EventHandler = (event: ZgasEvent) => void;

/** The event bus port: the host publishes, the SSE endpoint (in any API process) subscribes. */
export interface EventBus {
  readonly kind: 'redis' | 'memory';
  publish(events: readonly ZgasEvent[]): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(handler: EventHandler): () => void;
  close(): Promise<void>;
}

/** Largest number of local subscribers one bus serves (each SSE connection is one). */
export const MAX_BUS_SUBSCRIBERS = 10_000;

/** JSON text as on the wire: bigints become decimal strings. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString(10) : v));
}

/** JSON text of events (bigints as decimal strings). */
export const eventsToJson = (events: readonly ZgasEvent[]): string => jsonText(events);

class LocalFanout {
  private readonly emitter = new EventEmitter();
  constructor(private readonly log: Logger) {
    this.emitter.setMaxListeners(MAX_BUS_SUBSCRIBERS);
  }
  deliver(event: ZgasEvent): void {
    for (const listener of this.emitter.listeners('event') as EventHandler[]) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn({ err }, 'event subscriber failed');
      }
    }
  }
  subscribe(handler: EventHandler): () => void {
    this.emitter.on('event', handler);
    return () => this.emitter.off('event', handler);
  }
  clear(): void {
    this.emitter.removeAllListeners();
  }
}

/** Events stay in this process: the embedded default, and tests. */
export function createMemoryBus(log: Logger = silentLogger): EventBus {
  const fanout = new LocalFanout(log);
  return {
    kind: 'memory',
    async publish(events) {
      // Same shape as over Redis: subscribers see plain JSON values.
      const copies = JSON.parse(eventsToJson(events)) as ZgasEvent[];
      for (const event of copies) fanout.deliver(event);
    },
    subscribe: (handler) => fanout.subscribe(handler),
    async close() {
      fanout.clear();
    },
  };
}

/**
 * Redis pub/sub: every process subscribed to the channel receives every event, so an SSE client
 * connected to any API process sees the momentums the (single) sequencer commits elsewhere.
 */
export async function createRedisBus(opts: { url: string; channel: string; log?: Logger }): Promise<EventBus> {
  const log = opts.log ?? silentLogger;
  const fanout = new LocalFanout(log);
  const pub = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: redisRetryDelay });
  const sub = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: redisRetryDelay });
  pub.on('error', (err) => log.warn({ err: err.message }, 'event bus publisher error'));
  sub.on('error', (err) => log.warn({ err: err.message }, 'event bus subscriber error'));
  await pub.connect();
  await sub.connect();
  await sub.subscribe(opts.channel);
  sub.on('message', (channel: string, message: string) => {
    if (channel !== opts.channel) return;
    let events: ZgasEvent[];
    try {
      events = JSON.parse(message) as ZgasEvent[];
    } catch (err) {
      log.warn({ err }, 'undecodable event on the bus');
      return;
    }
    if (!Array.isArray(events)) return;
    for (const event of events) fanout.deliver(event);
  });
  return {
    kind: 'redis',
    async publish(events) {
      if (events.length === 0) return;
      await pub.publish(opts.channel, eventsToJson(events));
    },
    subscribe: (handler) => fanout.subscribe(handler),
    async close() {
      fanout.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
