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
        };
  return `event: ${event.type}\ndata: ${jsonText(data)}\n\n`;
}

/**
 * GET /v1/events: Server-Sent Events. `event: momentum` for every committed momentum and
 * `event: sessionStop` with a SessionStopEvent (contracts/events.ts: kind abort or close,
 * sessionId, provider, stopCall, closesAt, height) when a session is aborted or closed;
 * `?provider=0x…` keeps only that provider's stop events (momentums are always sent). Comment lines
 * keep idle connections open; a subscriber that stops reading is disconnected.
 */
export async function eventRoutes(app: FastifyInstance, { deps, limits }: RouteOptions): Promise<void> {
  let subscribers = 0;
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
      if (subscribers >= limits.sseSubscribers) throw new ZgasError('TooManySubscribers', { max: limits.sseSubscribers });
      subscribers++;
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
