import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { SESSION_STOP_EVENT } from '../../../contracts/events.ts';
import { sameAddress } from '../../../contracts/hex.ts';
import type { ZgasEvent } from '../../events/index.ts';
import { jsonText } from '../../events/index.ts';
import type { RouteOptions } from '../deps.ts';
import { eventsQuery, openApiSchema, parseRequest } from '../schemas.ts';

function frame(event: ZgasEvent): string {
  const data =
    event.type === SESSION_STOP_EVENT
      ? event
      : {
          height: event.height,
          hash: event.hash,
          ...(event.timestamp !== undefined ? { timestamp: event.timestamp } : {}),
          ...(event.inputCount !== undefined ? { inputCount: event.inputCount } : {}),
          ...(event.receiptCount !== undefined ? { receiptCount: event.receiptCount } : {}),
        };
  return `event: ${event.type}\ndata: ${jsonText(data)}\n\n`;
}

/**
 * The address a stream is counted against: IPv4 as is, IPv6 by its /64 (one host usually holds a
 * whole /64, so counting single addresses would be no limit at all).
 */
export function clientKey(ip: string): string {
  const v4 = /^::ffff:([0-9.]+)$/i.exec(ip);
  if (v4 !== null) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * GET /v1/events: Server-Sent Events. `event: momentum` for every committed momentum and
 * `event: sessionStop` with a SessionStopEvent (contracts/events.ts: kind abort or close,
 * sessionId, provider, stopCall, closesAt, height) when a session is aborted or closed;
 * `?provider=0x…` keeps only that provider's stop events (momentums are always sent). Comment lines
 * keep idle connections open; a subscriber that stops reading is disconnected.
 *
 * Slots: at most `sseSubscribers` streams in all and `sseSubscribersPerClient` per client address;
 * the last `sseProviderReserved` slots only take abort streams (`?provider=`), so a runner waiting
 * for aborts always gets in however many plain streams others open.
 */
export async function eventRoutes(app: FastifyInstance, { deps, limits }: RouteOptions): Promise<void> {
  let subscribers = 0;
  /** Streams without `?provider=`: they may not take the reserved share. */
  let general = 0;
  const perClient = new Map<string, number>();
  const generalMax = Math.max(0, limits.sseSubscribers - limits.sseProviderReserved);
  const open = new Set<() => void>();
  // Streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get(
    '/v1/events',
    { schema: { tags: ['events'], summary: 'Server-sent events: momentum and sessionStop (abort or close)', querystring: openApiSchema(eventsQuery) } },
    async (request, reply) => {
      const { provider } = parseRequest(eventsQuery, request.query);
      const client = clientKey(request.ip);
      const mine = perClient.get(client) ?? 0;
      if (mine >= limits.sseSubscribersPerClient) throw new ZgasError('TooManySubscribers', { perClient: limits.sseSubscribersPerClient });
      if (subscribers >= limits.sseSubscribers) throw new ZgasError('TooManySubscribers', { max: limits.sseSubscribers });
      const isGeneral = provider === undefined;
      if (isGeneral && general >= generalMax) throw new ZgasError('TooManySubscribers', { max: generalMax, reason: 'the remaining slots are kept for abort streams (?provider=)' });
      subscribers++;
      if (isGeneral) general++;
      perClient.set(client, mine + 1);
      deps.metrics.sseSubscribers.set(subscribers);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': zgas events\nretry: 2000\n\n');

      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        open.delete(close);
        clearInterval(heartbeat);
        unsubscribe();
        subscribers--;
        if (isGeneral) general--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left === 0) perClient.delete(client);
        else perClient.set(client, left);
        deps.metrics.sseSubscribers.set(subscribers);
        if (!res.writableEnded) res.end();
      };
      const send = (text: string): void => {
        if (closed) return;
        if (res.writableLength > limits.sseBufferBytes) {
          request.log.warn({ buffered: res.writableLength }, 'event subscriber too slow; disconnecting');
          close();
          return;
        }
        res.write(text);
      };
      const unsubscribe = deps.bus.subscribe((event) => {
        if (event.type === SESSION_STOP_EVENT && provider !== undefined && !sameAddress(event.provider, provider)) return;
        send(frame(event));
      });
      open.add(close);
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), limits.sseHeartbeatMs);
      heartbeat.unref();
      request.raw.on('close', close);
      res.on('error', close);
      res.on('close', close);
    },
  );
}
