import { Command, InvalidArgumentError } from 'commander';
import { isZgasError } from '../../contracts/errors.ts';
// Each command loads its modules when it runs, so `zgas --help` prints at once.
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { registerRoleCommands } from './roles/register.ts';

type Env = Record<string, string | undefined>;

function count(value: string): string {
  if (!/^[0-9]{1,4}$/.test(value)) throw new InvalidArgumentError('a whole number below 10,000');
  return value;
}

function port(value: string): string {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('a port number (0-65535)');
  return value;
}

/** Command-line flags become the environment variables they stand for, so loadConfig checks both alike. */
function withFlags(env: Env, flags: Record<string, string | undefined>): Env {
  const out: Env = { ...env };
  for (const [name, value] of Object.entries(flags)) if (value !== undefined) out[name] = value;
  return out;
}

/** Runs until SIGINT/SIGTERM, then stops cleanly (a second signal exits at once). */
function untilSignal(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info({ signal }, 'stopping');
      stop()
        .catch((err: unknown) => log.error({ err }, 'shutdown failed'))
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function configFrom(env: Env, flags: Record<string, string | undefined>): Promise<{ config: Config; log: Logger }> {
  const [{ loadConfig }, { createLogger }] = await Promise.all([import('../config.ts'), import('../log.ts')]);
  const config = loadConfig(withFlags(env, flags));
  return { config, log: createLogger({ name: 'zgas', level: config.logLevel }) };
}

export function buildProgram(env: Env = process.env): Command {
  const program = new Command('zgas')
    .description('zgas: metered WebAssembly for zApps, signed gas receipts, settlement in QSR')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('node')
    .description('run the contract host, the settlement API, verification workers and the reconciler in one process')
    .option('--genesis <file>', 'genesis JSON file (default $ZGAS_GENESIS, else the built-in genesis)')
    .option('--workers <n>', 'verification jobs run at once in this process (0: leave them to `zgas worker`)', count)
    .option('--host <host>', 'API listen address (default $ZGAS_API_HOST or 127.0.0.1)')
    .option('--port <port>', 'API port (default $ZGAS_API_PORT or 8645)', port)
    .action(async (o: { genesis?: string; workers?: string; host?: string; port?: string }) => {
      const { config, log } = await configFrom(env, { ZGAS_GENESIS: o.genesis, ZGAS_WORKERS: o.workers, ZGAS_API_HOST: o.host, ZGAS_API_PORT: o.port });
      const { assertPortsFree } = await import('./ports.ts');
      await assertPortsFree([{ host: config.apiHost, port: config.apiPort, variable: 'ZGAS_API_PORT', flag: '--port' }]);
      const [{ loadGenesis }, { startNode }] = await Promise.all([import('../node/genesis.ts'), import('../node/index.ts')]);
      const { genesis, source } = await loadGenesis(config.genesisPath);
      log.info({ genesis: source, chainId: genesis.chainId.toString(), contract: genesis.contract }, 'starting zgas node');
      const node = await startNode({ config, genesis, log });
      await untilSignal(log, () => node.stop());
    });

  program
    .command('worker')
    .description('run a receipt verification worker process (needs DATABASE_URL and REDIS_URL)')
    .option('--genesis <file>', 'genesis JSON file (its chainId and contract make the signature domain)')
    .option('--concurrency <n>', 'verification jobs run at once', count)
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (on $ZGAS_API_HOST)', port)
    .action(async (o: { genesis?: string; concurrency?: string; metricsPort?: string }) => {
      const { config, log } = await configFrom(env, { ZGAS_GENESIS: o.genesis, ZGAS_WORKERS: o.concurrency });
      const { assertPortsFree } = await import('./ports.ts');
      if (o.metricsPort !== undefined) await assertPortsFree([{ host: config.apiHost, port: Number(o.metricsPort), variable: '--metrics-port' }]);
      const [{ loadGenesis }, { startWorkerProcess }] = await Promise.all([import('../node/genesis.ts'), import('./worker.ts')]);
      const { genesis } = await loadGenesis(config.genesisPath);
      const worker = await startWorkerProcess({
        config,
        genesis,
        log,
        concurrency: Math.max(1, config.workers),
        ...(o.metricsPort !== undefined ? { metricsPort: Number(o.metricsPort) } : {}),
      });
      await untilSignal(log, () => worker.stop());
    });

  program
    .command('runner')
    .description("run a provider's runner (flags or ZGAS_* variables: ZGAS_API_URL, ZGAS_RECEIPT_KEY, ZGAS_PROVIDER_ADDRESS or ZGAS_PROVIDER_KEY, …)")
    .option('--api-url <url>', 'the settlement API')
    .option('--host <host>', 'listen address')
    .option('--port <port>', 'listen port (default $ZGAS_RUNNER_PORT or 8646)', port)
    .option('--receipt-key <hex>', 'the receipt-signing private key (prefer $ZGAS_RECEIPT_KEY: flags show in ps)')
    .option('--provider <address>', 'the provider account the runner serves')
    .option('--genesis <file>', 'take chainId and contract from this genesis file')
    .option('--gas-table <name>', 'the gas table to meter with')
    .option('--workers <n>', 'WASM worker threads', count)
    .action(async (o: { apiUrl?: string; host?: string; port?: string; receiptKey?: string; provider?: string; genesis?: string; gasTable?: string; workers?: string }) => {
      const [{ createLogger }, { loadGenesis }, { addressOf }, { loadRunnerConfig }, { startRunner }, { ConfigError }, { assertPortsFree }] = await Promise.all([
        import('../log.ts'), import('../node/genesis.ts'), import('../../contracts/eip712/index.ts'), import('../../unikernel-runner/server/config.ts'), import('../../unikernel-runner/server/main.ts'),
        import('../config.ts'), import('./ports.ts'),
      ]);
      const log = createLogger({ name: 'zgas-runner', level: env['ZGAS_LOG_LEVEL'] });
      const flags: Record<string, string | undefined> = {
        ZGAS_API_URL: o.apiUrl,
        ZGAS_RUNNER_HOST: o.host,
        ZGAS_RUNNER_PORT: o.port,
        ZGAS_RECEIPT_KEY: o.receiptKey,
        ZGAS_PROVIDER_ADDRESS: o.provider,
        ZGAS_GAS_TABLE: o.gasTable,
        ZGAS_RUNNER_WORKERS: o.workers,
      };
      const genesisPath = o.genesis ?? env['ZGAS_GENESIS'];
      if (genesisPath !== undefined && genesisPath !== '') {
        const { genesis } = await loadGenesis(genesisPath);
        flags['ZGAS_CHAIN_ID'] = genesis.chainId.toString();
        flags['ZGAS_CONTRACT'] = genesis.contract;
        // The genesis limits a runner enforces: the largest input, and the close grace that bounds callGasLimit.
        flags['ZGAS_MAX_INPUT_BYTES'] = genesis.params.maxInputBytes.toString();
        flags['ZGAS_MAX_STATE_BYTES'] = genesis.params.maxStateBytes.toString();
        flags['ZGAS_CLOSE_GRACE_PERIOD_SECONDS'] = genesis.params.closeGracePeriodSeconds.toString();
      }
      const runnerEnv = withFlags(env, flags);
      const providerKey = runnerEnv['ZGAS_PROVIDER_KEY'];
      if ((runnerEnv['ZGAS_PROVIDER_ADDRESS'] ?? '') === '' && providerKey !== undefined && providerKey !== '') {
        runnerEnv['ZGAS_PROVIDER_ADDRESS'] = addressOf(providerKey as `0x${string}`);
      }
      let runnerConfig;
      try {
        runnerConfig = loadRunnerConfig(runnerEnv);
      } catch (err) {
        // The runner's reader names the variable in `path`: report it as a setting to fix.
        if (isZgasError(err) && typeof err.details['path'] === 'string') throw new ConfigError(err.details['path'], String(err.details['reason'] ?? err.message));
        throw err;
      }
      await assertPortsFree([{ host: runnerConfig.host, port: runnerConfig.port, variable: 'ZGAS_RUNNER_PORT', flag: '--port' }]);
      const runner = await startRunner(runnerConfig, {
        log: (msg, details) => (/failed|error/.test(msg) ? log.warn(details ?? {}, msg) : log.info(details ?? {}, msg)),
      });
      await untilSignal(log, () => runner.close());
    });

  program
    .command('replay')
    .description('re-apply every momentum from genesis and check hashes and state (exit code 1 on any mismatch)')
    .option('--genesis <file>', 'genesis JSON file (default $ZGAS_GENESIS, else the built-in genesis)')
    .action(async (o: { genesis?: string }) => {
      const { config, log } = await configFrom(env, { ZGAS_GENESIS: o.genesis });
      const [{ loadGenesis }, { replay }, { openStore }, { createReexecutor }] = await Promise.all([
        import('../node/genesis.ts'), import('../host/index.ts'), import('../node/index.ts'), import('../../unikernel-runner/runtime/reexecutor.ts'),
      ]);
      const { genesis } = await loadGenesis(config.genesisPath);
      const db = await openStore(config);
      try {
        const report = await replay(db, genesis, { reexecutor: createReexecutor(genesis) });
        const out = { height: report.height.toString(), ok: report.ok, mismatches: report.mismatches };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        if (!report.ok) process.exitCode = 1;
        log.info({ height: out.height, ok: report.ok }, 'replay finished');
      } finally {
        await db.close();
      }
    });

  program
    .command('start')
    .description('the local system (host, API, workers, dashboard, a runner) on the built-in demo genesis, then the narrated demo; same as npm start')
    .option('--once', 'stop after the demo summary and exit')
    .action(async (o: { once?: boolean }) => {
      const [{ loadConfig }, { assertPortsFree }] = await Promise.all([import('../config.ts'), import('./ports.ts')]);
      const config = loadConfig(env);
      await assertPortsFree([
        { host: config.apiHost, port: config.apiPort, variable: 'ZGAS_API_PORT' },
        { host: config.apiHost, port: config.runnerPort, variable: 'ZGAS_RUNNER_PORT' },
      ]);
      const { startDemo } = await import('../demo/start.ts');
      await startDemo({ argv: o.once === true ? ['--once'] : [], env });
    });

  registerRoleCommands(program, env);
  return program;
}

/** Runs the CLI; a typed failure prints its code and message and exits 1. */
export async function main(argv: string[] = process.argv, env: Env = process.env): Promise<void> {
  const program = buildProgram(env);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
      return;
    }
    const { startupMessage } = await import('../node/index.ts');
    const level = env['ZGAS_LOG_LEVEL'];
    process.stderr.write(`${startupMessage(err, level === 'debug' || level === 'trace')}\n`);
    process.exitCode = 1;
  }
}
