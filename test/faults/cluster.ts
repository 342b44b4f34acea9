/**
 * A small zgas deployment for fault scenarios: one `zgas node` and one `zgas worker` process on a
 * schema and queue of their own, both reaching the shared Postgres and Redis through TCP proxies the
 * scenario cuts and restores (the servers themselves are never touched).
 */
import { spawn } from 'node:child_process';
import { TEST_DATABASE_URL, freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { REDIS_URL, testTag } from '../integration/fixtures.ts';
import { freePort } from '../support/net.ts';
import { startTcpProxy } from '../support/proxy.ts';
import type { TcpProxy } from '../support/proxy.ts';
import { ZGAS_BIN, spawnZgas, until } from '../support/zgas-process.ts';
import type { ZgasProcess } from '../support/zgas-process.ts';
import { dropRedisKeys } from '../support/redis.ts';
import { keys } from './work.ts';

export const START_WAIT_MS = 120_000;

export interface Cluster {
  db: TestDb;
  pg: TcpProxy;
  redis: TcpProxy;
  base: string;
  node: ZgasProcess;
  worker: ZgasProcess;
  /** Every process's output so far, for failure messages. */
  logs(): string;
  /** Starts a node again (after a kill or a stop) on the same port and store. */
  restartNode(): Promise<void>;
  /**
   * Starts a provider's `zgas runner` (keys of the suite's provider) reporting to the node, with
   * its durable session log in `dataDir`, on `port` (the same port again after a restart).
   */
  startRunner(dataDir: string, port: number, env?: Record<string, string>): Promise<ZgasProcess>;
  /** `zgas replay` on the store (directly, not through the proxy): exit code and report. */
  replay(): Promise<{ code: number | null; output: string }>;
  close(): Promise<void>;
}

function proxied(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.host = proxy.address;
  return u.toString();
}

/** `extraEnv`: settings of the node and worker beyond the suite's (e.g. retentions). */
export async function startCluster(name: string, extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const db = await freshSchema(`faults_${name}`);
  const tag = testTag();
  const pgTarget = new URL(TEST_DATABASE_URL);
  const redisTarget = new URL(REDIS_URL);
  const pg = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
  const redis = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  const port = await freePort();
  const prefix = `zgas-test-${tag}`;
  const env = {
    DATABASE_URL: proxied(TEST_DATABASE_URL, pg),
    ZGAS_DB_SCHEMA: db.schema,
    REDIS_URL: proxied(REDIS_URL, redis),
    ZGAS_QUEUE_NAME: `faults-${tag}`,
    ZGAS_REDIS_PREFIX: prefix,
    ZGAS_MOMENTUM_INTERVAL_MS: '50',
    ZGAS_LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const retired: ZgasProcess[] = [];
  const runners: ZgasProcess[] = [];
  const startNode = async (): Promise<ZgasProcess> => {
    const node = spawnZgas(['node', '--port', String(port), '--workers', '1'], { ...env, ZGAS_LOG_LEVEL: 'info' });
    await until('the node to listen', async () => (node.output().includes('zgas node listening') ? true : undefined), START_WAIT_MS, () => node.output());
    // Calls are judged against the committed state: wait until the genesis is.
    await until('the genesis to be committed', async () => ((await fetch(`http://127.0.0.1:${port}/v1/momentums/0`)).status === 200 ? true : undefined), START_WAIT_MS, () => node.output());
    return node;
  };
  const worker = spawnZgas(['worker', '--concurrency', '2'], env);
  const cluster: Cluster = {
    db,
    pg,
    redis,
    base: `http://127.0.0.1:${port}`,
    node: await startNode(),
    worker,
    logs: () => [...retired, cluster.node, cluster.worker, ...runners].map((p) => p.output()).join('\n'),
    async startRunner(dataDir, runnerPort, extra = {}) {
      const runner = spawnZgas(['runner', '--port', String(runnerPort), '--workers', '1'], {
        ZGAS_API_URL: cluster.base, ZGAS_RECEIPT_KEY: keys.receiptSigner.privateKey, ZGAS_PROVIDER_ADDRESS: keys.provider.address,
        ZGAS_RUNNER_DATA_DIR: dataDir, ZGAS_LOG_LEVEL: 'info', ...extra,
      });
      runners.push(runner);
      await until('the runner to listen', async () => (runner.output().includes('runner listening') ? true : undefined), START_WAIT_MS, () => runner.output());
      return runner;
    },
    async restartNode() {
      retired.push(cluster.node);
      cluster.node = await startNode();
    },
    replay() {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [ZGAS_BIN, 'replay'], {
          env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: db.schema, ZGAS_LOG_LEVEL: 'warn', ZGAS_GENESIS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
        child.once('exit', (code) => resolve({ code, output }));
      });
    },
    async close() {
      pg.restore();
      redis.restore();
      await Promise.all([cluster.node.stop(), cluster.worker.stop(), ...runners.map((r) => r.stop())]);
      await pg.close();
      await redis.close();
      await db.close();
      await dropRedisKeys(`${prefix}`);
    },
  };
  return cluster;
}
