/**
 * The contract's re-execution port (docs/contract.md §Judging), implemented with the very function
 * the pool's workers run: synchronous and in-process, so a Challenge is judged by the same code
 * that produced the receipt. The gas limit is the one the contract passes: the receipt's
 * callGasLimit (the limit the user signed and the runner ran under), or callGas to judge an Aborted
 * receipt.
 *
 * It is built from what the genesis pins (the gas table by hash, the metering version) and refuses
 * to exist when this build cannot reproduce them: a re-executor metering otherwise would call
 * honest receipts fraud.
 *
 * It builds the pre-state's structure from the full encoding (hashing it once, uncharged: judging
 * is the contract's work), then runs the call exactly as a worker that kept the state runs it; the
 * call's gas, including the rehash charge, depends on the two states alone, never on history.
 */
import type { Reexecutor, RerunRequest, RerunResult } from '../../contracts/gas/reexecutor.ts';
import { meteringFor } from '../metering/registry.ts';
import type { MeteringPin } from '../metering/registry.ts';
import { executeCall } from './execute.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { HashedState } from './hashed-state.ts';

export function createReexecutor(pin: MeteringPin): Reexecutor {
  const { table } = meteringFor(pin);
  const prices = hostPrices(table);
  return {
    rerun(request: RerunRequest): RerunResult {
      // The contract checked the bytes against moduleHash: a prepared module is found by it, not hashed again.
      const prepared = prepareModule(request.module, table, request.moduleHash);
      const outcome = executeCall(
        prepared,
        { state: HashedState.decode(request.preState), input: request.input, gasLimit: request.gasLimit, seed: request.seed, maxStateBytes: request.maxStateBytes, maxInputBytes: request.maxInputBytes },
        prices,
      );
      return { callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status };
    },
  };
}
