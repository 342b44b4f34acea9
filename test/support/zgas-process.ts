import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { until } from './wait.ts';

export const ZGAS_BIN = fileURLToPath(new URL('../../bin/zgas.js', import.meta.url));

/** A `zgas` child process with its combined output kept for assertions and failure messages. */
export interface ZgasProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function spawnZgas(args: string[], env: Record<string, string>): ZgasProcess {
  const child = spawn(process.execPath, [ZGAS_BIN, ...args], { env: { ...process.env, ZGAS_GENESIS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    output: () => output,
    alive,
    async stop(graceMs = 20_000) {
      if (!alive()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
