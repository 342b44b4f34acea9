import type { Domain } from '../../contracts/eip712/index.ts';
import type { SessionStopEvent } from '../../contracts/events.ts';
import type { Context } from '../../contracts/gas/apply.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Reexecutor } from '../../contracts/gas/reexecutor.ts';
import type { State } from '../../contracts/gas/state.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Clock } from '../../unikernel-runner/clock.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../log.ts';
import { getModule } from '../store/modules.ts';
import type { Momentum } from '../store/momentums.ts';
import { batchKeys, loadBatch, prepareBatch } from './batch.ts';
import type { Batch } from './batch.ts';
import { commitMomentum, commitRefusals, sealMomentum } from './commit.ts';
import { loadOrCommitGenesis } from './head.ts';
import type { Heights } from './heights.ts';
import type { MomentumInput, MomentumResult } from './momentum.ts';
import { applyAll, modulesNeeded } from './sequence.ts';
import type { Waker } from './waker.ts';

export type HostEvent =
  | { type: 'momentum'; height: string; hash: Hash; timestamp: string; inputs: MomentumInput[]; results: MomentumResult[] }
  | SessionStopEvent;

/** Where one momentum's time went, per step (ms), for benchmarks and metrics. */
export interface RoundTimings {
  height: bigint;
  inputs: number;
  receipts: number;
  /** Reading the batch (0 when it was loaded while the previous momentum committed). */
  loadMs: number;
  prepareMs: number;
  applyMs: number;
  /** Results, state digest, momentum hash and the rows to write. */
  sealMs: number;
  /**
   * Waiting, once sealed, for the previous momentum's commit to end (after a full batch the next
   * momentum is loaded, applied and sealed while the previous one commits).
   */
  waitMs: number;
  /** The momentum's one transaction. */
  commitMs: number;
}

export interface SequencerOptions {
  db: Db;
  genesis: Genesis;
  domain: Domain;
  reexecutor?: Reexecutor;
  clock: Clock;
  intervalMs: number;
  publish?: (events: HostEvent[]) => void | Promise<void>;
  log: Logger;
  heights: Heights;
  waker: Waker;
  /** Whether the host was asked to stop. */
  stopped: () => boolean;
  /** Told where each committed momentum's time went. */
  onRound?: (timings: RoundTimings) => void;
}

/**
 * The shortest time between the starts of two rounds that were not full: inputs committed one by
 * one still share momentums (at most 50 a second), whose fixed cost would otherwise grow with
 * every verification job and call.
 */
export const MIN_MOMENTUM_SPACING_MS = 20;

/** What a round leaves for the next: the head, whether the batch was full, the next batch when it is loading already, and the commit still running. */
interface RoundOutcome {
  head: Momentum;
  full: boolean;
  next: Promise<Batch> | null;
  /** The momentum's commit (then its events), still running after a full batch. */
  committing: Promise<void> | null;
}

/**
 * The leader's loop (docs/protocol.md §The settlement pipeline): from the committed state, round
 * after round — load a batch, prepare it, apply it, seal and commit the momentum, publish its
 * events. After a batch that was not full it waits for inputs to be committed (the store's notice):
 * at least MIN_MOMENTUM_SPACING_MS and at most the interval from the round's start. Returns when
 * the host stops or the lead is lost (`signal`), once the last commit has ended; a failed commit
 * throws, and the next leader (maybe this instance) reloads the state.
 */
export async function runSequencer(opts: SequencerOptions, signal: AbortSignal): Promise<void> {
  const { state, head: start } = await loadOrCommitGenesis(opts.db, opts.genesis, opts.log);
  let head = start;
  opts.heights.observe(head.height);
  opts.log.info({ height: head.height.toString() }, 'leading the sequencer');
  let preloaded: Promise<Batch> | null = null;
  let committing: Promise<void> | null = null;
  try {
    while (!opts.stopped() && !signal.aborted) {
      const started = performance.now();
      opts.waker.clearInputs();
      const outcome = await round(opts, state, head, preloaded, committing);
      head = outcome.head;
      preloaded = outcome.next;
      committing = outcome.committing;
      if (outcome.full) continue;
      // Both waits run from the round's start: a slow commit does not add to the next batch's wait.
      // Inputs committed meanwhile start the next round once MIN_MOMENTUM_SPACING_MS has passed;
      // without a notice (none came, or the store cannot send them) it starts after the interval.
      const since = (): number => performance.now() - started;
      await opts.waker.sleep(Math.max(0, Math.min(MIN_MOMENTUM_SPACING_MS, opts.intervalMs) - since()), signal);
      if (opts.stopped() || signal.aborted) break;
      await opts.waker.sleep(Math.max(0, opts.intervalMs - since()), signal, { untilInputs: true });
    }
  } finally {
    if (committing !== null) await committing;
  }
}

/**
 * One round. `state` is updated in place by apply: if a commit fails, the caller drops it and the
 * next leader reloads. After a full batch the next one loads on another connection while this
 * momentum commits, and is applied and sealed meanwhile: a momentum's rows are taken from the
 * state when it is sealed, and its commit starts once the previous one has ended (heights stay
 * ordered: one leader, one commit at a time). Until a commit ends, its batch's rows still look
 * pending/verified, so the batch loaded meanwhile leaves them out by key.
 */
async function round(opts: SequencerOptions, state: State, head: Momentum, preloaded: Promise<Batch> | null, committing: Promise<void> | null): Promise<RoundOutcome> {
  const idle = async (): Promise<RoundOutcome> => {
    if (committing !== null) await committing;
    return { head, full: false, next: null, committing: null };
  };
  const t0 = performance.now();
  const batch = await (preloaded ?? loadBatch(opts.db, state));
  if (batch.calls.length === 0 && batch.stored.length === 0) return idle();
  const t1 = performance.now();
  const prepared = prepareBatch(opts.domain, batch);
  if (prepared.inputs.length === 0) {
    const outcome = await idle();
    await commitRefusals(opts.db, prepared);
    return outcome;
  }

  const context = await momentumContext(opts, state, head, prepared.inputs);
  const t2 = performance.now();
  const applied = applyAll(state, prepared.inputs, context);
  const t3 = performance.now();
  const sealed = sealMomentum(head, context.timestamp, prepared, state, applied);
  const t4 = performance.now();
  if (committing !== null) await committing;
  const t5 = performance.now();

  let next: Promise<Batch> | null = null;
  if (prepared.full) {
    next = loadBatch(opts.db, state, batchKeys(batch, prepared));
    next.catch(() => undefined); // awaited by the next round; a failure surfaces there
  }
  const commit = (async () => {
    await commitMomentum(opts.db, sealed, prepared);
    opts.onRound?.({
      height: sealed.momentum.height, inputs: prepared.inputs.length, receipts: prepared.receiptCopies.length,
      loadMs: t1 - t0, prepareMs: t2 - t1, applyMs: t3 - t2, sealMs: t4 - t3, waitMs: t5 - t4, commitMs: performance.now() - t5,
    });
    opts.heights.observe(sealed.momentum.height);
    await publish(opts, sealed.momentum, prepared.wires, sealed.results, sealed.stops);
  })();
  if (!prepared.full) {
    await commit;
    return { head: sealed.momentum, full: false, next: null, committing: null };
  }
  commit.catch(() => undefined); // awaited by the next round (or the loop's end); a failure surfaces there
  return { head: sealed.momentum, full: true, next, committing: commit };
}

/** The next momentum's height and timestamp (never before the head's), with the modules its challenges re-execute. */
async function momentumContext(opts: SequencerOptions, state: State, head: Momentum, inputs: Parameters<typeof modulesNeeded>[1]): Promise<Context> {
  const modules = new Map<Hash, Uint8Array>();
  for (const hash of modulesNeeded(state, inputs)) {
    const bytes = await getModule(opts.db, hash);
    if (bytes !== null) modules.set(hash, bytes);
  }
  const now = opts.clock();
  const context: Context = { height: head.height + 1n, timestamp: now > head.timestamp ? now : head.timestamp, loadModule: (h) => modules.get(h.toLowerCase() as Hash) };
  if (opts.reexecutor !== undefined) context.reexecutor = opts.reexecutor;
  return context;
}

/** Hands the momentum's events to the publisher after the commit; a failure is logged, never retried. */
async function publish(opts: SequencerOptions, m: Momentum, wires: MomentumInput[], results: MomentumResult[], stops: SessionStopEvent[]): Promise<void> {
  if (opts.publish === undefined) return;
  const events: HostEvent[] = [{ type: 'momentum', height: m.height.toString(), hash: m.hash, timestamp: m.timestamp.toString(), inputs: wires, results }, ...stops];
  try {
    await opts.publish(events);
  } catch (error) {
    opts.log.warn({ err: error, height: m.height.toString() }, 'publishing momentum events failed');
  }
}
