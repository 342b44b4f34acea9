/**
 * The contract's re-execution port (DESIGN §5.2), implemented with the very function the pool's
 * workers run: synchronous and in-process, so a Challenge is judged by the same code that produced
 * the receipt. The gas limit is the one the contract passes: the receipt's callGasLimit (the limit
 * the user signed and the runner ran under), or callGas to judge an Aborted receipt.
 *
 * It builds the pre-state's structure from the full encoding (hashing it once, uncharged: judging
 * is the contract's work), then runs the call exactly as a worker that kept the state runs it; the
 * call's gas, including the rehash charge, depends on the two states alone, never on history.
 */
import type { Reexecutor, RerunRequest, RerunResult } from '../../contracts/gas/reexecutor.ts';
import type { GasTable } from '../metering/table.ts';
import { executeCall } from './execute.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { HashedState } from './hashed-state.ts';

export function createReexecutor(table: GasTable): Reexecutor {
  const prices = hostPrices(table);
  return {
    rerun(request: RerunRequest): RerunResult {
      const prepared = prepareModule(request.module, table);
      const outcome = executeCall(
        prepared,
        { state: HashedState.decode(request.preState), input: request.input, gasLimit: request.gasLimit, seed: request.seed, maxStateBytes: request.maxStateBytes },
        prices,
      );
      return { callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status };
    },
  };
}
