import { ZgasError } from '../errors.ts';
import { bytesToHex, hexToBytes, writeHash } from '../hex.ts';
import type { CallStatus, Hash, Hex, SignedReceipt } from '../types.ts';
import { MAX_UINT64 } from '../units.ts';
import type { Gas } from '../units.ts';

/**
 * The receipt encoding used inside Settle, Abort and Challenge: Solidity
 * `abi.encode(bytes32 sessionId, uint64 seq, uint64 callGas, uint64 cumulativeGas, bytes32 inputHash,
 * bytes32 preStateHash, bytes32 postStateHash, bytes32 outputHash, uint8 status, bytes signature)`
 * with a 65-byte signature. Its canonical form has a fixed size and layout, so it is encoded and
 * decoded by hand (the hot path of settlement) and checked against ethers' AbiCoder in tests.
 */
export const RECEIPT_ABI_TYPES = ['bytes32', 'uint64', 'uint64', 'uint64', 'bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint8', 'bytes'] as const;

const WORD = 32;
const SIGNATURE_BYTES = 65;
/** Offset of the signature's length word: right after the ten head words. */
const SIGNATURE_OFFSET = 10 * WORD;
/** Ten head words, the length word, and the signature padded to three words. */
export const RECEIPT_ENCODED_BYTES = SIGNATURE_OFFSET + WORD + 3 * WORD;

const HASH_WORDS = [
  [0, 'sessionId'],
  [4, 'inputHash'],
  [5, 'preStateHash'],
  [6, 'postStateHash'],
  [7, 'outputHash'],
] as const;
const UINT64_WORDS = [
  [1, 'seq'],
  [2, 'callGas'],
  [3, 'cumulativeGas'],
] as const;

function writeUint64(out: Uint8Array, word: number, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) throw new ZgasError('InvalidReceiptEncoding', { field, value: String(value) });
  new DataView(out.buffer, out.byteOffset).setBigUint64(word * WORD + 24, value);
}

export function encodeReceiptBytes(r: SignedReceipt): Uint8Array {
  if (typeof r !== 'object' || r === null) throw new ZgasError('InvalidReceiptEncoding', { reason: 'not a receipt object' });
  const out = new Uint8Array(RECEIPT_ENCODED_BYTES);
  for (const [word, field] of HASH_WORDS) writeHash(r[field], out, word * WORD);
  for (const [word, field] of UINT64_WORDS) writeUint64(out, word, r[field], field);
  const status: number = r.status;
  if (!Number.isInteger(status) || status < 0 || status > 255) throw new ZgasError('InvalidReceiptEncoding', { field: 'status', value: String(status) });
  out[8 * WORD + 31] = status;
  out[9 * WORD + 30] = SIGNATURE_OFFSET >> 8;
  out[9 * WORD + 31] = SIGNATURE_OFFSET & 0xff;
  out[10 * WORD + 31] = SIGNATURE_BYTES;
  let signature: Uint8Array;
  try {
    signature = hexToBytes(r.signature, SIGNATURE_BYTES);
  } catch {
    throw new ZgasError('InvalidReceiptEncoding', { field: 'signature', reason: 'must be 65 bytes of 0x hex' });
  }
  out.set(signature, 11 * WORD);
  return out;
}

export const encodeReceipt = (r: SignedReceipt): Hex => bytesToHex(encodeReceiptBytes(r));

function zeroRange(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Decodes the canonical receipt encoding and nothing else: exact size, zero padding, the signature
 * offset and length fixed, status 1–4 (else InvalidReceipt). Anything else is InvalidReceiptEncoding.
 */
export function decodeReceipt(encoded: Hex | Uint8Array): SignedReceipt {
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
  if (!zeroRange(bytes, 8 * WORD, 8 * WORD + 31)) throw new ZgasError('InvalidReceiptEncoding', { field: 'status', reason: 'exceeds uint8' });
  if (!zeroRange(bytes, 9 * WORD, 9 * WORD + 30) || view.getUint16(9 * WORD + 30) !== SIGNATURE_OFFSET) {
    throw new ZgasError('InvalidReceiptEncoding', { field: 'signature', reason: 'non-canonical offset' });
  }
  if (!zeroRange(bytes, 10 * WORD, 10 * WORD + 31) || bytes[10 * WORD + 31] !== SIGNATURE_BYTES) {
    throw new ZgasError('InvalidReceiptEncoding', { field: 'signature', reason: 'must be 65 bytes' });
  }
  if (!zeroRange(bytes, 11 * WORD + SIGNATURE_BYTES, RECEIPT_ENCODED_BYTES)) throw new ZgasError('InvalidReceiptEncoding', { field: 'signature', reason: 'non-zero padding' });
  const status = bytes[8 * WORD + 31]!;
  if (status < 1 || status > 4) throw new ZgasError('InvalidReceipt', { field: 'status', value: status });
  const hash = (word: number): Hash => bytesToHex(bytes.subarray(word * WORD, word * WORD + WORD));
  const u64 = (word: number): bigint => view.getBigUint64(word * WORD + 24);
  return {
    sessionId: hash(0),
    seq: u64(1),
    callGas: u64(2) as Gas,
    cumulativeGas: u64(3) as Gas,
    inputHash: hash(4),
    preStateHash: hash(5),
    postStateHash: hash(6),
    outputHash: hash(7),
    status: status as CallStatus,
    signature: bytesToHex(bytes.subarray(11 * WORD, 11 * WORD + SIGNATURE_BYTES)),
  };
}
