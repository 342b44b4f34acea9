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
import { loadReceipts, markRejected, markVerified, sessionSigners } from '../store/index.ts';
import { sameAddress } from '../../contracts/hex.ts';

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
  /** Copies already past verification (another worker, or an earlier attempt of this job). */
  skipped: number;
}

/**
 * Copies verified between two turns of the event loop: recovering signatures is synchronous work
 * (~0.15 ms a copy), and a job of hundreds would otherwise hold up the API and the sequencer when
 * they share the process.
 */
const RECOVERIES_PER_TURN = 32;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Verifies stored receipt copies by intake key: recovers the receipt signer and the invocation
 * signer and checks them against the session — its receipt signer and its user, both fixed when it
 * opened — then records the copy as verified (`markVerified`) or drops it as rejected with the code
 * (`markRejected`: InvalidSigner, InvalidInvocation, SessionNotFound, or the signature's own error).
 * A dropped copy is final for itself only: another copy of the same receipt is a row of its own, so
 * a copy signed by anyone else never keeps the parties' copy from settling, and never reaches a
 * momentum. Stateless and idempotent: a copy verified twice, by two workers or two attempts,
 * changes nothing the second time (the store only moves copies forward from 'stored').
 */
export async function verifyCopies(deps: VerifyDeps, copyKeys: readonly Hash[]): Promise<VerifyOutcome> {
  const backend = deps.backend ?? nativeBackend ?? defaultBackend;
  const stored = await loadReceipts(deps.db, [...copyKeys]);
  const waiting = stored.filter((s) => s.state === 'stored');
  const sessions = await sessionSigners(deps.db, waiting.map((s) => s.receipt.sessionId));
  const verified: { copyKey: Hash; signer: Address; invocationSigner: Address }[] = [];
  const rejected: { copyKey: Hash; code: ErrorCode }[] = [];
  let skipped = stored.length - waiting.length;
  let mismatched = 0;
  for (const [i, s] of waiting.entries()) {
    if (i > 0 && i % RECOVERIES_PER_TURN === 0) await nextTurn();
    try {
      const v = verifyReceipt(deps.domain, s.receipt, backend);
      if (v.digest !== s.digest) {
        // The API stored it under the digest of this chain's domain: a mismatch means this worker
        // runs with another genesis. Leave the copy for a correctly configured worker.
        mismatched++;
        continue;
      }
      const session = sessions.get(s.receipt.sessionId.toLowerCase() as Hash);
      if (session === undefined) rejected.push({ copyKey: s.copyKey, code: 'SessionNotFound' });
      else if (!sameAddress(v.signer, session.receiptSigner)) rejected.push({ copyKey: s.copyKey, code: 'InvalidSigner' });
      else if (!sameAddress(v.invocationSigner, session.user)) rejected.push({ copyKey: s.copyKey, code: 'InvalidInvocation' });
      else verified.push({ copyKey: s.copyKey, signer: v.signer, invocationSigner: v.invocationSigner });
    } catch (err) {
      if (!isZgasError(err)) throw err;
      rejected.push({ copyKey: s.copyKey, code: err.code });
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
  if (nRejected > 0) log.info({ rejected: nRejected }, 'receipt copies rejected at verification');
  return { verified: nVerified, rejected: nRejected, skipped };
}

/** Default jobs one worker process runs at once. */
export const DEFAULT_WORKER_CONCURRENCY = 4;

/** Consumes the receipt queue (copy keys) with `verifyCopies`. */
export function startVerifier(deps: VerifyDeps & { queue: ReceiptQueue; concurrency?: number }): QueueConsumer {
  return deps.queue.process(
    async (copyKeys) => {
      await verifyCopies(deps, copyKeys);
    },
    { concurrency: deps.concurrency ?? DEFAULT_WORKER_CONCURRENCY },
  );
}
