/**
 * What a runner holds per session: the newest logged call (its receipt answers a retry and is what
 * the next invocation must acknowledge) and the session's current state. The session log is the
 * record; this book is a bounded cache over it, rebuilt from the log on first use after a restart
 * or an eviction.
 *
 * The state here is the runner's own copy, advanced in place by each call's writes (work in
 * proportion to what changed; the worker that runs the session's calls keeps and hashes its own).
 * It seeds a worker that does not hold the session, and a rebuilt session's copy is checked
 * against the newest receipt's postStateHash once.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes } from '../../contracts/hex.ts';
import { settlementReceipt, signReceipt } from '../../contracts/eip712/index.ts';
import type { Domain, SignatureBackend } from '../../contracts/eip712/index.ts';
import type { GasReceipt, Hash, Hex, SettlementReceipt, SignedInvocation, StateWrite } from '../../contracts/types.ts';
import { add, gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import type { CallOutcome } from './execute.ts';
import type { LoggedCall, LoggedSession } from './session-log.ts';
import { hashState } from './state.ts';
import type { State } from './state.ts';

/** Sessions a runner keeps in memory at once; beyond it the least recently used idle one is dropped (its log stays). */
export const MAX_RUNNER_SESSIONS = 10_000;

export interface RunnerSession {
  id: Hash;
  /** The newest logged call, or null before the first. */
  last: LoggedCall | null;
  /** The runner's copy of the state at stateHashOf(session); changed only by `advance`. */
  state: Map<Hex, Uint8Array>;
  /** Set when an abort arrived: no new call starts. */
  aborted: boolean;
  /** Set when the session's log was lost: the session is refused for good. */
  lost: boolean;
  /** The pool id of the call in flight, if any. */
  runningCallId: number | null;
}

export const lastSeqOf = (s: RunnerSession): bigint => s.last?.receipt.seq ?? 0n;
export const cumulativeGasOf = (s: RunnerSession): Gas => s.last?.receipt.cumulativeGas ?? gas(0n);
export const stateHashOf = (s: RunnerSession): Hash => s.last?.receipt.postStateHash ?? EMPTY_STATE_HASH;

/** Applies a call's writes, in order, to a state (a new map). */
export function applyWrites(state: State, writes: readonly StateWrite[]): State {
  if (writes.length === 0) return state;
  const next = new Map(state);
  applyWritesInPlace(next, writes);
  return next;
}

/** Applies a call's writes, in order, to a state the caller owns: O(writes). */
export function applyWritesInPlace(state: Map<Hex, Uint8Array>, writes: readonly StateWrite[]): void {
  for (const { key, value } of writes) {
    const k = key.toLowerCase() as Hex;
    if (value === null) state.delete(k);
    else state.set(k, hexToBytes(value));
  }
}

/** A session rebuilt from its log: the state is the empty state with every call's writes applied. */
export function restoreSession(id: Hash, logged: LoggedSession): RunnerSession {
  const session: RunnerSession = { id, last: null, state: new Map(), aborted: false, lost: logged.kind === 'lost', runningCallId: null };
  if (logged.kind !== 'calls') return session;
  const state = new Map<Hex, Uint8Array>();
  for (const call of logged.calls) applyWritesInPlace(state, call.writes);
  const last = logged.calls.at(-1) ?? null;
  // The log must rebuild exactly the state the newest receipt signed; anything else is a damaged log.
  if (last !== null && hashState(state) !== last.receipt.postStateHash) return { ...session, lost: true };
  return { ...session, last, state, aborted: logged.aborted };
}

export class SessionBook {
  private readonly sessions = new Map<Hash, RunnerSession>();

  get(id: Hash): RunnerSession | undefined {
    const session = this.sessions.get(id);
    if (session !== undefined) {
      // most recently used last
      this.sessions.delete(id);
      this.sessions.set(id, session);
    }
    return session;
  }

  delete(id: Hash): void {
    this.sessions.delete(id);
  }

  put(session: RunnerSession): void {
    this.evict();
    this.sessions.set(session.id, session);
  }

  get size(): number {
    return this.sessions.size;
  }

  private evict(): void {
    if (this.sessions.size < MAX_RUNNER_SESSIONS) return;
    for (const [id, s] of this.sessions) {
      if (s.runningCallId === null) {
        this.sessions.delete(id);
        return;
      }
    }
    throw new ZgasError('RunnerBusy', { reason: 'too many sessions in flight' });
  }
}

/** The state writes of a call outcome, as they travel (docs/protocol.md §JSON forms). */
export function writesOf(outcome: CallOutcome): StateWrite[] {
  return outcome.writes.map(([key, value]) => ({ key, value: value === null ? null : bytesToHex(value) }));
}

/** The receipt of a call that ran on the session's newest state, before signing. */
export function receiptFor(session: RunnerSession, invocation: SignedInvocation, outcome: CallOutcome): GasReceipt {
  return {
    sessionId: session.id,
    seq: invocation.seq,
    callGasLimit: invocation.callGasLimit,
    callGas: outcome.callGas,
    cumulativeGas: add(cumulativeGasOf(session), outcome.callGas),
    inputHash: sha3(hexToBytes(invocation.input)),
    preStateHash: stateHashOf(session),
    postStateHash: outcome.postStateHash,
    outputHash: outcome.outputHash,
    status: outcome.status,
  };
}

/** Signs the call's receipt and joins the user's invocation signature: the call as it is logged and answered. */
export function loggedCallOf(
  session: RunnerSession,
  invocation: SignedInvocation,
  outcome: CallOutcome,
  signer: { domain: Domain; key: Uint8Array; backend: SignatureBackend },
): LoggedCall {
  const signed = signReceipt(signer.domain, receiptFor(session, invocation, outcome), signer.key, signer.backend);
  const receipt: SettlementReceipt = settlementReceipt(signed, invocation.signature);
  return { invocation, receipt, output: bytesToHex(outcome.output), writes: writesOf(outcome) };
}

/** Advances the session past a logged call: its writes applied to the runner's copy in place. */
export function advance(session: RunnerSession, call: LoggedCall): void {
  session.last = call;
  applyWritesInPlace(session.state, call.writes);
}
