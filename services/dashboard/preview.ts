/**
 * Serves the dashboard on sample data, with a simulated event stream, for working on the page
 * without a running node: `npx tsx services/dashboard/preview.ts [port]` (default 8650).
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../unikernel-runner/clock.ts';
import { buildOverview } from './overview.ts';
import { dashboardPlugin } from './plugin.ts';
import { sampleAddresses, sampleCounters, sampleMomentums, sampleState } from './sample.ts';

const DEFAULT_PORT = 8650;
const MOMENTUM_EVERY_MS = 2_000;

export async function buildPreview(opts: { startHeight?: bigint; live?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify();
  let height = opts.startHeight ?? 1_284n;
  let momentums = sampleMomentums(height, systemClock());
  await dashboardPlugin(app, { overview: async () => buildOverview(sampleState(), momentums, sampleCounters) });

  const clients = new Set<(event: string, data: unknown) => void>();
  app.get('/v1/events', (req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    reply.raw.write(': preview stream\n\n');
    const send = (event: string, data: unknown): void => {
      reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    clients.add(send);
    req.raw.on('close', () => clients.delete(send));
  });

  if (opts.live !== false) {
    const timer = setInterval(() => {
      height += 1n;
      momentums = sampleMomentums(height, systemClock());
      const latest = momentums[0];
      for (const send of clients) send('momentum', { height: height.toString(10), hash: latest?.hash, timestamp: systemClock().toString(10), inputCount: Number(height % 5n) });
      if (height % 7n === 0n) {
        const stop = { kind: 'abort', sessionId: `0x${height.toString(16).padStart(64, '0')}`, provider: sampleAddresses.providers[1], stopCall: true, closesAt: (systemClock() + 60n).toString(10), height: height.toString(10) };
        for (const send of clients) send('sessionStop', stop);
      }
    }, MOMENTUM_EVERY_MS);
    app.addHook('onClose', async () => clearInterval(timer));
  }
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? DEFAULT_PORT);
  const app = await buildPreview();
  await app.listen({ port, host: '127.0.0.1' });
  console.log(`dashboard preview on http://127.0.0.1:${port}/`);
}
