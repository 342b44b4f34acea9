import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process logger: JSON lines on stdout (pino), one `name` per process role. */
export function createLogger(opts: { name?: string; level?: string | undefined } = {}): Logger {
  const level = (LOG_LEVELS as readonly string[]).includes(opts.level ?? '') ? (opts.level as LogLevel) : 'info';
  return pino({ name: opts.name ?? 'zgas', level, base: { pid: process.pid } });
}

/** A logger that writes nothing, for tests and libraries used without a process logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
