import { makeDomain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { ZgasError } from '../../contracts/errors.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { checkGenesis } from '../host/index.ts';
import { startVerifier } from '../workers/verify.ts';
import { connect } from './node.ts';

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * `zgas worker`: a verification worker process only. It shares the Postgres store and the Redis
 * queue with the node, so it needs both: the embedded store and in-process queue belong to one
 * process and cannot be shared.
 */
export async function startWorkerProcess(opts: { config: Config; genesis: Genesis; log: Logger; concurrency: number }): Promise<RunningWorker> {
  const { config, log } = opts;
  if (config.databaseUrl === undefined) throw new ZgasError('NotReady', { reason: 'a worker process needs DATABASE_URL (the embedded store lives inside `zgas node`)' });
  if (config.redisUrl === undefined) throw new ZgasError('NotReady', { reason: 'a worker process needs REDIS_URL (the in-process queue lives inside `zgas node`)' });
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
  const consumer = startVerifier({ db, domain, queue, metrics: createMetrics(), log, concurrency: opts.concurrency });
  log.info({ concurrency: opts.concurrency, queue: config.queueName, prefix: config.redisPrefix }, 'verification worker running');
  return {
    async stop() {
      await consumer.close();
      await queue.close();
      await bus.close();
      await db.close();
    },
  };
}
