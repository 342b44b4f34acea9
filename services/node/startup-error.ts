import { errors, isZgasError } from '../../contracts/errors.ts';
import { ConfigError } from '../config.ts';
import { isStoreUnavailable } from '../db/unavailable.ts';

/** The host:port (or host) of a connection string, without its credentials. */
function endpoint(url: string): string {
  try {
    const u = new URL(url);
    return u.port === '' ? u.hostname : `${u.hostname}:${u.port}`;
  } catch {
    return 'the configured host';
  }
}

/** The error code (ECONNREFUSED, ENOTFOUND, a SQLSTATE…) or message of a failure, its causes included. */
function reasonOf(err: unknown): string {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (e instanceof AggregateError && e.errors.length > 0) return reasonOf(e.errors[0]);
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * A failure to open the store as a setting the operator must fix: which variable, which host, what
 * happened (unreachable, unknown host, refused login, missing database) and what to do.
 */
export function storeOpenError(err: unknown, databaseUrl: string): unknown {
  if (isZgasError(err)) return err;
  const where = endpoint(databaseUrl);
  const reason = reasonOf(err);
  if (reason === 'ENOTFOUND' || reason === 'EAI_AGAIN') return new ConfigError('DATABASE_URL', `the host of ${where} does not resolve (${reason}); fix the host name in DATABASE_URL`);
  if (reason === '28P01' || reason === '28000') return new ConfigError('DATABASE_URL', `PostgreSQL at ${where} refused the login (${reason}); fix the user or password in DATABASE_URL`);
  if (reason === '3D000') return new ConfigError('DATABASE_URL', `PostgreSQL at ${where} has no such database (${reason}); create it or fix the database name in DATABASE_URL`);
  if (isStoreUnavailable(err)) return new ConfigError('DATABASE_URL', `cannot connect to PostgreSQL at ${where} (${reason}); start it or fix DATABASE_URL`);
  return err;
}

/**
 * One line for a process that cannot start or run: a setting names its variable, a typed failure
 * its code and message; anything else its message (the stack only with ZGAS_LOG_LEVEL=debug).
 */
export function startupMessage(err: unknown, verbose = false): string {
  if (err instanceof ConfigError || isZgasError(err, 'InvalidConfig')) {
    return `zgas: ${String(err.details['variable'])}: ${String(err.details['reason'])}`;
  }
  if (isZgasError(err)) {
    const details = Object.entries(err.details)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}`)
      .join(', ');
    return `zgas: ${err.code}: ${errors[err.code].message}${details === '' ? '' : ` (${details})`}`;
  }
  if (verbose && err instanceof Error && err.stack !== undefined) return `zgas: ${err.stack}`;
  return `zgas: ${err instanceof Error ? err.message : String(err)}`.replace(/\s*\n\s*/g, ' ');
}
