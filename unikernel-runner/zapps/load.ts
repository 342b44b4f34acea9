/**
 * The example zApps and test modules, written as WAT and compiled in-process with wabt. The same
 * source always yields the same bytes (no names section, canonical LEBs), so a module hash is stable
 * across builds and machines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import wabtInit from 'wabt';
import { ZgasError } from '../../contracts/errors.ts';

/** zApps a runner serves. */
export const ZAPPS = ['hello', 'counter', 'fuddor-meme', 'spin'] as const;
/** Modules that exist to prove the runtime's limits: they loop, bomb, recurse or break the profile. */
export const TEST_MODULES = ['loop', 'membomb', 'recursion', 'float', 'forbidden-import'] as const;
export type ZAppName = (typeof ZAPPS)[number] | (typeof TEST_MODULES)[number];
export const ALL_MODULES: readonly ZAppName[] = [...ZAPPS, ...TEST_MODULES];

export const WAT_DIR = path.join(import.meta.dirname, 'wat');

const wabt = await wabtInit();
const cache = new Map<string, Uint8Array>();

/** Compiles WAT text to WebAssembly bytes. Features beyond the MVP stay off except what a test module needs to be expressible. */
export function compileWat(source: string, filename = 'module.wat'): Uint8Array {
  let module: ReturnType<typeof wabt.parseWat> | undefined;
  try {
    module = wabt.parseWat(filename, source, { mutable_globals: false, sign_extension: false, sat_float_to_int: false, bulk_memory: false, reference_types: false, multi_value: false, simd: false, threads: false });
    module.resolveNames();
    module.validate();
    const { buffer } = module.toBinary({ canonicalize_lebs: true, relocatable: false, write_debug_names: false, log: false });
    return new Uint8Array(buffer);
  } catch (cause) {
    throw new ZgasError('InvalidModule', { filename, reason: cause instanceof Error ? cause.message : String(cause) }, { cause });
  } finally {
    module?.destroy();
  }
}

export function isZAppName(name: string): name is ZAppName {
  return (ALL_MODULES as readonly string[]).includes(name);
}

/** The bytes of a bundled zApp or test module, compiled once per process. Returns a fresh copy. */
export function loadZApp(name: ZAppName): Uint8Array {
  if (!isZAppName(name)) throw new ZgasError('NotFound', { zApp: name });
  let bytes = cache.get(name);
  if (bytes === undefined) {
    bytes = compileWat(readFileSync(path.join(WAT_DIR, `${name}.wat`), 'utf8'), `${name}.wat`);
    cache.set(name, bytes);
  }
  return bytes.slice();
}
