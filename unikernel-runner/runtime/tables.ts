/**
 * The gas tables compiled into the runner (imported as modules, so a single-file bundle carries
 * them and reads nothing from disk).
 */
import { ZgasError } from '../../contracts/errors.ts';
import { DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE, parseGasTable } from '../metering/table.ts';
import type { GasTable } from '../metering/table.ts';
import zenoV1 from '../metering/tables/zeno-wasm-gas-v1.json' with { type: 'json' };
import extendedV1 from '../metering/tables/zgas-wasm-extended-v1.json' with { type: 'json' };

const SOURCES: Record<string, unknown> = { [DEFAULT_GAS_TABLE]: zenoV1, [EXTENDED_GAS_TABLE]: extendedV1 };
const tables = new Map<string, GasTable>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A built-in gas table by name (default: the reference zeno-wasm-gas-v1). */
export function gasTableByName(name: string = DEFAULT_GAS_TABLE): GasTable {
  const cached = tables.get(name);
  if (cached !== undefined) return cached;
  const source = SOURCES[name];
  if (source === undefined) throw new ZgasError('InvalidGasTable', { where: 'name', reason: `unknown table ${name}`, known: Object.keys(SOURCES) });
  const table = deepFreeze(parseGasTable(structuredClone(source)));
  tables.set(name, table);
  return table;
}
