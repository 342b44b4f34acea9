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
import { RunnerClient, SettlementClient } from './client.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { demoClock } from './clock.ts';
import type { DemoClock } from './clock.ts';
import { DEMO_CHALLENGE_WINDOW_SECONDS, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from './genesis.ts';
import { amount, createPrinter } from './print.ts';
import { runDemo } from './steps.ts';
import type { DemoContext, DemoResult } from './steps.ts';
import { startLocalSystem } from './system.ts';
import type { LocalSystem } from './system.ts';

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
  /** The host's chain clock: accelerated during the demo, real time after it. */
  clock: DemoClock;
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
  // A store on a shared Postgres gets a schema of its own per demo run: the demo genesis differs per run.
  const ownSchema = config.databaseUrl !== undefined && config.dbSchema === 'public';
  const schema = ownSchema ? `zgas_demo_${genesis.timestamp.toString()}_${randomBytes(3).toString('hex')}` : config.dbSchema;

  write('zgas — gas payment layer for zApps: local system and demo');
  const clock = demoClock(genesis.timestamp, DEMO_CLOCK_SPEED);
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
    clock: clock.now,
    runners: [{ provider: DEMO_KEYS.provider.address, receiptKey: DEMO_KEYS.providerSigner.privateKey, port: config.runnerPort }],
    dashboard: true,
  });
  const runnerUrl = system.runners[0]?.url ?? '';
  const store = system.db.kind === 'pglite' ? `embedded PGlite (${config.dataDir === undefined ? 'in memory' : config.dataDir})` : `Postgres (schema ${schema})`;
  const queue = system.queue.kind === 'memory' ? 'in-process queue' : 'BullMQ on Redis';
  const events = system.bus.kind === 'memory' ? 'in-process events' : 'Redis pub/sub events';
  write(`store: ${store} · ${queue} · ${events}`);
  write(`genesis: chain ${genesis.chainId}, supply ${amount(genesis.accounts.reduce((s, a) => s + a.balance, 0n))}`);
  write(`demo chain clock: ${DEMO_CLOCK_SPEED}× real time; challenge window ${DEMO_CHALLENGE_WINDOW_SECONDS} s of chain time (${(Number(DEMO_CHALLENGE_WINDOW_SECONDS) / DEMO_CLOCK_SPEED).toFixed(1)} s real)`);
  write(`API ${system.apiUrl} · runner ${runnerUrl}`);

  let result: DemoResult;
  try {
    result = await runDemo(demoContext(system, genesis), createPrinter(write));
    // What the system serves after the demo runs on real time.
    clock.realTime();
  } catch (error) {
    await system.close();
    if (ownSchema && config.databaseUrl !== undefined) await dropPgSchema(config.databaseUrl, schema);
    throw error;
  }

  write('');
  write(`API       ${system.apiUrl}/v1/…`);
  write(`API docs  ${system.apiUrl}/docs`);
  write(`dashboard ${system.apiUrl}/`);
  write(`runner    ${runnerUrl}/v1/sessions/:id/calls`);
  if (once) {
    await system.close();
    if (ownSchema && config.databaseUrl !== undefined) await dropPgSchema(config.databaseUrl, schema);
    write('demo complete (--once): stopped');
  } else {
    write('serving; the chain clock is back on real time; Ctrl-C stops');
    const stop = (): void => {
      void system.close().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return { system, result, clock };
}

/** The demo's clients of a started local system: the settlement API and its first runner. */
export function demoContext(system: LocalSystem, genesis: Genesis): DemoContext {
  const runner = system.runners[0];
  if (runner === undefined) throw new InvariantViolation('the demo needs a runner');
  return {
    api: new SettlementClient(system.apiUrl, system.domain),
    runner: new RunnerClient(runner.url, system.domain),
    domain: system.domain,
    genesis,
    keys: DEMO_KEYS,
    chainSpeed: DEMO_CLOCK_SPEED,
  };
}
