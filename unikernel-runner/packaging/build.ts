/**
 * `npm run build:runner`: bundles the runner into one ES module, dist/zgas-runner.mjs, that runs
 * with plain `node` and no node_modules. The native secp256k1 binding stays out (the bundle signs
 * with @noble/secp256k1); JSON gas tables are inlined.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DEFAULT_BUNDLE = path.join(ROOT, 'dist', 'zgas-runner.mjs');

export async function buildRunnerBundle(outfile: string = DEFAULT_BUNDLE): Promise<{ outfile: string; bytes: number }> {
  const result = await build({
    entryPoints: [path.join(import.meta.dirname, 'entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Optional native pieces some dependencies try at run time; their pure-JS paths are used instead.
    external: ['secp256k1', 'bufferutil', 'utf-8-validate'],
    // CommonJS dependencies call require() for Node built-ins; give the ES module one.
    banner: { js: "import { createRequire as __zgasCreateRequire } from 'node:module'; const require = __zgasCreateRequire(import.meta.url);" },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return { outfile, bytes: output?.bytes ?? 0 };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { outfile, bytes } = await buildRunnerBundle(process.argv[2] ?? DEFAULT_BUNDLE);
  console.log(`${path.relative(process.cwd(), outfile)}  ${(bytes / 1024).toFixed(0)} KiB`);
}
