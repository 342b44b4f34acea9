import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { receiptDigest } from '../../../contracts/eip712/index.ts';
import type { Hash, SignedReceipt } from '../../../contracts/types.ts';
import { insertReceipts, loadReceipts } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';
import { MAX_RECEIPTS_PER_REQUEST, digestParams, openApiSchema, parseRequest, receiptFromBody, receiptsBody } from '../schemas.ts';

/** Longest wait for the queue after the receipts are stored. */
export const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * POST /v1/receipts: validates a batch, computes each receipt's EIP-712 digest, stores the batch
 * durably (Postgres commit) and only then answers 202 and enqueues the new digests for the
 * verification workers. A lost enqueue is recovered by the reconciler, never by the client.
 */
export async function receiptRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  app.post(
    '/v1/receipts',
    {
      schema: {
        tags: ['receipts'],
        summary: `Submit signed gas receipts (at most ${MAX_RECEIPTS_PER_REQUEST}); answered 202 once stored`,
        body: openApiSchema(receiptsBody),
        response: {
          202: {
            type: 'object',
            properties: { accepted: { type: 'array', items: { type: 'string' } }, duplicates: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { receipts?: unknown } | null;
      if (body !== null && typeof body === 'object' && Array.isArray(body.receipts)) {
        if (body.receipts.length > MAX_RECEIPTS_PER_REQUEST) throw new ZgasError('BatchTooLarge', { receipts: body.receipts.length, max: MAX_RECEIPTS_PER_REQUEST });
        if (body.receipts.length === 0) throw new ZgasError('EmptyBatch');
      }
      const { receipts: json } = parseRequest(receiptsBody, request.body);
      const unique = new Map<Hash, SignedReceipt>();
      const repeated: Hash[] = [];
      for (const r of json) {
        const receipt = receiptFromBody(r);
        if (receipt.seq === 0n || receipt.callGas > receipt.cumulativeGas) throw new ZgasError('InvalidReceipt', { path: `receipts.${unique.size + repeated.length}` });
        const digest = receiptDigest(deps.domain, receipt);
        if (unique.has(digest)) repeated.push(digest);
        else unique.set(digest, receipt);
      }
      const digests = [...unique.keys()];
      const { accepted, duplicates } = await insertReceipts(deps.db, [...unique.values()], digests);
      deps.metrics.receiptsAccepted.inc(accepted.length);
      deps.metrics.receiptsDuplicate.inc(duplicates.length + repeated.length);
      if (accepted.length > 0) {
        // Stored already: if the queue fails or stalls (Redis away), the reconciler enqueues these
        // again later. The client's 202 never waits on Redis longer than ENQUEUE_TIMEOUT_MS.
        let timer: NodeJS.Timeout | undefined;
        const enqueued = deps.queue.enqueue(accepted).then(
          () => true,
          (err: unknown) => {
            request.log.warn({ err, receipts: accepted.length }, 'enqueue failed after store; left to the reconciler');
            return true;
          },
        );
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), ENQUEUE_TIMEOUT_MS);
        });
        const done = await Promise.race([enqueued, timedOut]);
        clearTimeout(timer);
        if (!done) request.log.warn({ receipts: accepted.length }, 'enqueue stalled after store; left to the reconciler');
      }
      return reply.status(202).send({ accepted, duplicates: [...duplicates, ...repeated] });
    },
  );

  app.get(
    '/v1/receipts/:digest',
    {
      schema: {
        tags: ['receipts'],
        summary: 'Where a receipt is: stored, verified, applied (with its settlement outcome and momentum) or rejected (with the code)',
        params: openApiSchema(digestParams),
      },
    },
    async (request) => {
      const { digest } = parseRequest(digestParams, request.params);
      const [stored] = await loadReceipts(deps.db, [digest.toLowerCase() as Hash]);
      if (stored === undefined) throw new ZgasError('NotFound', { digest });
      return {
        digest: stored.digest,
        state: stored.state,
        ...(stored.signer !== null ? { signer: stored.signer } : {}),
        ...(stored.code !== null ? { code: stored.code } : {}),
        ...(stored.outcome !== null ? { outcome: stored.outcome } : {}),
        ...(stored.momentumHeight !== null ? { momentumHeight: stored.momentumHeight } : {}),
      };
    },
  );
}
