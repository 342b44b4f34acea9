import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha3 } from '../../contracts/hash.ts';
import { ALL_MODULES, compileWat, loadZApp, WAT_DIR } from './load.ts';

// The module hashes of the shipped zApps: a change to a WAT source (or to the compiler's output)
// changes a moduleHash that registered zApps depend on, so it must be deliberate.
const PINNED: Record<string, string> = {
  hello: '0x257c5425ce0f27cc7cbeb184ccd0190e161bb1bb434570b244bf2ba73c87f9b0',
  counter: '0x83586f89e4393b18e4ba0a06cde4d4fbac780797c716b41f142f34c643e91015',
  'fuddor-meme': '0x210319d4d29ac52005772442372f8f18b0cd495be5b581e563cb9a6f78bedef7',
  spin: '0x8f28f0107e01dcbe2c62755176eb6d7ce5766826d80173f9a48a87ae69dbc9da',
  loop: '0x01a6a22474d48697981e4849cb0a2f8fbc95eb5d6473ad775e0ab5e60bf4774c',
  membomb: '0xbfe168c9dbd8359f345cb2fc8a239467fae64e0a1657b3b239322bc2df0c0b6d',
  recursion: '0xffe447f6d27d7878bb0967ab506d5dcbbf8191a5fa70c4948790c10fd8a74b4e',
  float: '0x5c73b8036c50c767b6d4aeae6b0faa5c05014acf0af2f721af38abd20f7cfd82',
  'forbidden-import': '0x264e0afd6d24dbe42da525dc727f19db7af31f541a3bd9ff6578166dcff99a3d',
};

describe('zApp builds', () => {
  it.each(ALL_MODULES)('%s compiles to the same bytes twice, with its pinned SHA3-256', (name) => {
    const source = readFileSync(path.join(WAT_DIR, `${name}.wat`), 'utf8');
    const first = compileWat(source);
    const second = compileWat(source);
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
    expect(sha3(first)).toBe(PINNED[name]);
    expect(sha3(loadZApp(name))).toBe(PINNED[name]);
  });

  it('every zApp exports memory, alloc and handle, and imports only from env', () => {
    for (const name of ALL_MODULES) {
      const module = new WebAssembly.Module(loadZApp(name) as Uint8Array<ArrayBuffer>);
      expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['alloc', 'handle', 'memory']);
      const imports = WebAssembly.Module.imports(module).map((i) => i.module);
      if (name !== 'forbidden-import') expect(imports.every((m) => m === 'env')).toBe(true);
    }
  });

  it('loadZApp returns a copy the caller may change', () => {
    const bytes = loadZApp('hello');
    bytes[0] = 0xff;
    expect(sha3(loadZApp('hello'))).toBe(PINNED.hello);
  });

  it('rejects unknown names and malformed WAT with typed errors', () => {
    expect(() => loadZApp('nope' as never)).toThrow(expect.objectContaining({ code: 'NotFound' }));
    expect(() => compileWat('(module (func (export "f") i32.add))')).toThrow(expect.objectContaining({ code: 'InvalidModule' }));
  });
});
