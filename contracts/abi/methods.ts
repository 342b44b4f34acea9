import { sha3_256 } from '@noble/hashes/sha3.js';
import { ZgasError, isZgasError } from '../errors.ts';
import { bytesToHex, hexToBytes, utf8Bytes } from '../hex.ts';
import type { Hex, Method, MethodName, SettlementReceipt } from '../types.ts';
import { decodeArgs, encodeArgs } from './codec.ts';
import type { AbiType } from './codec.ts';
import { RECEIPT_ENCODED_BYTES, decodeReceipt, encodeReceipt, encodeReceiptBytes } from './receipt.ts';

/** The most receipts one Settle may carry. */
export const MAX_RECEIPTS_PER_BATCH = 1_000;
/**
 * The largest call data accepted (selector included). A full Settle batch is about 0.7 MiB; a
 * Challenge carries the receipt, the call's input and its pre-state, which must fit together: genesis
 * refuses `maxStateBytes + maxInputBytes` plus a Challenge's fixed overhead above this, so whatever can be
 * settled can be challenged.
 */
export const MAX_CALL_DATA_BYTES = 8 * 1024 * 1024;

type Param = readonly [name: string, type: string];

/** The parameters of every method, in order (docs/protocol.md §Call data). */
export const METHOD_PARAMS = {
  Transfer: [['to', 'address'], ['amount', 'uint256']],
  RegisterZApp: [['moduleHash', 'bytes32'], ['maxPricePerMgas', 'uint256'], ['maxGasPerSession', 'uint64'], ['openToAll', 'bool'], ['openGasPerDay', 'uint64']],
  SetPolicy: [['zAppId', 'bytes32'], ['maxPricePerMgas', 'uint256'], ['maxGasPerSession', 'uint64'], ['openToAll', 'bool'], ['openGasPerDay', 'uint64']],
  SetAutoTopUp: [['zAppId', 'bytes32'], ['minAvailable', 'uint256'], ['refill', 'uint256']],
  TopUp: [['zAppId', 'bytes32'], ['amount', 'uint256']],
  WithdrawEscrow: [['zAppId', 'bytes32'], ['amount', 'uint256']],
  RegisterProvider: [['receiptSigner', 'address'], ['pricePerMgas', 'uint256'], ['upfrontGas', 'uint64'], ['stake', 'uint256']],
  UpdateOffer: [['receiptSigner', 'address'], ['pricePerMgas', 'uint256'], ['upfrontGas', 'uint64']],
  AddStake: [['amount', 'uint256']],
  Unbond: [['amount', 'uint256']],
  WithdrawUnbonded: [],
  Retire: [],
  OpenSession: [
    ['zAppId', 'bytes32'], ['provider', 'address'], ['user', 'address'], ['gasLimit', 'uint64'], ['durationSeconds', 'uint64'],
    ['maxPricePerMgas', 'uint256'], ['maxUpfrontGas', 'uint64'],
  ],
  ExtendSession: [['sessionId', 'bytes32'], ['extraGas', 'uint64']],
  Abort: [['sessionId', 'bytes32']],
  CloseSession: [['sessionId', 'bytes32']],
  FinalizeSession: [['sessionId', 'bytes32']],
  Settle: [['receipts', 'bytes[]']],
  Challenge: [['receipt', 'bytes'], ['input', 'bytes'], ['preState', 'bytes']],
  ClaimEarnings: [],
} as const satisfies Record<MethodName, readonly Param[]>;

export const METHOD_NAMES = Object.keys(METHOD_PARAMS) as MethodName[];

/** Canonical signature text of each method, e.g. `Transfer(address,uint256)`: what the selector hashes. */
export const METHOD_SIGNATURES = Object.fromEntries(
  METHOD_NAMES.map((name) => [name, `${name}(${(METHOD_PARAMS[name] as readonly Param[]).map((p) => p[1]).join(',')})`]),
) as Record<MethodName, string>;

/** Human signature text with parameter names, e.g. `Transfer(address to, uint256 amount)`. */
export const METHOD_DECLARATIONS = Object.fromEntries(
  METHOD_NAMES.map((name) => [name, `${name}(${(METHOD_PARAMS[name] as readonly Param[]).map((p) => `${p[1]} ${p[0]}`).join(', ')})`]),
) as Record<MethodName, string>;

/** First 4 bytes of SHA3-256 (not keccak) of the signature text, as Zenon's embedded contracts do. */
export function selectorOf(signature: string): Hex {
  return bytesToHex(sha3_256(utf8Bytes(signature)).subarray(0, 4));
}

export const selectors = Object.fromEntries(METHOD_NAMES.map((name) => [name, selectorOf(METHOD_SIGNATURES[name])])) as Record<MethodName, Hex>;

const bySelector = new Map<string, MethodName>(METHOD_NAMES.map((name) => [selectors[name], name]));
const NAMES_BY_METHOD = Object.fromEntries(METHOD_NAMES.map((n) => [n, (METHOD_PARAMS[n] as readonly Param[]).map((p) => p[0])])) as Record<MethodName, string[]>;
// Settle's bytes[] is encoded by hand below; every other method is a flat tuple of AbiType.
const TYPES_BY_METHOD = Object.fromEntries(METHOD_NAMES.map((n) => [n, (METHOD_PARAMS[n] as readonly Param[]).map((p) => p[1])])) as Record<MethodName, AbiType[]>;

/** The receipt-carrying argument travels as its settlement-receipt encoding. */
function toAbiValue(name: MethodName, field: string, value: unknown): unknown {
  if (name === 'Challenge' && field === 'receipt') return encodeReceipt(value as SettlementReceipt);
  return value;
}

function fromAbiValue(name: MethodName, field: string, value: unknown): unknown {
  if (name === 'Challenge' && field === 'receipt') return decodeReceipt(value as Hex);
  return value;
}

export function encodeMethodBytes(method: Method): Uint8Array {
  const name = method.name;
  const params = METHOD_PARAMS[name] as readonly Param[] | undefined;
  if (params === undefined) throw new ZgasError('UnknownMethod', { name });
  if (method.name === 'Settle') return encodeSettle(method.receipts);
  const record = method as unknown as Record<string, unknown>;
  const values = params.map(([field]) => toAbiValue(name, field, record[field]));
  // Refuse oversize byte arguments before paying for their encoding.
  let hexChars = 0;
  for (const v of values) if (typeof v === 'string') hexChars += v.length;
  if (hexChars / 2 > MAX_CALL_DATA_BYTES) throw new ZgasError('LimitExceeded', { what: 'call data bytes', max: MAX_CALL_DATA_BYTES });
  const args = encodeArgs(TYPES_BY_METHOD[name], values, NAMES_BY_METHOD[name]);
  const out = new Uint8Array(4 + args.length);
  out.set(hexToBytes(selectors[name]), 0);
  out.set(args, 4);
  if (out.length > MAX_CALL_DATA_BYTES) throw new ZgasError('LimitExceeded', { what: 'call data bytes', bytes: out.length, max: MAX_CALL_DATA_BYTES });
  return out;
}

/** Selector ‖ ABI-encoded arguments of a method (Solidity head/tail encoding, byte-equal to ethers' AbiCoder). */
export const encodeMethod = (method: Method): Hex => bytesToHex(encodeMethodBytes(method));

// ── Settle by hand ─────────────────────────────────────────────────────────────────────────
// A batch is the hot path and its canonical form is fixed: `bytes[]` whose elements are all
// 640-byte settlement receipts, so its layout is checked directly (ethers' generic AbiCoder copies the rest
// of the buffer for every element, quadratic on a full batch). Tests hold it equal to AbiCoder.
const SETTLE_ELEMENT_BYTES = 32 + RECEIPT_ENCODED_BYTES;

function writeWord(out: Uint8Array, offset: number, value: number): void {
  new DataView(out.buffer, out.byteOffset).setUint32(offset + 28, value);
}

function encodeSettle(receipts: readonly SettlementReceipt[]): Uint8Array {
  if (!Array.isArray(receipts)) throw new ZgasError('InvalidCallData', { field: 'receipts', reason: 'receipts must be an array' });
  const n = receipts.length;
  if (n > MAX_RECEIPTS_PER_BATCH) throw new ZgasError('BatchTooLarge', { receipts: n, max: MAX_RECEIPTS_PER_BATCH });
  const out = new Uint8Array(4 + 64 + n * 32 + n * SETTLE_ELEMENT_BYTES);
  out.set(hexToBytes(selectors.Settle), 0);
  writeWord(out, 4, 32);
  writeWord(out, 36, n);
  const heads = 68;
  const tails = heads + n * 32;
  for (let i = 0; i < n; i++) {
    writeWord(out, heads + i * 32, n * 32 + i * SETTLE_ELEMENT_BYTES);
    const at = tails + i * SETTLE_ELEMENT_BYTES;
    writeWord(out, at, RECEIPT_ENCODED_BYTES);
    out.set(encodeReceiptBytes(receipts[i]!), at + 32);
  }
  return out;
}

function decodeSettleArgs(args: Uint8Array): SettlementReceipt[] {
  if (args.length < 64 || readWord(args, 0) !== 32) throw new ZgasError('InvalidCallData', { method: 'Settle', reason: 'non-canonical or truncated head' });
  const n = readWord(args, 32);
  if (n > MAX_RECEIPTS_PER_BATCH) throw new ZgasError('BatchTooLarge', { receipts: n, max: MAX_RECEIPTS_PER_BATCH });
  const heads = 64;
  const tails = heads + n * 32;
  if (args.length < tails) throw new ZgasError('InvalidCallData', { method: 'Settle', reason: 'truncated offsets' });
  const receipts: SettlementReceipt[] = [];
  for (let i = 0; i < n; i++) {
    if (readWord(args, heads + i * 32) !== n * 32 + i * SETTLE_ELEMENT_BYTES) {
      throw new ZgasError('InvalidCallData', { method: 'Settle', index: i, reason: 'non-canonical element offset' });
    }
    const at = tails + i * SETTLE_ELEMENT_BYTES;
    if (at + 32 > args.length) throw new ZgasError('InvalidCallData', { method: 'Settle', index: i, reason: 'truncated' });
    const length = readWord(args, at);
    if (length !== RECEIPT_ENCODED_BYTES) throw new ZgasError('InvalidReceiptEncoding', { index: i, reason: 'length', bytes: length });
    if (at + SETTLE_ELEMENT_BYTES > args.length) throw new ZgasError('InvalidCallData', { method: 'Settle', index: i, reason: 'truncated' });
    try {
      receipts.push(decodeReceipt(args.subarray(at + 32, at + SETTLE_ELEMENT_BYTES)));
    } catch (error) {
      if (isZgasError(error)) throw new ZgasError(error.code, { ...error.details, index: i }, { cause: error });
      throw error;
    }
  }
  if (args.length !== tails + n * SETTLE_ELEMENT_BYTES) throw new ZgasError('InvalidCallData', { method: 'Settle', reason: 'trailing bytes' });
  return receipts;
}

function readWord(bytes: Uint8Array, offset: number): number {
  // Words that do not fit in 6 bytes are certainly out of range; report them as infinite.
  for (let i = 0; i < 26; i++) if (bytes[offset + i] !== 0) return Number.POSITIVE_INFINITY;
  let value = 0;
  for (let i = 26; i < 32; i++) value = value * 256 + bytes[offset + i]!;
  return value;
}

/**
 * Decodes call data strictly: known selector (else UnknownMethod) and arguments in their one
 * canonical Solidity encoding (else InvalidCallData), so re-encoding the result reproduces the
 * input byte for byte. Receipts inside are decoded by `decodeReceipt`. Linear time; at most
 * MAX_CALL_DATA_BYTES (LimitExceeded) and MAX_RECEIPTS_PER_BATCH receipts (BatchTooLarge).
 */
export function decodeMethod(data: Hex | Uint8Array): Method {
  let bytes: Uint8Array;
  if (typeof data === 'string') {
    if (data.length > 2 + 2 * MAX_CALL_DATA_BYTES) throw new ZgasError('LimitExceeded', { what: 'call data bytes', max: MAX_CALL_DATA_BYTES });
    try {
      bytes = hexToBytes(data);
    } catch {
      throw new ZgasError('InvalidCallData', { reason: 'not 0x hex' });
    }
  } else if (data instanceof Uint8Array) {
    bytes = data;
  } else {
    throw new ZgasError('InvalidCallData', { reason: 'call data must be bytes' });
  }
  if (bytes.length > MAX_CALL_DATA_BYTES) throw new ZgasError('LimitExceeded', { what: 'call data bytes', bytes: bytes.length, max: MAX_CALL_DATA_BYTES });
  if (bytes.length < 4) throw new ZgasError('InvalidCallData', { reason: 'shorter than a selector' });
  const selector = bytesToHex(bytes.subarray(0, 4));
  const name = bySelector.get(selector);
  if (name === undefined) throw new ZgasError('UnknownMethod', { selector });
  const args = bytes.subarray(4);
  if (name === 'Settle') return { name, receipts: decodeSettleArgs(args) };
  const raw = decodeArgs(TYPES_BY_METHOD[name], args, NAMES_BY_METHOD[name]);
  const method: Record<string, unknown> = { name };
  NAMES_BY_METHOD[name].forEach((field, i) => {
    method[field] = fromAbiValue(name, field, raw[i]);
  });
  return method as unknown as Method;
}
