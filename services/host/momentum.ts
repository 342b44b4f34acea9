import { genesisToJson } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { CallJson, ReceiptJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import { canonicalHash } from './canonical.ts';

/** The previous hash of momentum 0. */
export const ZERO_HASH: Hash = `0x${'00'.repeat(32)}`;

/** An input as a momentum records it: its signed wire form, from which replay re-derives everything. */
export type MomentumInput =
  | { type: 'call'; call: CallJson }
  | { type: 'receipts'; receipts: ReceiptJson[] };

/** An input's result as recorded: the contract's result as JSON data, without the human message. */
export type MomentumResult =
  | { ok: true; [field: string]: unknown }
  | { ok: false; code: string; details: unknown };

export interface MomentumFields {
  height: bigint;
  prevHash: Hash;
  timestamp: bigint;
  inputs: unknown[];
  results: unknown[];
  stateDigest: Hash;
}

/**
 * The momentum hash: SHA3-256 of the canonical JSON (sorted keys, no whitespace) of
 * `{ height, prevHash, timestamp, inputs, results, stateDigest }`, integers as decimal strings.
 */
export function momentumHash(m: MomentumFields): Hash {
  return canonicalHash({
    height: m.height.toString(), prevHash: m.prevHash, timestamp: m.timestamp.toString(),
    inputs: m.inputs, results: m.results, stateDigest: m.stateDigest,
  });
}

/** The identity of a genesis: SHA3-256 of the canonical JSON of its file form (defaults filled in). */
export function genesisHash(genesis: Genesis): Hash {
  return canonicalHash(genesisToJson(genesis));
}
