import { ZgasError } from '../errors.ts';
import { bytesToHex, hexToBytes, writeHash } from '../hex.ts';
import type { CallStatus, Hash, Hex, SettlementReceipt } from '../types.ts';
import { MAX_UINT64 } from '../units.ts';
import type { Gas } from '../units.ts';

/**
 * The settlement-receipt encoding used inside Settle and Challenge (docs/protocol.md §Call data):
 * Solidity `abi.encode(bytes32 sessionId, uint64 seq, uint64 callGasLimit, uint64 callGas, uint64
 * cumulativeGas, bytes32 inputHash, bytes32 preStateHash, bytes32 postStateHash, bytes32
 * outputHash, uint8 status, bytes signature, bytes invocationSignature)` with two 65-byte
 * signatures. Its canonical form has a fixed size and layout, so it is encoded and decoded by hand
 * (the hot path of settlement) and checked against ethers' AbiCoder in tests.
 */
export const RECEIPT_ABI_TYPES = ['bytes32', 'uint64', 'uint64', 'uint64', 'uint64', 'bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint8', 'bytes', 'bytes'] as const;

const WORD = 32;
const SIGNATURE_BYTES = 65;
/** A signature's tail: its length word and the 65 bytes padded to three words. */
const SIGNATURE_TAIL_BYTES = WORD + 3 * WORD;
const HEAD_WORDS = 12;
const STATUS_WORD = 9;
/** Offsets of the two signatures' tails, right after the twelve head words. */
const SIGNATURE_OFFSET = HEAD_WORDS * WORD;
const INVOCATION_SIGNATURE_OFFSET = SIGNATURE_OFFSET + SIGNATURE_TAIL_BYTES;
/** Twelve head words and two signature tails: 640 bytes. */
export const RECEIPT_ENCODED_BYTES = INVOCATION_SIGNATURE_OFFSET + SIGNATURE_TAIL_BYTES;

const HASH_WORDS = [
  [0, 'sessionId'],
  [5, 'inputHash'],
  [6, 'preStateHash'],
  [7, 'postStateHash'],
  [8, 'outputHash'],
] as const;
const UINT64_WORDS = [
  [1, 'seq'],
  [2, 'callGasLimit'],
  [3, 'callGas'],
  [4, 'cumulativeGas'],
] as const;
const SIGNATURES = [
  [10, SIGNATURE_OFFSET, 'signature'],
  [11, INVOCATION_SIGNATURE_OFFSET, 'invocationSignature'],
] as const;

function writeUint64(out: Uint8Array, word: number, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) throw new ZgasError('InvalidReceiptEncoding', { field, value: String(value) });
  new DataView(out.buffer, out.byteOffset).setBigUint64(word * WORD + 24, value);
}

function writeSignature(out: Uint8Array, offsetWord: number, offset: number, value: Hex, field: string): void {
  out[offsetWord * WORD + 30] = offset >> 8;
  out[offsetWord * WORD + 31] = offset & 0xff;
  out[offset + 31] = SIGNATURE_BYTES;
  let signature: Uint8Array;
  try {
    signature = hexToBytes(value, SIGNATURE_BYTES);
  } catch {
    throw new ZgasError('InvalidReceiptEncoding', { field, reason: 'must be 65 bytes of 0x hex' });
  }
  out.set(signature, offset + WORD);
}

export function encodeReceiptBytes(r: SettlementReceipt): Uint8Array {
  if (typeof r !== 'object' || r === null) throw new ZgasError('InvalidReceiptEncoding', { reason: 'not a receipt object' });
  const out = new Uint8Array(RECEIPT_ENCODED_BYTES);
  for (const [word, field] of HASH_WORDS) writeHash(r[field], out, word * WORD);
  for (const [word, field] of UINT64_WORDS) writeUint64(out, word, r[field], field);
  const status: number = r.status;
  if (!Number.isInteger(status) || status < 0 || status > 255) throw new ZgasError('InvalidReceiptEncoding', { field: 'status', value: String(status) });
  out[STATUS_WORD * WORD + 31] = status;
  for (const [word, offset, field] of SIGNATURES) writeSignature(out, word, offset, r[field], field);
  return out;
}

export const encodeReceipt = (r: SettlementReceipt): Hex => bytesToHex(encodeReceiptBytes(r));

function zeroRange(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function readSignature(bytes: Uint8Array, view: DataView, offsetWord: number, offset: number, field: string): Hex {
  if (!zeroRange(bytes, offsetWord * WORD, offsetWord * WORD + 30) || view.getUint16(offsetWord * WORD + 30) !== offset) {
    throw new ZgasError('InvalidReceiptEncoding', { field, reason: 'non-canonical offset' });
  }
  if (!zeroRange(bytes, offset, offset + 31) || bytes[offset + 31] !== SIGNATURE_BYTES) {
    throw new ZgasError('InvalidReceiptEncoding', { field, reason: 'must be 65 bytes' });
  }
  const start = offset + WORD;
  if (!zeroRange(bytes, start + SIGNATURE_BYTES, offset + SIGNATURE_TAIL_BYTES)) throw new ZgasError('InvalidReceiptEncoding', { field, reason: 'non-zero padding' });
  return bytesToHex(bytes.subarray(start, start + SIGNATURE_BYTES));
}

/**
 * Decodes the canonical settlement-receipt encoding and nothing else: exact size, zero padding, the
 * signature offsets and lengths fixed, status 1–4 (else InvalidReceipt). Anything else is
 * InvalidReceiptEncoding.
 */
export function decodeReceipt(encoded: Hex | Uint8Array): SettlementReceipt {
  let bytes: Uint8Array;
  if (typeof encoded === 'string') {
    if (encoded.length !== 2 + 2 * RECEIPT_ENCODED_BYTES) throw new ZgasError('InvalidReceiptEncoding', { reason: 'length', bytes: (encoded.length - 2) / 2 });
    try {
      bytes = hexToBytes(encoded);
    } catch {
      throw new ZgasError('InvalidReceiptEncoding', { reason: 'not hex' });
    }
  } else {
    bytes = encoded;
  }
  if (bytes.length !== RECEIPT_ENCODED_BYTES) throw new ZgasError('InvalidReceiptEncoding', { reason: 'length', bytes: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [word, field] of UINT64_WORDS) {
    if (!zeroRange(bytes, word * WORD, word * WORD + 24)) throw new ZgasError('InvalidReceiptEncoding', { field, reason: 'exceeds uint64' });
  }
  if (!zeroRange(bytes, STATUS_WORD * WORD, STATUS_WORD * WORD + 31)) throw new ZgasError('InvalidReceiptEncoding', { field: 'status', reason: 'exceeds uint8' });
  const signature = readSignature(bytes, view, 10, SIGNATURE_OFFSET, 'signature');
  const invocationSignature = readSignature(bytes, view, 11, INVOCATION_SIGNATURE_OFFSET, 'invocationSignature');
  const status = bytes[STATUS_WORD * WORD + 31]!;
  if (status < 1 || status > 4) throw new ZgasError('InvalidReceipt', { field: 'status', value: status });
  const hash = (word: number): Hash => bytesToHex(bytes.subarray(word * WORD, word * WORD + WORD));
  const u64 = (word: number): bigint => view.getBigUint64(word * WORD + 24);
  return {
    sessionId: hash(0),
    seq: u64(1),
    callGasLimit: u64(2) as Gas,
    callGas: u64(3) as Gas,
    cumulativeGas: u64(4) as Gas,
    inputHash: hash(5),
    preStateHash: hash(6),
    postStateHash: hash(7),
    outputHash: hash(8),
    status: status as CallStatus,
    signature,
    invocationSignature,
  };
}
