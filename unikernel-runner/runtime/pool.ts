/**
 * A pool of worker threads that run calls. Each worker has an abort flag in shared memory that its
 * meter checks at every refill checkpoint; a watchdog replaces a worker that stops answering, so
 * one bad call never takes the runner down. The queue is bounded: beyond it calls get RunnerBusy.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import type { CallOutcome } from './execute.ts';
import { WORKER_MARK } from './worker.ts';
import type { ReplyMessage, RunMessage, WorkerInit } from './worker.ts';

export const DEFAULT_QUEUE_LIMIT = 256;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const MAX_POOL_SIZE = 64;
/** Wait before starting again a worker that died before it ever answered (a crash loop guard). */
export const WORKER_RESTART_DELAY_MS = 1_000;

export type CallJob = Omit<RunMessage, 'id'>;

export interface PoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  size?: number;
  /** Calls waiting for a worker beyond which submit refuses with RunnerBusy. */
  queueLimit?: number;
  /**
   * A call still running after this long is aborted through its flag, exactly as a user abort: it
   * stops at its next checkpoint with a receipt any re-executor reproduces. Unset: no time limit.
   */
  callTimeLimitMs?: number;
  /** A worker that does not answer this long after a call started (or after the time limit aborted it) is terminated and replaced (CallTimeout). */
  timeoutMs?: number;
  /** Starts one worker; default: the worker entry file, or this very file inside a bundle. */
  spawn?: (init: WorkerInit) => Worker;
}

/** A call's outcome with the wall-clock time (ms since the epoch, sub-ms precision) its worker finished it. */
export type PoolOutcome = CallOutcome & { finishedAtMs: number };

export interface SubmittedCall {
  id: number;
  result: Promise<PoolOutcome>;
}

interface Job {
  id: number;
  message: CallJob;
  aborted: boolean;
  resolve: (outcome: PoolOutcome) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The worker has loaded and answers; calls go only to ready workers (start-up is not call time). */
  ready: boolean;
  flag: Int32Array;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

/** How a worker starts: from the TypeScript sources (through tsx) or, in a bundle, from the bundle itself. */
export function defaultSpawn(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), { workerData: init });
  const entry = new URL('./worker-entry.ts', self).href;
  const loader = tsxLoaderUrl();
  const code = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

function tsxLoaderUrl(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === 'function') {
    try {
      return resolve('tsx/esm/api');
    } catch {
      /* fall through to the package directory */
    }
  }
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

export class WorkerPool {
  readonly size: number;
  private readonly queueLimit: number;
  private readonly timeoutMs: number;
  private readonly callTimeLimitMs: number | undefined;
  private readonly spawn: (init: WorkerInit) => Worker;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly jobs = new Map<number, { job: Job; slot: Slot | null }>();
  private nextId = 1;
  private closed = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Workers replaced after a timeout or a crash (for health and tests). */
  restarts = 0;

  constructor(options: PoolOptions = {}) {
    this.size = Math.min(MAX_POOL_SIZE, Math.max(1, options.size ?? os.availableParallelism()));
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.callTimeLimitMs = options.callTimeLimitMs;
    this.spawn = options.spawn ?? defaultSpawn;
    for (let i = 0; i < this.size; i++) this.slots.push(this.startSlot());
  }

  /** Queues a call; its result settles when a worker has run it. */
  submit(message: CallJob): SubmittedCall {
    if (this.closed) throw new ZgasError('NotReady', { reason: 'the worker pool is closed' });
    if (this.queue.length >= this.queueLimit) throw new ZgasError('RunnerBusy', { queued: this.queue.length, queueLimit: this.queueLimit });
    const id = this.nextId++;
    let resolve!: (outcome: PoolOutcome) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<PoolOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job: Job = { id, message, aborted: false, resolve, reject };
    this.jobs.set(id, { job, slot: null });
    this.queue.push(job);
    this.dispatch();
    return { id, result };
  }

  /**
   * Stops a call at its next refill checkpoint (it then ends Aborted). A call still queued starts
   * with its flag set, so it stops at its first checkpoint. Returns false for an unknown call.
   */
  abort(id: number): boolean {
    const entry = this.jobs.get(id);
    if (entry === undefined) return false;
    entry.job.aborted = true;
    if (entry.slot !== null) Atomics.store(entry.slot.flag, 0, 1);
    return true;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Workers started and answering. */
  get ready(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  get busy(): number {
    return this.slots.filter((s) => s.job !== null).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    for (const job of this.queue.splice(0)) this.finish(job, new ZgasError('NotReady', { reason: 'the worker pool closed' }));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.timer !== null) clearTimeout(slot.timer);
        if (slot.job !== null) this.finish(slot.job, new ZgasError('NotReady', { reason: 'the worker pool closed' }));
        slot.worker.removeAllListeners();
        await slot.worker.terminate();
      }),
    );
  }

  private startSlot(): Slot {
    const abortBuffer = new SharedArrayBuffer(4);
    const worker = this.spawn({ mark: WORKER_MARK, abortBuffer });
    const slot: Slot = { worker, ready: false, flag: new Int32Array(abortBuffer), job: null, timer: null };
    worker.on('message', (reply: ReplyMessage) => this.onReply(slot, reply));
    worker.on('error', (error) => this.replace(slot, 'Internal', { reason: 'worker crashed', error: error.message }));
    worker.on('exit', (code) => this.replace(slot, 'Internal', { reason: 'worker exited', exitCode: code }));
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null || !slot.ready) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      this.jobs.set(job.id, { job, slot });
      Atomics.store(slot.flag, 0, job.aborted ? 1 : 0);
      const watchdog = () => this.replace(slot, 'CallTimeout', { timeoutMs: this.timeoutMs });
      const limit = this.callTimeLimitMs;
      slot.timer =
        limit === undefined
          ? setTimeout(watchdog, this.timeoutMs)
          : setTimeout(() => {
              job.aborted = true;
              Atomics.store(slot.flag, 0, 1);
              slot.timer = setTimeout(watchdog, this.timeoutMs);
            }, limit);
      slot.worker.postMessage({ id: job.id, ...job.message } satisfies RunMessage);
    }
  }

  private onReply(slot: Slot, reply: ReplyMessage): void {
    if ('ready' in reply) {
      slot.ready = true;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (job === null || job.id !== reply.id) return;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    if (reply.ok) this.finish(job, null, { ...reply.outcome, finishedAtMs: reply.finishedAtMs });
    else {
      const { code, details, message } = reply.error;
      this.finish(job, code === null ? new ZgasError('Internal', { reason: message }) : new ZgasError(code as ErrorCode, details));
    }
    this.dispatch();
  }

  /** Terminates a stuck or dead worker, fails its call, and starts a fresh worker in its place. */
  private replace(slot: Slot, code: ErrorCode, details: Record<string, unknown>): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
    if (slot.job !== null) this.finish(slot.job, new ZgasError(code, details));
    this.restarts++;
    if (slot.ready) {
      this.slots[index] = this.startSlot();
      this.dispatch();
      return;
    }
    // It died while starting: whatever killed it would kill the next one at once. Fail what waits
    // (unless another worker is up to take it) and try again after a pause.
    if (this.ready === 0) for (const job of this.queue.splice(0)) this.finish(job, new ZgasError('NotReady', { reason: 'no worker could start', ...details }));
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.closed || this.slots[index] !== slot) return;
      this.slots[index] = this.startSlot();
    }, WORKER_RESTART_DELAY_MS);
    this.restartTimers.add(timer);
  }

  private finish(job: Job, error: Error | null, outcome?: PoolOutcome): void {
    this.jobs.delete(job.id);
    if (error !== null) job.reject(error);
    else job.resolve(outcome!);
  }
}
