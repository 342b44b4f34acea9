/**
 * The runner's call service (docs/protocol.md §Calls on a runner, §Runner rules). For each signed
 * invocation, under the session's lock: checks the signer, the seq, the acknowledged receipt and
 * the session on the ledger, runs the call metered under the user's callGasLimit, signs the
 * receipt, writes the call to the session log, then answers and pushes the settlement receipt. A
 * retry of a logged invocation gets the logged answer. Aborts — signed by the user or the zApp
 * owner and sent here, or announced by the ledger — stop the session's running call at its next
 * checkpoint.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { recoverCallSigner, recoverInvocationRequestSigner } from '../../contracts/eip712/index.ts';
import type { Domain, SignatureBackend } from '../../contracts/eip712/index.ts';
import { decodeMethod } from '../../contracts/abi/methods.ts';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { hexToBytes, sameAddress } from '../../contracts/hex.ts';
import { invocationOfRequest } from '../../contracts/invocation.ts';
import { receiptToJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash, Hex, SettlementReceipt, SignedCall, SignedInvocation, StateWrite } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import type { GasTable } from '../metering/table.ts';
import type { HostPrices } from '../runtime/host.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { hostPrices, prepareModule } from '../runtime/prepare.ts';
import { MemorySessionLog } from '../runtime/session-log.ts';
import type { LoggedCall, SessionLog } from '../runtime/session-log.ts';
import { advance, cumulativeGasOf, lastSeqOf, loggedCallOf, restoreSession, SessionBook, stateHashOf } from '../runtime/sessions.ts';
import type { RunnerSession } from '../runtime/sessions.ts';
import type { Ledger, LedgerSession } from './ledger.ts';
import { ReceiptPusher } from './receipt-pusher.ts';
import type { ReceiptPushMode } from './receipt-pusher.ts';

/** Module bytes kept per runner (by hash) so a session's calls fetch them once. */
export const MAX_CACHED_MODULE_BYTES = 64;
/** Log bytes a call takes besides its input, output and writes (JSON of the invocation and receipt). */
export const LOGGED_CALL_OVERHEAD_BYTES = 2_048;

export interface CallServiceDeps {
  ledger: Ledger;
  pool: WorkerPool;
  table: GasTable;
  domain: Domain;
  /** The receipt signer's private key. */
  receiptKey: Uint8Array;
  /** The receipt signer's address (checked against each session's receiptSigner). */
  receiptSigner: Address;
  provider: Address;
  backend: SignatureBackend;
  /** The largest callGasLimit accepted (call-gas-limit.ts). */
  maxCallGasLimit: Gas;
  /** Genesis maxInputBytes. */
  maxInputBytes: number;
  /** Genesis maxStateBytes: the state a call may leave (the re-executor holds calls to the same). */
  maxStateBytes: number;
  /** Default: in memory. */
  log?: SessionLog;
  /** Default: every receipt at once. */
  push?: { mode: ReceiptPushMode; flushIntervalMs: number };
  /** Receipts that could not be delivered after all retries (logged by the caller). */
  onPushError?: (error: unknown, receipts: SettlementReceipt[]) => void;
  /** Unix seconds, compared with a session's expiresAt; default the system clock. */
  clock?: Clock;
}

export interface CallResult {
  output: Hex;
  receipt: SettlementReceipt;
  writes: StateWrite[];
}

const answer = (call: LoggedCall): CallResult => ({ output: call.output, receipt: call.receipt, writes: call.writes });

/** Whether two invocations ask for the same call (signatures aside: anyone can re-sign). */
function sameInvocation(a: SignedInvocation, b: SignedInvocation): boolean {
  const x = invocationOfRequest(a);
  const y = invocationOfRequest(b);
  return x.seq === y.seq && x.callGasLimit === y.callGasLimit && x.inputHash === y.inputHash && x.preStateHash === y.preStateHash && x.ackedGas === y.ackedGas;
}

export class CallService {
  readonly sessions = new SessionBook();
  readonly log: SessionLog;
  readonly pusher: ReceiptPusher;
  private readonly prices: HostPrices;
  private readonly modules = new Map<Hash, Uint8Array>();
  private readonly locks = new Map<Hash, Promise<unknown>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: CallServiceDeps) {
    this.prices = hostPrices(deps.table);
    this.log = deps.log ?? new MemorySessionLog();
    this.pusher = new ReceiptPusher({
      ledger: deps.ledger,
      mode: deps.push?.mode ?? 'every',
      flushIntervalMs: deps.push?.flushIntervalMs ?? 1_000,
      ...(deps.onPushError === undefined ? {} : { onError: deps.onPushError }),
    });
    this.unsubscribe = deps.ledger.onSessionStop(({ sessionId, stopCall }) => {
      if (stopCall) void this.abort(sessionId).catch(() => undefined);
      // A close lets the running call finish; the ledger refuses new invocations from now on.
      else this.pusher.flushSession(sessionId.toLowerCase() as Hash);
    });
  }

  /** Runs one signed invocation; refuses with a typed error and runs nothing on any check that fails. */
  async invoke(invocation: SignedInvocation): Promise<CallResult> {
    const { deps } = this;
    const sessionId = invocation.sessionId.toLowerCase() as Hash;
    const inputBytes = (invocation.input.length - 2) / 2;
    if (inputBytes > deps.maxInputBytes) throw new ZgasError('LimitExceeded', { what: 'input bytes', maxBytes: deps.maxInputBytes });
    if (invocation.callGasLimit > deps.maxCallGasLimit) {
      throw new ZgasError('CallGasLimitTooHigh', { callGasLimit: invocation.callGasLimit.toString(), maxCallGasLimit: deps.maxCallGasLimit.toString() });
    }
    const ledgerSession = await this.ledgerSession(sessionId);
    const signer = recoverInvocationRequestSigner(deps.domain, { ...invocation, sessionId }, deps.backend);
    if (!sameAddress(signer, ledgerSession.user)) throw new ZgasError('NotSessionUser', { sessionId, signer });

    return this.locked(sessionId, async () => {
      const session = await this.session(sessionId);
      if (ledgerSession.status === 'closed') {
        // Final on the ledger: nothing of it settles any more, so its log is no longer needed.
        await this.forget(sessionId);
        throw new ZgasError('SessionNotOpen', { sessionId, status: 'closed' });
      }
      if (session.lost) throw new ZgasError('SessionStateLost', { sessionId });
      const { seq } = invocation;
      const lastSeq = lastSeqOf(session);
      if (seq <= lastSeq) return this.retry(session, invocation);
      // The user or the ledger acknowledges calls this runner has no record of: its log was lost.
      if ((lastSeq === 0n && seq > 1n) || ledgerSession.lastSeq > lastSeq) {
        await this.log.markLost(sessionId);
        session.lost = true;
        throw new ZgasError('SessionStateLost', { sessionId });
      }
      if (seq !== lastSeq + 1n) throw new ZgasError('InvocationOutOfOrder', { sessionId, seq: seq.toString(), next: (lastSeq + 1n).toString() });
      if (invocation.preStateHash !== stateHashOf(session) || invocation.ackedGas !== cumulativeGasOf(session)) {
        throw new ZgasError('InvocationStale', {
          sessionId,
          expected: { preStateHash: stateHashOf(session), ackedGas: cumulativeGasOf(session).toString() },
          latest: session.last === null ? null : receiptToJson(session.last.receipt),
        });
      }
      if (session.aborted || ledgerSession.stopCall || ledgerSession.status !== 'open') {
        this.pusher.flushSession(sessionId);
        const status = session.aborted || ledgerSession.stopCall ? 'aborted' : ledgerSession.status;
        throw new ZgasError('SessionNotOpen', { sessionId, status });
      }
      const now = (deps.clock ?? systemClock)();
      if (now >= ledgerSession.expiresAt) {
        // The close grace after expiresAt is for calls already running; a call started now could
        // still be running when anyone may finalize the session, and then never be billed.
        this.pusher.flushSession(sessionId);
        throw new ZgasError('SessionExpired', { sessionId, expiresAt: ledgerSession.expiresAt.toString(), now: now.toString() });
      }
      if (cumulativeGasOf(session) + invocation.callGasLimit > ledgerSession.gasLimit) {
        throw new ZgasError('SessionOutOfGas', {
          sessionId,
          gasLimit: ledgerSession.gasLimit.toString(),
          ackedGas: cumulativeGasOf(session).toString(),
          callGasLimit: invocation.callGasLimit.toString(),
        });
      }
      const needed = 2 * inputBytes + LOGGED_CALL_OVERHEAD_BYTES;
      if (!this.log.hasRoom(sessionId, needed)) await this.pruneClosed(sessionId);
      if (!this.log.hasRoom(sessionId, needed)) throw new ZgasError('SessionLogFull', { sessionId });
      return this.run(session, ledgerSession, invocation);
    });
  }

  /** The newest settlement receipt of the session, or null before its first call. */
  async latest(sessionId: Hash): Promise<SettlementReceipt | null> {
    const session = await this.session(sessionId.toLowerCase() as Hash);
    if (session.lost) throw new ZgasError('SessionStateLost', { sessionId });
    return session.last?.receipt ?? null;
  }

  /**
   * The user's (or the zApp owner's) signed `Abort` call for this session, sent straight to the
   * runner (the fast path): checked like the API checks it, then the running call stops.
   */
  async abortSigned(sessionId: Hash, call: SignedCall): Promise<void> {
    const id = sessionId.toLowerCase() as Hash;
    const signer = recoverCallSigner(this.deps.domain, call, this.deps.backend);
    if (!sameAddress(signer, call.from)) throw new ZgasError('WrongSigner', { from: call.from, signer });
    let method;
    try {
      method = decodeMethod(call.data);
    } catch (error) {
      throw new ZgasError('NotAnAbort', { sessionId: id, reason: 'the call data does not decode' }, { cause: error });
    }
    if (method.name !== 'Abort' || method.sessionId.toLowerCase() !== id) throw new ZgasError('NotAnAbort', { sessionId: id, method: method.name });
    const ledgerSession = await this.ledgerSession(id);
    if (!sameAddress(call.from, ledgerSession.user) && !sameAddress(call.from, ledgerSession.zAppOwner)) {
      throw new ZgasError('NotSessionParty', { sessionId: id, from: call.from });
    }
    await this.abort(id);
  }

  /** An abort of the session: no call starts any more, and the running one stops at its next checkpoint. */
  async abort(sessionId: Hash): Promise<void> {
    const id = sessionId.toLowerCase() as Hash;
    const session = await this.session(id);
    const first = !session.aborted;
    session.aborted = true;
    if (session.runningCallId !== null) this.deps.pool.abort(session.runningCallId);
    if (first) await this.log.markAborted(id);
    this.pusher.flushSession(id);
  }

  /**
   * Pushes the newest receipt of every session in the log again, in one delivery: after a restart,
   * a receipt logged and answered but never delivered still settles (duplicates are harmless).
   * Returns how many were pushed.
   */
  async resumePushes(): Promise<number> {
    const receipts: SettlementReceipt[] = [];
    for (const id of this.log.sessionIds()) {
      const logged = await this.log.read(id);
      const last = logged.kind === 'calls' ? logged.calls.at(-1) : undefined;
      if (last !== undefined) receipts.push(last.receipt);
    }
    this.pusher.addAll(receipts);
    return receipts.length;
  }

  /** Removes the logs of sessions the ledger reports closed or no longer holds (but `except`, whose lock the caller holds); returns how many. */
  async pruneClosed(except?: Hash): Promise<number> {
    let pruned = 0;
    for (const id of this.log.sessionIds()) {
      if (id === except || this.sessions.get(id)?.runningCallId != null) continue;
      let ledgerSession;
      try {
        ledgerSession = await this.deps.ledger.getSession(id);
      } catch {
        continue;
      }
      // A session this runner served that the ledger no longer holds was closed and has left the state after its windows.
      if (ledgerSession !== null && ledgerSession.status !== 'closed') continue;
      await this.locked(id, () => this.forget(id));
      pruned++;
    }
    return pruned;
  }

  /** Waits for receipt deliveries in flight (coalesced: pushes what waits first). */
  async flush(): Promise<void> {
    await this.pusher.flush();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.pusher.close();
  }

  private async run(session: RunnerSession, ledgerSession: LedgerSession, invocation: SignedInvocation): Promise<CallResult> {
    const { deps } = this;
    // The bytes were checked against moduleHash when fetched: the prepared module is found by that hash, not hashed again.
    const prepared = prepareModule(await this.module(ledgerSession), deps.table, ledgerSession.moduleHash.toLowerCase() as Hash);
    const call = deps.pool.submit({
      maxStateBytes: deps.maxStateBytes, maxInputBytes: deps.maxInputBytes,
      sessionId: session.id,
      preStateHash: stateHashOf(session),
      preState: session.state,
      prepared,
      prices: this.prices,
      input: hexToBytes(invocation.input),
      gasLimit: invocation.callGasLimit,
      seed: contextSeed(session.id, invocation.seq),
    });
    session.runningCallId = call.id;
    let outcome;
    try {
      if (session.aborted) deps.pool.abort(call.id);
      outcome = await call.result;
    } finally {
      session.runningCallId = null;
    }
    // Only this session's abort stops a call; an Aborted outcome without one is a runtime fault, never signed.
    if (outcome.status === CallStatus.Aborted && !session.aborted) throw new ZgasError('Internal', { reason: 'a call stopped without an abort of its session' });
    const logged = loggedCallOf(session, { ...invocation, sessionId: session.id }, outcome, { domain: deps.domain, key: deps.receiptKey, backend: deps.backend });
    await this.log.append(session.id, logged);
    advance(session, logged);
    this.pusher.add(logged.receipt);
    return answer(logged);
  }

  /** A seq already logged: the same invocation gets the logged answer, any other is refused. */
  private async retry(session: RunnerSession, invocation: SignedInvocation): Promise<CallResult> {
    let logged: LoggedCall | undefined;
    if (session.last !== null && session.last.receipt.seq === invocation.seq) logged = session.last;
    else {
      const read = await this.log.read(session.id);
      if (read.kind === 'calls') logged = read.calls.find((c) => c.receipt.seq === invocation.seq);
    }
    if (logged === undefined || !sameInvocation(logged.invocation, { ...invocation, sessionId: session.id })) {
      throw new ZgasError('InvocationReplayed', { sessionId: session.id, seq: invocation.seq.toString() });
    }
    return answer(logged);
  }

  private async ledgerSession(sessionId: Hash): Promise<LedgerSession> {
    const { deps } = this;
    const ledgerSession = await deps.ledger.getSession(sessionId);
    if (ledgerSession === null) throw new ZgasError('SessionNotFound', { sessionId });
    if (!sameAddress(ledgerSession.provider, deps.provider)) throw new ZgasError('NotThisProvider', { sessionId, provider: ledgerSession.provider });
    if (!sameAddress(ledgerSession.receiptSigner, deps.receiptSigner)) {
      throw new ZgasError('ReceiptSignerMismatch', { sessionId, receiptSigner: ledgerSession.receiptSigner });
    }
    return ledgerSession;
  }

  private async forget(sessionId: Hash): Promise<void> {
    this.pusher.flushSession(sessionId);
    this.sessions.delete(sessionId);
    await this.log.remove(sessionId);
  }

  /** The session from the cache, else rebuilt from its log. */
  private async session(sessionId: Hash): Promise<RunnerSession> {
    const cached = this.sessions.get(sessionId);
    if (cached !== undefined) return cached;
    const restored = restoreSession(sessionId, await this.log.read(sessionId));
    // Another request may have restored it meanwhile; keep the first.
    const again = this.sessions.get(sessionId);
    if (again !== undefined) return again;
    this.sessions.put(restored);
    return restored;
  }

  /** Runs `work` after every earlier piece of work of the session: one session, one call at a time. */
  private async locked<T>(sessionId: Hash, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(sessionId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.locks.set(sessionId, tail);
    void tail.then(() => {
      if (this.locks.get(sessionId) === tail) this.locks.delete(sessionId);
    });
    return result;
  }

  private async module(session: LedgerSession): Promise<Uint8Array> {
    const hash = session.moduleHash.toLowerCase() as Hash;
    const cached = this.modules.get(hash);
    if (cached !== undefined) return cached;
    const bytes = await this.deps.ledger.getModule(hash);
    if (bytes === null) throw new ZgasError('ModuleUnavailable', { moduleHash: hash });
    const actual = sha3(bytes);
    if (actual !== hash) throw new ZgasError('ModuleHashMismatch', { moduleHash: hash, actual });
    if (this.modules.size >= MAX_CACHED_MODULE_BYTES) this.modules.delete(this.modules.keys().next().value!);
    this.modules.set(hash, bytes);
    return bytes;
  }
}
