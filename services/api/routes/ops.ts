import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { latestMomentum } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';

const READY_TIMEOUT_MS = 2_000;

async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function momentumTimestampMs(momentum: unknown): number | undefined {
  const ts = (momentum as { timestamp?: unknown } | null)?.timestamp;
  if (typeof ts === 'string' && /^[0-9]{1,15}$/.test(ts)) return Number(ts) * 1000;
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts * 1000;
  if (typeof ts === 'bigint') return Number(ts) * 1000;
  return undefined;
}

/** /healthz (the process answers), /readyz (database and queue answer), /metrics (Prometheus). */
export async function opsRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const now = deps.now ?? Date.now;
  const tags = ['ops'];

  app.get('/healthz', { schema: { tags, summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags, summary: 'The database and the receipt queue answer' } }, async () => {
    const db = await within(
      deps.db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      READY_TIMEOUT_MS,
      false,
    );
    const queue = await within(deps.queue.ping(), READY_TIMEOUT_MS, false);
    if (!db || !queue) throw new ZgasError('NotReady', { db, queue });
    return { status: 'ready', db: deps.db.kind, queue: deps.queue.kind, events: deps.bus.kind };
  });

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics' } }, async (_request, reply) => {
    // Gauges that describe shared state are read at scrape time, so every API process reports them.
    try {
      deps.metrics.queueDepth.set(await within(deps.queue.depth(), READY_TIMEOUT_MS, 0));
      const latest = await latestMomentum(deps.db);
      if (latest !== null && latest !== undefined) {
        const height = (latest as { height?: unknown }).height;
        if (height !== undefined) deps.metrics.momentumHeight.set(Number(height));
        const ts = momentumTimestampMs(latest);
        if (ts !== undefined) deps.metrics.momentumLagSeconds.set(Math.max(0, (now() - ts) / 1000));
      }
    } catch (err) {
      reply.log.warn({ err }, 'metrics refresh failed');
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
