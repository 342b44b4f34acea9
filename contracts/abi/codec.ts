import { ZgasError } from '../errors.ts';
import { addressFromBytes, bytesToHex, hexToBytes } from '../hex.ts';
import { MAX_UINT256, MAX_UINT64 } from '../units.ts';

/**
 * Solidity head/tail ABI encoding of a flat tuple of the types the gas contract uses, in its one
 * canonical form. Decoding accepts only that form: every padding byte zero, bools 0 or 1, each
 * `bytes` tail exactly where the canonical encoder puts it, nothing trailing. So a value has one
 * encoding, and decoding costs time linear in the input. Tests hold it byte-equal to ethers'
 * AbiCoder, whose generic decoder is far slower on large `bytes` and accepts overlapping tails.
 */
export type AbiType = 'address' | 'uint256' | 'uint64' | 'uint8' | 'bool' | 'bytes32' | 'bytes';

const WORD = 32;

function fail(field: string, reason: string): never {
  throw new ZgasError('InvalidCallData', { field, reason });
}

function writeBigUint(out: Uint8Array, offset: number, value: unknown, max: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > max) fail(field, `must be an integer between 0 and ${max}`);
  let v = value;
  for (let i = offset + WORD - 1; v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readBigUint(bytes: Uint8Array, offset: number, fromByte: number): bigint {
  let v = 0n;
  for (let i = offset + fromByte; i < offset + WORD; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** A word that holds a length or an offset, or -1 when it cannot be one (above 2^48). */
function readSize(bytes: Uint8Array, offset: number): number {
  if (!isZero(bytes, offset, offset + 26)) return -1;
  let v = 0;
  for (let i = offset + 26; i < offset + WORD; i++) v = v * 256 + bytes[i]!;
  return v;
}

function toBytes(value: unknown, field: string, expected?: number): Uint8Array {
  if (typeof value !== 'string') fail(field, 'must be 0x hex');
  try {
    return hexToBytes(value, expected);
  } catch {
    return fail(field, expected === undefined ? 'must be 0x hex' : `must be ${expected} bytes of 0x hex`);
  }
}

const padded = (length: number): number => Math.ceil(length / WORD) * WORD;

export function encodeArgs(types: readonly AbiType[], values: readonly unknown[], names: readonly string[]): Uint8Array {
  const tails: Array<Uint8Array | undefined> = types.map((t, i) => (t === 'bytes' ? toBytes(values[i], names[i]!) : undefined));
  let size = types.length * WORD;
  for (const tail of tails) if (tail !== undefined) size += WORD + padded(tail.length);
  const out = new Uint8Array(size);
  let tailAt = types.length * WORD;
  types.forEach((type, i) => {
    const at = i * WORD;
    const value = values[i];
    const field = names[i]!;
    switch (type) {
      case 'address':
        out.set(toBytes(value, field, 20), at + 12);
        break;
      case 'uint256':
        writeBigUint(out, at, value, MAX_UINT256, field);
        break;
      case 'uint64':
        writeBigUint(out, at, value, MAX_UINT64, field);
        break;
      case 'uint8':
        writeBigUint(out, at, typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value, 255n, field);
        break;
      case 'bool':
        if (typeof value !== 'boolean') fail(field, 'must be a boolean');
        out[at + WORD - 1] = value ? 1 : 0;
        break;
      case 'bytes32':
        out.set(toBytes(value, field, 32), at);
        break;
      case 'bytes': {
        const tail = tails[i]!;
        writeBigUint(out, at, BigInt(tailAt), MAX_UINT256, field);
        writeBigUint(out, tailAt, BigInt(tail.length), MAX_UINT256, field);
        out.set(tail, tailAt + WORD);
        tailAt += WORD + padded(tail.length);
        break;
      }
    }
  });
  return out;
}

/** Decodes the canonical encoding of `types`; values come back as bigint, boolean, EIP-55 address or lowercase hex. */
export function decodeArgs(types: readonly AbiType[], bytes: Uint8Array, names: readonly string[]): unknown[] {
  const headSize = types.length * WORD;
  if (bytes.length < headSize) fail(names[0] ?? '', 'truncated');
  let tailAt = headSize;
  const values = types.map((type, i): unknown => {
    const at = i * WORD;
    const field = names[i]!;
    switch (type) {
      case 'address':
        if (!isZero(bytes, at, at + 12)) fail(field, 'non-zero address padding');
        return addressFromBytes(bytes.subarray(at + 12, at + WORD));
      case 'uint256':
        return readBigUint(bytes, at, 0);
      case 'uint64':
        if (!isZero(bytes, at, at + 24)) fail(field, 'exceeds uint64');
        return readBigUint(bytes, at, 24);
      case 'uint8':
        if (!isZero(bytes, at, at + 31)) fail(field, 'exceeds uint8');
        return bytes[at + 31]!;
      case 'bool':
        if (!isZero(bytes, at, at + 31) || bytes[at + 31]! > 1) fail(field, 'a bool is 0 or 1');
        return bytes[at + 31] === 1;
      case 'bytes32':
        return bytesToHex(bytes.subarray(at, at + WORD));
      case 'bytes': {
        if (readSize(bytes, at) !== tailAt) fail(field, 'non-canonical offset');
        if (tailAt + WORD > bytes.length) fail(field, 'truncated');
        const length = readSize(bytes, tailAt);
        if (length < 0 || tailAt + WORD + padded(length) > bytes.length) fail(field, 'truncated');
        const start = tailAt + WORD;
        if (!isZero(bytes, start + length, start + padded(length))) fail(field, 'non-zero padding');
        tailAt = start + padded(length);
        return bytesToHex(bytes.subarray(start, start + length));
      }
    }
    return fail(field, `unsupported type ${String(type)}`);
  });
  if (tailAt !== bytes.length) fail('', 'trailing bytes');
  return values;
}
