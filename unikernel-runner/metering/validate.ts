/// <reference lib="dom" />
/**
 * The determinism profile's module-level checks: everything about a module except its function
 * bodies (which the block scanner checks instruction by instruction), and the engine's own
 * validation as the final word on typing.
 */
import { opcodeKey } from './opcodes.ts';
import { DEPTH_EXPORT, GAS_EXPORT, REFILL_MODULE } from './names.ts';
import { limit, reject } from './policy.ts';
import type { MeteringPolicy } from './policy.ts';
import { WASM_MAX_PAGES } from './policy.ts';
import type { GasTable } from './table.ts';
import { F32, F64, FUNCREF, I32, I64, malformed, Reader, V128 } from './wasm.ts';

/** The host ABI a zApp may import from `env`: name → [params, results]. */
const HOST_ABI: Record<string, readonly [number[], number[]]> = {
  storage_read: [[I32, I32, I32, I32], [I32]],
  storage_write: [[I32, I32, I32, I32], []],
  storage_delete: [[I32, I32], []],
  context_seed: [[I32], []],
  abort: [[I32], []],
};

export interface FuncType {
  params: number[];
  results: number[];
}

export interface Section {
  id: number;
  start: number;
  end: number;
}

// Canonical position of each known section id (custom sections excluded).
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

/** A value type of the profile (i32, i64); refuses floats, SIMD and references by name. */
export function valType(byte: number, offset: number): number {
  if (byte === I32 || byte === I64) return byte;
  if (byte === F32 || byte === F64) reject('ForbiddenType', 'float', offset, { type: byte === F32 ? 'f32' : 'f64' });
  if (byte === V128) reject('ForbiddenType', 'simd', offset, { type: 'v128' });
  if (byte === FUNCREF || byte === 0x6f) reject('ForbiddenType', 'reference-types', offset, { type: byte === FUNCREF ? 'funcref' : 'externref' });
  return malformed(offset, `unknown value type 0x${byte.toString(16)}`);
}

/** Everything the rewrite needs to know about the input module. */
export interface ModuleInfo {
  sections: Section[];
  types: FuncType[];
  funcImports: number;
  importedFuncTypes: number[];
  funcTypes: number[]; // defined functions
  globals: number;
  tables: number;
  memory: { min: number; max: number | undefined } | undefined;
  dataCount: number | undefined;
  tableEntries: number;
  elementEntries: number;
  dataSegmentBytes: number[];
}

function parseLimits(r: Reader, allowShared: boolean): { min: number; max: number | undefined; at: number } {
  const at = r.pos;
  const flags = r.u8();
  if (flags === 0x02 || flags === 0x03) {
    if (!allowShared) reject('ForbiddenFeature', 'shared-memory', at);
  }
  if (flags > 0x03) reject('ForbiddenFeature', flags >= 0x04 && flags <= 0x07 ? 'memory64' : 'limits', at, { flags });
  const min = r.u32();
  const max = (flags & 1) === 1 ? r.u32() : undefined;
  if (max !== undefined && max < min) malformed(at, 'limits maximum below minimum');
  return { min, max, at };
}

/** A constant expression: `i32.const n end` or `i64.const n end` of the expected type. */
export function skipConstExpr(r: Reader, type: number): void {
  const at = r.pos;
  const op = r.u8();
  if (op === 0x41 && type === I32) r.skipSigned(5);
  else if (op === 0x42 && type === I64) r.skipSigned(10);
  else if (op === 0x43 || op === 0x44) reject('ForbiddenOpcode', 'float', at, { opcode: opcodeKey(op) });
  else reject('InvalidModule', 'const-expr', at, { opcode: opcodeKey(op), reason: 'constant expressions are i32.const or i64.const of the declared type' });
  if (r.u8() !== 0x0b) malformed(r.pos - 1, 'constant expression not closed by end');
}

/**
 * Reads the module's sections and checks them against the profile (order, types, imports against
 * the host ABI, table, memory cap, globals, exports, element and data segments and their caps);
 * function bodies are checked while they are scanned.
 */
export function parseModule(bytes: Uint8Array, table: GasTable, policy: MeteringPolicy): ModuleInfo {
  if (bytes.length < 8) malformed(0, 'shorter than the module header');
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) malformed(0, 'missing the \\0asm magic');
  if (bytes[4] !== 0x01 || bytes[5] !== 0x00 || bytes[6] !== 0x00 || bytes[7] !== 0x00) malformed(4, 'unsupported binary version');
  const bulk = '0xFC:0x08' in table.opcodes;
  const info: ModuleInfo = { sections: [], types: [], funcImports: 0, importedFuncTypes: [], funcTypes: [], globals: 0, tables: 0, memory: undefined, dataCount: undefined, tableEntries: 0, elementEntries: 0, dataSegmentBytes: [] };
  let dataBytes = 0;
  const r = new Reader(bytes, 8);
  let lastOrder = 0;
  let segments = 0;
  let codeCount: number | undefined;
  let exportsSeen: Array<{ name: string; kind: number; index: number; at: number }> = [];
  while (!r.done) {
    const at = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (size > r.end - start) malformed(at, 'section runs past the end');
    const end = start + size;
    if (id !== 0) {
      const order = SECTION_ORDER[id];
      if (order === undefined) reject('ForbiddenFeature', 'unknown-section', at, { section: id });
      if (order <= lastOrder) malformed(at, `section ${id} out of order or repeated`);
      lastOrder = order;
    }
    info.sections.push({ id, start, end });
    const s = new Reader(bytes, start, end);
    switch (id) {
      case 0:
        // A custom section (names, producers, debug info) is dropped from the output: only its
        // name must be well formed; its content is never read.
        s.name();
        s.pos = end;
        break;
      case 1: {
        const count = s.u32();
        limit('maxTypes', count, policy.maxTypes, start);
        for (let i = 0; i < count; i++) {
          const tAt = s.pos;
          const form = s.u8();
          if (form !== 0x60) malformed(tAt, 'a type is not a function type (0x60)');
          const params: number[] = [];
          const np = s.u32();
          limit('maxLocals', np, policy.maxLocals, tAt);
          for (let j = 0; j < np; j++) params.push(valType(s.u8(), s.pos - 1));
          const results: number[] = [];
          const nr = s.u32();
          if (nr > 1) reject('ForbiddenType', 'multi-value', tAt, { results: nr });
          for (let j = 0; j < nr; j++) results.push(valType(s.u8(), s.pos - 1));
          info.types.push({ params, results });
        }
        break;
      }
      case 2: {
        const count = s.u32();
        limit('maxImports', count, policy.maxImports, start);
        const seen = new Set<string>();
        for (let i = 0; i < count; i++) {
          const iAt = s.pos;
          const module = s.name();
          const field = s.name();
          const kind = s.u8();
          if (kind !== 0) reject('ForbiddenImport', ['function', 'table', 'memory', 'global'][kind] ?? 'kind', iAt, { module, field, reason: 'only functions may be imported' });
          const typeIndex = s.u32();
          const type = info.types[typeIndex];
          if (type === undefined) malformed(iAt, 'import type index out of range');
          if (module === REFILL_MODULE) reject('ForbiddenImport', 'reserved-module', iAt, { module, field });
          if (!policy.raw) {
            const abi = HOST_ABI[field];
            if (module !== 'env' || abi === undefined) reject('ForbiddenImport', 'host-abi', iAt, { module, field });
            if (!sameSignature(type, abi[0], abi[1])) reject('ForbiddenImport', 'signature', iAt, { module, field });
            if (seen.has(field)) reject('ForbiddenImport', 'duplicate', iAt, { module, field });
            seen.add(field);
          }
          info.importedFuncTypes.push(typeIndex);
          info.funcImports++;
        }
        break;
      }
      case 3: {
        const count = s.u32();
        limit('maxFunctions', count + info.funcImports, policy.maxFunctions, start);
        for (let i = 0; i < count; i++) {
          const fAt = s.pos;
          const typeIndex = s.u32();
          if (typeIndex >= info.types.length) malformed(fAt, 'function type index out of range');
          info.funcTypes.push(typeIndex);
        }
        break;
      }
      case 4: {
        const count = s.u32();
        if (count > 1) reject('ForbiddenFeature', 'multiple-tables', start, { tables: count });
        for (let i = 0; i < count; i++) {
          const tAt = s.pos;
          const elem = s.u8();
          if (elem !== FUNCREF) reject('ForbiddenType', 'reference-types', tAt, { reason: 'tables hold funcref only' });
          const { min } = parseLimits(s, false);
          limit('maxTableEntries', min, policy.maxTableEntries, tAt);
          info.tables++;
          info.tableEntries = min;
        }
        break;
      }
      case 5: {
        const count = s.u32();
        if (count > 1) reject('ForbiddenFeature', 'multiple-memories', start, { memories: count });
        for (let i = 0; i < count; i++) {
          const { min, max, at: mAt } = parseLimits(s, false);
          if (min > WASM_MAX_PAGES || (max !== undefined && max > WASM_MAX_PAGES)) malformed(mAt, 'memory above 65536 pages');
          if (min > policy.maxMemoryPages) reject('MemoryTooLarge', 'memory-cap', mAt, { pages: min, maxPages: policy.maxMemoryPages });
          info.memory = { min, max };
        }
        break;
      }
      case 6: {
        const count = s.u32();
        limit('maxGlobals', count, policy.maxGlobals, start);
        for (let i = 0; i < count; i++) {
          const type = valType(s.u8(), s.pos - 1);
          const mAt = s.pos;
          const mutability = s.u8();
          if (mutability > 1) malformed(mAt, 'global mutability is 0 or 1');
          skipConstExpr(s, type);
          info.globals++;
        }
        break;
      }
      case 7: {
        const count = s.u32();
        limit('maxExports', count, policy.maxExports, start);
        exportsSeen = [];
        for (let i = 0; i < count; i++) {
          const eAt = s.pos;
          const name = s.name();
          const kind = s.u8();
          const index = s.u32();
          if (name === GAS_EXPORT || name === DEPTH_EXPORT) reject('ForbiddenFeature', 'reserved-export', eAt, { name });
          const bound = [info.funcImports + info.funcTypes.length, info.tables, info.memory === undefined ? 0 : 1, info.globals][kind];
          if (bound === undefined) malformed(eAt, 'unknown export kind');
          if (index >= bound) malformed(eAt, `export ${name} index out of range`);
          exportsSeen.push({ name, kind, index, at: eAt });
        }
        break;
      }
      case 8:
        reject('ForbiddenStart', 'start', at);
        break;
      case 9: {
        const count = s.u32();
        segments += count;
        limit('maxSegments', segments, policy.maxSegments, start);
        const total = info.funcImports + info.funcTypes.length;
        for (let i = 0; i < count; i++) {
          const eAt = s.pos;
          const flags = s.u32();
          if (flags !== 0) reject('ForbiddenFeature', 'element-segment', eAt, { flags, reason: 'only active segments of table 0 with function indices' });
          skipConstExpr(s, I32);
          const n = s.u32();
          limit('maxTableEntries', n, policy.maxTableEntries, eAt);
          info.elementEntries += n;
          limit('maxElementEntries', info.elementEntries, policy.maxElementEntries, eAt);
          for (let j = 0; j < n; j++) {
            const fAt = s.pos;
            if (s.u32() >= total) malformed(fAt, 'element function index out of range');
          }
        }
        break;
      }
      case 12: {
        if (!bulk) reject('ForbiddenFeature', 'bulk-memory', at, { reason: 'the data count section belongs to bulk memory' });
        info.dataCount = s.u32();
        break;
      }
      case 10: {
        codeCount = s.u32();
        if (codeCount !== info.funcTypes.length) malformed(start, 'the code section count differs from the function section count');
        s.pos = end; // bodies are checked during the rewrite
        break;
      }
      case 11: {
        const count = s.u32();
        segments += count;
        limit('maxSegments', segments, policy.maxSegments, start);
        if (info.dataCount !== undefined && info.dataCount !== count) malformed(start, 'the data count section disagrees with the data section');
        for (let i = 0; i < count; i++) {
          const dAt = s.pos;
          const flags = s.u32();
          if (flags === 0) skipConstExpr(s, I32);
          else if (flags === 1 && bulk) { /* passive */ }
          else reject('ForbiddenFeature', flags === 1 ? 'bulk-memory' : 'data-segment', dAt, { flags });
          const n = s.u32();
          dataBytes += n;
          limit('maxDataBytes', dataBytes, policy.maxDataBytes, dAt);
          s.take(n);
          if (flags === 0) info.dataSegmentBytes.push(n);
        }
        break;
      }
      default:
        break;
    }
    if (id !== 10 && s.pos !== end) malformed(s.pos, `section ${id} has trailing bytes`);
    r.pos = end;
  }
  if (codeCount === undefined && info.funcTypes.length > 0) malformed(bytes.length, 'functions declared without a code section');
  if (!policy.raw) checkZAppExports(info, exportsSeen);
  return info;
}

export function sameSignature(type: FuncType, params: number[], results: number[]): boolean {
  return type.params.length === params.length && type.results.length === results.length
    && type.params.every((p, i) => p === params[i]) && type.results.every((p, i) => p === results[i]);
}

function checkZAppExports(info: ModuleInfo, exports: Array<{ name: string; kind: number; index: number }>): void {
  const find = (name: string) => exports.find((e) => e.name === name);
  const memory = find('memory');
  if (memory === undefined || memory.kind !== 2) reject('MissingExport', 'memory', 0, { name: 'memory' });
  const funcType = (index: number): FuncType | undefined => {
    const typeIndex = index < info.funcImports ? info.importedFuncTypes[index] : info.funcTypes[index - info.funcImports];
    return typeIndex === undefined ? undefined : info.types[typeIndex];
  };
  for (const [name, params, results] of [['alloc', [I32], [I32]], ['handle', [I32, I32], [I64]]] as const) {
    const e = find(name);
    const type = e !== undefined && e.kind === 0 ? funcType(e.index) : undefined;
    if (type === undefined || !sameSignature(type, [...params], [...results])) {
      reject('MissingExport', name, 0, { name, signature: name === 'alloc' ? 'alloc(i32) -> i32' : 'handle(i32, i32) -> i64' });
    }
  }
}

/**
 * The engine's validator on the input module: the structural checks name rule and offset, this
 * refuses what they leave (a body that does not type-check) with the engine's reason and offset.
 */
export function validateWithEngine(wasm: Uint8Array): void {
  if (WebAssembly.validate(wasm as BufferSource)) return;
  let message = 'invalid module';
  try {
    new WebAssembly.Module(wasm as BufferSource);
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  const offset = /@\+(\d+)/.exec(message);
  reject('InvalidModule', 'validation', offset === null ? 0 : Number(offset[1]), { reason: message });
}
