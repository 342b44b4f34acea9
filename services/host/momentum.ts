import { genesisToJson } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { accountJson, providerJson, sessionJson, zAppJson } from '../../contracts/gas/state.ts';
import type { Provider, Session, State } from '../../contracts/gas/state.ts';
import { pendingEntry } from '../../contracts/gas/ops.ts';
import { parsePendingKey } from '../../contracts/gas/tx.ts';
import type { Changed, PendingKey } from '../../contracts/gas/tx.ts';
import type { CallJson, ReceiptJson } from '../../contracts/json.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { createHash } from 'node:crypto';
import { canonicalHash, canonicalJson } from './canonical.ts';

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

/** A momentum's inputs and results as canonical JSON text: hashed, and stored as they are. */
export interface MomentumTexts {
  inputs: string;
  results: string;
}

export const momentumTexts = (inputs: readonly unknown[], results: readonly unknown[]): MomentumTexts => ({ inputs: canonicalJson(inputs), results: canonicalJson(results) });

/**
 * `momentumHash` from the canonical texts of the inputs and results, already made for storing: the
 * same bytes (the object's keys in sorted order: height, inputs, prevHash, results, stateDigest,
 * timestamp), without encoding the inputs a second time.
 */
export function momentumHashOfTexts(m: Omit<MomentumFields, 'inputs' | 'results'>, texts: MomentumTexts): Hash {
  const h = createHash('sha3-256');
  h.update(`{"height":${canonicalJson(m.height.toString())},"inputs":`, 'utf8');
  h.update(texts.inputs, 'utf8');
  h.update(`,"prevHash":${canonicalJson(m.prevHash)},"results":`, 'utf8');
  h.update(texts.results, 'utf8');
  h.update(`,"stateDigest":${canonicalJson(m.stateDigest)},"timestamp":${canonicalJson(m.timestamp.toString())}}`, 'utf8');
  return `0x${h.digest('hex')}` as Hash;
}

/** A changed entity as a momentum's digest covers it: its key and its JSON view after the momentum (null: deleted). */
type Entry = [key: string, view: unknown];

function entries<K extends string, V>(keys: ReadonlySet<K>, map: ReadonlyMap<K, V>, view: (k: K, v: V) => unknown): Entry[] {
  return [...keys].sort().map((k) => {
    const v = map.get(k);
    return [k, v === undefined ? null : view(k, v)];
  });
}

/** A provider as the digest covers it: its JSON view without the pending list, whose entries are covered one by one. */
function providerFields(address: Address, p: Provider): unknown {
  // The list left out before the view is built: a provider may carry 250,000 entries.
  const { pendingEarnings: _entries, ...fields } = providerJson(address, { ...p, pendingEarnings: [] });
  return fields;
}

/** `[provider/claimableAt/sessionId, amount]` per pending entry the momentum wrote or removed (amount null), sorted by key. */
function pendingEntries(keys: ReadonlySet<PendingKey>, state: State): Entry[] {
  return [...keys].sort().map((key) => {
    const { provider, claimableAt, sessionId } = parsePendingKey(key);
    const p = state.providers.get(provider);
    const e = p === undefined ? undefined : pendingEntry(p, claimableAt, sessionId);
    return [key, e === undefined ? null : e.amount.toString()];
  });
}

/**
 * The state digest of a momentum after genesis: SHA3-256 of the canonical JSON of
 * `{ prevHash, accounts, zApps, providers, pendingEarnings, sessions, burned }`, each a list of
 * `[key, view]` for the entities the momentum changed (sorted by key; view null when deleted) —
 * providers without their pending list, whose changed entries are listed in `pendingEarnings` as
 * `[provider/claimableAt/sessionId, amount]` — and `burned` the new total when the momentum burned
 * QSR (else null): exactly the rows its commit writes. O(changes), not O(state); chained to the
 * previous momentum's hash, so the digests of a chain cover every state row ever written. Replay
 * recomputes it from the re-applied inputs and finally compares the whole state with the rows.
 * `sessionView`: sessionJson, or a memo of it shared with the rows the commit writes.
 */
export function changesDigest(prevHash: Hash, state: State, changed: Changed, sessionView: (id: Hash, s: Session) => unknown = sessionJson): Hash {
  return canonicalHash({
    prevHash,
    accounts: entries(changed.accounts, state.accounts, accountJson),
    zApps: entries(changed.zApps, state.zApps, zAppJson),
    providers: entries(changed.providers, state.providers, providerFields),
    pendingEarnings: pendingEntries(changed.pendingEarnings, state),
    sessions: entries(changed.sessions, state.sessions, sessionView),
    burned: changed.burned ? state.burned.toString() : null,
  });
}

/** The identity of a genesis: SHA3-256 of the canonical JSON of its file form (defaults filled in). */
export function genesisHash(genesis: Genesis): Hash {
  return canonicalHash(genesisToJson(genesis));
}
