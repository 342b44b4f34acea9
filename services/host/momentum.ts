import { genesisToJson } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { accountJson, providerJson, sessionJson, zAppJson } from '../../contracts/gas/state.ts';
import type { State } from '../../contracts/gas/state.ts';
import type { Changed } from '../../contracts/gas/tx.ts';
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

/** A changed entity as a momentum's digest covers it: its key and its JSON view after the momentum (null: deleted). */
type Entry = [key: string, view: unknown];

function entries<K extends string, V>(keys: ReadonlySet<K>, map: ReadonlyMap<K, V>, view: (k: K, v: V) => unknown): Entry[] {
  return [...keys].sort().map((k) => {
    const v = map.get(k);
    return [k, v === undefined ? null : view(k, v)];
  });
}

/**
 * The state digest of a momentum after genesis: SHA3-256 of the canonical JSON of
 * `{ prevHash, accounts, zApps, providers, sessions, burned }`, each a list of `[key, view]` for
 * the entities the momentum changed (sorted by key; view null when deleted), `burned` the new total
 * when the momentum burned QSR (else null) — exactly the rows its
 * commit writes. O(changes), not O(state); chained to the previous momentum's hash, so the digests
 * of a chain cover every state row ever written. Replay recomputes it from the re-applied inputs
 * and finally compares the whole state with the rows.
 */
export function changesDigest(prevHash: Hash, state: State, changed: Changed): Hash {
  return canonicalHash({
    prevHash,
    accounts: entries(changed.accounts, state.accounts, accountJson),
    zApps: entries(changed.zApps, state.zApps, zAppJson),
    providers: entries(changed.providers, state.providers, providerJson),
    sessions: entries(changed.sessions, state.sessions, sessionJson),
    burned: changed.burned ? state.burned.toString() : null,
  });
}

/** The identity of a genesis: SHA3-256 of the canonical JSON of its file form (defaults filled in). */
export function genesisHash(genesis: Genesis): Hash {
  return canonicalHash(genesisToJson(genesis));
}
