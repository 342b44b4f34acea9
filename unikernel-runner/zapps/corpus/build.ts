/**
 * `npm run build:corpus`: compiles the C programs of src/ with clang into strict-MVP WebAssembly
 * zApps (no sign-extension, bulk memory or multi-value), one `<name>.wasm` beside this file, and
 * records the compiler and each module's SHA3-256 in manifest.json. The built modules are
 * committed: the tests use them as shipped, and rebuild them to compare bytes only where the same
 * clang is installed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha3 } from '../../../contracts/hash.ts';
import { CORPUS, CORPUS_DIR, MANIFEST_FILE } from './corpus.ts';
import type { CorpusManifest } from './corpus.ts';

/** The flags of every build; part of the manifest, so a rebuild with other flags is visible. */
export const CLANG_FLAGS: readonly string[] = [
  '--target=wasm32', '-nostdlib', '-O2', '-mcpu=mvp', '-fno-builtin', '-std=c11', '-Wall', '-Wextra', '-Werror',
  '-Wl,--no-entry', '-Wl,-z,stack-size=65536',
];

/** The installed clang's version line, or undefined when there is none. */
export function clangVersion(): string | undefined {
  try {
    return execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return undefined;
  }
}

/** Compiles one program to bytes (in a scratch directory; the committed files are not touched). */
export function compileProgram(name: string): Uint8Array {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zgas-corpus-'));
  try {
    const out = path.join(dir, `${name}.wasm`);
    // Relative source path: the compiler sees the same command line on every machine.
    execFileSync('clang', [...CLANG_FLAGS, '-o', out, path.join('src', `${name}.c`)], { cwd: CORPUS_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function buildCorpus(): CorpusManifest {
  const compiler = clangVersion();
  if (compiler === undefined) throw new Error('clang is not installed (apt-get install clang lld)');
  const modules: Record<string, string> = {};
  for (const name of CORPUS) {
    const bytes = compileProgram(name);
    writeFileSync(path.join(CORPUS_DIR, `${name}.wasm`), bytes);
    modules[name] = sha3(bytes);
  }
  const manifest: CorpusManifest = { compiler, flags: [...CLANG_FLAGS], modules };
  writeFileSync(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const manifest = buildCorpus();
  console.log(manifest.compiler);
  for (const [name, hash] of Object.entries(manifest.modules)) console.log(`${name.padEnd(10)} ${hash}`);
}
