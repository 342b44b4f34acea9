/**
 * `npm start -- --once` on the embedded defaults (no DATABASE_URL, no REDIS_URL): a child process
 * that runs the local system and the demo, prints the summary and exits 0.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/net.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
/** The embedded store starts slowly on a busy machine; the demo itself takes well under a minute. */
const START_TIMEOUT_MS = 300_000;


function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/start.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS - 5_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start -- --once', () => {
  it(
    'runs the demo on embedded PGlite and the in-process queue, prints the summary and exits 0',
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, ZGAS_API_PORT: String(await freePort()), ZGAS_RUNNER_PORT: String(await freePort()) };
      delete env['DATABASE_URL'];
      delete env['REDIS_URL'];
      delete env['ZGAS_DATA_DIR'];
      const { code, stdout, stderr } = await run(['--once'], env);
      expect({ code, stderr: code === 0 ? '' : stderr.slice(-2_000) }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toContain('embedded PGlite');
      expect(stdout).toContain('in-process queue');
      for (let n = 1; n <= 11; n++) expect(stdout).toContain(`Step ${n} ·`);
      expect(stdout).toMatch(/slashed \d+\.\d{8} QSR \(\d+ base units\)/);
      expect(stdout).toContain('status Aborted');
      expect(stdout).toContain('slashing yourself loses money ✔');
      expect(stdout).toMatch(/\+ burned [1-9]\d*\.\d{8} QSR/);
      expect(stdout).toContain('conserved to the base unit ✔');
      expect(stdout).not.toContain('✘');
      expect(stdout).toContain('demo chain clock: back to real time');
      expect(stdout).toContain('demo complete (--once)');
    },
    START_TIMEOUT_MS,
  );
});
