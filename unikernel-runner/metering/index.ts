/** WASM metering: gas tables, the instrumenter and the host side of the gas counter (docs/metering.md). */
export { DEFAULT_POLICY, DEPTH_EXPORT, GAS_EXPORT, instrument, REFILL_FIELD, REFILL_MODULE } from './instrument.ts';
export type { InstrumentedModule, MeteringPolicy } from './instrument.ts';
export { AbortedTrap, createMeter, DEFAULT_CHUNK_GAS, OutOfGasTrap } from './meter.ts';
export type { Meter, MeterOptions } from './meter.ts';
export {
  canonicalJson, DEFAULT_GAS_TABLE, effectPrice, EXTENDED_GAS_TABLE, gasTableHash, hostCallPrice, parseGasTable, priceOf,
} from './table.ts';
export type { BytePrice, EffectName, GasTable, HostCallName } from './table.ts';
export { findGasTable, gasTableByName, METERING_VERSION, meteringFor, SHIPPED_GAS_TABLES, shippedGasTableHashes } from './registry.ts';
export type { Metering, MeteringPin } from './registry.ts';
