/**
 * Instrumentation and compilation, cached by (moduleHash, tableHash): a module is metered and
 * compiled once per process, then every call instantiates the compiled module afresh (and pays for
 * that instantiation through the module's initialGas).
 */
import { assert } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { instrument } from '../metering/instrument.ts';
import { effectPrice, gasTableHash, hostCallBase, hostCallPrice, stateRehashPrice } from '../metering/table.ts';
import type { BytePrice, GasTable } from '../metering/table.ts';
import type { PreparedModule } from './execute.ts';
import type { HostPrices } from './host.ts';

/** Compiled modules kept per process; the oldest is dropped beyond this. */
export const MAX_CACHED_MODULES = 64;

const cache = new Map<string, PreparedModule>();

/**
 * Meters and compiles a module once (throws the instrumenter's typed rejection for a module outside
 * the profile); later calls get the cached result. `moduleHash`, when given, is the caller's word
 * that `sha3(wasm)` is this hash (the runner checks a module's hash once, when it fetches it): the
 * cache is looked up by it and a cached module is neither hashed nor read again. `hash` is how the
 * bytes are hashed when no moduleHash is given (tests count it).
 */
export function prepareModule(wasm: Uint8Array, table: GasTable, moduleHash?: Hash, hash: (bytes: Uint8Array) => Hash = sha3): PreparedModule {
  const key = `${moduleHash?.toLowerCase() ?? hash(wasm)}:${gasTableHash(table)}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const instrumented = instrument(wasm, table);
  assert(moduleHash === undefined || instrumented.moduleHash === moduleHash.toLowerCase(), 'the module hash the caller gave is the hash of the bytes');
  const prepared: PreparedModule = {
    module: new WebAssembly.Module(instrumented.bytes as Uint8Array<ArrayBuffer>),
    initialGas: gas(instrumented.initialGas),
    moduleHash: instrumented.moduleHash,
    instrumentedHash: instrumented.instrumentedHash,
    tableHash: instrumented.tableHash,
  };
  remember(key, prepared);
  return prepared;
}

function remember(key: string, prepared: PreparedModule): void {
  if (cache.size >= MAX_CACHED_MODULES) cache.delete(cache.keys().next().value!);
  cache.set(key, prepared);
}

/** The host and effect prices of a table, in the shape the runtime charges from: every host call pays the table's host-call base besides its own price. */
export function hostPrices(table: GasTable): HostPrices {
  const base = hostCallBase(table);
  const withBase = (p: BytePrice): BytePrice => ({ base: p.base + base.base, per32Bytes: p.per32Bytes + base.per32Bytes });
  return {
    storageRead: withBase(hostCallPrice(table, 'storage_read')),
    storageWrite: withBase(hostCallPrice(table, 'storage_write')),
    storageDelete: withBase(hostCallPrice(table, 'storage_delete')),
    contextSeed: withBase(hostCallPrice(table, 'context_seed')),
    abort: withBase(hostCallPrice(table, 'abort')),
    stateDiffEntry: { ...effectPrice(table, 'state_diff_entry') },
    returnData: { ...effectPrice(table, 'return_data') },
    stateRehash: { ...stateRehashPrice(table) },
  };
}
