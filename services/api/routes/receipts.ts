import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { receiptDigest } from '../../../contracts/eip712/index.ts';
import type { Hash, Hex } from '../../../contracts/types.ts';
import { insertReceipts, receiptCopies, receiptCopyKey } from '../../store/index.ts';
import type { ReceiptCopy } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';
import { IntakeEstimates } from '../intake-estimates.ts';
import { MAX_RECEIPTS_PER_REQUEST, digestParams, openApiSchema, parseRequest, receiptFromBody, receiptsBody } from '../schemas.ts';

/** Longest wait for the queue after the receipts are stored. */
export const ENQUEUE_TIMEOUT_MS = 2_000;

/** Half the secp256k1 curve order: a signature's s above it is high (refused: docs/protocol.md §Signatures). */
const HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** What can be checked of a signature without elliptic-curve work: low s and v of 27 or 28. */
function checkSignatureForm(signature: Hex, path: string): void {
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) throw new ZgasError('InvalidSignature', { path, reason: 'v must be 27 or 28' });
  if (BigInt(`0x${signature.slice(66, 130)}`) > HALF_CURVE_ORDER) throw new ZgasError('HighS', { path });
}

/**
 * POST /v1/receipts: validates a batch of settlement receipts (their shape and what of their
 * signatures is cheap to check), computes each one's EIP-712 digest (its identity) and intake key
 * (digest and both signatures), stores the new copies durably (Postgres commit) and only then
 * answers 202 and enqueues their keys for the verification workers, which recover both signers and
 * check them against the session. A copy with other signatures than a stored one is stored too, so
 * a wrongly signed copy posted first never blocks the right one. A lost enqueue is recovered by
 * the reconciler, never by the client. Each submitter's unverified copies are bounded (IntakeFull).
 */
export async function receiptRoutes(app: FastifyInstance, { deps, limits }: RouteOptions): Promise<void> {
  const bounds = { copies: limits.intakeCopiesPerSubmitter, bytes: limits.intakeBytesPerSubmitter };
  const estimates = new IntakeEstimates();
  app.post(
    '/v1/receipts',
    {
      schema: {
        tags: ['receipts'],
        summary: `Submit settlement receipts (at most ${MAX_RECEIPTS_PER_REQUEST}); answered 202 once stored`,
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
      const copies: ReceiptCopy[] = json.map((r, i) => {
        const receipt = receiptFromBody(r);
        const path = `receipts.${i}`;
        if (receipt.seq === 0n || receipt.callGas > receipt.cumulativeGas || receipt.callGas > receipt.callGasLimit) {
          throw new ZgasError('InvalidReceipt', { path, reason: 'seq 0, or callGas above cumulativeGas or callGasLimit' });
        }
        checkSignatureForm(receipt.signature, `${path}.signature`);
        checkSignatureForm(receipt.invocationSignature, `${path}.invocationSignature`);
        const digest = receiptDigest(deps.domain, receipt);
        return { digest, copyKey: receiptCopyKey(digest, receipt), receipt };
      });
      const { accepted, duplicates, stored, intake } = await insertReceipts(deps.db, copies, request.ip, bounds, estimates.get(request.ip, performance.now()));
      estimates.record(request.ip, intake, performance.now());
      deps.metrics.receiptsAccepted.inc(accepted.length);
      deps.metrics.receiptsDuplicate.inc(duplicates.length);
      if (stored.length > 0) {
        // Stored already: if the queue fails or stalls (Redis away), the reconciler enqueues these
        // again later. The client's 202 never waits on Redis longer than ENQUEUE_TIMEOUT_MS.
        let timer: NodeJS.Timeout | undefined;
        const enqueued = deps.queue.enqueue(stored).then(
          () => true,
          (err: unknown) => {
            request.log.warn({ err, receipts: stored.length }, 'enqueue failed after store; left to the reconciler');
            return true;
          },
        );
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), ENQUEUE_TIMEOUT_MS);
        });
        const done = await Promise.race([enqueued, timedOut]);
        clearTimeout(timer);
        if (!done) request.log.warn({ receipts: stored.length }, 'enqueue stalled after store; left to the reconciler');
      }
      return reply.status(202).send({ accepted, duplicates });
    },
  );

  app.get(
    '/v1/receipts/:digest',
    {
      schema: {
        tags: ['receipts'],
        summary: 'Where a receipt is: of its submitted copies, the one that went furthest — stored, verified, applied (with its settlement outcome and momentum) or rejected (with the code)',
        params: openApiSchema(digestParams),
      },
    },
    async (request) => {
      const { digest } = parseRequest(digestParams, request.params);
      const copies = await receiptCopies(deps.db, digest.toLowerCase() as Hash);
      const stored = copies[0];
      if (stored === undefined) throw new ZgasError('NotFound', { digest });
      return {
        digest: stored.digest,
        state: stored.state,
        copies: copies.length,
        ...(stored.signer !== null ? { signer: stored.signer } : {}),
        ...(stored.invocationSigner !== null ? { invocationSigner: stored.invocationSigner } : {}),
        ...(stored.code !== null ? { code: stored.code } : {}),
        ...(stored.outcome !== null ? { outcome: stored.outcome } : {}),
        ...(stored.momentumHeight !== null ? { momentumHeight: stored.momentumHeight } : {}),
      };
    },
  );
}
