import { ZgasError, errors, isZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { isStoreUnavailable } from '../db/unavailable.ts';

/** How long a client is told to wait before retrying when the store is away (Retry-After). */
export const STORE_RETRY_AFTER_MS = 2_000;
/** Retry-After of any other 503 or 429 that names no wait of its own. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** The offending field, for InvalidRequest. */
  path?: string;
  details?: Record<string, unknown>;
}

// Fastify's own failures (body parsing, routing), each mapped to a registry code.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PayloadTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'InvalidRequest',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'InvalidRequest',
  FST_ERR_CTP_INVALID_JSON_BODY: 'InvalidRequest',
  FST_ERR_CTP_EMPTY_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_INVALID_TYPE: 'UnsupportedMediaType',
  FST_ERR_VALIDATION: 'InvalidRequest',
  FST_ERR_NOT_FOUND: 'NotFound',
};

/** Any thrown value as a ZgasError: the one place statuses are decided is the registry. */
export function toZgasError(err: unknown): ZgasError {
  if (isZgasError(err)) return err;
  // The database is away: nothing was stored, and the same request will succeed once it is back.
  if (isStoreUnavailable(err)) return new ZgasError('NotReady', { reason: 'the database is unavailable', retryAfterMs: STORE_RETRY_AFTER_MS }, { cause: err });
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code in FASTIFY_CODES) {
      const message = (err as { message?: unknown }).message;
      return new ZgasError(FASTIFY_CODES[code]!, { reason: typeof message === 'string' ? message : code }, { cause: err });
    }
    // SyntaxError from a JSON body, or any 4xx raised by a plugin without a code of ours.
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status === 413) return new ZgasError('PayloadTooLarge', {}, { cause: err });
    if (typeof status === 'number' && status === 415) return new ZgasError('UnsupportedMediaType', {}, { cause: err });
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = (err as { message?: unknown }).message;
      return new ZgasError('InvalidRequest', { reason: typeof message === 'string' ? message : 'bad request' }, { cause: err });
    }
  }
  return new ZgasError('Internal', {}, { cause: err });
}

export function errorBody(err: ZgasError): ErrorBody {
  const body: ErrorBody = { code: err.code, message: errors[err.code].message };
  const { path, ...rest } = err.details;
  if (typeof path === 'string') body.path = path;
  if (err.code !== 'Internal' && Object.keys(rest).length > 0) body.details = plainJson(rest);
  return body;
}

/** Details as plain JSON: bigints become decimal strings, byte arrays their length, cycles dropped. */
function plainJson(value: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(10) : v instanceof Uint8Array ? { bytes: v.length } : v)),
    ) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Seconds for the Retry-After header of a refusal the client should retry (429, 503, and a 507
 * that names its wait, e.g. StorageFull), else null.
 */
export function retryAfterSeconds(err: ZgasError): number | null {
  const ms = err.details['retryAfterMs'];
  if (err.status !== 429 && err.status !== 503 && !(err.status === 507 && typeof ms === 'number')) return null;
  const wait = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_RETRY_AFTER_MS;
  return Math.max(1, Math.ceil(wait / 1000));
}

/** The registry code of a failure Node's HTTP parser reports before any route runs. */
export function clientErrorCode(err: { code?: unknown }): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'HeadersTooLarge';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'RequestTimeout';
  return 'MalformedHttp';
}
