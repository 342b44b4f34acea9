/**
 * The body of a pool worker: receives calls, runs them with the shared executeCall, answers the
 * outcome. Its abort flag (a SharedArrayBuffer) comes with workerData and is checked by the meter.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ZgasError } from '../../contracts/errors.ts';
import { executeCall } from './execute.ts';
import type { CallOutcome, PreparedModule } from './execute.ts';
import type { HostPrices } from './host.ts';
import type { State } from './state.ts';
import type { Gas } from '../../contracts/units.ts';

/** Marks workerData of a pool worker, so a single-file bundle can tell its worker role apart. */
export const WORKER_MARK = 'zgas-runner-worker';

export interface WorkerInit {
  mark: typeof WORKER_MARK;
  abortBuffer: SharedArrayBuffer;
}

export interface RunMessage {
  id: number;
  prepared: PreparedModule;
  prices: HostPrices;
  preState: State;
  input: Uint8Array;
  gasLimit: Gas;
  seed: Uint8Array;
  maxStateBytes: number;
  maxInputBytes: number;
}

export type ReplyMessage =
  | { ready: true }
  | { id: number; ok: true; outcome: CallOutcome; finishedAtMs: number }
  | { id: number; ok: false; error: { code: string | null; message: string; details: Record<string, unknown> } };

export function isWorkerInit(data: unknown): data is WorkerInit {
  return typeof data === 'object' && data !== null && (data as { mark?: unknown }).mark === WORKER_MARK;
}

/** Starts answering calls; only meaningful inside a pool worker. */
export function runWorker(): void {
  const port = parentPort;
  if (port === null || !isWorkerInit(workerData)) throw new Error('runWorker must run inside a pool worker');
  const abortFlag = new Int32Array(workerData.abortBuffer);
  port.on('message', (message: RunMessage) => {
    let reply: ReplyMessage;
    try {
      const outcome = executeCall(
        message.prepared,
        { preState: message.preState, input: message.input, gasLimit: message.gasLimit, seed: message.seed, maxStateBytes: message.maxStateBytes, maxInputBytes: message.maxInputBytes, abortFlag },
        message.prices,
      );
      reply = { id: message.id, ok: true, outcome, finishedAtMs: performance.timeOrigin + performance.now() };
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
