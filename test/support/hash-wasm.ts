/**
 * The integer-only WebAssembly modules shipped inside the hash-wasm package (base64 in its UMD
 * bundles): real compiler output, used as shipped to test the instrumenter on modules it did not
 * come from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const HASH_WASM_DIST = path.join(import.meta.dirname, '..', '..', 'node_modules', 'hash-wasm', 'dist');

export interface ShippedModule {
  name: string;
  bytes: Uint8Array;
}

/** Every distinct module of the package, by name, sorted (bundles that only wrap another module are skipped). */
export function hashWasmModules(): ShippedModule[] {
  const byName = new Map<string, Uint8Array>();
  for (const file of readdirSync(HASH_WASM_DIST).filter((f) => f.endsWith('.umd.min.js')).sort()) {
    const match = /name:"(\w+)",data:"([^"]+)"/.exec(readFileSync(path.join(HASH_WASM_DIST, file), 'utf8'));
    if (match !== null && !byName.has(match[1]!)) byName.set(match[1]!, new Uint8Array(Buffer.from(match[2]!, 'base64')));
  }
  return [...byName].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** hash-wasm modules that use sign-extension: only the extended profile accepts them. */
export const SIGN_EXTENSION_MODULES: ReadonlySet<string> = new Set(['argon2', 'scrypt']);
