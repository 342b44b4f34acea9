/**
 * The body of a pool worker: receives calls, runs them with the shared executeCall, answers the
 * outcome. Its abort flag (a SharedArrayBuffer) comes with workerData and is checked by the meter.
 *
 * The worker keeps the state of the sessions it serves between calls (hashed-state.ts), so a call
 * moves its input, output and writes between threads, not the session's state: the pool sends a
 * state only to seed a worker that does not hold it at the call's pre-state hash (a new or
 * replaced worker, or a session moved), and says which sessions to drop (its bound on what a
 * worker holds; the pool mirrors exactly what each worker keeps).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ZgasError } from '../../contracts/errors.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { executeCall } from './execute.ts';
import type { CallOutcome, PreparedModule } from './execute.ts';
import { HashedState } from './hashed-state.ts';
import type { HostPrices } from './host.ts';

/** Marks workerData of a pool worker, so a single-file bundle can tell its worker role apart. */
export const WORKER_MARK = 'zgas-runner-worker';

export interface WorkerInit {
  mark: typeof WORKER_MARK;
  abortBuffer: SharedArrayBuffer;
}

export interface RunMessage {
  id: number;
  sessionId: Hash;
  /** The stateHash the call runs on: the worker's copy of the session must be at it. */
  preStateHash: Hash;
  /** The session's state in the canonical encoding, when the worker must be seeded; absent when it holds the state. */
  stateBytes?: Uint8Array;
  /** Sessions to forget before this call. */
  drop: Hash[];
  prepared: PreparedModule;
  prices: HostPrices;
  input: Uint8Array;
  gasLimit: Gas;
  seed: Uint8Array;
  maxStateBytes: number;
  maxInputBytes: number;
}

export type ReplyMessage =
  | { ready: true }
  | {
      id: number;
      ok: true;
      outcome: CallOutcome;
      finishedAtMs: number;
      /** The encoded bytes of the session's state the worker now holds. */
      heldStateBytes: number;
      /** Bytes the state hashing absorbed for this message: the call's, plus a seed's. */
      hashedStateBytes: number;
    }
  | { id: number; ok: false; error: { code: string | null; message: string; details: Record<string, unknown> } };

export function isWorkerInit(data: unknown): data is WorkerInit {
  return typeof data === 'object' && data !== null && (data as { mark?: unknown }).mark === WORKER_MARK;
}

/** Starts answering calls; only meaningful inside a pool worker. */
export function runWorker(): void {
  const port = parentPort;
  if (port === null || !isWorkerInit(workerData)) throw new Error('runWorker must run inside a pool worker');
  const abortFlag = new Int32Array(workerData.abortBuffer);
  const states = new Map<Hash, HashedState>();
  port.on('message', (message: RunMessage) => {
    let reply: ReplyMessage;
    try {
      for (const id of message.drop) states.delete(id);
      const { state, seededBytes } = sessionState(states, message);
      const outcome = executeCall(
        message.prepared,
        { state, input: message.input, gasLimit: message.gasLimit, seed: message.seed, maxStateBytes: message.maxStateBytes, maxInputBytes: message.maxInputBytes, abortFlag },
        message.prices,
      );
      reply = {
        id: message.id,
        ok: true,
        outcome,
        finishedAtMs: performance.timeOrigin + performance.now(),
        heldStateBytes: state.encodedBytes,
        hashedStateBytes: seededBytes + outcome.hashedStateBytes,
      };
    } catch (error) {
      reply = {
        id: message.id,
        ok: false,
        error: error instanceof ZgasError
          ? { code: error.code, message: error.message, details: error.details }
          : { code: null, message: error instanceof Error ? error.message : String(error), details: {} },
      };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies ReplyMessage);
}

/** The session's state at the call's pre-state hash: the one held, or the one the message seeds. */
function sessionState(states: Map<Hash, HashedState>, message: RunMessage): { state: HashedState; seededBytes: number } {
  let seededBytes = 0;
  if (message.stateBytes !== undefined) {
    states.delete(message.sessionId);
    const seeded = HashedState.decode(message.stateBytes);
    seededBytes = seeded.absorbedBytes;
    // The runner's copy must be the state its receipts signed: a copy that hashes otherwise is never run on.
    if (seeded.hash !== message.preStateHash) throw new ZgasError('Internal', { reason: 'the seeded state does not hash to the pre-state hash', sessionId: message.sessionId });
    states.set(message.sessionId, seeded);
  }
  const state = states.get(message.sessionId);
  if (state === undefined || state.hash !== message.preStateHash) {
    states.delete(message.sessionId);
    throw new ZgasError('Internal', { reason: 'the worker does not hold the session at the pre-state hash', sessionId: message.sessionId });
  }
  return { state, seededBytes };
}
