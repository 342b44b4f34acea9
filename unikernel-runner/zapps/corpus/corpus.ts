/**
 * The C corpus: integer-only programs (sorting, a sieve, an LZ compressor, bignum multiplication,
 * a bytecode interpreter, CoreMark-style kernels) compiled by clang to zApps. Each reads a decimal
 * size from its input and answers `key=value` text; the built modules are committed beside this file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const CORPUS = ['sort', 'sieve', 'lz', 'bignum', 'interp', 'coremark'] as const;
export type CorpusName = (typeof CORPUS)[number];

export const CORPUS_DIR = import.meta.dirname;
export const MANIFEST_FILE = path.join(CORPUS_DIR, 'manifest.json');

/** What built the committed modules, and their SHA3-256. */
export interface CorpusManifest {
  compiler: string;
  flags: string[];
  modules: Record<string, string>;
}

/** The committed module of one program, as built (custom sections included). */
export function loadCorpusModule(name: CorpusName): Uint8Array {
  return new Uint8Array(readFileSync(path.join(CORPUS_DIR, `${name}.wasm`)));
}

export function corpusManifest(): CorpusManifest {
  return JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as CorpusManifest;
}
