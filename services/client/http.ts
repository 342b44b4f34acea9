/**
 * HTTP for the client: JSON in and out, the servers' `{ code, message }` errors turned back into
 * the typed ZgasError of the same code, so an integrator matches on one error type whichever side
 * found the problem.
 */
import { errors, ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';

/** One request at most this long. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  /** A JSON body (serialised here) or raw bytes. */
  json?: unknown;
  bytes?: Uint8Array;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Response<T> {
  status: number;
  body: T;
}

const isKnownCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(errors, code);

/**
 * The error a server answered with, as a ZgasError: its own code when the registry knows it (details
 * carry the HTTP status, the server's message and the field path), `Internal` with the remote code otherwise.
 */
export function remoteError(status: number, body: unknown, url: string): ZgasError {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown; path?: unknown };
  const details: Record<string, unknown> = { httpStatus: status, url };
  if (typeof fields.message === 'string') details['remoteMessage'] = fields.message;
  if (typeof fields.path === 'string') details['path'] = fields.path;
  if (isKnownCode(fields.code)) return new ZgasError(fields.code, details);
  return new ZgasError('Internal', { ...details, remoteCode: typeof fields.code === 'string' ? fields.code : null, body: typeof body === 'string' ? body.slice(0, 200) : undefined });
}

/** Sends one request; a non-2xx answer throws its ZgasError, a network failure throws as fetch does. */
export async function request<T>(url: string, opts: RequestOptions = {}): Promise<Response<T>> {
  const headers: Record<string, string> = {};
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.bytes !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    body = new Uint8Array(opts.bytes) as Uint8Array<ArrayBuffer>;
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
  const response = await fetch(url, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }), signal });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) throw remoteError(response.status, parsed, url);
  return { status: response.status, body: parsed as T };
}

/** GET that answers null on 404 (the thing does not exist yet). */
export async function getOrNull<T>(url: string): Promise<T | null> {
  try {
    return (await request<T>(url)).body;
  } catch (error) {
    if (error instanceof ZgasError && error.details['httpStatus'] === 404) return null;
    throw error;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `read` until `done` holds, at most `timeoutMs`; then a NotReady error naming what it waited for. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, opts: { timeoutMs: number; intervalMs: number; what: string }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new ZgasError('NotReady', { reason: `timed out waiting for ${opts.what}`, timeoutMs: opts.timeoutMs });
    await sleep(opts.intervalMs);
  }
}
