import type { Hash } from '../../contracts/types.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { DigestHandler, QueueConsumer, ReceiptQueue } from './queue.ts';
import { DIGESTS_PER_JOB, JOB_ATTEMPTS, JOB_RETRY_DELAY_MS, chunk } from './queue.ts';

/** Jobs the in-process queue holds at most; beyond it enqueue drops work the reconciler recovers. */
export const MAX_MEMORY_JOBS = 100_000;

interface Job {
  digests: Hash[];
  attempt: number;
}

/** The in-process queue: same port, no Redis. Jobs live in memory and die with the process. */
export function createMemoryQueue(opts: { log?: Logger } = {}): ReceiptQueue {
  const log = opts.log ?? silentLogger;
  const jobs: Job[] = [];
  let active = 0;
  let closed = false;
  const wakers = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const wake = (): void => {
    for (const w of [...wakers]) w();
  };

  const push = (job: Job): void => {
    if (jobs.length >= MAX_MEMORY_JOBS) {
      log.warn({ digests: job.digests.length }, 'in-process queue full; the reconciler will re-enqueue these receipts');
      return;
    }
    jobs.push(job);
    wake();
  };

  return {
    kind: 'memory',
    async enqueue(digests) {
      if (closed) throw new Error('queue closed');
      for (const part of chunk(digests, DIGESTS_PER_JOB)) push({ digests: part, attempt: 1 });
    },
    process(handler: DigestHandler, { concurrency }): QueueConsumer {
      let stopped = false;
      const loops: Promise<void>[] = [];
      const loop = async (): Promise<void> => {
        while (!stopped && !closed) {
          const job = jobs.shift();
          if (job === undefined) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                wakers.delete(done);
                resolve();
              };
              wakers.add(done);
            });
            continue;
          }
          active++;
          try {
            await handler(job.digests);
          } catch (err) {
            if (job.attempt < JOB_ATTEMPTS && !closed) {
              const delay = JOB_RETRY_DELAY_MS * 2 ** (job.attempt - 1);
              log.warn({ err, attempt: job.attempt, delayMs: delay }, 'verification job failed; retrying');
              const timer = setTimeout(() => {
                timers.delete(timer);
                push({ digests: job.digests, attempt: job.attempt + 1 });
              }, delay);
              timers.add(timer);
            } else {
              log.error({ err, digests: job.digests.length }, 'verification job dropped; the reconciler will retry');
            }
          } finally {
            active--;
          }
        }
      };
      for (let i = 0; i < Math.max(1, concurrency); i++) loops.push(loop());
      return {
        async close() {
          stopped = true;
          wake();
          await Promise.all(loops);
        },
      };
    },
    async depth() {
      return jobs.length + active;
    },
    async ping() {
      return !closed;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      jobs.length = 0;
      wake();
    },
  };
}
