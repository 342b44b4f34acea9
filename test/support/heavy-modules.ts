/**
 * Modules that are small to send but costly to instantiate or to instrument, built as bytes: the
 * attacker's side of the instantiation charges and of the instrumented-size limit.
 */

function u32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...u32(content.length), ...content];
}

function name(text: string): number[] {
  const raw = [...new TextEncoder().encode(text)];
  return [...u32(raw.length), ...raw];
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// types: 0 = (i32) -> i32 (alloc), 1 = (i32, i32) -> i64 (handle), 2 = () -> ()
const TYPES = section(1, [3, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e, 0x60, 0, 0]);
const EXPORTS = section(7, [3, ...name('memory'), 0x02, 0, ...name('alloc'), 0x00, 0, ...name('handle'), 0x00, 1]);
const ALLOC_BODY = [0, 0x41, 0x80, 0x08, 0x0b]; // i32.const 1024
const HANDLE_BODY = [0, 0x42, 0x00, 0x0b]; // i64.const 0

function zApp(parts: { table?: number[]; elements?: number[]; data?: number[]; extraFunctions?: number[][] }): Uint8Array {
  const extra = parts.extraFunctions ?? [];
  const functions = section(3, [...u32(2 + extra.length), 0, 1, ...extra.map(() => 2)]);
  const bodies = [ALLOC_BODY, HANDLE_BODY, ...extra].map((body) => [...u32(body.length), ...body]);
  return Uint8Array.from([
    ...HEADER, ...TYPES, ...functions,
    ...(parts.table ?? []),
    ...section(5, [1, 0x00, 1]), // memory: 1 page
    ...EXPORTS,
    ...(parts.elements ?? []),
    ...section(10, [...u32(bodies.length), ...bodies.flat()]),
    ...(parts.data ?? []),
  ]);
}

/** `count` copies of `unit` (one allocation, no per-byte arrays: the modules are megabytes). */
function repeated(unit: readonly number[], count: number): Uint8Array {
  const out = new Uint8Array(unit.length * count);
  out.set(unit, 0);
  for (let filled = unit.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  return out;
}

function concat(parts: ReadonlyArray<ArrayLike<number>>): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A section whose content is `head` then `body` (the large part, already bytes). */
function bigSection(id: number, head: number[], body: Uint8Array): Uint8Array {
  return concat([[id, ...u32(head.length + body.length), ...head], body]);
}

/** A zApp around a large section: its bytes are spliced in before the code (elements) or after it (data). */
function zAppAround(large: { before?: Uint8Array; after?: Uint8Array; table?: number[] }): Uint8Array {
  const module = zApp({ table: large.table ?? [] });
  if (large.before === undefined && large.after === undefined) return module;
  // the code section is the last one zApp() writes: split there
  const codeAt = module.length - CODE_SECTION_BYTES;
  return concat([module.subarray(0, codeAt), large.before ?? [], module.subarray(codeAt), large.after ?? []]);
}

const CODE_SECTION_BYTES = section(10, [2, ALLOC_BODY.length, ...ALLOC_BODY, HANDLE_BODY.length, ...HANDLE_BODY]).length;

/** A zApp whose table of `entries` slots is filled again by each of `segments` active element segments. */
export function elementBombZApp(segments: number, entries: number): Uint8Array {
  const segment = concat([[0x00, 0x41, 0x00, 0x0b, ...u32(entries)], new Uint8Array(entries)]);
  return zAppAround({
    table: section(4, [1, 0x70, 0x00, ...u32(entries)]),
    before: bigSection(9, u32(segments), repeated([...segment], segments)),
  });
}

/** A zApp with `segments` active data segments of `bytes` bytes each, all at address 0. */
export function dataBombZApp(segments: number, bytes: number): Uint8Array {
  const segment = concat([[0x00, 0x41, 0x00, 0x0b, ...u32(bytes)], new Uint8Array(bytes).fill(0x5a)]);
  return zAppAround({ after: bigSection(11, u32(segments), repeated([...segment], segments)) });
}

/** A zApp with one extra function of `loops` empty loops (`loop end`, 2 bytes each): small to send, large once metered. */
export function emptyLoopsZApp(loops: number): Uint8Array {
  const body = [0, ...new Array<number[]>(loops).fill([0x03, 0x40, 0x0b]).flat(), 0x0b];
  return zApp({ extraFunctions: [body] });
}
