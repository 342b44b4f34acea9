/**
 * The runner's HTTP API (docs/protocol.md §Fixed surfaces): `POST /v1/sessions/:id/calls` with a
 * signed invocation, `GET /v1/sessions/:id/receipts/latest`, `POST /v1/sessions/:id/abort` with the
 * signed Abort call, `GET /healthz`, and the OpenAPI description at `/docs`. Built apart from
 * listening, so tests drive it through inject().
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errors, isZgasError, ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { callFromJson, invocationFromJson, MAX_INVOCATION_INPUT_BYTES, receiptToJson, writesToJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import type { CallService } from './calls.ts';

/** The largest request body: the largest input as hex plus the other fields. */
export const MAX_BODY_BYTES = 2 * MAX_INVOCATION_INPUT_BYTES + 4 * 1024;
/** The largest Abort call body (its data is a selector and one word). */
export const MAX_ABORT_BODY_BYTES = 4 * 1024;

export interface RunnerAppDeps {
  calls: CallService;
  pool: WorkerPool;
  /** Fastify logger options; off unless given. */
  logger?: boolean | Record<string, unknown>;
  /**
   * Serve the Swagger UI at /docs (default). Its static files live in node_modules, so the
   * single-file bundle turns it off and serves the OpenAPI JSON alone at /docs and /docs/json.
   */
  docsUi?: boolean;
}

const sessionParams = z.object({ id: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a session id is 0x + 64 hex digits') });

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

/** `{ code, message }`, with the field path of a schema error and, for InvocationStale, the runner's newest receipt. */
function errorBody(error: ZgasError): Record<string, unknown> {
  const { path, latest, expected } = error.details;
  return {
    code: error.code,
    message: errors[error.code].message,
    ...(typeof path === 'string' ? { path } : {}),
    ...(error.code === 'InvocationStale' ? { latest: latest ?? null, expected } : {}),
  };
}

// OpenAPI descriptions only: bodies are parsed by the contracts' strict JSON codecs.
const hex = { type: 'string', pattern: '^0x[0-9a-fA-F]*$' };
const decimal = { type: 'string', pattern: '^(0|[1-9][0-9]*)$' };
const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, additionalProperties: true };
const receiptSchema = {
  type: 'object',
  description: 'a settlement receipt: the ten GasReceipt fields, the provider signature and the user invocation signature',
  properties: {
    sessionId: hex, seq: decimal, callGasLimit: decimal, callGas: decimal, cumulativeGas: decimal, inputHash: hex, preStateHash: hex,
    postStateHash: hex, outputHash: hex, status: { type: 'integer', enum: [1, 2, 3, 4] }, signature: hex, invocationSignature: hex,
  },
};
const invocationSchema = {
  type: 'object',
  description: 'an Invocation signed by the session user; the signature covers SHA3-256 of the input',
  required: ['sessionId', 'seq', 'callGasLimit', 'input', 'preStateHash', 'ackedGas', 'signature'],
  properties: { sessionId: hex, seq: decimal, callGasLimit: decimal, input: hex, preStateHash: hex, ackedGas: decimal, signature: hex },
};
const signedCallSchema = {
  type: 'object',
  description: 'the signed Abort(sessionId) call, as sent to POST /v1/calls of the settlement API',
  required: ['from', 'nonce', 'data', 'signature'],
  properties: { from: hex, nonce: decimal, data: hex, signature: hex },
};
const idParamsSchema = { type: 'object', properties: { id: { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' } }, required: ['id'] };

export async function buildRunner(deps: RunnerAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: MAX_BODY_BYTES });
  // Bodies are JSON only.
  app.removeContentTypeParser('text/plain');
  // Schemas document the routes; the handlers parse with the strict codecs and answer typed errors.
  app.setValidatorCompiler(() => () => true);

  app.setErrorHandler(async (error, request, reply) => {
    const zgas = toZgasError(error);
    if (zgas.code === 'Internal') request.log.error({ err: error }, 'internal error');
    return reply.status(zgas.status).send(errorBody(zgas));
  });
  app.setNotFoundHandler(async (_request, reply) => reply.status(404).send({ code: 'NotFound', message: errors.NotFound.message }));
  // Users' clients may run in a browser page served from elsewhere (the dashboard): every request
  // carries its own signature and no cookie, so any origin may call.
  await app.register(cors, { origin: '*', methods: ['GET', 'POST'], maxAge: 600 });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'zgas runner API',
        version: '2',
        description:
          'Runs signed invocations of a provider\'s sessions metered, answering the output, the settlement receipt and the state writes. Integers are decimal strings, bytes 0x hex. Errors are { code, message } with the status of the code.',
      },
      tags: [
        { name: 'sessions', description: 'invocations, receipts and aborts of a session' },
        { name: 'ops', description: 'health' },
      ],
    },
  });
  if (deps.docsUi ?? true) await app.register(swaggerUi, { routePrefix: '/docs' });
  else {
    const openApi = async () => app.swagger();
    app.get('/docs', { schema: { hide: true } }, openApi);
    app.get('/docs/json', { schema: { hide: true } }, openApi);
  }

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'The runner is up: workers and sessions' } }, async () => ({
    ok: true,
    workers: deps.pool.size,
    busy: deps.pool.busy,
    queued: deps.pool.queued,
    restarts: deps.pool.restarts,
    // state seeded into workers and hashed by them: steady calls add only what they changed
    state: { ...deps.pool.stats },
    sessions: deps.calls.sessions.size,
    log: deps.calls.log.where,
  }));

  app.post(
    '/v1/sessions/:id/calls',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Run one signed invocation: seq = last seq + 1, acknowledging the newest receipt (preStateHash, ackedGas)',
        params: idParamsSchema,
        body: invocationSchema,
        response: {
          200: {
            type: 'object',
            properties: {
              output: hex,
              receipt: receiptSchema,
              writes: { type: 'array', items: { type: 'object', properties: { key: hex, value: { type: ['string', 'null'] } } } },
            },
          },
          400: { ...errorSchema, description: 'InvalidRequest (path: the field)' },
          401: { ...errorSchema, description: 'NotSessionUser: the invocation is not signed by the session user' },
          404: { ...errorSchema, description: 'SessionNotFound' },
          409: { ...errorSchema, description: 'InvocationOutOfOrder, InvocationReplayed, InvocationStale (with latest: the newest receipt), SessionNotOpen, SessionExpired, SessionOutOfGas, CallGasLimitTooHigh, NotThisProvider, ReceiptSignerMismatch' },
          410: { ...errorSchema, description: 'SessionStateLost: this runner lost the session log and runs no more of its calls' },
          413: { ...errorSchema, description: 'LimitExceeded, PayloadTooLarge' },
          503: { ...errorSchema, description: 'RunnerBusy, ModuleUnavailable: retry' },
          504: { ...errorSchema, description: 'CallTimeout' },
          507: { ...errorSchema, description: 'SessionLogFull' },
        },
      },
    },
    async (request) => {
      const { id } = parse(sessionParams, request.params);
      const invocation = invocationFromJson(request.body);
      if (invocation.sessionId.toLowerCase() !== id.toLowerCase()) throw new ZgasError('InvalidRequest', { path: 'sessionId', reason: 'the invocation is for another session than the URL' });
      const { output, receipt, writes } = await deps.calls.invoke({ ...invocation, sessionId: id.toLowerCase() as Hash });
      return { output, receipt: receiptToJson(receipt), writes: writesToJson(writes) };
    },
  );

  app.get(
    '/v1/sessions/:id/receipts/latest',
    {
      schema: {
        tags: ['sessions'],
        summary: 'The newest settlement receipt of the session (how a client resynchronises); 404 before the first call',
        params: idParamsSchema,
        response: { 200: receiptSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { id } = parse(sessionParams, request.params);
      const receipt = await deps.calls.latest(id.toLowerCase() as Hash);
      if (receipt === null) throw new ZgasError('NotFound', { sessionId: id });
      return receiptToJson(receipt);
    },
  );

  app.post(
    '/v1/sessions/:id/abort',
    {
      bodyLimit: MAX_ABORT_BODY_BYTES,
      schema: {
        tags: ['sessions'],
        summary: 'The signed Abort(sessionId) call of the session user or zApp owner: the running call stops at its next checkpoint, no new invocation runs',
        params: idParamsSchema,
        body: signedCallSchema,
        response: {
          202: { type: 'object', properties: { sessionId: hex, aborted: { type: 'boolean' } } },
          400: { ...errorSchema, description: 'InvalidRequest, NotAnAbort: not the signed Abort of this session' },
          401: { ...errorSchema, description: 'WrongSigner: the signature does not recover to from' },
          403: { ...errorSchema, description: 'NotSessionParty: from is neither the session user nor its zApp owner' },
        },
      },
    },
    async (request, reply) => {
      const { id } = parse(sessionParams, request.params);
      const call = callFromJson(request.body);
      await deps.calls.abortSigned(id as Hash, call);
      return reply.status(202).send({ sessionId: id.toLowerCase(), aborted: true });
    },
  );

  return app;
}
