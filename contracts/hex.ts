import { keccak256 } from './eip712/keccak.ts';
import { ZgasError } from './errors.ts';
import type { Address, Hash, Hex } from './types.ts';
import { MAX_UINT64 } from './units.ts';

/** The largest byte string accepted as hex text anywhere (a guard, not a protocol limit). */
export const MAX_HEX_BYTES = 16 * 1024 * 1024;

const HEX_DIGITS = '0123456789abcdef';
// Every byte value as two lowercase hex digits.
const BYTE_TO_HEX: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4]! + HEX_DIGITS[i & 15]!);
// Char code → nibble value, or -1 for a non-hex character.
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

// Above this size Node's Buffer codec (native) is faster than the table loop.
const NATIVE_HEX_BYTES = 64;
const HEX_BODY = /^[0-9a-fA-F]*$/;

/** Lowercase 0x hex of the bytes. */
export function bytesToHex(bytes: Uint8Array): Hex {
  if (bytes.length > NATIVE_HEX_BYTES) return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
  let out = '0x';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]!]!;
  return out as Hex;
}

function nibble(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? NIBBLE[c]! : -1;
}

/**
 * Decodes `0x` + an even number of hex digits (either case) into `out` at `offset`, or into a new
 * array. Throws `code` (InvalidHex unless told) on anything else, or when `expectedBytes` is given
 * and does not match.
 */
export function hexToBytes(text: string, expectedBytes?: number, code: 'InvalidHex' | 'InvalidHash' | 'InvalidAddress' = 'InvalidHex'): Uint8Array {
  if (typeof text !== 'string' || text.length < 2 || text.charCodeAt(0) !== 48 || text.charCodeAt(1) !== 120 || (text.length & 1) !== 0) {
    throw new ZgasError(code, { text: preview(text) });
  }
  const length = (text.length - 2) >> 1;
  if (expectedBytes !== undefined && length !== expectedBytes) throw new ZgasError(code, { text: preview(text), expectedBytes });
  if (length > MAX_HEX_BYTES) throw new ZgasError('LimitExceeded', { what: 'hex bytes', maxBytes: MAX_HEX_BYTES });
  if (length > NATIVE_HEX_BYTES) {
    const body = text.slice(2);
    if (!HEX_BODY.test(body)) throw new ZgasError(code, { text: preview(text) });
    // Copied out of Buffer's shared pool so the result owns its whole ArrayBuffer.
    return new Uint8Array(Buffer.from(body, 'hex'));
  }
  const out = new Uint8Array(length);
  writeHex(text, out, 0, code);
  return out;
}

/** Writes the hex digits of `text` (already checked to start with 0x and have even length) into `out`. */
export function writeHex(text: string, out: Uint8Array, offset: number, code: 'InvalidHex' | 'InvalidHash' | 'InvalidAddress' = 'InvalidHex'): void {
  const length = (text.length - 2) >> 1;
  for (let i = 0, j = 2; i < length; i++, j += 2) {
    const hi = nibble(text, j);
    const lo = nibble(text, j + 1);
    if (hi < 0 || lo < 0) throw new ZgasError(code, { text: preview(text) });
    out[offset + i] = (hi << 4) | lo;
  }
}

/** Writes a 32-byte 0x hash into `out` at `offset`; throws InvalidHash unless it is exactly 0x + 64 hex digits. */
export function writeHash(text: string, out: Uint8Array, offset: number): void {
  if (typeof text !== 'string' || text.length !== 66 || text.charCodeAt(0) !== 48 || text.charCodeAt(1) !== 120) {
    throw new ZgasError('InvalidHash', { text: preview(text) });
  }
  writeHex(text, out, offset, 'InvalidHash');
}

/** Validates 0x hex text of any case (at most `maxBytes` bytes) and returns it lowercase. */
export function parseHex(text: unknown, maxBytes = MAX_HEX_BYTES): Hex {
  if (typeof text !== 'string' || text.length < 2 || !text.startsWith('0x') || (text.length & 1) !== 0) {
    throw new ZgasError('InvalidHex', { text: preview(text) });
  }
  if ((text.length - 2) >> 1 > maxBytes) throw new ZgasError('LimitExceeded', { what: 'hex bytes', maxBytes });
  if (!HEX_BODY.test(text.slice(2))) throw new ZgasError('InvalidHex', { text: preview(text) });
  return text.toLowerCase() as Hex;
}

/** Validates a 32-byte hash (0x + 64 hex digits, any case) and returns it lowercase. */
export function parseHash(text: unknown): Hash {
  if (typeof text !== 'string' || text.length !== 66 || !text.startsWith('0x')) throw new ZgasError('InvalidHash', { text: preview(text) });
  for (let i = 2; i < 66; i++) if (nibble(text, i) < 0) throw new ZgasError('InvalidHash', { text: preview(text) });
  return text.toLowerCase() as Hash;
}

const checksumCache = new Map<string, Address>();
const CHECKSUM_CACHE_ENTRIES = 4_096;

/** EIP-55 checksum of 40 lowercase hex digits (no 0x). */
function checksum(lower: string): Address {
  const cached = checksumCache.get(lower);
  if (cached !== undefined) return cached;
  const ascii = new Uint8Array(40);
  for (let i = 0; i < 40; i++) ascii[i] = lower.charCodeAt(i);
  const hash = keccak256(ascii);
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const c = lower[i]!;
    const bits = i & 1 ? hash[i >> 1]! & 15 : hash[i >> 1]! >> 4;
    out += bits >= 8 ? c.toUpperCase() : c;
  }
  if (checksumCache.size >= CHECKSUM_CACHE_ENTRIES) checksumCache.clear();
  checksumCache.set(lower, out as Address);
  return out as Address;
}

/** The EIP-55 address of 20 raw bytes. */
export function addressFromBytes(bytes: Uint8Array): Address {
  if (bytes.length !== 20) throw new ZgasError('InvalidAddress', { length: bytes.length });
  return checksum(bytesToHex(bytes).slice(2));
}

/**
 * Parses an address: 0x + 40 hex digits in any case. All-lowercase or all-uppercase text is taken
 * as is; mixed case must be a valid EIP-55 checksum. Returns the EIP-55 form.
 */
export function parseAddress(text: unknown): Address {
  if (typeof text !== 'string' || text.length !== 42 || !text.startsWith('0x')) throw new ZgasError('InvalidAddress', { text: preview(text) });
  let upper = false;
  let lowerCase = false;
  for (let i = 2; i < 42; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && NIBBLE[c]! >= 0) {
      if (c >= 65 && c <= 70) upper = true;
      else if (c >= 97 && c <= 102) lowerCase = true;
    } else {
      throw new ZgasError('InvalidAddress', { text: preview(text) });
    }
  }
  const result = checksum(text.slice(2).toLowerCase());
  if (upper && lowerCase && result !== text) throw new ZgasError('InvalidAddress', { text, reason: 'bad EIP-55 checksum' });
  return result;
}

/** Address equality regardless of case. */
export function sameAddress(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order (a shorter prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** 8-byte big-endian encoding of a uint64. */
export function u64be(n: bigint): Uint8Array {
  if (typeof n !== 'bigint' || n < 0n || n > MAX_UINT64) throw new ZgasError('InvalidUint64', { value: String(n) });
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** 4-byte big-endian encoding of a uint32. */
export function u32be(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new ZgasError('LimitExceeded', { what: 'uint32', value: n });
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

const utf8 = new TextEncoder();
export const utf8Bytes = (text: string): Uint8Array => utf8.encode(text);

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
