/**
 * The runner's HTTP API (DESIGN §9): `POST /v1/sessions/:id/calls` with a signed invocation, and
 * `GET /healthz`. Built apart from listening, so tests drive it through inject().
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errors, isZgasError, ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { invocationBodyFromJson, receiptToJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import { MAX_INPUT_BYTES } from '../runtime/execute.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import type { CallService } from './calls.ts';

/** The largest request body: the input as hex plus the other fields. */
export const MAX_BODY_BYTES = 2 * MAX_INPUT_BYTES + 4 * 1024;

export interface RunnerAppDeps {
  calls: CallService;
  pool: WorkerPool;
  /** Fastify logger options; off unless given. */
  logger?: boolean | Record<string, unknown>;
}

const sessionParams = z.object({ id: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a session id is 0x + 64 hex digits') });
const callBody = z.strictObject({
  seq: z.string().max(20),
  input: z.string().max(2 + 2 * MAX_INPUT_BYTES),
  signature: z.string().max(132),
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ZgasError('InvalidRequest', { path: issue?.path.join('.') ?? '', reason: issue?.message ?? 'invalid' });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PayloadTooLarge',
  FST_ERR_CTP_INVALID_JSON_BODY: 'InvalidRequest',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'InvalidRequest',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_INVALID_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_EMPTY_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'InvalidRequest',
};

export function toZgasError(error: unknown): ZgasError {
  if (isZgasError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in FASTIFY_CODES) return new ZgasError(FASTIFY_CODES[code]!, {}, { cause: error });
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (status === 413) return new ZgasError('PayloadTooLarge', {}, { cause: error });
  if (status === 415) return new ZgasError('UnsupportedMediaType', {}, { cause: error });
  if (typeof status === 'number' && status >= 400 && status < 500) return new ZgasError('InvalidRequest', {}, { cause: error });
  return new ZgasError('Internal', {}, { cause: error });
}

export async function buildRunner(deps: RunnerAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: MAX_BODY_BYTES });
  // Bodies are JSON only.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler(async (error, request, reply) => {
    const zgas = toZgasError(error);
    if (zgas.code === 'Internal') request.log.error({ err: error }, 'internal error');
    const path = zgas.details.path;
    return reply.status(zgas.status).send({ code: zgas.code, message: errors[zgas.code].message, ...(typeof path === 'string' ? { path } : {}) });
  });
  app.setNotFoundHandler(async (_request, reply) => reply.status(404).send({ code: 'NotFound', message: errors.NotFound.message }));

  app.get('/healthz', async () => ({
    ok: true,
    workers: deps.pool.size,
    busy: deps.pool.busy,
    queued: deps.pool.queued,
    restarts: deps.pool.restarts,
    sessions: deps.calls.sessions.size,
  }));

  app.post('/v1/sessions/:id/calls', async (request) => {
    const { id } = parse(sessionParams, request.params);
    const body = parse(callBody, request.body);
    const invocation = invocationBodyFromJson(body, id.toLowerCase() as Hash);
    const { output, receipt } = await deps.calls.invoke(invocation);
    return { output, receipt: receiptToJson(receipt) };
  });

  return app;
}
