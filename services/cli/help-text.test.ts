/**
 * `zgas --help` comes from bin/help.json through a module that loads nothing of zgas: the file
 * must say what the commands declare, list every command, and the path to it from bin/zgas.js
 * must import node built-ins only (the TypeScript loader, ethers, pg… are imported dynamically,
 * after help was ruled out).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import type { IModule } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.ts';
import { HELP_JSON, helpJson } from './write-help.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ZGAS = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));

describe('zgas --help', () => {
  it('bin/help.json is what the commands declare (npm run build:help rewrites it)', () => {
    expect(readFileSync(HELP_JSON, 'utf8')).toBe(helpJson());
  });

  it('lists every command, and each command and subcommand has its own help', () => {
    const out = execFileSync(process.execPath, [ZGAS, '--help'], { encoding: 'utf8' });
    const program = buildProgram({});
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['keys', 'zapp', 'session', 'provider', 'challenge', 'transfer', 'status', 'node', 'runner']));
    for (const name of names) expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
    const call = execFileSync(process.execPath, [ZGAS, 'session', 'call', '--help'], { encoding: 'utf8' });
    expect(call).toContain('Usage: zgas session call');
    expect(call).toContain('--call-gas');
  });

  it('reaches only node built-ins from bin/zgas.js before the CLI itself is imported', async () => {
    // Two levels suffice: any module but a built-in or bin/help.js on the static path fails the test itself.
    const result = await cruise(['bin/zgas.js'], { baseDir: ROOT, maxDepth: 2, doNotFollow: { path: 'node_modules' } });
    if (typeof result.output === 'string') throw new Error('cruise answered text');
    const modules = new Map<string, IModule>(result.output.modules.map((m) => [m.source, m]));
    const reached = new Set<string>();
    const visit = (source: string): void => {
      if (reached.has(source)) return;
      reached.add(source);
      for (const dep of modules.get(source)?.dependencies ?? []) if (!dep.dynamic) visit(dep.resolved);
    };
    visit('bin/zgas.js');
    const loaded = [...reached].filter((source) => modules.get(source)?.coreModule !== true);
    expect(loaded.sort()).toEqual(['bin/help.js', 'bin/zgas.js']);
    // …and the full CLI is still behind it, imported dynamically.
    expect(modules.get('bin/zgas.js')?.dependencies.filter((d) => d.dynamic).map((d) => d.resolved)).toEqual(expect.arrayContaining(['tsx/esm/api', 'services/cli/entry.ts']));
  });
});
