/**
 * `npm start`: the whole local system on the built-in demo genesis (embedded PGlite and
 * in-process queue unless DATABASE_URL / REDIS_URL are set), then the demo narrated step by step.
 * It keeps serving afterwards; with `--once` it stops after the summary and exits 0.
 */
import { randomBytes } from 'node:crypto';
import { InvariantViolation } from '../../contracts/errors.ts';
import { destination, pino } from 'pino';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { loadConfig } from '../config.ts';
import { dropPgSchema } from '../db/index.ts';
import { SettlementClient } from '../client/index.ts';
import type { DemoContext } from './context.ts';
import { startDishonestRunner } from './dishonest-runner.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { acceleratedClock, DEMO_CHALLENGE_WINDOW_SECONDS, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from './genesis.ts';
import { INFLATED_EXTRA_GAS } from './fraud.ts';
import { amount, createPrinter } from './print.ts';
import { runDemo } from './steps.ts';
import type { DemoResult } from './steps.ts';
import { demoLocalOffer } from './local-offer.ts';
import { startLocalSystem } from './system.ts';
import type { DashboardLocal } from '../dashboard/plugin.ts';
import type { LocalSystem, RunnerSpec } from './system.ts';

export interface StartOptions {
  argv?: readonly string[];
  env?: Record<string, string | undefined>;
  write?: (line: string) => void;
  /** Overrides of the loaded configuration (tests pick free ports with 0). */
  overrides?: Partial<Config>;
}

export interface StartedDemo {
  system: LocalSystem;
  result: DemoResult;
}

const LOG_VERBOSE = new Set(['debug', 'trace']);

/** Runs the system and the demo. With `--once` resolves after stopping everything; otherwise it keeps serving. */
export async function startDemo(opts: StartOptions = {}): Promise<StartedDemo> {
  const argv = opts.argv ?? process.argv.slice(2);
  const once = argv.includes('--once');
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config: Config = { ...loadConfig(opts.env ?? process.env), ...opts.overrides };
  // The parts log JSON to stderr; the narration owns stdout. Warnings and errors only, unless asked for more.
  const log: Logger = pino({ name: 'zgas', level: LOG_VERBOSE.has(config.logLevel) ? config.logLevel : 'warn' }, destination(2));

  const genesis = demoGenesis();
  const clock = acceleratedClock(genesis.timestamp, DEMO_CLOCK_SPEED);
  // A store on a shared Postgres gets a schema of its own per demo run: the demo genesis differs per run.
  const ownSchema = config.databaseUrl !== undefined && config.dbSchema === 'public';
  const schema = ownSchema ? `zgas_demo_${genesis.timestamp.toString()}_${randomBytes(3).toString('hex')}` : config.dbSchema;

  write('zgas — gas payment layer for zApps: local system and demo');
  let offer: DashboardLocal | null = null;
  const system = await startLocalSystem({
    genesis,
    log,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl, schema }),
    ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
    ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl }),
    queueName: config.queueName,
    redisPrefix: config.redisPrefix,
    apiHost: config.apiHost,
    apiPort: config.apiPort,
    momentumIntervalMs: config.momentumIntervalMs,
    verifyConcurrency: Math.max(1, config.workers),
    clock,
    runners: demoRunners(config.runnerPort),
    dashboard: true,
    dashboardLocal: () => offer,
  });
  offer = demoLocalOffer(system);
  const runnerUrl = system.runners[0]?.url ?? '';
  const store = system.db.kind === 'pglite' ? `embedded PGlite (${config.dataDir === undefined ? 'in memory' : config.dataDir})` : `Postgres (schema ${schema})`;
  const queue = system.queue.kind === 'memory' ? 'in-process queue' : 'BullMQ on Redis';
  const events = system.bus.kind === 'memory' ? 'in-process events' : 'Redis pub/sub events';
  write(`store: ${store} · ${queue} · ${events}`);
  write(`genesis: chain ${genesis.chainId}, supply ${amount(genesis.accounts.reduce((s, a) => s + a.balance, 0n))}`);
  write(`demo chain clock: ${DEMO_CLOCK_SPEED}× real time; challenge window ${DEMO_CHALLENGE_WINDOW_SECONDS} s of chain time (${(Number(DEMO_CHALLENGE_WINDOW_SECONDS) / DEMO_CLOCK_SPEED).toFixed(1)} s real)`);
  write(`API ${system.apiUrl} · runner ${runnerUrl}`);

  let result: DemoResult;
  let demo: DemoActors | undefined;
  const stopAll = async (): Promise<void> => {
    await demo?.close();
    await system.close();
    if (ownSchema && config.databaseUrl !== undefined) await dropPgSchema(config.databaseUrl, schema);
  };
  try {
    demo = await demoContext(system, genesis);
    result = await runDemo(demo.ctx, createPrinter(write));
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    // What happens after the demo ages at real speed.
    clock.toRealTime();
  }
  write('');
  write('demo chain clock: back to real time');

  write('');
  write(`API       ${system.apiUrl}/v1/…`);
  write(`API docs  ${system.apiUrl}/docs`);
  write(`dashboard ${system.apiUrl}/  (sign in with a demo key there to act: top up, claim, abort, meet a Fuddor)`);
  write(`runner    ${runnerUrl}/v1/sessions/:id/calls`);
  if (once) {
    await stopAll();
    write('demo complete (--once): stopped');
  } else {
    write('serving; Ctrl-C stops');
    const stop = (): void => {
      void stopAll().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return { system, result };
}

/**
 * The honest provider's runners. The first pushes every receipt at once. The second, which serves
 * the session the demo closes, pushes only the newest receipt of a session when the session stops
 * or every ten minutes (coalesced): when its user closes, the receipts of her finished calls are still
 * on their way, and the demo shows that they settle anyway.
 */
export const DEMO_LAZY_FLUSH_MS = 600_000;
export const demoRunners = (port: number): RunnerSpec[] => [
  { provider: DEMO_KEYS.provider.address, receiptKey: DEMO_KEYS.providerSigner.privateKey, port, receiptPush: 'every' },
  { provider: DEMO_KEYS.provider.address, receiptKey: DEMO_KEYS.providerSigner.privateKey, port: 0, receiptPush: 'coalesced', receiptFlushMs: DEMO_LAZY_FLUSH_MS, workers: 1 },
];

/** The demo's actors on a started local system: the typed client, the honest runner and a dishonest one. */
export interface DemoActors {
  ctx: DemoContext;
  close(): Promise<void>;
}

/** The demo's clients of a started local system, and the dishonest provider's runner (started here). */
export async function demoContext(system: LocalSystem, genesis: Genesis): Promise<DemoActors> {
  const [runner, lazyRunner] = system.runners;
  if (runner === undefined || lazyRunner === undefined) throw new InvariantViolation('the demo needs its two runners');
  const api = new SettlementClient({ baseUrl: system.apiUrl, domain: system.domain });
  const dishonest = await startDishonestRunner({ api, domain: system.domain, receiptKey: DEMO_KEYS.dishonestSigner.privateKey, extraGas: INFLATED_EXTRA_GAS });
  return {
    ctx: { api, runnerUrl: runner.url, lazyRunnerUrl: lazyRunner.url, dishonestRunnerUrl: dishonest.url, domain: system.domain, genesis, keys: DEMO_KEYS, chainSpeed: DEMO_CLOCK_SPEED },
    close: () => dishonest.close(),
  };
}
