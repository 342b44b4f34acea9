import { MAX_CALL_DATA_BYTES } from './abi/methods.ts';
import { ZgasError, isZgasError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import { MAX_STATE_KEY_BYTES } from './hash.ts';
import { parseAddress, parseHash, parseHex } from './hex.ts';
import type { CallStatus, Hex, SettlementReceipt, SignedCall, SignedInvocation, StateWrite } from './types.ts';
import { parseGas, parseUint64 } from './units.ts';

/**
 * Strict JSON codecs of the signed wire objects (docs/protocol.md §JSON forms): integers as decimal
 * strings (status, a uint8, as a JSON number), bytes and hashes as 0x lowercase hex, addresses any
 * case in and EIP-55 out. Parsers take `unknown`, require exactly the listed fields and throw a
 * ZgasError whose details name the offending `path`.
 */

/** The most bytes an invocation's input may carry on the wire (genesis maxInputBytes may set less, never more). */
export const MAX_INVOCATION_INPUT_BYTES = 1024 * 1024;
/** The most state writes one call may return, and the largest key and value of one. */
export const MAX_WRITES_PER_CALL = 65_536;
export const MAX_STATE_VALUE_BYTES = 8 * 1024 * 1024;
const SIGNATURE_BYTES = 65;

/** A settlement receipt in JSON: the ten GasReceipt fields, the receipt signature and the invocation signature. */
export interface ReceiptJson {
  sessionId: string;
  seq: string;
  callGasLimit: string;
  callGas: string;
  cumulativeGas: string;
  inputHash: string;
  preStateHash: string;
  postStateHash: string;
  outputHash: string;
  status: number;
  signature: string;
  invocationSignature: string;
}

export interface CallJson {
  from: string;
  nonce: string;
  data: string;
  signature: string;
}

/** A signed invocation as sent to a runner: the input itself travels, the signature covers its hash. */
export interface InvocationJson {
  sessionId: string;
  seq: string;
  callGasLimit: string;
  input: string;
  preStateHash: string;
  ackedGas: string;
  signature: string;
}

export interface StateWriteJson {
  key: string;
  value: string | null;
}

type Fields = Record<string, unknown>;

/** Checks that `value` is a plain object with exactly `keys`. */
function object(value: unknown, keys: readonly string[], path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ZgasError('InvalidField', { path: path || '$', expected: 'object' });
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new ZgasError('InvalidField', { path: path || '$', expected: 'plain object' });
  const record = value as Fields;
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) throw new ZgasError('InvalidField', { path: join(path, key), reason: 'unknown field' });
  }
  for (const key of keys) {
    if (!Object.hasOwn(record, key) || record[key] === undefined) throw new ZgasError('InvalidField', { path: join(path, key), reason: 'missing field' });
  }
  return record;
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** Runs a field parser and adds the field's path to the error it throws. */
function field<T>(record: Fields, key: string, path: string, parse: (v: unknown) => T): T {
  try {
    return parse(record[key]);
  } catch (error) {
    if (isZgasError(error)) throw new ZgasError(error.code, { ...error.details, path: join(path, key) }, { cause: error });
    throw error;
  }
}

function typed<T>(code: ErrorCode, parse: (text: string) => T): (v: unknown) => T {
  return (v) => {
    if (typeof v !== 'string') throw new ZgasError(code, { expected: 'decimal string', got: typeof v });
    return parse(v);
  };
}

const uint64 = typed('InvalidUint64', parseUint64);
const gasField = typed('InvalidUint64', parseGas);

function signature(v: unknown): Hex {
  if (typeof v !== 'string' || v.length !== 2 + 2 * SIGNATURE_BYTES) throw new ZgasError('InvalidSignature', { reason: 'must be 0x + 130 hex digits' });
  try {
    return parseHex(v);
  } catch {
    throw new ZgasError('InvalidSignature', { reason: 'not hex' });
  }
}

function status(v: unknown): CallStatus {
  if (v !== 1 && v !== 2 && v !== 3 && v !== 4) throw new ZgasError('InvalidReceipt', { reason: 'status must be 1 (Ok), 2 (Trapped), 3 (OutOfGas) or 4 (Aborted)' });
  return v;
}

const hex = (maxBytes: number) => (v: unknown): Hex => parseHex(v, maxBytes);

// ── receipts ──────────────────────────────────────────────────────────────────────────────
const RECEIPT_KEYS = [
  'sessionId', 'seq', 'callGasLimit', 'callGas', 'cumulativeGas', 'inputHash', 'preStateHash', 'postStateHash', 'outputHash', 'status',
  'signature', 'invocationSignature',
] as const;

export function receiptToJson(r: SettlementReceipt): ReceiptJson {
  return {
    sessionId: r.sessionId,
    seq: r.seq.toString(),
    callGasLimit: r.callGasLimit.toString(),
    callGas: r.callGas.toString(),
    cumulativeGas: r.cumulativeGas.toString(),
    inputHash: r.inputHash,
    preStateHash: r.preStateHash,
    postStateHash: r.postStateHash,
    outputHash: r.outputHash,
    status: r.status,
    signature: r.signature,
    invocationSignature: r.invocationSignature,
  };
}

export function receiptFromJson(value: unknown, path = ''): SettlementReceipt {
  const o = object(value, RECEIPT_KEYS, path);
  return {
    sessionId: field(o, 'sessionId', path, parseHash),
    seq: field(o, 'seq', path, uint64),
    callGasLimit: field(o, 'callGasLimit', path, gasField),
    callGas: field(o, 'callGas', path, gasField),
    cumulativeGas: field(o, 'cumulativeGas', path, gasField),
    inputHash: field(o, 'inputHash', path, parseHash),
    preStateHash: field(o, 'preStateHash', path, parseHash),
    postStateHash: field(o, 'postStateHash', path, parseHash),
    outputHash: field(o, 'outputHash', path, parseHash),
    status: field(o, 'status', path, status),
    signature: field(o, 'signature', path, signature),
    invocationSignature: field(o, 'invocationSignature', path, signature),
  };
}

// ── calls ─────────────────────────────────────────────────────────────────────────────────
const CALL_KEYS = ['from', 'nonce', 'data', 'signature'] as const;

export function callToJson(c: SignedCall): CallJson {
  return { from: parseAddress(c.from), nonce: c.nonce.toString(), data: c.data, signature: c.signature };
}

export function callFromJson(value: unknown, path = ''): SignedCall {
  const o = object(value, CALL_KEYS, path);
  return {
    from: field(o, 'from', path, parseAddress),
    nonce: field(o, 'nonce', path, uint64),
    data: field(o, 'data', path, hex(MAX_CALL_DATA_BYTES)),
    signature: field(o, 'signature', path, signature),
  };
}

// ── invocations ───────────────────────────────────────────────────────────────────────────
const INVOCATION_KEYS = ['sessionId', 'seq', 'callGasLimit', 'input', 'preStateHash', 'ackedGas', 'signature'] as const;

export function invocationToJson(inv: SignedInvocation): InvocationJson {
  return {
    sessionId: inv.sessionId, seq: inv.seq.toString(), callGasLimit: inv.callGasLimit.toString(), input: inv.input,
    preStateHash: inv.preStateHash, ackedGas: inv.ackedGas.toString(), signature: inv.signature,
  };
}

export function invocationFromJson(value: unknown, path = ''): SignedInvocation {
  const o = object(value, INVOCATION_KEYS, path);
  return {
    sessionId: field(o, 'sessionId', path, parseHash),
    seq: field(o, 'seq', path, uint64),
    callGasLimit: field(o, 'callGasLimit', path, gasField),
    input: field(o, 'input', path, hex(MAX_INVOCATION_INPUT_BYTES)),
    preStateHash: field(o, 'preStateHash', path, parseHash),
    ackedGas: field(o, 'ackedGas', path, gasField),
    signature: field(o, 'signature', path, signature),
  };
}

// ── state writes ──────────────────────────────────────────────────────────────────────────
const WRITE_KEYS = ['key', 'value'] as const;

export function writesToJson(writes: readonly StateWrite[]): StateWriteJson[] {
  return writes.map((w) => ({ key: w.key, value: w.value }));
}

/** A call's state writes in call order: keys of 1–32 bytes, values as hex or null for a delete. */
export function writesFromJson(value: unknown, path = 'writes'): StateWrite[] {
  if (!Array.isArray(value)) throw new ZgasError('InvalidField', { path, expected: 'array' });
  if (value.length > MAX_WRITES_PER_CALL) throw new ZgasError('LimitExceeded', { path, what: 'state writes', max: MAX_WRITES_PER_CALL });
  return value.map((item, i) => {
    const at = `${path}[${i}]`;
    const o = object(item, WRITE_KEYS, at);
    const key = field(o, 'key', at, hex(MAX_STATE_KEY_BYTES));
    if (key.length === 2) throw new ZgasError('InvalidField', { path: `${at}.key`, reason: 'keys are 1 to 32 bytes' });
    const v = o.value;
    return { key, value: v === null ? null : field(o, 'value', at, hex(MAX_STATE_VALUE_BYTES)) };
  });
}
