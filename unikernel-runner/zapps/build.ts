/**
 * `npm run build`: compiles every zApp and test module to unikernel-runner/zapps/build/<name>.wasm
 * and prints each module's SHA3-256 (its moduleHash). As a library it re-exports loadZApp.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha3 } from '../../contracts/hash.ts';
import { ALL_MODULES, loadZApp } from './load.ts';

export { ALL_MODULES, TEST_MODULES, ZAPPS, compileWat, loadZApp } from './load.ts';
export type { ZAppName } from './load.ts';

export const BUILD_DIR = path.join(import.meta.dirname, 'build');

export function buildAll(dir = BUILD_DIR): { name: string; file: string; moduleHash: string; bytes: number }[] {
  mkdirSync(dir, { recursive: true });
  return ALL_MODULES.map((name) => {
    const bytes = loadZApp(name);
    const file = path.join(dir, `${name}.wasm`);
    writeFileSync(file, bytes);
    return { name, file, moduleHash: sha3(bytes), bytes: bytes.length };
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const built of buildAll()) console.log(`${built.name.padEnd(18)} ${String(built.bytes).padStart(6)} B  ${built.moduleHash}`);
}
