/**
 * Executes one metered call. This one function is what the worker threads run and what the
 * contract's re-executor runs, so a receipt and its re-execution cannot drift apart.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { DEFAULT_PARAMS } from '../../contracts/gas/genesis.ts';
import { MAX_INVOCATION_INPUT_BYTES } from '../../contracts/json.ts';
import { sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, Hex } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { AbortedTrap, createMeter, OutOfGasTrap } from '../metering/meter.ts';
import type { Meter } from '../metering/meter.ts';
import type { HashedState } from './hashed-state.ts';
import { effectsGas, GuestTrap, hostFunctions, price, readGuest, StateView, writeGuest } from './host.ts';
import type { HostPrices } from './host.ts';
import { MAX_STATE_BYTES, MAX_STATE_ENTRIES } from './state.ts';

/** The largest input any call takes: the wire limit; the genesis maxInputBytes (CallRequest.maxInputBytes) may set less. */
export const MAX_INPUT_BYTES = MAX_INVOCATION_INPUT_BYTES;
/** The default genesis maxInputBytes (1 MiB). */
export const DEFAULT_MAX_INPUT_BYTES = Number(DEFAULT_PARAMS.maxInputBytes);
/** The largest output a call may return; a larger one traps. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/** An instrumented module ready to instantiate, with what its execution needs to know. */
export interface PreparedModule {
  module: WebAssembly.Module;
  /** Gas charged before the first instruction (initial memory pages). */
  initialGas: Gas;
  moduleHash: Hash;
  instrumentedHash: Hash;
  tableHash: Hash;
}

export interface CallRequest {
  /**
   * The session's state before the call. An Ok call that changes it advances it in place (the
   * structure is the session's, kept between calls): a caller that needs the pre-state afterwards
   * passes a copy.
   */
  state: HashedState;
  input: Uint8Array;
  /** The call's only limit. */
  gasLimit: Gas;
  /** context_seed: SHA3-256(sessionId ‖ u64be(seq)). */
  seed: Uint8Array;
  /** Set to non-zero to stop the call at its next refill checkpoint. */
  abortFlag?: Int32Array;
  /** The genesis maxStateBytes: a call that would leave a larger state (canonical encoding) traps. */
  maxStateBytes: number;
  /** The genesis maxInputBytes: a larger input is refused before it runs (LimitExceeded, no gas, no receipt). */
  maxInputBytes: number;
}

export interface CallOutcome {
  status: CallStatus;
  callGas: Gas;
  output: Uint8Array;
  postStateHash: Hash;
  outputHash: Hash;
  /** The call's state writes (key hex → new value, null: deleted), one per key in the order first written; empty unless Ok. */
  writes: Array<[Hex, Uint8Array | null]>;
  /** Why a call trapped (not signed; for logs and callers). */
  trap?: string;
  /** Bytes the call's state hashing absorbed (a metric of the runner's work, not signed). */
  hashedStateBytes: number;
}

export const EMPTY_OUTPUT_HASH: Hash = sha3(new Uint8Array(0));

interface GuestExports {
  memory: WebAssembly.Memory;
  alloc: (len: number) => number;
  handle: (ptr: number, len: number) => bigint;
}

function guestExports(instance: WebAssembly.Instance): GuestExports {
  const { memory, alloc, handle } = instance.exports as Partial<GuestExports>;
  if (!(memory instanceof WebAssembly.Memory) || typeof alloc !== 'function' || typeof handle !== 'function') {
    throw new ZgasError('MissingExport', {});
  }
  return { memory, alloc, handle };
}

/** Runs the call to its end; never throws for anything the guest does. */
export function executeCall(prepared: PreparedModule, request: CallRequest, prices: HostPrices): CallOutcome {
  const maxInputBytes = Math.min(request.maxInputBytes, MAX_INPUT_BYTES);
  if (request.input.length > maxInputBytes) throw new ZgasError('LimitExceeded', { what: 'input bytes', maxBytes: maxInputBytes });
  const meter: Meter = createMeter(request.abortFlag === undefined ? { gasLimit: request.gasLimit } : { gasLimit: request.gasLimit, abortFlag: request.abortFlag });
  const { state } = request;
  // A call that changes no state hashes nothing: the post-state is the pre-state, already hashed.
  const failed = (status: CallStatus, callGas: Gas, trap?: string): CallOutcome => ({
    status,
    callGas,
    output: new Uint8Array(0),
    postStateHash: state.hash,
    outputHash: EMPTY_OUTPUT_HASH,
    writes: [],
    ...(trap === undefined ? {} : { trap }),
    hashedStateBytes: 0,
  });
  const charge = (amount: number | bigint): void => meter.charge(amount);
  const usedGas = (): Gas => gas(meter.used());
  try {
    charge(prepared.initialGas);
    const view = new StateView(state);
    // The host functions exist before the instance; they reach its memory through this slot.
    const slot: { memory?: WebAssembly.Memory } = {};
    const env = hostFunctions({
      view,
      seed: request.seed,
      prices,
      charge,
      memory: () => {
        if (slot.memory === undefined) throw new GuestTrap('host call before the instance exists');
        return slot.memory;
      },
    });
    const instance = new WebAssembly.Instance(prepared.module, { ...meter.imports, env });
    meter.bind(instance);
    const guest = guestExports(instance);
    slot.memory = guest.memory;
    const inputPtr = guest.alloc(request.input.length);
    writeGuest(guest.memory, inputPtr, request.input);
    const packed = BigInt.asUintN(64, guest.handle(inputPtr, request.input.length));
    const outputLength = Number(packed & 0xffff_ffffn);
    if (outputLength > MAX_OUTPUT_BYTES) throw new GuestTrap(`output of ${outputLength} bytes; at most ${MAX_OUTPUT_BYTES}`);
    const output = readGuest(guest.memory, Number(packed >> 32n), outputLength);
    const diff = view.diff();
    charge(effectsGas(prices, diff, output.length));
    const plan = state.plan(diff);
    const maxStateBytes = Math.min(request.maxStateBytes, MAX_STATE_BYTES);
    if (diff.length > 0 && plan.entries > MAX_STATE_ENTRIES) throw new GuestTrap(`the state would hold more than ${MAX_STATE_ENTRIES} entries`);
    if (diff.length > 0 && plan.bytes > maxStateBytes) throw new GuestTrap(`the state would take more than ${maxStateBytes} bytes`);
    // Hashing the post-state is charged on what the protocol's hash must re-absorb: the encoding
    // from the first changed key to the end (hashed-state.ts), a figure of the two states alone.
    if (diff.length > 0) charge(price(prices.stateRehash, plan.rehashBytes));
    const absorbedBefore = state.absorbedBytes;
    const postStateHash = state.apply(diff);
    return {
      status: CallStatus.Ok,
      callGas: usedGas(),
      output,
      postStateHash,
      outputHash: sha3(output),
      writes: diff,
      hashedStateBytes: state.absorbedBytes - absorbedBefore,
    };
  } catch (error: unknown) {
    if (error instanceof OutOfGasTrap) return failed(CallStatus.OutOfGas, request.gasLimit);
    if (error instanceof AbortedTrap) return failed(CallStatus.Aborted, gas(error.gasUsed));
    if (error instanceof ZgasError) throw error;
    // The guest's abort(code) and a host call's refusal: the host saw the exact gas used so far.
    if (error instanceof GuestTrap) return failed(CallStatus.Trapped, usedGas(), error.message);
    if (error instanceof WebAssembly.LinkError) return failed(CallStatus.Trapped, usedGas(), error.message);
    // An engine trap (metering version 2) is charged the whole limit, as out of gas is: the
    // instrumented code keeps the exact count out of the global before instructions that can trap,
    // and a loop can burn the limit anyway. RangeError is the engine's own stack limit (the
    // injected depth limit should always trip first).
    if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) return failed(CallStatus.Trapped, request.gasLimit, error.message);
    throw error;
  }
}
