/**
 * The dashboard's signing code for the browser: wallet/entry.ts and what it imports of contracts/
 * and the typed client, bundled by esbuild into one ES module. Built once per process on first
 * request, from the sources on disk: the same sources always give the same bytes, and nothing is
 * fetched from elsewhere. Node built-ins the contracts use are replaced by browser shims, and the
 * WebAssembly keccak by the pure-JS one (the page's policy allows no WebAssembly).
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Plugin } from 'esbuild';

const HERE = import.meta.dirname;
const ENTRY = path.join(HERE, 'wallet', 'entry.ts');
const SHIMS: Record<string, string> = {
  'node:crypto': path.join(HERE, 'wallet', 'shims', 'node-crypto.ts'),
  'node:module': path.join(HERE, 'wallet', 'shims', 'node-module.ts'),
  'hash-wasm': path.join(HERE, 'wallet', 'shims', 'hash-wasm.ts'),
};

const nodeShims: Plugin = {
  name: 'node-shims',
  setup(build) {
    build.onResolve({ filter: /^(node:|hash-wasm$)/ }, (args) => {
      const shim = SHIMS[args.path];
      if (shim === undefined) return { errors: [{ text: `${args.path} has no browser shim (imported by ${args.importer})` }] };
      return { path: shim };
    });
  },
};

export interface WalletBundle {
  code: string;
  /** Strong ETag: the SHA-256 of the code. */
  etag: string;
}

let building: Promise<WalletBundle> | null = null;

/** The bundle, built on first use and kept for the life of the process. */
export function walletBundle(): Promise<WalletBundle> {
  building ??= buildWalletBundle().catch((error: unknown) => {
    building = null;
    throw error;
  });
  return building;
}

/** Builds the bundle afresh (walletBundle keeps the first build). */
export async function buildWalletBundle(): Promise<WalletBundle> {
  // esbuild is a development dependency: a production install without it serves the read-only page.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [nodeShims],
    inject: [path.join(HERE, 'wallet', 'shims', 'buffer.ts')],
  });
  const code = result.outputFiles[0]?.text ?? '';
  return { code, etag: `"${createHash('sha256').update(code).digest('base64url')}"` };
}
