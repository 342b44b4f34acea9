/**
 * A pool of worker threads that run calls. Each worker has an abort flag in shared memory that its
 * meter checks at every refill checkpoint; a watchdog replaces a worker that stops answering, so
 * one bad call never takes the runner down. The queue is bounded: beyond it calls get RunnerBusy.
 *
 * Sessions have affinity to a worker: the worker keeps a session's state between its calls
 * (worker.ts), and the pool mirrors what each worker holds (session → state hash, bytes), so a
 * call whose worker holds its pre-state carries no state at all. A call goes to an idle worker
 * holding its pre-state; if that worker is busy, a small state moves to an idle worker and a large
 * one waits for its worker. A worker that does not hold the pre-state (new, replaced after a crash,
 * or the state moved) is seeded with the runner's copy, encoded and transferred, once.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import type { Hash } from '../../contracts/types.ts';
import type { CallOutcome } from './execute.ts';
import { encodeStateBytes } from './state.ts';
import type { State } from './state.ts';
import { WORKER_MARK } from './worker.ts';
import type { ReplyMessage, RunMessage, WorkerInit } from './worker.ts';

export const DEFAULT_QUEUE_LIMIT = 256;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const MAX_POOL_SIZE = 64;
/** Wait before starting again a worker that died before it ever answered (a crash loop guard). */
export const WORKER_RESTART_DELAY_MS = 1_000;

/** Sessions one worker keeps in memory at once; the least recently used is dropped beyond it. */
export const DEFAULT_MAX_HELD_SESSIONS = 1_024;
/** Encoded state bytes one worker keeps in memory at once; the least recently used sessions are dropped beyond it. */
export const DEFAULT_MAX_HELD_STATE_BYTES = 256 * 1024 * 1024;
/** A session's state up to this size moves to an idle worker rather than wait for a busy one that holds it. */
export const MOVE_MAX_STATE_BYTES = 64 * 1024;

/** A call as submitted: the message without what the pool decides (id, seed, drops), and the session's state. */
export type CallJob = Omit<RunMessage, 'id' | 'stateBytes' | 'drop'> & {
  /** The runner's copy of the session's state at `preStateHash`; read only to seed a worker, never changed. */
  preState: State;
};

/** What the pool moved and hashed for state, since it started (metrics; the tests count work with them). */
export interface PoolStats {
  /** Workers seeded with a session's state. */
  seeds: number;
  /** Encoded state bytes posted to workers to seed them. */
  seededStateBytes: number;
  /** Bytes the workers' state hashing absorbed (calls and seeds). */
  hashedStateBytes: number;
}

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
  /** Sessions one worker keeps (default DEFAULT_MAX_HELD_SESSIONS). */
  maxHeldSessions?: number;
  /** Encoded state bytes one worker keeps (default DEFAULT_MAX_HELD_STATE_BYTES). */
  maxHeldStateBytes?: number;
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
  /** What the worker holds, least recently used first: session → the state hash it is at, its encoded bytes. */
  held: Map<Hash, { hash: Hash; bytes: number }>;
  /** Sessions the worker is to forget with its next call. */
  drops: Hash[];
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
  private readonly maxHeldSessions: number;
  private readonly maxHeldStateBytes: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly jobs = new Map<number, { job: Job; slot: Slot | null }>();
  private nextId = 1;
  private closed = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Workers replaced after a timeout or a crash (for health and tests). */
  restarts = 0;
  readonly stats: PoolStats = { seeds: 0, seededStateBytes: 0, hashedStateBytes: 0 };

  constructor(options: PoolOptions = {}) {
    this.size = Math.min(MAX_POOL_SIZE, Math.max(1, options.size ?? os.availableParallelism()));
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.callTimeLimitMs = options.callTimeLimitMs;
    this.spawn = options.spawn ?? defaultSpawn;
    this.maxHeldSessions = Math.max(1, options.maxHeldSessions ?? DEFAULT_MAX_HELD_SESSIONS);
    this.maxHeldStateBytes = options.maxHeldStateBytes ?? DEFAULT_MAX_HELD_STATE_BYTES;
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
    const slot: Slot = { worker, ready: false, flag: new Int32Array(abortBuffer), job: null, timer: null, held: new Map(), drops: [] };
    worker.on('message', (reply: ReplyMessage) => this.onReply(slot, reply));
    worker.on('error', (error) => this.replace(slot, 'Internal', { reason: 'worker crashed', error: error.message }));
    worker.on('exit', (code) => this.replace(slot, 'Internal', { reason: 'worker exited', exitCode: code }));
    return slot;
  }

  private dispatch(): void {
    for (let q = 0; q < this.queue.length && this.slots.some(isIdle); ) {
      const job = this.queue[q]!;
      const slot = this.slotFor(job.message);
      if (slot === null) {
        q++;
        continue;
      }
      this.queue.splice(q, 1);
      this.start(slot, job);
    }
  }

  /** An idle worker for the call: one holding its pre-state, else (unless a busy one holds a large pre-state) the least loaded. */
  private slotFor(message: CallJob): Slot | null {
    const holders = this.slots.filter((s) => s.ready && s.held.get(message.sessionId)?.hash === message.preStateHash);
    const home = holders.find(isIdle);
    if (home !== undefined) return home;
    if (holders.some((s) => s.held.get(message.sessionId)!.bytes > MOVE_MAX_STATE_BYTES)) return null;
    let best: Slot | null = null;
    for (const s of this.slots) if (isIdle(s) && (best === null || heldBytes(s) < heldBytes(best))) best = s;
    return best;
  }

  private start(slot: Slot, job: Job): void {
    const { preState, ...message } = job.message;
    const { sessionId, preStateHash } = message;
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
    // Other workers' copies of the session at another hash are stale: they are dropped.
    for (const other of this.slots) {
      const copy = other.held.get(sessionId);
      if (other !== slot && copy !== undefined && copy.hash !== preStateHash) forget(other, sessionId);
    }
    const held = slot.held.get(sessionId);
    slot.held.delete(sessionId);
    let stateBytes: Uint8Array | undefined;
    if (held?.hash === preStateHash) slot.held.set(sessionId, held);
    else {
      stateBytes = encodeStateBytes(preState);
      this.makeRoom(slot, stateBytes.length);
      this.stats.seeds++;
      this.stats.seededStateBytes += stateBytes.length;
    }
    const run: RunMessage = { id: job.id, ...message, drop: slot.drops.splice(0), ...(stateBytes === undefined ? {} : { stateBytes }) };
    slot.worker.postMessage(run, stateBytes === undefined ? [] : [stateBytes.buffer as ArrayBuffer]);
  }

  /** Drops the worker's least recently used sessions until one more of `bytes` fits its bounds. */
  private makeRoom(slot: Slot, bytes: number): void {
    let total = heldBytes(slot);
    for (const [id, { bytes: size }] of slot.held) {
      if (slot.held.size < this.maxHeldSessions && total + bytes <= this.maxHeldStateBytes) return;
      forget(slot, id);
      total -= size;
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
    const { sessionId } = job.message;
    if (reply.ok) {
      slot.held.delete(sessionId);
      slot.held.set(sessionId, { hash: reply.outcome.postStateHash, bytes: reply.heldStateBytes });
      this.stats.hashedStateBytes += reply.hashedStateBytes;
      this.finish(job, null, { ...reply.outcome, finishedAtMs: reply.finishedAtMs });
    } else {
      // Whatever failed, the worker's copy of the session (held or just seeded) is no longer trusted: it is dropped and seeded again.
      slot.held.delete(sessionId);
      slot.drops.push(sessionId);
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

const isIdle = (s: Slot): boolean => s.ready && s.job === null;

function heldBytes(slot: Slot): number {
  let total = 0;
  for (const { bytes } of slot.held.values()) total += bytes;
  return total;
}

function forget(slot: Slot, sessionId: Hash): void {
  if (slot.held.delete(sessionId)) slot.drops.push(sessionId);
}
