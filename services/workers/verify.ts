import { isZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { defaultBackend, nativeBackend, verifyReceipt } from '../../contracts/eip712/index.ts';
import type { Domain, SignatureBackend } from '../../contracts/eip712/index.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import type { Db } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { QueueConsumer, ReceiptQueue } from '../queue/index.ts';
import { loadReceipts, markRejected, markVerified } from '../store/index.ts';

export interface VerifyDeps {
  db: Db;
  domain: Domain;
  /** Signature backend; default the native secp256k1 one (noble when the binary is missing). */
  backend?: SignatureBackend;
  metrics?: Metrics;
  log?: Logger;
}

export interface VerifyOutcome {
  verified: number;
  rejected: number;
  /** Receipts already past verification (another worker, or an earlier attempt of this job). */
  skipped: number;
}

/**
 * Verifies stored receipts by digest: recovers each signer and records it (`markVerified`), or
 * records the failure code (`markRejected`). Stateless and idempotent: a digest verified twice, by
 * two workers or two attempts, changes nothing the second time (the store only moves receipts
 * forward from 'stored'). Whether the signer is the session's receipt signer is the contract's
 * rule, checked at settlement.
 */
export async function verifyDigests(deps: VerifyDeps, digests: readonly Hash[]): Promise<VerifyOutcome> {
  const backend = deps.backend ?? nativeBackend ?? defaultBackend;
  const stored = await loadReceipts(deps.db, [...digests]);
  const verified: { digest: Hash; signer: Address }[] = [];
  const rejected: { digest: Hash; code: ErrorCode }[] = [];
  let skipped = 0;
  let mismatched = 0;
  for (const s of stored) {
    if (s.state !== 'stored') {
      skipped++;
      continue;
    }
    try {
      const v = verifyReceipt(deps.domain, s.receipt, backend);
      if (v.digest !== s.digest) {
        // The API stored it under the digest of this chain's domain: a mismatch means this worker
        // runs with another genesis. Leave the receipt for a correctly configured worker.
        mismatched++;
        continue;
      }
      verified.push({ digest: s.digest, signer: v.signer });
    } catch (err) {
      if (!isZgasError(err)) throw err;
      rejected.push({ digest: s.digest, code: err.code });
    }
  }
  const nVerified = await markVerified(deps.db, verified);
  const nRejected = await markRejected(deps.db, rejected);
  skipped += verified.length - nVerified + (rejected.length - nRejected);
  deps.metrics?.receiptsVerified.inc(nVerified);
  deps.metrics?.receiptsRejected.inc(nRejected);
  const log = deps.log ?? silentLogger;
  if (mismatched > 0) log.error({ receipts: mismatched }, 'receipt digests differ from this worker\'s signature domain: check that it runs with the node\'s genesis');
  skipped += mismatched;
  log.debug({ verified: nVerified, rejected: nRejected, skipped }, 'verified receipts');
  if (nRejected > 0) log.info({ rejected: nRejected }, 'receipts rejected at verification');
  return { verified: nVerified, rejected: nRejected, skipped };
}

/** Default jobs one worker process runs at once. */
export const DEFAULT_WORKER_CONCURRENCY = 4;

/** Consumes the receipt queue with `verifyDigests`. */
export function startVerifier(deps: VerifyDeps & { queue: ReceiptQueue; concurrency?: number }): QueueConsumer {
  return deps.queue.process(
    async (digests) => {
      await verifyDigests(deps, digests);
    },
    { concurrency: deps.concurrency ?? DEFAULT_WORKER_CONCURRENCY },
  );
}
