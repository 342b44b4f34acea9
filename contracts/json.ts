import { MAX_CALL_DATA_BYTES } from './abi/methods.ts';
import { ZgasError, isZgasError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import { parseAddress, parseHash, parseHex } from './hex.ts';
import type { CallStatus, Hash, Hex, SignedCall, SignedInvocation, SignedReceipt } from './types.ts';
import { parseGas, parseUint64 } from './units.ts';

/**
 * Strict JSON codecs of the signed wire objects (DESIGN §6): integers as decimal strings (status,
 * a uint8, as a JSON number), bytes and hashes as 0x lowercase hex, addresses any case in and
 * EIP-55 out. Parsers take `unknown`, require exactly the listed fields and throw a ZgasError whose
 * details name the offending `path`.
 */

/** The most bytes an invocation's input may carry. */
export const MAX_INVOCATION_INPUT_BYTES = 1024 * 1024;
const SIGNATURE_BYTES = 65;

export interface ReceiptJson {
  sessionId: string;
  seq: string;
  callGas: string;
  cumulativeGas: string;
  inputHash: string;
  preStateHash: string;
  postStateHash: string;
  outputHash: string;
  status: number;
  signature: string;
}

export interface CallJson {
  from: string;
  nonce: string;
  data: string;
  signature: string;
}

export interface InvocationJson {
  sessionId: string;
  seq: string;
  input: string;
  signature: string;
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
const RECEIPT_KEYS = ['sessionId', 'seq', 'callGas', 'cumulativeGas', 'inputHash', 'preStateHash', 'postStateHash', 'outputHash', 'status', 'signature'] as const;

export function receiptToJson(r: SignedReceipt): ReceiptJson {
  return {
    sessionId: r.sessionId,
    seq: r.seq.toString(),
    callGas: r.callGas.toString(),
    cumulativeGas: r.cumulativeGas.toString(),
    inputHash: r.inputHash,
    preStateHash: r.preStateHash,
    postStateHash: r.postStateHash,
    outputHash: r.outputHash,
    status: r.status,
    signature: r.signature,
  };
}

export function receiptFromJson(value: unknown, path = ''): SignedReceipt {
  const o = object(value, RECEIPT_KEYS, path);
  return {
    sessionId: field(o, 'sessionId', path, parseHash),
    seq: field(o, 'seq', path, uint64),
    callGas: field(o, 'callGas', path, gasField),
    cumulativeGas: field(o, 'cumulativeGas', path, gasField),
    inputHash: field(o, 'inputHash', path, parseHash),
    preStateHash: field(o, 'preStateHash', path, parseHash),
    postStateHash: field(o, 'postStateHash', path, parseHash),
    outputHash: field(o, 'outputHash', path, parseHash),
    status: field(o, 'status', path, status),
    signature: field(o, 'signature', path, signature),
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
const INVOCATION_KEYS = ['sessionId', 'seq', 'input', 'signature'] as const;
const INVOCATION_BODY_KEYS = ['seq', 'input', 'signature'] as const;

export function invocationToJson(inv: SignedInvocation): InvocationJson {
  return { sessionId: inv.sessionId, seq: inv.seq.toString(), input: inv.input, signature: inv.signature };
}

export function invocationFromJson(value: unknown, path = ''): SignedInvocation {
  const o = object(value, INVOCATION_KEYS, path);
  return {
    sessionId: field(o, 'sessionId', path, parseHash),
    seq: field(o, 'seq', path, uint64),
    input: field(o, 'input', path, hex(MAX_INVOCATION_INPUT_BYTES)),
    signature: field(o, 'signature', path, signature),
  };
}

/** The runner API body `{ seq, input, signature }`, whose session id comes from the URL. */
export function invocationBodyFromJson(value: unknown, sessionId: Hash, path = ''): SignedInvocation {
  const o = object(value, INVOCATION_BODY_KEYS, path);
  return {
    sessionId: parseHash(sessionId),
    seq: field(o, 'seq', path, uint64),
    input: field(o, 'input', path, hex(MAX_INVOCATION_INPUT_BYTES)),
    signature: field(o, 'signature', path, signature),
  };
}
