import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
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

/** Appends the canonical text of `value` to `out`. */
function write(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) bug('value nested too deeply');
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) bug(`not a safe integer: ${value}`);
      out.push(String(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          write(value[i], out, depth + 1);
        }
        out.push(']');
        return;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let inOrder = true;
      for (let i = 1; inOrder && i < keys.length; i++) if (keys[i - 1]! > keys[i]!) inOrder = false;
      if (!inOrder) keys.sort();
      let first = true;
      out.push('{');
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue;
        out.push(first ? JSON.stringify(k) : `,${JSON.stringify(k)}`, ':');
        first = false;
        write(v, out, depth + 1);
      }
      out.push('}');
      return;
    }
    default:
      bug(`no canonical JSON for ${typeof value}`);
  }
}

/**
 * JSON text with object keys sorted (by UTF-16 code units) and no whitespace: equal data, equal
 * text, however JSONB reordered it. Strings are escaped as JSON.stringify does; numbers must be
 * safe integers (amounts travel as decimal strings).
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join('');
}

export const canonicalHash = (value: unknown): Hash => sha3(utf8Bytes(canonicalJson(value)));
