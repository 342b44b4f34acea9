/**
 * The contract host (DESIGN §8): one sequencer at a time applies signed inputs to the gas contract
 * and commits momentums.
 *
 * - Leadership: a session-level advisory lock (LEADER_LOCK_KEY, scoped to the store's schema) held
 *   on a dedicated connection for as long as the instance leads. Followers try every 250 ms; when
 *   the leader stops or its lock connection dies, one of them loads the state and continues.
 * - Momentum 0 is the genesis: the first leader of an empty store writes the genesis state rows,
 *   the genesis hash (meta) and momentum 0 { prevHash 0x00…00, timestamp genesis.timestamp, no
 *   inputs, stateDigest of the genesis state } in one transaction. A store made from another genesis
 *   refuses to start (GenesisMismatch).
 * - Each later momentum records its inputs in their signed wire form (`{ type: 'call', call }` or
 *   `{ type: 'receipts', receipts }`), one result per input, and as its stateDigest the digest of
 *   the entities it changed, as they are after it, chained to the previous hash (`changesDigest`:
 *   O(changes), not O(state)); its
 *   hash is SHA3-256 of the canonical JSON of (height, prevHash, timestamp, inputs, results,
 *   stateDigest). The momentum row, the changed state rows and the calls' and receipts' new status
 *   commit in one transaction; the height's primary key fences out a deposed leader.
 * - Exactly once: a receipt row moves verified → applied/rejected only in its momentum's
 *   transaction, a call row pending → applied/failed likewise, and the contract's per-session
 *   high-water marks make a receipt applied twice a Duplicate.
 */
import { makeDomain, receiptDigest } from '../../contracts/eip712/index.ts';
import { isZgasError, ZgasError } from '../../contracts/errors.ts';
import type { Context, Input, InputResult } from '../../contracts/gas/apply.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Reexecutor } from '../../contracts/gas/reexecutor.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import type { State } from '../../contracts/gas/state.ts';
import { prepareCall } from '../../contracts/gas/apply.ts';
import { callToJson, receiptToJson } from '../../contracts/json.ts';
import { sessionStopEvent } from '../../contracts/events.ts';
import type { SessionStopEvent } from '../../contracts/events.ts';
import { MAX_CALL_GAS_LIMIT } from '../../contracts/gas/limits.ts';
import type { Address, Hash, VerifiedReceipt } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { markCalls, markRefused, pendingCalls } from '../store/calls.ts';
import type { PendingCall } from '../store/calls.ts';
import { getMeta, initMeta } from '../store/meta.ts';
import { getModule } from '../store/modules.ts';
import { insertMomentum, loadLatestMomentum } from '../store/momentums.ts';
import type { Momentum } from '../store/momentums.ts';
import { markRejected, markSettled, verifiedReceipts } from '../store/receipts.ts';
import type { StoredReceipt } from '../store/receipts.ts';
import { loadState, saveAll, saveChanged } from '../store/state.ts';
import { changesDigest, genesisHash, momentumHash, ZERO_HASH } from './momentum.ts';
import type { MomentumInput, MomentumResult } from './momentum.ts';
import { applyAll, modulesNeeded, resultJson } from './sequence.ts';

/** Advisory-lock key of the sequencer: whoever holds it is the one leader. */
export const LEADER_LOCK_KEY = 0x7a676173_6c656164n; // "zgaslead"
/** How often a follower tries to take the lead. */
export const FOLLOWER_RETRY_MS = 250;
/** Pending calls one momentum takes at most. */
export const MAX_CALLS_PER_MOMENTUM = 1_000;
/** Verified receipts one momentum takes at most (one Settle batch). */
export const MAX_RECEIPTS_PER_MOMENTUM = 1_000;
/** The meta key of the genesis hash the store was created from. */
export const GENESIS_META_KEY = 'genesis_hash';

/**
 * The most gas the re-executions of one momentum's challenges may take together (one challenge at
 * the chain's largest callGasLimit: a few seconds of metered WebAssembly). Challenges past it wait
 * for the next momentum, with the later calls of their senders; the first challenge of a momentum
 * always goes, so every challenge is judged in time.
 */
export const MAX_REEXECUTION_GAS_PER_MOMENTUM: bigint = MAX_CALL_GAS_LIMIT;

export type HostEvent =
  | { type: 'momentum'; height: string; hash: Hash; timestamp: string; inputs: MomentumInput[]; results: MomentumResult[] }
  | SessionStopEvent;

export interface HostLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface HostOptions {
  db: Db;
  genesis: Genesis;
  /** The runner's metered runtime, for challenges. Without it a Challenge fails with ModuleUnavailable. */
  reexecutor?: Reexecutor;
  /** Unix seconds; default the system clock. Momentum timestamps never go backwards whatever it says. */
  clock?: () => bigint;
  /** The shortest time between two momentums (a full batch does not wait). */
  intervalMs: number;
  /** Receives momentum and session stop events after each commit; failures are logged, never retried. */
  publish?: (events: HostEvent[]) => void | Promise<void>;
  logger?: HostLogger;
  /** How often a follower tries to take the lead (default 250 ms). */
  followerRetryMs?: number;
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

/** What one round takes in: pending calls and verified receipts. */
interface Batch {
  calls: PendingCall[];
  stored: StoredReceipt[];
}

const systemClock = (): bigint => BigInt(Math.floor(Date.now() / 1000));

const silent: HostLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Sleeps that end early on wake() (stop) or when a signal aborts (lost lead). */
class Waker {
  private wakers = new Set<() => void>();
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done);
    });
  }
  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}

/**
 * Checks the store belongs to this genesis (or is empty): a store created from another genesis
 * refuses to start with GenesisMismatch.
 */
export async function checkGenesis(db: Db, genesis: Genesis): Promise<Hash> {
  const expected = genesisHash(genesis);
  const stored = await getMeta(db, GENESIS_META_KEY);
  if (stored !== null && stored !== expected) throw new ZgasError('GenesisMismatch', { stored, expected });
  return expected;
}

/**
 * Starts the contract host: one sequencer at a time across every instance on the store (a
 * session-level advisory lock held on a dedicated connection); the others follow, retry every
 * `followerRetryMs` and take over when the leader's connection dies. The leader loads the state
 * (momentum 0 is the genesis, committed by the first leader of an empty store), then per round
 * applies pending calls (per sender, consecutive nonces) and verified receipts, and commits the
 * momentum, the changed state rows and the calls' and receipts' outcomes in one transaction. After
 * a full batch the next one loads on another connection while that transaction commits (heights
 * stay ordered: one leader, one commit at a time).
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const { db, genesis } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silent;
  const retryMs = opts.followerRetryMs ?? FOLLOWER_RETRY_MS;
  const intervalMs = Math.max(1, Math.trunc(opts.intervalMs));
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const hashOfGenesis = await checkGenesis(db, genesis);

  const waker = new Waker();
  let stopped = false;
  let leader = false;
  let known: bigint | null = null;
  const waiters = new Set<{ height: bigint; resolve: () => void; reject: (e: Error) => void }>();

  const observe = (height: bigint): void => {
    if (known === null || height > known) known = height;
    for (const w of [...waiters]) {
      if (height >= w.height) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };

  const refresh = async (): Promise<void> => {
    const latest = await loadLatestMomentum(db);
    if (latest !== null) observe(latest.height);
  };

  /** The first leader of an empty store commits the genesis as momentum 0. */
  const initOrLoad = async (): Promise<{ state: State; head: Momentum }> => {
    const base = genesisState(genesis);
    const loaded = await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const head = await loadLatestMomentum(tx);
      if (head === null) return null;
      return { head, state: await loadState(tx, genesisState(genesis)) };
    });
    if (loaded !== null) {
      // Momentum 0 records the whole genesis state's digest; later ones only their changes (replay checks those).
      const digest = loaded.head.height === 0n ? stateDigest(loaded.state) : loaded.head.stateDigest;
      if (digest !== loaded.head.stateDigest) throw new ZgasError('StoreCorrupt', { height: loaded.head.height.toString(), stored: loaded.head.stateDigest, loaded: digest });
      return loaded;
    }
    const fields = { height: 0n, prevHash: ZERO_HASH, timestamp: genesis.timestamp, inputs: [], results: [], stateDigest: stateDigest(base) };
    const head: Momentum = { ...fields, hash: momentumHash(fields) };
    await db.transaction(async (tx) => {
      const stored = await initMeta(tx, GENESIS_META_KEY, hashOfGenesis);
      if (stored !== hashOfGenesis) throw new ZgasError('GenesisMismatch', { stored, expected: hashOfGenesis });
      await saveAll(tx, base);
      await insertMomentum(tx, head);
    });
    log.info({ height: '0', hash: head.hash }, 'genesis committed');
    return { state: base, head };
  };

  /**
   * The next batch: pending calls and verified receipts, leaving out those of a momentum still being
   * committed (`exclude`), with nonces from `state` (which already holds that momentum's effects).
   */
  const loadBatch = async (state: State, exclude?: { calls: Hash[]; receipts: Hash[] }): Promise<Batch> => ({
    calls: await pendingCalls(db, MAX_CALLS_PER_MOMENTUM, (from) => state.accounts.get(from)?.nonce ?? 0n, exclude?.calls ?? []),
    stored: await verifiedReceipts(db, MAX_RECEIPTS_PER_MOMENTUM, exclude?.receipts ?? []),
  });

  /**
   * One round: returns the new head (or the old one when there was nothing to do), whether a batch
   * was full and, after a full batch, the next batch loading while this momentum committed.
   */
  const round = async (state: State, head: Momentum, preloaded: Promise<Batch> | null): Promise<{ head: Momentum; full: boolean; next: Promise<Batch> | null }> => {
    const { calls, stored } = await (preloaded ?? loadBatch(state));
    if (calls.length === 0 && stored.length === 0) return { head, full: false, next: null };

    const inputs: Input[] = [];
    const wires: MomentumInput[] = [];
    const callOf: (Hash | null)[] = [];
    const refused: { hash: Hash; code: string }[] = [];
    const stalled = new Set<Address>();
    let reexecutionGas = 0n;
    for (const { hash, call } of calls) {
      if (stalled.has(call.from)) continue;
      try {
        const input = prepareCall(domain, call);
        if (input.method.name === 'Challenge') {
          // Re-execution runs under the receipt's callGasLimit (the user's signed limit, DESIGN §5.2).
          const gas = input.method.receipt.receipt.callGasLimit;
          if (reexecutionGas > 0n && reexecutionGas + gas > MAX_REEXECUTION_GAS_PER_MOMENTUM) {
            stalled.add(call.from); // the next momentum takes it, and the sender's later calls after it
            continue;
          }
          reexecutionGas += gas;
        }
        inputs.push(input);
        wires.push({ type: 'call', call: callToJson(call) });
        callOf.push(hash);
      } catch (error) {
        if (!isZgasError(error)) throw error;
        // Not a valid call (the API should have refused it): it takes no nonce; the sender's later calls wait.
        refused.push({ hash, code: error.code });
        stalled.add(call.from);
      }
    }
    // Signatures were recovered by the verification workers (in parallel, off the sequencer); the
    // host takes their signer and only re-derives the digest, which is cheap. Replay recovers every
    // signature again from the recorded wire form, so a wrong signer cannot pass unnoticed.
    const verified: VerifiedReceipt[] = [];
    const verifiedCopies: Hash[] = [];
    const unverifiable: { copyKey: Hash; code: 'InvalidSignature' }[] = [];
    for (const row of stored) {
      if (row.signer !== null && row.invocationSigner !== null && receiptDigest(domain, row.receipt) === row.digest) {
        verified.push({ receipt: row.receipt, signer: row.signer, invocationSigner: row.invocationSigner, digest: row.digest });
        verifiedCopies.push(row.copyKey);
      } else unverifiable.push({ copyKey: row.copyKey, code: 'InvalidSignature' });
    }
    if (verified.length > 0) {
      inputs.push({ kind: 'receipts', receipts: verified });
      wires.push({ type: 'receipts', receipts: verified.map((v) => receiptToJson(v.receipt)) });
      callOf.push(null);
    }
    const height = head.height + 1n;

    if (inputs.length === 0) {
      // Only refusals: record them, no momentum.
      await db.transaction(async (tx) => {
        await markRefused(tx, refused);
        await markRejected(tx, unverifiable);
      });
      return { head, full: false, next: null };
    }

    const modules = new Map<Hash, Uint8Array>();
    for (const hash of modulesNeeded(state, inputs)) {
      const bytes = await getModule(db, hash);
      if (bytes !== null) modules.set(hash, bytes);
    }
    const now = clock();
    const timestamp = now > head.timestamp ? now : head.timestamp;
    const context: Context = { height, timestamp, loadModule: (h) => modules.get(h.toLowerCase() as Hash) };
    if (opts.reexecutor !== undefined) context.reexecutor = opts.reexecutor;

    // apply() updates `state` in place: if the commit below fails, the caller drops this state and reloads.
    const { results, changed } = applyAll(state, inputs, context);
    const resultsJson = results.map(resultJson);
    const fields = { height, prevHash: head.hash, timestamp, inputs: wires as unknown[], results: resultsJson as unknown[], stateDigest: changesDigest(head.hash, state, changed) };
    const momentum: Momentum = { ...fields, hash: momentumHash(fields) };

    const callOutcomes: { hash: Hash; ok: boolean; code: string | null; result: unknown }[] = [];
    let receiptOutcomes: { copyKey: Hash; applied: boolean; outcome: string; code: string | null }[] = [];
    results.forEach((result, i) => {
      const callHash = callOf[i];
      if (callHash !== null && callHash !== undefined) {
        callOutcomes.push({ hash: callHash, ok: result.ok, code: result.ok ? null : result.code, result: resultsJson[i] });
      } else {
        receiptOutcomes = receiptResults(result, verifiedCopies);
      }
    });

    const full = calls.length >= MAX_CALLS_PER_MOMENTUM || stored.length >= MAX_RECEIPTS_PER_MOMENTUM;
    // A full batch means more is waiting: load it on another connection while this one commits.
    // Until the commit, this batch's rows still look pending/verified, so they are left out by
    // key; `state` already holds this momentum's effects (nonces). If the commit fails, the lead
    // ends and everything, the preloaded batch included, is loaded again.
    let next: Promise<Batch> | null = null;
    if (full) {
      const taken = [...callOf.filter((h): h is Hash => h !== null), ...refused.map((r) => r.hash)];
      next = loadBatch(state, { calls: taken, receipts: stored.map((r) => r.copyKey) });
      next.catch(() => undefined); // awaited by the next round; a failure surfaces there
    }
    await db.transaction(async (tx) => {
      await insertMomentum(tx, momentum); // the fence: fails if another sequencer took this height
      await saveChanged(tx, state, changed);
      await markCalls(tx, height, callOutcomes);
      await markSettled(tx, height, receiptOutcomes);
      await markRefused(tx, refused);
      await markRejected(tx, unverifiable);
    });
    observe(height);
    await publishAfter(momentum, wires, resultsJson, stopEvents(state, inputs, results, height));
    return { head: momentum, full, next };
  };

  const publishAfter = async (m: Momentum, wires: MomentumInput[], resultsJson: MomentumResult[], stops: SessionStopEvent[]): Promise<void> => {
    if (opts.publish === undefined) return;
    const events: HostEvent[] = [{ type: 'momentum', height: m.height.toString(), hash: m.hash, timestamp: m.timestamp.toString(), inputs: wires, results: resultsJson }, ...stops];
    try {
      await opts.publish(events);
    } catch (error) {
      log.warn({ err: error, height: m.height.toString() }, 'publishing momentum events failed');
    }
  };

  const lead = async (signal: AbortSignal): Promise<void> => {
    leader = true;
    try {
      const loaded = await initOrLoad();
      const state = loaded.state;
      let head = loaded.head;
      observe(head.height);
      log.info({ height: head.height.toString() }, 'leading the sequencer');
      let preloaded: Promise<Batch> | null = null;
      while (!stopped && !signal.aborted) {
        const started = performance.now();
        const next = await round(state, head, preloaded);
        head = next.head;
        preloaded = next.next;
        // The interval runs from the round's start: a slow commit does not add a whole interval to the next batch's wait.
        if (!next.full) await waker.sleep(Math.max(0, intervalMs - (performance.now() - started)), signal);
      }
    } finally {
      leader = false;
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const outcome = await db.withAdvisoryLock(LEADER_LOCK_KEY, lead, { wait: false });
        if (!outcome.acquired) {
          await refresh();
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

  await refresh();
  const running = loop();

  return {
    genesisHash: hashOfGenesis,
    isLeader: () => leader,
    height: () => known,
    waitForHeight(height, o = {}) {
      if (known !== null && known >= height) return Promise.resolve();
      if (stopped) return Promise.reject(new ZgasError('NotReady', { reason: 'the host is stopped' }));
      return new Promise<void>((resolve, reject) => {
        const waiter = { height, resolve, reject };
        waiters.add(waiter);
        if (o.timeoutMs !== undefined) {
          const timer = setTimeout(() => {
            if (waiters.delete(waiter)) reject(new ZgasError('NotReady', { reason: 'no momentum at this height yet', height: height.toString() }));
          }, o.timeoutMs);
          const done = waiter.resolve;
          waiter.resolve = () => {
            clearTimeout(timer);
            done();
          };
        }
      });
    },
    async stop() {
      stopped = true;
      waker.wake();
      await running;
      for (const w of [...waiters]) w.reject(new ZgasError('NotReady', { reason: 'the host stopped' }));
      waiters.clear();
    },
  };
}

/** How each copy of the batch ended, for its intake row (the contract reports outcomes in input order). */
function receiptResults(result: InputResult, copyKeys: readonly Hash[]): { copyKey: Hash; applied: boolean; outcome: string; code: string | null }[] {
  if (!result.ok) return copyKeys.map((copyKey) => ({ copyKey, applied: false, outcome: result.code, code: result.code }));
  return (result.outcomes ?? []).map((o, i) => {
    const copyKey = copyKeys[i]!;
    if (o.outcome === 'Rejected') return { copyKey, applied: false, outcome: o.code, code: o.code };
    return { copyKey, applied: true, outcome: o.outcome, code: null };
  });
}

/**
 * The sessions a momentum stopped (DESIGN §8 *Abort*): for each Abort and CloseSession it applied,
 * the session as the momentum left it, so runners learn of `stopCall` and `closesAt`.
 */
function stopEvents(state: State, inputs: readonly Input[], results: readonly InputResult[], height: bigint): SessionStopEvent[] {
  const out: SessionStopEvent[] = [];
  inputs.forEach((input, i) => {
    if (input.kind !== 'call' || results[i]?.ok !== true) return;
    const { method } = input;
    if (method.name !== 'Abort' && method.name !== 'CloseSession') return;
    const sessionId = method.sessionId.toLowerCase() as Hash;
    const session = state.sessions.get(sessionId);
    if (session === undefined) return;
    out.push(sessionStopEvent({
      kind: method.name === 'Abort' ? 'abort' : 'close', sessionId, provider: session.provider,
      stopCall: session.stopCall, closesAt: session.closesAt ?? 0n, height,
    }));
  });
  return out;
}
