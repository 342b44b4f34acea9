/**
 * What the determinism profile says about opcodes a table does not price: the rule that rejects
 * each one, and their printable names in rejections.
 */

export type OpcodeRule =
  | 'float'
  | 'simd'
  | 'threads'
  | 'sign-extension'
  | 'saturating-trunc'
  | 'bulk-memory'
  | 'reference-types'
  | 'tail-call'
  | 'exceptions'
  | 'unknown-opcode';

const FLOAT_RANGES: Array<[number, number]> = [
  [0x2a, 0x2b], // f32.load, f64.load
  [0x38, 0x39], // f32.store, f64.store
  [0x43, 0x44], // f32.const, f64.const
  [0x5b, 0x66], // float comparisons
  [0x8b, 0xa6], // float arithmetic
  [0xa8, 0xab], // i32.trunc_f*
  [0xae, 0xbf], // i64.trunc_f*, float conversions, reinterpretations
];

/** The rule that rejects a single-byte opcode (or prefix) the table does not price. */
export function ruleOf(op: number): OpcodeRule {
  for (const [lo, hi] of FLOAT_RANGES) if (op >= lo && op <= hi) return 'float';
  if (op === 0xfd) return 'simd';
  if (op === 0xfe) return 'threads';
  if (op >= 0xc0 && op <= 0xc4) return 'sign-extension';
  if (op === 0x1c || op === 0x25 || op === 0x26 || (op >= 0xd0 && op <= 0xd6)) return 'reference-types';
  if (op === 0x12 || op === 0x13) return 'tail-call';
  if ((op >= 0x06 && op <= 0x0a) || op === 0x18 || op === 0x19 || op === 0x1f) return 'exceptions';
  return 'unknown-opcode';
}

/** The rule that rejects a 0xFC-prefixed opcode the table does not price. */
export function prefixedRuleOf(sub: number): OpcodeRule {
  if (sub <= 0x07) return 'saturating-trunc';
  if (sub <= 0x0e) return 'bulk-memory';
  if (sub <= 0x11) return 'reference-types';
  return 'unknown-opcode';
}

const hex2 = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

/** "0x43", or "0xFC:0x0A" for a prefixed opcode: the table's key format. */
export function opcodeKey(op: number, sub?: number): string {
  return sub === undefined ? hex2(op) : `${hex2(op)}:${hex2(sub)}`;
}
