/**
 * What a runner keeps per session, in memory only (a unikernel writes nothing to disk): the last
 * seq it ran, the session's cumulative gas and its current state. One signed receipt per call.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { signReceipt } from '../../contracts/eip712/index.ts';
import type { Domain, SignatureBackend } from '../../contracts/eip712/index.ts';
import type { GasReceipt, Hash, SignedReceipt } from '../../contracts/types.ts';
import { add, gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import type { CallOutcome } from './execute.ts';
import { EMPTY_STATE } from './state.ts';
import type { State } from './state.ts';

/** Sessions a runner keeps at once; beyond it the least recently used finished one is dropped. */
export const MAX_RUNNER_SESSIONS = 10_000;

export interface RunnerSession {
  id: Hash;
  lastSeq: bigint;
  cumulativeGas: Gas;
  state: State;
  stateHash: Hash;
  /** The call in flight, if any: its seq and, once queued, its pool id. */
  running: { seq: bigint; callId: number | null } | null;
  /** Set when an abort arrived: no new call starts. */
  aborted: boolean;
}

export class SessionBook {
  private readonly sessions = new Map<Hash, RunnerSession>();

  get(id: Hash): RunnerSession | undefined {
    return this.sessions.get(id);
  }

  /** The session's record, created fresh (seq 0, no gas, empty state) on first use. */
  open(id: Hash): RunnerSession {
    let session = this.sessions.get(id);
    if (session === undefined) {
      session = { id, lastSeq: 0n, cumulativeGas: gas(0), state: EMPTY_STATE, stateHash: EMPTY_STATE_HASH, running: null, aborted: false };
      this.evict();
      this.sessions.set(id, session);
    } else {
      // most recently used last
      this.sessions.delete(id);
      this.sessions.set(id, session);
    }
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  private evict(): void {
    if (this.sessions.size < MAX_RUNNER_SESSIONS) return;
    for (const [id, s] of this.sessions) {
      if (s.running === null) {
        this.sessions.delete(id);
        return;
      }
    }
    throw new ZgasError('RunnerBusy', { reason: 'too many sessions in flight' });
  }
}

/** The receipt of a call that ran, before signing. */
export function receiptFor(session: RunnerSession, seq: bigint, input: Uint8Array, outcome: CallOutcome): GasReceipt {
  return {
    sessionId: session.id,
    seq,
    callGas: outcome.callGas,
    cumulativeGas: add(session.cumulativeGas, outcome.callGas),
    inputHash: sha3(input),
    preStateHash: session.stateHash,
    postStateHash: outcome.postStateHash,
    outputHash: outcome.outputHash,
    status: outcome.status,
  };
}

/** Signs the call's receipt and advances the session past it. */
export function recordCall(
  session: RunnerSession,
  seq: bigint,
  input: Uint8Array,
  outcome: CallOutcome,
  signer: { domain: Domain; key: Uint8Array; backend: SignatureBackend },
): SignedReceipt {
  const receipt = signReceipt(signer.domain, receiptFor(session, seq, input, outcome), signer.key, signer.backend);
  session.lastSeq = seq;
  session.cumulativeGas = receipt.cumulativeGas;
  session.state = outcome.postState;
  session.stateHash = outcome.postStateHash;
  return receipt;
}
