/**
 * Gas tables: the data that prices every accepted opcode, the dynamic surcharges, host calls and
 * effects. A table also defines its profile: an opcode it does not price is rejected. Genesis names
 * a table by `gasTableHash`, the SHA3-256 of its canonical JSON.
 */
import { assert, ZgasError } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Hash } from '../../contracts/types.ts';

/** A price of `base + per32Bytes × ceil(bytes / 32)` gas. */
export interface BytePrice {
  base: number;
  per32Bytes: number;
}

export interface GasTable {
  id: string;
  source: string;
  profile: string;
  rejected?: string[];
  /** Keyed by opcode: "0x6A", or "0xFC:0x0A" for a prefixed opcode. */
  opcodes: Record<string, { name: string; cost: number }>;
  surcharges: {
    br_table_per_target_including_default: number;
    memory_grow_per_page: number;
    memory_initial_per_page: number;
    /** Extended profile only: bulk memory operations, per started 32 bytes. */
    bulk_memory_per_32_bytes?: number;
  };
  /** Host functions priced by the reference table (storage_read, abort, …). */
  host: Record<string, BytePrice>;
  /** Effects charged when a call ends (state_diff_entry, return_data, …). */
  effects: Record<string, BytePrice>;
  /** Host functions the reference table does not price: the project's own figures. */
  hostCalls: Record<string, BytePrice>;
  /**
   * What instantiating the module costs beyond its initial memory, charged at every call's start
   * (each call instantiates afresh): the project's own figures, see tables/README.md.
   */
  instantiation: {
    /** Per slot of the table's initial size. */
    table_entry: number;
    /** Per function index an active element segment writes into the table. */
    element_entry: number;
    /** Per active data segment, on its byte count. */
    data_segment: BytePrice;
  };
  /**
   * Hashing a changed state (the project's own figure, see tables/README.md): `rehash` is charged
   * when a call changed the state, on the encoded bytes of its post-state from the first changed
   * key to the end, which is what the protocol's sorted-entries hash must absorb again.
   */
  stateHash: {
    rehash: BytePrice;
  };
}

/** The host ABI functions and where their price lives in a table. */
export type HostCallName = 'storage_read' | 'storage_write' | 'storage_delete' | 'context_seed' | 'abort';
export type EffectName = 'state_diff_entry' | 'return_data';

/** The key in `hostCalls` of the charge every host call pays besides its own price. */
export const HOST_CALL_BASE = 'host_call';
export const DEFAULT_GAS_TABLE = 'zeno-wasm-gas-v1';
export const EXTENDED_GAS_TABLE = 'zgas-wasm-extended-v1';

// Opcodes no table may price: their results are not bit-for-bit deterministic across engines,
// or they need features the runtime does not give (shared memory, tables of references).
const MAX_FIGURE = 1_000_000;
/** Dynamic charges pass through the i32 refill argument: keep their factors small. */
const MAX_PER_UNIT_FIGURE = 65_535;
const MAX_BULK_PER_32 = 31;

/** Prefixed (0xFC) opcodes a table may price: memory.init, data.drop, memory.copy, memory.fill. */
export const PRICEABLE_PREFIXED = new Set([0x08, 0x09, 0x0a, 0x0b]);

/** Whether a single-byte opcode is integer MVP or sign-extension (the only ones a table may price). */
export function isPriceableOpcode(op: number): boolean {
  if (op <= 0x05 || op === 0x0b) return true; // control
  if (op >= 0x0c && op <= 0x11) return true; // br … call_indirect
  if (op === 0x1a || op === 0x1b) return true; // drop, select
  if (op >= 0x20 && op <= 0x24) return true; // locals, globals
  if ((op >= 0x28 && op <= 0x29) || (op >= 0x2c && op <= 0x37) || (op >= 0x3a && op <= 0x42)) return true;
  if (op >= 0x45 && op <= 0x5a) return true; // integer comparisons
  if (op >= 0x67 && op <= 0x8a) return true; // integer arithmetic
  if (op === 0xa7 || op === 0xac || op === 0xad) return true; // wrap, extend
  if (op >= 0xc0 && op <= 0xc4) return true; // sign extension
  return false;
}

const OPCODE_KEY = /^0x([0-9A-F]{2})$/;
const PREFIXED_KEY = /^0xFC:0x([0-9A-F]{2})$/;

function isFigure(value: unknown, max = MAX_FIGURE): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

function checkPrice(where: string, value: unknown): BytePrice {
  const p = value as Partial<BytePrice> | null;
  if (typeof p !== 'object' || p === null || !isFigure(p.base) || !isFigure(p.per32Bytes)) {
    throw new ZgasError('InvalidGasTable', { where, reason: 'a price is { base, per32Bytes } of integers' });
  }
  return { base: p.base, per32Bytes: p.per32Bytes };
}

/** Checks a parsed table's shape and figures; returns it typed. */
export function parseGasTable(value: unknown): GasTable {
  const t = value as Partial<GasTable> | null;
  const bad = (where: string, reason: string): never => {
    throw new ZgasError('InvalidGasTable', { where, reason });
  };
  if (typeof t !== 'object' || t === null) return bad('table', 'not an object');
  if (typeof t.id !== 'string' || typeof t.source !== 'string' || typeof t.profile !== 'string') return bad('table', 'id, source and profile are strings');
  if (typeof t.opcodes !== 'object' || t.opcodes === null) return bad('opcodes', 'missing');
  for (const [key, entry] of Object.entries(t.opcodes)) {
    const single = OPCODE_KEY.exec(key);
    const prefixed = PREFIXED_KEY.exec(key);
    if (single !== null) {
      if (!isPriceableOpcode(Number.parseInt(single[1]!, 16))) bad(`opcodes.${key}`, 'this opcode is outside every determinism profile');
    } else if (prefixed !== null) {
      if (!PRICEABLE_PREFIXED.has(Number.parseInt(prefixed[1]!, 16))) bad(`opcodes.${key}`, 'only memory.init, data.drop, memory.copy and memory.fill may be priced');
    } else {
      bad(`opcodes.${key}`, 'keys are 0xNN or 0xFC:0xNN in uppercase hex');
    }
    if (typeof entry?.name !== 'string' || !isFigure(entry.cost)) bad(`opcodes.${key}`, 'each opcode is { name, cost } with an integer cost');
  }
  const s = t.surcharges;
  if (typeof s !== 'object' || s === null) return bad('surcharges', 'missing');
  if (!isFigure(s.br_table_per_target_including_default)) bad('surcharges.br_table_per_target_including_default', 'integer');
  if (!isFigure(s.memory_grow_per_page, MAX_PER_UNIT_FIGURE)) bad('surcharges.memory_grow_per_page', `integer at most ${MAX_PER_UNIT_FIGURE}`);
  if (!isFigure(s.memory_initial_per_page)) bad('surcharges.memory_initial_per_page', 'integer');
  const bulk = ['0xFC:0x08', '0xFC:0x0A', '0xFC:0x0B'].some((k) => k in t.opcodes!);
  if (bulk && !isFigure(s.bulk_memory_per_32_bytes, MAX_BULK_PER_32)) bad('surcharges.bulk_memory_per_32_bytes', `bulk memory needs a per-32-bytes figure, an integer at most ${MAX_BULK_PER_32}`);
  for (const section of ['host', 'effects', 'hostCalls'] as const) {
    const prices = t[section];
    if (typeof prices !== 'object' || prices === null) return bad(section, 'missing');
    for (const [name, p] of Object.entries(prices)) checkPrice(`${section}.${name}`, p);
  }
  const inst = t.instantiation;
  if (typeof inst !== 'object' || inst === null) return bad('instantiation', 'missing: table_entry, element_entry and data_segment');
  if (!isFigure(inst.table_entry)) bad('instantiation.table_entry', 'integer');
  if (!isFigure(inst.element_entry)) bad('instantiation.element_entry', 'integer');
  checkPrice('instantiation.data_segment', inst.data_segment);
  const stateHashing = t.stateHash;
  if (typeof stateHashing !== 'object' || stateHashing === null) return bad('stateHash', 'missing: rehash');
  checkPrice('stateHash.rehash', stateHashing.rehash);
  for (const name of ['storage_read', 'storage_write', 'storage_delete', 'context_seed', 'abort'] as const) {
    if (!(name in t.host!) && !(name in t.hostCalls!)) bad(`hostCalls.${name}`, 'every host ABI function needs a price');
  }
  for (const name of ['state_diff_entry', 'return_data'] as const) {
    if (!(name in t.effects!)) bad(`effects.${name}`, 'missing');
  }
  return t as GasTable;
}

/** JSON with object keys sorted at every level, no whitespace; integers only. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    assert(Number.isSafeInteger(value), 'canonical JSON holds integers only');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new ZgasError('InvalidGasTable', { where: 'table', reason: `cannot encode a ${typeof value}` });
}

const hashes = new WeakMap<GasTable, Hash>();

/** SHA3-256 of the table's canonical JSON: the name genesis gives the table. */
export function gasTableHash(table: GasTable): Hash {
  const cached = hashes.get(table);
  if (cached !== undefined) return cached;
  const hash = sha3(new TextEncoder().encode(canonicalJson(table)));
  if (Object.isFrozen(table)) hashes.set(table, hash);
  return hash;
}

/** The price of a host ABI function: the reference `host` figures first, then the project's `hostCalls`. */
export function hostCallPrice(table: GasTable, name: HostCallName): BytePrice {
  const p = table.host[name] ?? table.hostCalls[name];
  assert(p !== undefined, `the table prices host call ${name}`);
  return p;
}

/** The price of re-absorbing a changed state's encoding into its hash (per 32 bytes from the first changed key). */
export function stateRehashPrice(table: GasTable): BytePrice {
  return table.stateHash.rehash;
}

/**
 * The project's charge on every host ABI call, on top of the call's own price (`hostCalls.host_call`;
 * absent: none): crossing from the guest into the host costs far more than the instructions the
 * reference prices a call like (tables/README.md).
 */
export function hostCallBase(table: GasTable): BytePrice {
  return table.hostCalls[HOST_CALL_BASE] ?? { base: 0, per32Bytes: 0 };
}

export function effectPrice(table: GasTable, name: EffectName): BytePrice {
  const p = table.effects[name];
  assert(p !== undefined, `the table prices effect ${name}`);
  return p;
}

/** `base + per32Bytes × ceil(bytes / 32)`, exact. */
export function priceOf(p: BytePrice, bytes: number): bigint {
  assert(Number.isSafeInteger(bytes) && bytes >= 0, 'a byte count is a non-negative integer');
  return BigInt(p.base) + BigInt(p.per32Bytes) * BigInt(Math.ceil(bytes / 32));
}
