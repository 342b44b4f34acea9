import { createHash } from 'node:crypto';
import type { Hash } from '../../contracts/types.ts';
import { InvariantViolation } from '../../contracts/errors.ts';

// Momentum data is built by the host from contract results: anything not plain JSON is a bug.
const bug = (message: string): never => {
  throw new InvariantViolation(message);
};

/** Depth limit of values the canonical encoder walks. */
const MAX_DEPTH = 64;

/**
 * Converts a value to plain JSON data: bigint → decimal string, Uint8Array refused, undefined
 * object fields dropped, Sets and Maps refused. Deterministic: what momentums store and hash.
 */
export function toJsonValue(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) bug('value nested too deeply');
  switch (typeof value) {
    case 'bigint':
      return value.toString(10);
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isSafeInteger(value)) bug(`not a safe integer: ${value}`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1));
      if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value)) bug('maps, sets and bytes have no canonical JSON');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v, depth + 1);
      return out;
    }
    default:
      return bug(`no JSON for ${typeof value}`);
  }
}

/** Printable ASCII without `"` and `\\`: JSON writes such a string as it is, between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const quote = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/** Quoted object keys, memoized (momentums repeat a few field names thousands of times); bounded. */
const KEY_CACHE_MAX = 4_096;
const quotedKeys = new Map<string, string>();
function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = quote(k);
    if (quotedKeys.size < KEY_CACHE_MAX) quotedKeys.set(k, q);
  }
  return q;
}

/** The canonical text of `value` (string concatenation: V8 joins the pieces lazily). */
function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) bug('value nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) bug(`not a safe integer: ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + encode(value[i], depth + 1);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let inOrder = true;
      for (let i = 1; inOrder && i < keys.length; i++) if (keys[i - 1]! > keys[i]!) inOrder = false;
      if (!inOrder) keys.sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue;
        out += (first ? '' : ',') + quoteKey(k) + ':' + encode(v, depth + 1);
        first = false;
      }
      return `${out}}`;
    }
    default:
      return bug(`no canonical JSON for ${typeof value}`);
  }
}

/**
 * JSON text with object keys sorted (by UTF-16 code units) and no whitespace: equal data, equal
 * text, however JSONB reordered it. Strings are escaped as JSON.stringify does; numbers must be
 * safe integers (amounts travel as decimal strings).
 */
export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

/**
 * SHA3-256 of the canonical text's UTF-8 bytes, as `sha3(utf8Bytes(text))` gives it; the text goes
 * to the hash as it is, without a copy into a byte array first (momentums are large).
 */
export const canonicalHash = (value: unknown): Hash => `0x${createHash('sha3-256').update(canonicalJson(value), 'utf8').digest('hex')}` as Hash;
