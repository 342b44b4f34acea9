/**
 * Starts a provider's runner: the worker pool, the ledger over the settlement API, the call
 * service and the HTTP server. The `zgas runner` command and the packaged bundle call startRunner.
 */
import type { FastifyInstance } from 'fastify';
import { backendByName, makeDomain, privateKeyBytes } from '../../contracts/eip712/index.ts';
import type { Clock } from '../clock.ts';
import { WorkerPool } from '../runtime/pool.ts';
import type { PoolOptions } from '../runtime/pool.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { fetchGenesis, runnerMetering } from './genesis-pin.ts';
import { buildRunner } from './app.ts';
import { CallService } from './calls.ts';
import type { RunnerConfig } from './config.ts';
import { HttpLedger } from './http-ledger.ts';
import type { Ledger } from './ledger.ts';
import { FileSessionLog, MemorySessionLog } from '../runtime/session-log.ts';
import type { SessionLog } from '../runtime/session-log.ts';
import { maxCallGasLimit } from './call-gas-limit.ts';

export interface StartedRunner {
  app: FastifyInstance;
  /** http://host:port the runner listens on. */
  url: string;
  calls: CallService;
  pool: WorkerPool;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Another ledger than the settlement API at config.apiUrl (tests). */
  ledger?: Ledger;
  /**
   * The genesis the runner meters under. Default: read from the settlement API (GET /v1/genesis)
   * unless another ledger is given; null: none (the configured or default table, this build's version).
   */
  genesis?: Genesis | null;
  /** Another session log than the one the config names (tests). */
  sessionLog?: SessionLog;
  /** How pool workers start (the bundle passes its own). */
  spawn?: PoolOptions['spawn'];
  logger?: boolean | Record<string, unknown>;
  /** Serve the Swagger UI at /docs (default true; the bundle has no UI files). */
  docsUi?: boolean;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Unix seconds the runner compares with a session's expiresAt: the chain's clock. Default the system clock. */
  clock?: Clock;
}

export async function startRunner(config: RunnerConfig, options: StartOptions = {}): Promise<StartedRunner> {
  const log = options.log ?? ((message: string, details?: Record<string, unknown>) => console.error(JSON.stringify({ msg: message, ...details })));
  const genesis = options.genesis !== undefined ? options.genesis : options.ledger === undefined ? await fetchGenesis(config.apiUrl) : null;
  // Refuses to start on a table or metering version the genesis does not pin: its receipts would be judged fraud.
  const metering = runnerMetering(config.gasTable, genesis);
  const { table } = metering;
  // The genesis limits hold over the configuration: the re-executor judges calls by them.
  const maxInputBytes = genesis === null ? config.maxInputBytes : Number(genesis.params.maxInputBytes);
  const maxStateBytes = genesis === null ? config.maxStateBytes : Number(genesis.params.maxStateBytes);
  const backend = backendByName(config.signatureBackend);
  const ledger =
    options.ledger ??
    new HttpLedger({ apiUrl: config.apiUrl, provider: config.provider, onError: (error, what) => log(`ledger: ${what} failed`, { error: String(error) }) });
  // No wall-clock limit on calls: the user's callGasLimit bounds each one. The watchdog replaces a worker that stops answering.
  const pool = new WorkerPool({
    size: config.workers,
    timeoutMs: config.callTimeoutMs,
    queueLimit: config.queueLimit,
    ...(options.spawn === undefined ? {} : { spawn: options.spawn }),
  });
  let sessionLog: SessionLog;
  try {
    sessionLog =
      options.sessionLog ??
      (config.dataDir === null
        ? new MemorySessionLog({ maxSessionBytes: config.logMaxSessionBytes, maxTotalBytes: config.logMaxBytes })
        : await FileSessionLog.open(config.dataDir, { maxSessionBytes: config.logMaxSessionBytes, maxTotalBytes: config.logMaxBytes }));
  } catch (error) {
    await Promise.allSettled([pool.close(), ledger.close()]);
    throw error;
  }
  const maxCallGas = maxCallGasLimit(config.closeGracePeriodSeconds, config.gasPerSecond);
  const calls = new CallService({
    ledger,
    pool,
    table,
    domain: makeDomain(config.chainId, config.contract),
    receiptKey: privateKeyBytes(config.receiptKey),
    receiptSigner: config.receiptSigner,
    provider: config.provider,
    backend,
    maxCallGasLimit: maxCallGas,
    maxInputBytes,
    maxStateBytes,
    log: sessionLog,
    push: { mode: config.receiptPush, flushIntervalMs: config.receiptFlushMs },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    onPushError: (error, receipts) => log('receipt push failed', { error: String(error), seqs: receipts.map((r) => r.seq.toString()) }),
  });
  const app = await buildRunner({
    calls,
    pool,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.docsUi === undefined ? {} : { docsUi: options.docsUi }),
  });
  // In the background: a receipt logged before a restart but never delivered still settles.
  // Then the logs of sessions closed meanwhile are removed.
  void calls
    .resumePushes()
    .then((count) => count > 0 && log('receipts pushed again from the session log', { count }))
    .then(() => calls.pruneClosed())
    .then(
      (count) => count > 0 && log('session logs of closed sessions removed', { count }),
      (error: unknown) => log('resuming from the session log failed', { error: String(error) }),
    );
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await Promise.allSettled([app.close(), calls.close(), pool.close(), ledger.close()]);
    throw error;
  }
  log('runner listening', {
    url,
    provider: config.provider,
    receiptSigner: config.receiptSigner,
    gasTable: metering.tableName,
    meteringVersion: metering.meteringVersion,
    maxInputBytes,
    workers: pool.size,
    signatureBackend: backend.name,
    sessionLog: sessionLog.where,
    maxCallGasLimit: maxCallGas.toString(),
    receiptPush: config.receiptPush,
  });
  return {
    app,
    url,
    calls,
    pool,
    async close() {
      await app.close();
      await calls.close();
      await pool.close();
      await ledger.close();
    },
  };
}
