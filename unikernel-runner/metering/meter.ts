/// <reference lib="dom" />
// The WebAssembly JS API types live in the DOM lib; Node implements the same API.
/**
 * The host side of the injected gas counter. The call's budget lives here; the instrumented code
 * spends from a chunk held in its `zgas_gas` global (cached in a local between the points where the
 * host can read it) and calls `zgas.refill(counter, c)` when a charge of c drives the chunk below
 * zero; the refill stores the new chunk in the global and returns it. The refill is the only place
 * the host sees a running call, so it is where out-of-gas and abort are decided.
 *
 * Determinism contract: `used()` at the end of a call, in a host call (so at a host-side trap:
 * abort, a refused argument), at out-of-gas and at abort is exact (limit - budget outside the chunk
 * - chunk left) and so depends on (module, table, input, state, limit) only — never on the chunk
 * size, timing or engine tiering. At an engine trap it is not kept exact: the runtime charges such
 * a trap the whole limit (metering version 2). Out-of-gas happens at the
 * first charge that takes the total above the limit, whatever the chunk. An abort stops the call at
 * a refill (or a host charge) and reports the gas used before that charge: re-running the call with
 * that as its limit runs out of gas at exactly that charge, which is how an Aborted receipt is judged.
 */
import { InvariantViolation, ZgasError } from '../../contracts/errors.ts';
import { MAX_UINT64 } from '../../contracts/units.ts';
import { DEPTH_EXPORT, GAS_EXPORT } from './names.ts';

/**
 * Gas moved into the counter per refill. At ~0.3–1 gas per ns of guest execution this is well under
 * a millisecond between abort checks, while a refill (a host call, ~100 ns) costs under 0.1 %.
 */
export const DEFAULT_CHUNK_GAS = 5_000_000n;

/** The call ran out of gas: it reports the whole gas limit as used. */
export class OutOfGasTrap extends Error {
  override readonly name = 'OutOfGasTrap';
  constructor(readonly gasLimit: bigint) {
    super(`out of gas: the call needs more than its limit of ${gasLimit}`);
  }

  get gasUsed(): bigint {
    return this.gasLimit;
  }
}

/** The call was aborted at a checkpoint; `gasUsed` is the gas consumed before the charge that hit it. */
export class AbortedTrap extends Error {
  override readonly name = 'AbortedTrap';
  constructor(readonly gasUsed: bigint) {
    super(`aborted after ${gasUsed} gas`);
  }
}

export interface MeterOptions {
  gasLimit: bigint;
  /** Shared flag; non-zero at index 0 asks the call to stop at its next checkpoint. */
  abortFlag?: Int32Array;
  /** Gas moved into the counter per refill (default DEFAULT_CHUNK_GAS). */
  chunk?: bigint;
}

export interface Meter {
  readonly gasLimit: bigint;
  /** Pass at instantiation, beside the module's own imports. */
  readonly imports: { zgas: { refill(counter: bigint, cost: number): bigint } };
  /** Attaches the instance's counter (and resets it and the call depth to zero). */
  bind(instance: WebAssembly.Instance): void;
  /** A host-side charge (host calls, state diff, output). Throws OutOfGasTrap or AbortedTrap. */
  charge(amount: bigint | number): void;
  /** Exact gas consumed so far. */
  used(): bigint;
  remaining(): bigint;
}

export function createMeter(options: MeterOptions): Meter {
  const { gasLimit, abortFlag } = options;
  const chunk = options.chunk ?? DEFAULT_CHUNK_GAS;
  if (typeof gasLimit !== 'bigint' || gasLimit < 0n || gasLimit > MAX_UINT64) throw new ZgasError('InvalidUint64', { field: 'gasLimit', value: String(gasLimit) });
  if (typeof chunk !== 'bigint' || chunk < 1n || chunk > 1n << 40n) throw new ZgasError('LimitExceeded', { field: 'chunk', reason: 'between 1 and 2^40 gas' });
  if (abortFlag !== undefined && abortFlag.length < 1) throw new ZgasError('LimitExceeded', { field: 'abortFlag', reason: 'an Int32Array of at least one element' });

  // Budget not yet moved into the counter.
  let outside = gasLimit;
  let counter: WebAssembly.Global | undefined;
  // Once the call has stopped (out of gas or aborted), the gas it reports.
  let final: bigint | undefined;

  const inCounter = (): bigint => (counter === undefined ? 0n : (counter.value as bigint));
  const used = (): bigint => final ?? gasLimit - outside - inCounter();
  const aborting = (): boolean => abortFlag !== undefined && Atomics.load(abortFlag, 0) !== 0;

  const outOfGas = (): never => {
    final = gasLimit;
    outside = 0n;
    if (counter !== undefined) counter.value = 0n;
    throw new OutOfGasTrap(gasLimit);
  };
  const abort = (before: bigint): never => {
    final = before;
    throw new AbortedTrap(before);
  };

  /** `now`: the counter after the charge of `cost` that drove it below zero; returns the counter to go on with. */
  function refill(now: bigint, cost: number): bigint {
    if (final !== undefined) throw new InvariantViolation('a stopped call ran on');
    if (counter === undefined) throw new InvariantViolation('refill before bind');
    counter.value = now;
    if (now >= 0n) return now;
    const charged = BigInt(cost >>> 0);
    if (aborting()) {
      counter.value = now + charged; // as it was before this charge
      abort(gasLimit - outside - (now + charged));
    }
    const need = -now;
    if (need > outside) outOfGas();
    const move = need + chunk < outside ? need + chunk : outside;
    outside -= move;
    counter.value = now + move;
    return now + move;
  }

  return {
    gasLimit,
    imports: { zgas: { refill } },
    bind(instance: WebAssembly.Instance): void {
      const gasGlobal = instance.exports[GAS_EXPORT];
      const depthGlobal = instance.exports[DEPTH_EXPORT];
      if (!(gasGlobal instanceof WebAssembly.Global) || !(depthGlobal instanceof WebAssembly.Global)) {
        throw new ZgasError('InvalidModule', { rule: 'not-instrumented', reason: `the instance exports no ${GAS_EXPORT}/${DEPTH_EXPORT} globals` });
      }
      // Whatever the counter holds goes back to the budget: a fresh instance holds 0.
      outside += gasGlobal.value as bigint;
      gasGlobal.value = 0n;
      depthGlobal.value = 0;
      counter = gasGlobal;
    },
    charge(amount: bigint | number): void {
      if (final !== undefined) throw new InvariantViolation('a stopped call was charged');
      const a = BigInt(amount);
      if (a < 0n) throw new InvariantViolation('a charge is never negative');
      if (a === 0n) return;
      if (aborting()) abort(used());
      if (a <= outside) {
        outside -= a;
        return;
      }
      const g = inCounter();
      if (a > outside + g) outOfGas();
      // Take the rest from the counter: the running code sees it spent.
      counter!.value = g - (a - outside);
      outside = 0n;
    },
    used,
    remaining: () => gasLimit - used(),
  };
}
