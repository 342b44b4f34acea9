/// <reference lib="dom" />
/**
 * Test kit of the metering tests and benchmarks: WAT fixtures (compiled with wabt) and running an
 * instrumented export under a meter.
 */
import wabtInit from 'wabt';
import { instrument } from '../../unikernel-runner/metering/instrument.ts';
import type { InstrumentedModule, MeteringPolicy } from '../../unikernel-runner/metering/instrument.ts';
import { createMeter } from '../../unikernel-runner/metering/meter.ts';
import type { Meter } from '../../unikernel-runner/metering/meter.ts';
import type { GasTable } from '../../unikernel-runner/metering/table.ts';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Wabt | undefined;

export interface WatFeatures {
  sign_extension?: boolean;
  bulk_memory?: boolean;
  sat_float_to_int?: boolean;
  simd?: boolean;
  threads?: boolean;
  multi_value?: boolean;
  reference_types?: boolean;
  tail_call?: boolean;
  mutable_globals?: boolean;
}

/** Compiles WebAssembly text to a binary (MVP features unless asked). */
export async function wat(text: string, features: WatFeatures = {}): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const all = { sign_extension: false, bulk_memory: false, sat_float_to_int: false, multi_value: false, reference_types: false, mutable_globals: true, ...features };
  const module = wabt.parseWat('fixture.wat', text, all);
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({ canonicalize_lebs: true }).buffer);
  } finally {
    module.destroy();
  }
}

export interface Run {
  result?: unknown;
  error?: unknown;
  gasUsed: bigint;
  meter: Meter;
}

export interface RunOptions {
  gasLimit?: bigint;
  chunk?: bigint;
  abortFlag?: Int32Array;
  env?: Record<string, (...args: number[]) => number | void>;
  /** Charge the module's initialGas before running, as the runtime does. */
  chargeInitial?: boolean;
}

/** Instantiates an instrumented module and calls one export under a fresh meter. */
export function runExport(module: InstrumentedModule | WebAssembly.Module, name: string, args: Array<number | bigint>, options: RunOptions = {}): Run {
  const meter = createMeter({
    gasLimit: options.gasLimit ?? 1_000_000_000n,
    ...(options.chunk === undefined ? {} : { chunk: options.chunk }),
    ...(options.abortFlag === undefined ? {} : { abortFlag: options.abortFlag }),
  });
  const compiled = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module.bytes as BufferSource);
  try {
    if (options.chargeInitial === true && !(module instanceof WebAssembly.Module)) meter.charge(module.initialGas);
    const instance = new WebAssembly.Instance(compiled, { ...meter.imports, env: options.env ?? {} });
    meter.bind(instance);
    const fn = instance.exports[name] as (...a: Array<number | bigint>) => unknown;
    const result = fn(...args);
    return { result, gasUsed: meter.used(), meter };
  } catch (error) {
    return { error, gasUsed: meter.used(), meter };
  }
}

/** Instruments a WAT text in raw mode (no zApp export/import checks). */
export async function rawModule(text: string, table: GasTable, policy: Partial<MeteringPolicy> = {}, features: WatFeatures = {}): Promise<InstrumentedModule> {
  return instrument(await wat(text, features), table, { raw: true, ...policy });
}
