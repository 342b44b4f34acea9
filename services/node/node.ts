import type { FastifyInstance } from 'fastify';
import { keccakReady, makeDomain } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Clock } from '../../unikernel-runner/clock.ts';
import { instrument } from '../../unikernel-runner/metering/index.ts';
import { meteringFor } from '../../unikernel-runner/metering/registry.ts';
import type { Metering } from '../../unikernel-runner/metering/registry.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { buildApi } from '../api/app.ts';
import { limitsFromConfig } from '../api/deps.ts';
import { dashboardPlugin } from '../dashboard/plugin.ts';
import type { DashboardLocal } from '../dashboard/plugin.ts';
import { storeOverview } from '../dashboard/source.ts';
import type { ApiLimits } from '../api/app.ts';
import type { Config } from '../config.ts';
import { migrate, openDb } from '../db/index.ts';
import type { Db } from '../db/index.ts';
import { openEventBus } from '../events/index.ts';
import type { EventBus, ZgasEvent } from '../events/index.ts';
import { startHost } from '../host/index.ts';
import type { Host, HostEvent, MomentumInput } from '../host/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { createMetrics } from '../metrics.ts';
import { openQueue } from '../queue/index.ts';
import type { QueueConsumer, ReceiptQueue } from '../queue/index.ts';
import { startReconciler } from '../workers/reconciler.ts';
import type { Reconciler } from '../workers/reconciler.ts';
import { startRetention } from '../workers/retention.ts';
import { startVerifier } from '../workers/verify.ts';
import { storeOpenError } from './startup-error.ts';

/**
 * The metering a genesis pins, which this node must implement: a gas table it does not ship or
 * another metering version is a MeteringMismatch, and the node does not start (a node judging
 * challenges with another table would call honest receipts fraud).
 */
export function meteringOf(genesis: Genesis): Metering {
  return meteringFor(genesis);
}

/** The genesis as the node runs it: an absent meteringVersion resolved to the one the node implements. */
export function pinnedGenesis(genesis: Genesis, metering: Metering): Genesis {
  return { ...genesis, meteringVersion: metering.meteringVersion };
}

/** Host events as they travel on the bus: momentum inputs stay in the store (GET /v1/momentums/:height). */
export function busEvents(events: readonly HostEvent[]): ZgasEvent[] {
  return events.map((e): ZgasEvent => (e.type === 'momentum'
    ? { type: 'momentum', height: e.height, hash: e.hash, timestamp: e.timestamp, inputCount: e.inputs.length, receiptCount: receiptsOf(e.inputs) }
    : e));
}

function receiptsOf(inputs: readonly MomentumInput[]): number {
  let n = 0;
  for (const input of inputs) if (input.type === 'receipts') n += input.receipts.length;
  return n;
}

/** The store the configuration names; a database that cannot be opened is reported as DATABASE_URL to fix. */
export async function openStore(config: Config): Promise<Db> {
  try {
    return await openDb({
      ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl, schema: config.dbSchema } : {}),
      ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
    });
  } catch (err) {
    throw config.databaseUrl === undefined ? err : storeOpenError(err, config.databaseUrl);
  }
}

/** The store, the queue and the bus of a process, as the configuration says (embedded defaults announced). */
export async function connect(config: Config, log: Logger): Promise<{ db: Db; queue: ReceiptQueue; bus: EventBus }> {
  if (config.databaseUrl === undefined) {
    log.info({ dataDir: config.dataDir ?? 'in memory' }, 'no DATABASE_URL: using the embedded PGlite store');
  } else {
    log.info({ schema: config.dbSchema }, 'store: Postgres');
  }
  const db = await openStore(config);
  try {
    await migrate(db);
    const queue = await openQueue({ redisUrl: config.redisUrl, name: config.queueName, prefix: config.redisPrefix, log });
    const bus = await openEventBus({ redisUrl: config.redisUrl, channel: `${config.redisPrefix}:${config.queueName}:events`, log });
    return { db, queue, bus };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export interface NodeOptions {
  config: Config;
  genesis: Genesis;
  log: Logger;
  /** Verification jobs run at once in this process (0: none; separate `zgas worker` processes verify). */
  workers?: number;
  /** Listen on config.apiHost:apiPort (default true); false leaves the API to `inject`. */
  listen?: boolean;
  limits?: Partial<ApiLimits>;
  reconcileIntervalMs?: number;
  reconcileAfterMs?: number;
  /** The host's clock (unix seconds); default the system clock. */
  clock?: Clock;
  /** Serve the dashboard on / and /v1/overview (default true). */
  dashboard?: boolean;
  /** What the local demo offers the dashboard page (demo keys, runners, zApp names); absent: nothing. */
  dashboardLocal?: () => DashboardLocal | null;
}

export interface RunningNode {
  db: Db;
  queue: ReceiptQueue;
  bus: EventBus;
  host: Host;
  api: FastifyInstance;
  domain: Domain;
  metrics: Metrics;
  reconciler: Reconciler;
  /** http://host:port when listening. */
  url: string | null;
  stop(): Promise<void>;
}

/** `zgas node`: migrate, then the contract host, the API, the verification workers and the reconciler in one process. */
export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const { config, log } = opts;
  const { genesis } = opts;
  const metering = meteringOf(genesis);
  // What GET /v1/genesis states; the host and the store keep the genesis file as it is (its fingerprint).
  const served = pinnedGenesis(genesis, metering);
  const { table } = metering;
  // Digests on the WebAssembly keccak from the first request on (the pure-JS one is ~15x slower).
  await keccakReady;
  const { db, queue, bus } = await connect(config, log);
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const metrics = createMetrics({ defaultMetrics: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.warn({ err }, 'shutdown step failed');
      }
    }
    stops.length = 0;
  };
  stops.push(() => db.close(), () => queue.close(), () => bus.close());
  try {
    const host = await startHost({
      db,
      genesis,
      reexecutor: createReexecutor(genesis),
      intervalMs: config.momentumIntervalMs,
      logger: log.child({ component: 'host' }),
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      publish: async (events) => {
        for (const e of events) {
          if (e.type !== 'momentum') continue;
          for (const input of e.inputs) if (input.type === 'receipts') metrics.receiptsSettled.inc(input.receipts.length);
        }
        await bus.publish(busEvents(events));
      },
    });
    stops.push(() => host.stop());
    const api = await buildApi({
      db,
      queue,
      bus,
      domain,
      genesis: served,
      metrics,
      log,
      limits: { ...limitsFromConfig(config.admission), moduleBounds: config.storage.modules, ...opts.limits },
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      validateModule: (bytes) => {
        instrument(bytes, table);
      },
    });
    stops.push(() => api.close());
    if (opts.dashboard !== false) await api.register(dashboardPlugin, { overview: () => storeOverview(db, genesis), ...(opts.dashboardLocal === undefined ? {} : { local: opts.dashboardLocal }) });
    const workers = opts.workers ?? config.workers;
    let consumer: QueueConsumer | null = null;
    if (workers > 0) {
      consumer = startVerifier({ db, domain, queue, metrics, log: log.child({ component: 'verify' }), concurrency: workers });
      stops.push(() => consumer!.close());
    }
    const reconciler = startReconciler({
      db,
      queue,
      log: log.child({ component: 'reconciler' }),
      ...(opts.reconcileIntervalMs !== undefined ? { intervalMs: opts.reconcileIntervalMs } : {}),
      ...(opts.reconcileAfterMs !== undefined ? { olderThanMs: opts.reconcileAfterMs } : {}),
      rejectedTtlMs: config.storage.duplicateRetentionMs,
    });
    stops.push(() => reconciler.stop());
    const retention = startRetention({ db, storage: config.storage, log: log.child({ component: 'retention' }) });
    stops.push(() => retention.stop());
    let url: string | null = null;
    if (opts.listen !== false) {
      url = await api.listen({ host: config.apiHost, port: config.apiPort });
      log.info({ url, workers, queue: queue.kind, events: bus.kind, store: db.kind }, 'zgas node listening');
    }
    return { db, queue, bus, host, api, domain, metrics, reconciler, url, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
