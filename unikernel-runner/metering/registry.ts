/**
 * The one place that knows which gas tables the project ships and which metering semantics this
 * code implements. A genesis pins both (the table by hash, the metering version); a node, a runner
 * or a re-executor built from a genesis asks here and refuses what it cannot reproduce.
 *
 * The tables are imported as modules, so a single-file bundle carries them and reads nothing from disk.
 */
import { ZgasError } from '../../contracts/errors.ts';
import type { Hash } from '../../contracts/types.ts';
import { DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE, gasTableHash, parseGasTable } from './table.ts';
import type { GasTable } from './table.ts';
import zenoV1 from './tables/zeno-wasm-gas-v1.json' with { type: 'json' };
import extendedV1 from './tables/zgas-wasm-extended-v1.json' with { type: 'json' };

/**
 * The metering semantics this code implements: where the instrumenter starts blocks and charges,
 * and what `callGas` is at every end of a call (docs/metering.md). Two builds with the same table
 * and the same version meter every call to the same gas; anything that changes a call's gas for the
 * same table bumps it.
 */
export const METERING_VERSION = 2;

const SOURCES: Readonly<Record<string, unknown>> = { [DEFAULT_GAS_TABLE]: zenoV1, [EXTENDED_GAS_TABLE]: extendedV1 };
/** The names of the shipped tables, the default first. */
export const SHIPPED_GAS_TABLES: readonly string[] = Object.freeze(Object.keys(SOURCES));

const byName = new Map<string, GasTable>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A shipped gas table by name (default: the reference zeno-wasm-gas-v1). */
export function gasTableByName(name: string = DEFAULT_GAS_TABLE): GasTable {
  const cached = byName.get(name);
  if (cached !== undefined) return cached;
  const source = SOURCES[name];
  if (source === undefined) throw new ZgasError('InvalidGasTable', { where: 'name', reason: `unknown table ${name}`, known: SHIPPED_GAS_TABLES });
  const table = deepFreeze(parseGasTable(structuredClone(source)));
  byName.set(name, table);
  return table;
}

/** hash → table name, for every shipped table. */
export function shippedGasTableHashes(): ReadonlyMap<Hash, string> {
  return new Map(SHIPPED_GAS_TABLES.map((name) => [gasTableHash(gasTableByName(name)), name]));
}

/** The shipped table with this hash, or undefined. */
export function findGasTable(hash: Hash): GasTable | undefined {
  const name = shippedGasTableHashes().get(hash.toLowerCase() as Hash);
  return name === undefined ? undefined : gasTableByName(name);
}

/** What a genesis pins about metering: the table by hash and, optionally, the metering version (absent: this code's). */
export interface MeteringPin {
  gasTable: Hash;
  meteringVersion?: number | undefined;
}

/** What this code meters with under a pin. */
export interface Metering {
  table: GasTable;
  tableName: string;
  meteringVersion: number;
}

/**
 * The table and version a pin names, when this code can reproduce them; otherwise a typed
 * MeteringMismatch naming the field, what this code has and what to do.
 */
export function meteringFor(pin: MeteringPin): Metering {
  const hashes = shippedGasTableHashes();
  const tableName = hashes.get(pin.gasTable.toLowerCase() as Hash);
  if (tableName === undefined) {
    throw new ZgasError('MeteringMismatch', {
      field: 'gasTable',
      genesis: pin.gasTable,
      shipped: Object.fromEntries([...hashes].map(([hash, name]) => [name, hash])),
      fix: 'set the genesis gasTable to the hash of a shipped table, or run a build that ships this table',
    });
  }
  const meteringVersion = pin.meteringVersion ?? METERING_VERSION;
  if (meteringVersion !== METERING_VERSION) {
    throw new ZgasError('MeteringMismatch', {
      field: 'meteringVersion',
      genesis: meteringVersion,
      implemented: METERING_VERSION,
      fix: `run a build that implements metering version ${meteringVersion}, or start a chain whose genesis says meteringVersion "${METERING_VERSION}"`,
    });
  }
  return { table: gasTableByName(tableName), tableName, meteringVersion };
}
