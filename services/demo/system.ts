/**
 * A whole local system in one process, assembled from the parts' exports: the store (Postgres or
 * embedded PGlite), the contract host, the receipt queue and event bus (Redis or in-process), the
 * verification workers and reconciler, the settlement API with the dashboard, and providers'
 * runners. `npm start`, the end-to-end suite and the settlement benchmark start it. It wires the
 * same parts as `zgas node` (services/cli/node.ts) plus a host clock of its choosing (the demo runs
 * its chain clock faster), the dashboard and the runners.
 */
import type { FastifyInstance } from 'fastify';
import { makeDomain } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Address } from '../../contracts/types.ts';
import { instrument } from '../../unikernel-runner/metering/index.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { startRunner } from '../../unikernel-runner/server/main.ts';
import type { StartedRunner } from '../../unikernel-runner/server/main.ts';
import { loadRunnerConfig } from '../../unikernel-runner/server/config.ts';
import { buildApi } from '../api/app.ts';
import type { ApiLimits } from '../api/app.ts';
import { busEvents, gasTableOf } from '../cli/node.ts';
import { dashboardPlugin } from '../dashboard/plugin.ts';
import { storeOverview } from '../dashboard/source.ts';
import { migrate, openDb } from '../db/index.ts';
import type { Db } from '../db/index.ts';
import { openEventBus } from '../events/index.ts';
import type { EventBus } from '../events/index.ts';
import { startHost } from '../host/index.ts';
import type { Host } from '../host/index.ts';
import type { Logger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { Metrics } from '../metrics.ts';
import { openQueue } from '../queue/index.ts';
import type { QueueConsumer, ReceiptQueue } from '../queue/index.ts';
import { startVerifier } from '../workers/verify.ts';
import { startReconciler } from '../workers/reconciler.ts';
import type { Reconciler } from '../workers/reconciler.ts';

/** Worker threads of a runner started here. */
const DEFAULT_RUNNER_WORKERS = 2;

export interface RunnerSpec {
  /** The provider account whose sessions the runner serves. */
  provider: Address;
  /** The receipt signer's private key. */
  receiptKey: string;
  /** 0: any free port. */
  port: number;
  workers?: number;
}

export interface SystemOptions {
  genesis: Genesis;
  log: Logger;
  /** Postgres; absent: embedded PGlite (in memory unless dataDir). */
  databaseUrl?: string;
  schema?: string;
  dataDir?: string;
  /** Redis for the queue and the event bus; absent or unreachable: in-process. */
  redisUrl?: string;
  queueName?: string;
  redisPrefix?: string;
  apiHost: string;
  /** 0: any free port. */
  apiPort: number;
  momentumIntervalMs: number;
  /** Concurrent verification jobs of this process. */
  verifyConcurrency: number;
  /** The host's clock (unix seconds); default the system clock. */
  clock?: () => bigint;
  runners?: RunnerSpec[];
  dashboard?: boolean;
  apiLimits?: Partial<ApiLimits>;
}

export interface LocalSystem {
  apiUrl: string;
  runners: StartedRunner[];
  db: Db;
  host: Host;
  queue: ReceiptQueue;
  bus: EventBus;
  metrics: Metrics;
  api: FastifyInstance;
  domain: Domain;
  close(): Promise<void>;
}

/** Starts the parts in dependency order; on any failure stops what already started and rethrows. */
export async function startLocalSystem(opts: SystemOptions): Promise<LocalSystem> {
  const { genesis, log } = opts;
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const stops: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.warn({ err }, 'stopping a part failed');
      }
    }
    stops.length = 0;
  };

  try {
    const db = await openDb({
      ...(opts.databaseUrl === undefined ? {} : { databaseUrl: opts.databaseUrl, schema: opts.schema ?? 'public' }),
      ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    });
    stops.push(() => db.close());
    log.info({ store: db.kind, schema: opts.databaseUrl === undefined ? null : (opts.schema ?? 'public') }, db.kind === 'pglite' ? 'store: embedded PGlite' : 'store: Postgres');
    await migrate(db);

    const redisUrl = opts.redisUrl;
    const bus = await openEventBus({ redisUrl, channel: `${opts.redisPrefix ?? 'zgas'}:events`, log });
    stops.push(() => bus.close());
    const metrics = createMetrics();
    const table = gasTableOf(genesis);

    const host = await startHost({
      db,
      genesis,
      reexecutor: createReexecutor(table),
      intervalMs: opts.momentumIntervalMs,
      publish: async (events) => {
        for (const e of events) {
          if (e.type !== 'momentum') continue;
          for (const input of e.inputs) if (input.type === 'receipts') metrics.receiptsSettled.inc(input.receipts.length);
        }
        await bus.publish(busEvents(events));
      },
      logger: log.child({ component: 'host' }),
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    });
    stops.push(() => host.stop());

    const queue = await openQueue({ redisUrl, ...(opts.queueName === undefined ? {} : { name: opts.queueName }), ...(opts.redisPrefix === undefined ? {} : { prefix: opts.redisPrefix }), log });
    stops.push(() => queue.close());
    const verifier: QueueConsumer = startVerifier({ db, domain, queue, metrics, log, concurrency: opts.verifyConcurrency });
    stops.push(() => verifier.close());
    const reconciler: Reconciler = startReconciler({ db, queue, log });
    stops.push(() => reconciler.stop());

    const api = await buildApi({
      db, queue, bus, domain, metrics, log,
      validateModule: (bytes) => {
        instrument(bytes, table);
      },
      ...(opts.apiLimits === undefined ? {} : { limits: opts.apiLimits }),
    });
    if (opts.dashboard !== false) {
      await api.register(dashboardPlugin, { overview: () => storeOverview(db, genesis) });
    }
    stops.push(() => api.close());
    const apiUrl = await api.listen({ host: opts.apiHost, port: opts.apiPort });

    const runners: StartedRunner[] = [];
    for (const spec of opts.runners ?? []) {
      // Through the runner's own configuration reader, so its defaults apply to whatever is not given here.
      const config = loadRunnerConfig({
        ZGAS_API_URL: apiUrl,
        ZGAS_RUNNER_HOST: opts.apiHost,
        ZGAS_RUNNER_PORT: String(spec.port),
        ZGAS_RECEIPT_KEY: spec.receiptKey,
        ZGAS_PROVIDER_ADDRESS: spec.provider,
        ZGAS_CHAIN_ID: genesis.chainId.toString(),
        ZGAS_CONTRACT: genesis.contract,
        ZGAS_RUNNER_WORKERS: String(spec.workers ?? DEFAULT_RUNNER_WORKERS),
      });
      const runner = await startRunner(config, { log: (message, details) => log.child({ component: 'runner' }).info(details ?? {}, message) });
      stops.push(() => runner.close());
      runners.push(runner);
    }

    return { apiUrl, runners, db, host, queue, bus, metrics, api, domain, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

