/**
 * Byte-level helpers for the WebAssembly binary format: a bounds-checked LEB128 reader that
 * reports byte offsets, a growable writer, and LEB128 writers into a caller's buffer at a position
 * (the emitter's hot path). No module-level state; no allocation per read.
 */
import { ZgasError } from '../../contracts/errors.ts';

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const FUNCREF = 0x70;
export const EXTERNREF = 0x6f;
export const BLOCK_EMPTY = 0x40;

export function malformed(offset: number, reason: string): never {
  throw new ZgasError('InvalidModule', { rule: 'malformed', offset, reason });
}

/** A cursor over module bytes; every read checks bounds against `end`. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    public end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) malformed(this.pos, 'unexpected end');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    const b = this.bytes;
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) malformed(start, 'unexpected end inside a LEB128 integer');
      const byte = b[this.pos++]!;
      if (shift === 28) {
        if (byte > 0x0f) malformed(start, 'u32 LEB128 out of range');
        return (result | (byte << 28)) >>> 0;
      }
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
      shift += 7;
    }
  }

  /** Skips a LEB128 of at most `maxBytes` bytes (memory immediates, i32.const and i64.const). */
  skipLeb(maxBytes: number): void {
    const b = this.bytes;
    const start = this.pos;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) malformed(start, 'unexpected end inside a LEB128 integer');
      if (b[this.pos++]! < 0x80) return;
    }
    malformed(start, 'LEB128 too long');
  }

  /** Skips a signed LEB128 of at most `maxBytes` bytes (5 for s32, 10 for s64). */
  skipSigned(maxBytes: number): void {
    const start = this.pos;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) malformed(start, 'unexpected end inside a LEB128 integer');
      if (this.bytes[this.pos++]! < 0x80) return;
    }
    malformed(start, 'signed LEB128 too long');
  }

  s32(): number {
    const b = this.bytes;
    let result = 0;
    let shift = 0;
    const start = this.pos;
    let byte: number;
    do {
      if (this.pos >= this.end) malformed(start, 'unexpected end inside a LEB128 integer');
      if (shift >= 35) malformed(start, 's32 LEB128 too long');
      byte = b[this.pos++]!;
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    if (shift < 32 && (byte & 0x40) !== 0) result |= -1 << shift;
    return result;
  }

  take(length: number): Uint8Array {
    if (length > this.end - this.pos) malformed(this.pos, 'length runs past the end');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  name(): string {
    const length = this.u32();
    const at = this.pos;
    const raw = this.take(length);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return malformed(at, 'a name is not valid UTF-8');
    }
  }
}

/** A growable byte buffer. */
export class Writer {
  buf: Uint8Array;
  len = 0;
  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  u32(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>>= 7;
      if (v === 0) {
        this.buf[this.len++] = byte;
        return;
      }
      this.buf[this.len++] = byte | 0x80;
    }
  }

  /** Signed LEB128 of a safe integer (i32.const and i64.const immediates). */
  signed(value: number | bigint): void {
    this.ensure(10);
    if (typeof value === 'number' && value >= -0x40000000 && value < 0x40000000) {
      let v = value | 0;
      for (;;) {
        const byte = v & 0x7f;
        v >>= 7;
        const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
        this.buf[this.len++] = done ? byte : byte | 0x80;
        if (done) return;
      }
    }
    let v = BigInt(value);
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
      this.buf[this.len++] = done ? byte : byte | 0x80;
      if (done) return;
    }
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    this.ensure(n);
    if (n < 32) {
      const buf = this.buf;
      let at = this.len;
      for (let i = start; i < end; i++) buf[at++] = src[i]!;
      this.len = at;
      return;
    }
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  name(text: string): void {
    const raw = new TextEncoder().encode(text);
    this.u32(raw.length);
    this.bytes(raw);
  }

  /** Writes `id ‖ u32(size) ‖ content` of another writer. */
  section(id: number, content: Writer): void {
    this.byte(id);
    this.u32(content.len);
    this.bytes(content.buf, 0, content.len);
  }

  /** Reserves five bytes for a size written once the content after them is done. */
  sizeSlot(): number {
    this.ensure(5);
    const slot = this.len;
    this.len += 5;
    return slot;
  }

  /** Writes the length of what follows the slot into it; the content moves down over unused bytes. */
  fillSizeSlot(slot: number): void {
    const size = this.len - slot - 5;
    const sizeBytes = size < 0x80 ? 1 : size < 0x4000 ? 2 : size < 0x200000 ? 3 : size < 0x10000000 ? 4 : 5;
    if (sizeBytes < 5) this.buf.copyWithin(slot + sizeBytes, slot + 5, this.len);
    this.len = slot;
    this.u32(size);
    this.len += size;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Writes an unsigned LEB128 at `at`; returns the position after it. */
export function putU32(buf: Uint8Array, at: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** Writes a signed LEB128 of a safe integer at `at`; returns the position after it. */
export function putSigned(buf: Uint8Array, at: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) {
    let v = value | 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        buf[at++] = byte;
        return at;
      }
      buf[at++] = byte | 0x80;
    }
  }
  const leb = signedLeb(value);
  for (const byte of leb) buf[at++] = byte;
  return at;
}

export function putBytes(buf: Uint8Array, at: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) buf[at++] = src[i]!;
  return at;
}

/** Encodes the bytes of a signed LEB128 (for pre-built instruction templates). */
export function signedLeb(value: number | bigint): number[] {
  const w = new Writer(16);
  w.signed(value);
  return Array.from(w.result());
}

export function unsignedLeb(value: number): number[] {
  const w = new Writer(8);
  w.u32(value);
  return Array.from(w.result());
}
