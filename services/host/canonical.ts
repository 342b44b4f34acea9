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

/** JSON text with object keys sorted and no whitespace: equal data, equal text (however JSONB reordered it). */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) bug('value nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) bug(`not a safe integer: ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
    }
    default:
      return bug(`no canonical JSON for ${typeof value}`);
  }
}

export const canonicalHash = (value: unknown): Hash => sha3(utf8Bytes(canonicalJson(value)));
