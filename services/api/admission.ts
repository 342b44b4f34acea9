import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZgasError } from '../../contracts/errors.ts';
import { unappliedWork } from '../store/backlog.ts';
import type { ApiDeps, ApiLimits } from './deps.ts';

/** Routes that add work to the pipeline: refused while the node is behind. */
const WORK_ROUTES = new Set(['POST /v1/receipts', 'POST /v1/calls']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Longest a sample waits for the queue or the store before the previous sample stands. */
const SAMPLE_TIMEOUT_MS = 1_000;
/** What a client refused for load is told to wait. */
const OVERLOADED_RETRY_AFTER_MS = 2_000;

interface Sample {
  queueDepth: number;
  unapplied: number;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]);
}

/**
 * Admission control: the API takes work only as fast as the node can serve it. Before a request
 * body is read, it refuses with 503 Overloaded (and Retry-After):
 * - a large body (Content-Length ≥ largeBodyBytes, or chunked) while maxLargeBodies are in flight,
 *   so a burst of big batches cannot hold them all in memory at once;
 * - new receipts and calls while the verification queue is deeper than maxQueueDepth, or more
 *   than maxUnappliedWork stored receipts and calls wait to be applied (the momentum lag).
 * Queue depth and unapplied work are sampled at most every admissionSampleMs, off the request path.
 */
export function installAdmission(app: FastifyInstance, deps: ApiDeps, limits: ApiLimits): void {
  let sample: Sample | null = null;
  let sampledAt = -Infinity;
  let sampling = false;
  let depthCall: Promise<number> | null = null;
  let largeInFlight = 0;

  const refresh = async (): Promise<void> => {
    // A depth call that hangs (Redis away) is awaited again, never stacked.
    depthCall ??= deps.queue.depth().finally(() => {
      depthCall = null;
    });
    const [queueDepth, unapplied] = await Promise.all([
      within(depthCall, SAMPLE_TIMEOUT_MS).catch(() => undefined),
      within(unappliedWork(deps.db, limits.maxUnappliedWork), SAMPLE_TIMEOUT_MS).catch(() => undefined),
    ]);
    sample = { queueDepth: queueDepth ?? sample?.queueDepth ?? 0, unapplied: unapplied ?? sample?.unapplied ?? 0 };
    deps.metrics.queueDepth.set(sample.queueDepth);
  };
  const sampleNow = (): Sample | null => {
    const now = performance.now();
    if (!sampling && now - sampledAt >= limits.admissionSampleMs) {
      sampling = true;
      sampledAt = now;
      refresh()
        .catch(() => undefined)
        .finally(() => {
          sampling = false;
        });
    }
    return sample;
  };

  const admitLargeBody = (request: FastifyRequest, reply: FastifyReply): void => {
    if (!BODY_METHODS.has(request.method)) return;
    const length = Number(request.headers['content-length'] ?? NaN);
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (!(chunked || (Number.isFinite(length) && length >= limits.largeBodyBytes))) return;
    if (largeInFlight >= limits.maxLargeBodies) {
      // The body is not read: close the connection rather than drain it.
      void reply.header('connection', 'close');
      throw new ZgasError('Overloaded', { reason: 'large bodies in flight', max: limits.maxLargeBodies, retryAfterMs: OVERLOADED_RETRY_AFTER_MS });
    }
    largeInFlight++;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      largeInFlight--;
    });
  };

  const admitWork = (request: FastifyRequest): void => {
    if (!WORK_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`)) return;
    const s = sampleNow();
    if (s === null) return;
    if (s.queueDepth > limits.maxQueueDepth) {
      throw new ZgasError('Overloaded', { reason: 'verification queue', depth: s.queueDepth, max: limits.maxQueueDepth, retryAfterMs: OVERLOADED_RETRY_AFTER_MS });
    }
    if (s.unapplied > limits.maxUnappliedWork) {
      throw new ZgasError('Overloaded', { reason: 'unapplied work', unapplied: s.unapplied, max: limits.maxUnappliedWork, retryAfterMs: OVERLOADED_RETRY_AFTER_MS });
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    admitWork(request);
    admitLargeBody(request, reply);
  });
}
