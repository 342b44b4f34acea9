import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keccakReady, makeDomain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { ZgasError } from '../../contracts/errors.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { Metrics } from '../metrics.ts';
import type { ReceiptQueue } from '../queue/index.ts';
import { checkGenesis } from '../host/index.ts';
import { startVerifier } from '../workers/verify.ts';
import { connect } from '../node/index.ts';

/** GET /metrics (Prometheus) and /healthz of a worker process, on a port of its own. */
async function serveMetrics(metrics: Metrics, queue: ReceiptQueue, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      queue
        .depth()
        .then((depth) => metrics.queueDepth.set(depth))
        .catch(() => undefined)
        .then(() => metrics.registry.metrics())
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    } else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NotFound","message":"GET /metrics or /healthz"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * `zgas worker`: a verification worker process only. It shares the Postgres store and the Redis
 * queue with the node, so it needs both: the embedded store and in-process queue belong to one
 * process and cannot be shared.
 */
export async function startWorkerProcess(opts: { config: Config; genesis: Genesis; log: Logger; concurrency: number; metricsPort?: number }): Promise<RunningWorker> {
  const { config, log } = opts;
  if (config.databaseUrl === undefined) throw new ZgasError('NotReady', { reason: 'a worker process needs DATABASE_URL (the embedded store lives inside `zgas node`)' });
  if (config.redisUrl === undefined) throw new ZgasError('NotReady', { reason: 'a worker process needs REDIS_URL (the in-process queue lives inside `zgas node`)' });
  await keccakReady; // digests on the WebAssembly keccak from the first job on
  const { db, queue, bus } = await connect(config, log);
  if (queue.kind !== 'bullmq') {
    await Promise.all([queue.close(), bus.close(), db.close()]);
    throw new ZgasError('NotReady', { reason: 'Redis does not answer at REDIS_URL' });
  }
  try {
    // A store created from another genesis: this worker's signature domain would be wrong.
    await checkGenesis(db, opts.genesis);
  } catch (err) {
    await Promise.all([queue.close(), bus.close(), db.close()]);
    throw err;
  }
  const domain = makeDomain(opts.genesis.chainId, opts.genesis.contract);
  const metrics = createMetrics({ defaultMetrics: true });
  const consumer = startVerifier({ db, domain, queue, metrics, log, concurrency: opts.concurrency });
  let server: Server | null = null;
  if (opts.metricsPort !== undefined) {
    server = await serveMetrics(metrics, queue, config.apiHost, opts.metricsPort);
    log.info({ url: `http://${config.apiHost}:${(server.address() as AddressInfo).port}/metrics` }, 'worker metrics');
  }
  log.info({ concurrency: opts.concurrency, queue: config.queueName, prefix: config.redisPrefix }, 'verification worker running');
  return {
    async stop() {
      if (server !== null) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await consumer.close();
      await queue.close();
      await bus.close();
      await db.close();
    },
  };
}
