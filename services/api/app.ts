import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ZgasError } from '../../contracts/errors.ts';
import type { ApiDeps, ApiLimits } from './deps.ts';
import { DEFAULT_LIMITS } from './deps.ts';
import { installAdmission } from './admission.ts';
import { clientErrorCode, errorBody, retryAfterSeconds, toZgasError } from './errors.ts';
import { callRoutes } from './routes/calls.ts';
import { eventRoutes } from './routes/events.ts';
import { moduleRoutes } from './routes/modules.ts';
import { opsRoutes } from './routes/ops.ts';
import { receiptRoutes } from './routes/receipts.ts';
import { stateRoutes } from './routes/state.ts';

export type { ApiDeps, ApiLimits } from './deps.ts';
export { DEFAULT_LIMITS } from './deps.ts';

/** Routes that rate limiting never applies to (probes and scrapes). */
const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Answers a request Node's HTTP parser refused (headers too large, broken framing, too slow) with
 * the same `{ code, message }` JSON as every other error, then closes the connection.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const zerr = new ZgasError(clientErrorCode(err), { reason: err.code ?? err.message });
  const body = JSON.stringify(errorBody(zerr));
  socket.end(
    `HTTP/1.1 ${zerr.status} ${STATUS_CODES[zerr.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * The settlement API (docs/protocol.md §Fixed surfaces) as a fastify instance, not yet listening:
 * tests drive it through `inject`, processes call `listen`. Every failure leaves as
 * `{ code, message }` with the status of its code in the error registry.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = Fastify({
    // Per-request lines are info; the API logs warnings and failures only (metrics count requests).
    loggerInstance: deps.log.child({ component: 'api' }, { level: deps.log.levelVal > 40 ? deps.log.level : 'warn' }) as FastifyBaseLogger,
    bodyLimit: limits.jsonBodyBytes,
    clientErrorHandler,
    // Validation is zod's, in the handlers; route JSON schemas only document the API.
    ajv: { customOptions: { strict: false } },
  });
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  // JSON as on the wire everywhere (docs/protocol.md §JSON forms): bigints leave as decimal
  // strings.
  app.setReplySerializer((payload) => JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString(10) : value)));

  app.setErrorHandler((err: FastifyError | ZgasError, request, reply) => {
    const zerr = toZgasError(err);
    if (zerr.code === 'Internal') request.log.error({ err, url: request.url }, 'request failed');
    const retryAfter = retryAfterSeconds(zerr);
    if (retryAfter !== null && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(retryAfter));
    void reply.status(zerr.status).send(errorBody(zerr));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(new ZgasError('NotFound', { route: `${request.method} ${request.url.split('?')[0] ?? ''}` })));
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'zgas settlement API',
        version: '1',
        description:
          'Stores modules, signed calls and gas receipts; serves the gas contract state and its momentums. Integers are decimal strings, bytes 0x hex. Errors are { code, message } with the status of the code.',
      },
      tags: [
        { name: 'modules', description: 'content-addressed WASM modules' },
        { name: 'calls', description: 'signed contract calls' },
        { name: 'receipts', description: 'signed gas receipts for settlement' },
        { name: 'state', description: 'the gas contract state and momentums' },
        { name: 'events', description: 'server-sent events' },
        { name: 'ops', description: 'health, readiness and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  if (limits.rateLimitMax !== false) {
    await app.register(rateLimit, {
      max: limits.rateLimitMax,
      timeWindow: limits.rateLimitWindowMs,
      allowList: (request) => UNLIMITED_ROUTES.has(request.routeOptions.url ?? '') || (request.routeOptions.url ?? '').startsWith('/docs'),
      errorResponseBuilder: (_request, context) => new ZgasError('RateLimited', { retryAfterMs: context.ttl, max: context.max }),
    });
  }

  installAdmission(app, deps, limits);

  await app.register(moduleRoutes, { deps, limits });
  await app.register(callRoutes, { deps, limits });
  await app.register(receiptRoutes, { deps, limits });
  await app.register(stateRoutes, { deps, limits });
  await app.register(eventRoutes, { deps, limits });
  await app.register(opsRoutes, { deps, limits });
  return app;
}
