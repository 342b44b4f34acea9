/**
 * The metering policy: the structural limits of the determinism profile (memory cap, call depth,
 * counts and sizes), their defaults, and how a module that breaks one is refused (a typed
 * ZgasError naming the rule and the byte offset).
 */
import { ZgasError } from '../../contracts/errors.ts';

export interface MeteringPolicy {
  /** Memory cap in 64 KiB pages, for the initial size and every grow (256 = 16 MiB). */
  maxMemoryPages: number;
  /**
   * Frames of guest functions that make calls active at once; one more traps. A function that
   * makes no call (a leaf) is not counted: it adds one frame at most.
   */
  maxCallDepth: number;
  maxModuleBytes: number;
  maxFunctions: number;
  /** Parameters plus declared locals of one function. */
  maxLocals: number;
  maxGlobals: number;
  maxTypes: number;
  maxImports: number;
  maxExports: number;
  maxTableEntries: number;
  /** Element plus data segments. */
  maxSegments: number;
  /** Function indices all active element segments together write at instantiation. */
  maxElementEntries: number;
  /** Bytes all data segments together hold (active ones are copied at instantiation). */
  maxDataBytes: number;
  /** Nesting of block/loop/if in one function. */
  maxBlockDepth: number;
  maxBrTableTargets: number;
  maxFunctionBytes: number;
  /**
   * A function body once metered (its size field included). Metering grows code by a bounded
   * factor (at worst about 14× for a body of empty loops); this caps the result below V8's own
   * per-function limit (7,654,321 bytes), so a module the engine would refuse is refused here,
   * by name, at registration.
   */
  maxInstrumentedFunctionBytes: number;
  /**
   * Instrument a module that is not a zApp (benchmarks, tools): skips the host-ABI import check
   * (any function import except module `zgas`) and the memory/alloc/handle export check. Every other
   * rule and all metering still apply.
   */
  raw: boolean;
}

export const DEFAULT_POLICY: Readonly<MeteringPolicy> = Object.freeze({
  maxMemoryPages: 256,
  maxCallDepth: 512,
  maxModuleBytes: 4 * 1024 * 1024,
  maxFunctions: 10_000,
  maxLocals: 1_024,
  maxGlobals: 1_024,
  maxTypes: 1_024,
  maxImports: 64,
  maxExports: 1_024,
  maxTableEntries: 65_536,
  maxSegments: 4_096,
  maxElementEntries: 65_536,
  maxDataBytes: 2 * 1024 * 1024,
  maxBlockDepth: 1_024,
  maxBrTableTargets: 65_536,
  maxFunctionBytes: 1024 * 1024,
  maxInstrumentedFunctionBytes: 7_000_000,
  raw: false,
});

/** The largest page count a 32-bit memory may have. */
export const WASM_MAX_PAGES = 65_536;

/** The error codes a refusal of a module may carry. */
export type RejectionCode = 'ForbiddenOpcode' | 'ForbiddenType' | 'ForbiddenFeature' | 'ForbiddenImport' | 'ForbiddenStart' | 'MemoryTooLarge' | 'MissingExport' | 'ModuleTooLarge' | 'ModuleLimitExceeded' | 'InvalidModule';

/** Refuses the module: `rule` names what it breaks, `offset` where in its bytes. */
export function reject(code: RejectionCode, rule: string, offset: number, extra: Record<string, unknown> = {}): never {
  throw new ZgasError(code, { rule, offset, ...extra });
}

/** Refuses the module when `value` exceeds the policy figure `max` of `what`. */
export function limit(what: keyof MeteringPolicy, value: number, max: number, offset: number): void {
  if (value > max) reject('ModuleLimitExceeded', what, offset, { value, max });
}

/** The policy with defaults for what is not given; refuses figures out of range. */
export function resolvePolicy(policy: Partial<MeteringPolicy> | undefined): MeteringPolicy {
  const p: MeteringPolicy = { ...DEFAULT_POLICY, ...policy };
  for (const [key, value] of Object.entries(p)) {
    if (key === 'raw') continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ZgasError('InvalidRequest', { field: `policy.${key}`, reason: 'a non-negative integer' });
  }
  if (p.maxMemoryPages > WASM_MAX_PAGES) throw new ZgasError('InvalidRequest', { field: 'policy.maxMemoryPages', reason: `at most ${WASM_MAX_PAGES}` });
  if (p.maxCallDepth < 1 || p.maxCallDepth > 100_000) throw new ZgasError('InvalidRequest', { field: 'policy.maxCallDepth', reason: 'between 1 and 100000' });
  return p;
}
