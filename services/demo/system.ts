/**
 * A whole local system in one process, assembled from the parts' exports: the store (Postgres or
 * embedded PGlite), the contract host, the receipt queue and event bus (Redis or in-process), the
 * verification workers and reconciler, the settlement API with the dashboard, and providers'
 * runners. `npm start`, the end-to-end suite and the settlement benchmark start it: a `zgas node`
 * (services/node/) with a host clock of its choosing (the demo runs its chain clock faster)
 * and the runners.
 */
import type { FastifyInstance } from 'fastify';
import { InvariantViolation } from '../../contracts/errors.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Address } from '../../contracts/types.ts';
import type { Clock } from '../../unikernel-runner/clock.ts';
import { startRunner } from '../../unikernel-runner/server/main.ts';
import type { StartedRunner } from '../../unikernel-runner/server/main.ts';
import { loadRunnerConfig } from '../../unikernel-runner/server/config.ts';
import type { ApiLimits } from '../api/app.ts';
import type { DashboardLocal } from '../dashboard/plugin.ts';
import { startNode } from '../node/index.ts';
import { loadConfig } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Host } from '../host/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ReceiptQueue } from '../queue/index.ts';

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
  /** How the runner pushes receipts: each at once, or the newest of each session every flush interval. */
  receiptPush?: 'every' | 'coalesced';
  receiptFlushMs?: number;
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
  clock?: Clock;
  runners?: RunnerSpec[];
  dashboard?: boolean;
  /** What the dashboard page is offered to act with (the demo's keys and these runners). */
  dashboardLocal?: () => DashboardLocal | null;
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

/** The longest a local system waits for its host to commit (or load) the genesis. */
const GENESIS_WAIT_MS = 120_000;

/** Starts a node (services/node/) and the runners; on any failure stops what already started and rethrows. */
export async function startLocalSystem(opts: SystemOptions): Promise<LocalSystem> {
  const { genesis, log } = opts;
  // Through the node's own configuration reader, so its defaults and checks apply to what is not given here.
  const config = loadConfig({
    DATABASE_URL: opts.databaseUrl,
    ZGAS_DB_SCHEMA: opts.databaseUrl === undefined ? undefined : opts.schema,
    ZGAS_DATA_DIR: opts.dataDir,
    REDIS_URL: opts.redisUrl,
    ZGAS_QUEUE_NAME: opts.queueName,
    ZGAS_REDIS_PREFIX: opts.redisPrefix,
    ZGAS_API_HOST: opts.apiHost,
    ZGAS_API_PORT: String(opts.apiPort),
    ZGAS_MOMENTUM_INTERVAL_MS: String(opts.momentumIntervalMs),
    ZGAS_WORKERS: String(opts.verifyConcurrency),
  });
  const node = await startNode({
    config,
    genesis,
    log,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.dashboard === undefined ? {} : { dashboard: opts.dashboard }),
    ...(opts.dashboardLocal === undefined ? {} : { dashboardLocal: opts.dashboardLocal }),
    ...(opts.apiLimits === undefined ? {} : { limits: opts.apiLimits }),
  });
  const runners: StartedRunner[] = [];
  const closeAll = async (): Promise<void> => {
    for (const runner of runners.splice(0).reverse()) {
      try {
        await runner.close();
      } catch (err) {
        log.warn({ err }, 'stopping a runner failed');
      }
    }
    await node.stop();
  };
  try {
    // Serve nothing before the genesis is committed: a balance read earlier would find no account.
    await node.host.waitForHeight(0n, { timeoutMs: GENESIS_WAIT_MS });
    const apiUrl = node.url;
    if (apiUrl === null) throw new InvariantViolation('the node of a local system listens');
    for (const spec of opts.runners ?? []) {
      // Through the runner's own configuration reader, so its defaults apply to whatever is not given here.
      const runnerConfig = loadRunnerConfig({
        ZGAS_API_URL: apiUrl,
        ZGAS_RUNNER_HOST: opts.apiHost,
        ZGAS_RUNNER_PORT: String(spec.port),
        ZGAS_RECEIPT_KEY: spec.receiptKey,
        ZGAS_PROVIDER_ADDRESS: spec.provider,
        ZGAS_CHAIN_ID: genesis.chainId.toString(),
        ZGAS_CONTRACT: genesis.contract,
        ZGAS_RUNNER_WORKERS: String(spec.workers ?? DEFAULT_RUNNER_WORKERS),
        ZGAS_MAX_INPUT_BYTES: genesis.params.maxInputBytes.toString(),
        ZGAS_MAX_STATE_BYTES: genesis.params.maxStateBytes.toString(),
        ZGAS_CLOSE_GRACE_PERIOD_SECONDS: genesis.params.closeGracePeriodSeconds.toString(),
        ZGAS_RECEIPT_PUSH: spec.receiptPush,
        ZGAS_RECEIPT_FLUSH_MS: spec.receiptFlushMs === undefined ? undefined : String(spec.receiptFlushMs),
      });
      runners.push(await startRunner(runnerConfig, {
        log: (message, details) => log.child({ component: 'runner' }).info(details ?? {}, message),
        // The host's clock: a runner of an accelerated chain sees its sessions expire when the chain does.
        ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      }));
    }
    const { db, host, queue, bus, metrics, api, domain } = node;
    return { apiUrl, runners, db, host, queue, bus, metrics, api, domain, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
