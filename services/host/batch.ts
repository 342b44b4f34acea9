import { receiptDigest } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { isZgasError } from '../../contracts/errors.ts';
import { prepareCall } from '../../contracts/gas/apply.ts';
import type { Input } from '../../contracts/gas/apply.ts';
import { MAX_CALL_GAS_LIMIT } from '../../contracts/gas/limits.ts';
import type { State } from '../../contracts/gas/state.ts';
import { callToJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, VerifiedReceipt } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { pendingCalls } from '../store/calls.ts';
import type { PendingCall } from '../store/calls.ts';
import { verifiedReceipts } from '../store/receipts.ts';
import type { StoredReceipt } from '../store/receipts.ts';
import type { MomentumInput } from './momentum.ts';

/** Pending calls one momentum takes at most. */
export const MAX_CALLS_PER_MOMENTUM = 1_000;
/** Verified receipts one momentum takes at most (one Settle batch). */
export const MAX_RECEIPTS_PER_MOMENTUM = 1_000;

/**
 * The most gas the re-executions of one momentum's challenges may take together (one challenge at
 * the chain's largest callGasLimit: a few seconds of metered WebAssembly). Challenges past it wait
 * for the next momentum, with the later calls of their senders; the first challenge of a momentum
 * always goes, so every challenge is judged in time.
 */
export const MAX_REEXECUTION_GAS_PER_MOMENTUM: bigint = MAX_CALL_GAS_LIMIT;

/** What one round takes in: pending calls and verified receipts, as stored. */
export interface Batch {
  calls: PendingCall[];
  stored: StoredReceipt[];
}

/** A batch made ready for the contract: its inputs in order, their wire form, and what is refused before apply. */
export interface PreparedBatch {
  inputs: Input[];
  /** The inputs as the momentum records them. */
  wires: MomentumInput[];
  /** Per input: the call's hash, or null for the receipts input. */
  callOf: (Hash | null)[];
  /** The intake key of each receipt of the receipts input, in its order. */
  receiptCopies: Hash[];
  /** Calls that are not valid calls: they take no nonce. */
  refused: { hash: Hash; code: string }[];
  /** Receipt copies whose stored signers or digest do not hold. */
  unverifiable: { copyKey: Hash; code: 'InvalidSignature' }[];
  /** Whether the batch was full (more is likely waiting). */
  full: boolean;
}

/**
 * The next batch: pending calls (per sender, consecutive nonces from `state`) and verified
 * receipts, leaving out those of a momentum still being committed (`exclude`).
 */
export async function loadBatch(db: Db, state: State, exclude?: { calls: Hash[]; receipts: Hash[] }): Promise<Batch> {
  // Two reads on two pooled connections at once: the round waits for the slower, not for both.
  const [calls, stored] = await Promise.all([
    pendingCalls(db, MAX_CALLS_PER_MOMENTUM, (from) => state.accounts.get(from)?.nonce ?? 0n, exclude?.calls ?? []),
    verifiedReceipts(db, MAX_RECEIPTS_PER_MOMENTUM, exclude?.receipts ?? []),
  ]);
  return { calls, stored };
}

/**
 * Turns a batch into contract inputs: each call prepared (a call that is not valid is refused and
 * stalls its sender's later calls; challenges beyond the momentum's re-execution budget wait), then
 * the verified receipts as one Settle input.
 */
export function prepareBatch(domain: Domain, { calls, stored }: Batch): PreparedBatch {
  const out: PreparedBatch = {
    inputs: [], wires: [], callOf: [], receiptCopies: [], refused: [], unverifiable: [],
    full: calls.length >= MAX_CALLS_PER_MOMENTUM || stored.length >= MAX_RECEIPTS_PER_MOMENTUM,
  };
  const stalled = new Set<Address>();
  let reexecutionGas = 0n;
  for (const { hash, call } of calls) {
    if (stalled.has(call.from)) continue;
    try {
      const input = prepareCall(domain, call);
      if (input.method.name === 'Challenge') {
        // Re-execution runs under the receipt's callGasLimit (the user's signed limit).
        const gas = input.method.receipt.receipt.callGasLimit;
        if (reexecutionGas > 0n && reexecutionGas + gas > MAX_REEXECUTION_GAS_PER_MOMENTUM) {
          stalled.add(call.from); // the next momentum takes it, and the sender's later calls after it
          continue;
        }
        reexecutionGas += gas;
      }
      out.inputs.push(input);
      out.wires.push({ type: 'call', call: callToJson(call) });
      out.callOf.push(hash);
    } catch (error) {
      if (!isZgasError(error)) throw error;
      // Not a valid call (the API should have refused it): it takes no nonce; the sender's later calls wait.
      out.refused.push({ hash, code: error.code });
      stalled.add(call.from);
    }
  }
  // Signatures were recovered by the verification workers (in parallel, off the sequencer); the
  // host takes their signers and only re-derives the digest, which is cheap. Replay recovers every
  // signature again from the recorded wire form, so a wrong signer cannot pass unnoticed.
  const verified: VerifiedReceipt[] = [];
  for (const row of stored) {
    if (row.signer !== null && row.invocationSigner !== null && receiptDigest(domain, row.receipt) === row.digest) {
      verified.push({ receipt: row.receipt, signer: row.signer, invocationSigner: row.invocationSigner, digest: row.digest });
      out.receiptCopies.push(row.copyKey);
    } else out.unverifiable.push({ copyKey: row.copyKey, code: 'InvalidSignature' });
  }
  if (verified.length > 0) {
    out.inputs.push({ kind: 'receipts', receipts: verified });
    out.wires.push({ type: 'receipts', receipts: verified.map((v) => receiptToJson(v.receipt)) });
    out.callOf.push(null);
  }
  return out;
}

/** What a batch being committed holds, to leave out of the batch loaded meanwhile. */
export function batchKeys(batch: Batch, prepared: PreparedBatch): { calls: Hash[]; receipts: Hash[] } {
  return {
    calls: [...prepared.callOf.filter((h): h is Hash => h !== null), ...prepared.refused.map((r) => r.hash)],
    receipts: batch.stored.map((r) => r.copyKey),
  };
}
