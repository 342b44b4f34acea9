/**
 * The contract host (docs/protocol.md §The settlement pipeline): one sequencer at a time applies
 * signed inputs to the gas contract and commits momentums.
 *
 * - Leadership (this file): a session-level advisory lock (LEADER_LOCK_KEY, scoped to the store's
 *   schema) held on a dedicated connection for as long as the instance leads. Followers try every
 *   250 ms; when the leader stops or its lock connection dies, one of them loads the state and
 *   continues.
 * - Momentum 0 is the genesis (head.ts): the first leader of an empty store commits it; a store
 *   made from another genesis refuses to start (GenesisMismatch).
 * - The leader's loop (sequencer.ts): load a batch and prepare it (batch.ts), apply it, seal and
 *   commit the momentum (commit.ts). While it leads it listens for the store's notices of committed
 *   inputs (verified receipts, calls), which start the next round before the interval is out.
 *   Each later momentum records its inputs in their signed wire form, one result per input, and as
 *   its stateDigest the digest of the entities it changed, chained to the previous hash
 *   (momentum.ts: O(changes), not O(state)).
 * - Exactly once: a receipt row moves verified → applied/rejected only in its momentum's
 *   transaction, a call row pending → applied/failed likewise, and the contract's per-session
 *   high-water marks make a receipt applied twice a Duplicate.
 */
import { makeDomain } from '../../contracts/eip712/index.ts';
import { isZgasError, ZgasError } from '../../contracts/errors.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Reexecutor } from '../../contracts/gas/reexecutor.ts';
import type { Hash } from '../../contracts/types.ts';
import { systemClock } from '../../unikernel-runner/clock.ts';
import type { Clock } from '../../unikernel-runner/clock.ts';
import { INPUTS_CHANNEL } from '../db/db.ts';
import type { Db } from '../db/db.ts';
import { silentLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import { loadLatestMomentum } from '../store/momentums.ts';
import { checkGenesis } from './head.ts';
import { Heights } from './heights.ts';
import { runSequencer } from './sequencer.ts';
import type { HostEvent, RoundTimings } from './sequencer.ts';
import { Waker } from './waker.ts';

export { checkGenesis, GENESIS_META_KEY } from './head.ts';
export { MAX_CALLS_PER_MOMENTUM, MAX_RECEIPTS_PER_MOMENTUM, MAX_REEXECUTION_GAS_PER_MOMENTUM } from './batch.ts';
export type { HostEvent, RoundTimings } from './sequencer.ts';

/** Advisory-lock key of the sequencer: whoever holds it is the one leader. */
export const LEADER_LOCK_KEY = 0x7a676173_6c656164n; // "zgaslead"
/** How often a follower tries to take the lead. */
export const FOLLOWER_RETRY_MS = 250;

export interface HostOptions {
  db: Db;
  genesis: Genesis;
  /** The runner's metered runtime, for challenges. Without it a Challenge fails with ModuleUnavailable. */
  reexecutor?: Reexecutor;
  /** Unix seconds; default the system clock. Momentum timestamps never go backwards whatever it says. */
  clock?: Clock;
  /**
   * The longest an input waits for a momentum to start: inputs committed sooner (the store's
   * notice) start one after MIN_MOMENTUM_SPACING_MS; a full batch does not wait.
   */
  intervalMs: number;
  /** Receives momentum and session stop events after each commit; failures are logged, never retried. */
  publish?: (events: HostEvent[]) => void | Promise<void>;
  /** The process logger (pino); default silent. */
  logger?: Logger;
  /** How often a follower tries to take the lead (default 250 ms). */
  followerRetryMs?: number;
  /** Told, after each commit, where the momentum's time went (load, prepare, apply, seal, commit). */
  onRound?: (timings: RoundTimings) => void;
}

export interface Host {
  readonly genesisHash: Hash;
  /** Whether this instance is the sequencer now. */
  isLeader(): boolean;
  /** The newest momentum height this instance has committed or seen in the store (null before genesis). */
  height(): bigint | null;
  /** Resolves once a momentum at `height` or above is committed (by any instance). */
  waitForHeight(height: bigint, opts?: { timeoutMs?: number }): Promise<void>;
  /** Stops sequencing, releases the lead and waits for the loop to end. */
  stop(): Promise<void>;
}

/**
 * Starts the contract host: one sequencer at a time across every instance on the store (a
 * session-level advisory lock held on a dedicated connection); the others follow, watch the
 * newest height, retry every `followerRetryMs` and take over when the leader's connection dies.
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const { db, genesis } = opts;
  const log = opts.logger ?? silentLogger;
  const retryMs = opts.followerRetryMs ?? FOLLOWER_RETRY_MS;
  const hashOfGenesis = await checkGenesis(db, genesis);
  const heights = new Heights();
  const waker = new Waker();
  let stopped = false;
  let leader = false;

  const sequencer = {
    db, genesis, log, heights, waker,
    domain: makeDomain(genesis.chainId, genesis.contract),
    clock: opts.clock ?? systemClock,
    intervalMs: Math.max(1, Math.trunc(opts.intervalMs)),
    stopped: () => stopped,
    ...(opts.reexecutor === undefined ? {} : { reexecutor: opts.reexecutor }),
    ...(opts.publish === undefined ? {} : { publish: opts.publish }),
    ...(opts.onRound === undefined ? {} : { onRound: opts.onRound }),
  };

  /** Notices of committed inputs wake the leader's sleeps; without them it keeps to the interval. */
  const listenForInputs = async (): Promise<() => Promise<void>> => {
    try {
      return await db.listen(INPUTS_CHANNEL, () => waker.inputsArrived(), (error) => {
        log.warn({ err: error }, 'notices of new inputs lost: momentums follow the interval until the lead is taken again');
      });
    } catch (error) {
      log.warn({ err: error }, 'cannot listen for new inputs: momentums follow the interval');
      return async () => undefined;
    }
  };

  const lead = async (signal: AbortSignal): Promise<void> => {
    leader = true;
    const unlisten = await listenForInputs();
    try {
      await runSequencer(sequencer, signal);
    } finally {
      leader = false;
      await unlisten();
    }
  };

  const follow = async (): Promise<void> => {
    const latest = await loadLatestMomentum(db);
    if (latest !== null) heights.observe(latest.height);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const outcome = await db.withAdvisoryLock(LEADER_LOCK_KEY, lead, { wait: false });
        if (!outcome.acquired) {
          await follow();
          await waker.sleep(retryMs);
        }
      } catch (error) {
        if (stopped) break;
        if (isZgasError(error, 'GenesisMismatch') || isZgasError(error, 'StoreCorrupt')) log.error({ err: error }, 'the store cannot be sequenced');
        else log.warn({ err: error }, 'sequencer round failed; reloading');
        await waker.sleep(retryMs);
      }
    }
  };

  await follow();
  const running = loop();

  return {
    genesisHash: hashOfGenesis,
    isLeader: () => leader,
    height: () => heights.current(),
    waitForHeight(height, o = {}) {
      if (stopped && !((heights.current() ?? -1n) >= height)) return Promise.reject(new ZgasError('NotReady', { reason: 'the host is stopped' }));
      return heights.wait(height, o.timeoutMs);
    },
    async stop() {
      stopped = true;
      waker.wake();
      await running;
      heights.close();
    },
  };
}
