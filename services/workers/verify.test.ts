import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeDomain, receiptDigest } from '../../contracts/eip712/index.ts';
import type { Hash } from '../../contracts/types.ts';
import { freshSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import { domain, highS, keys, randomHash, receipt } from '../../test/integration/fixtures.ts';
import { createMemoryQueue } from '../queue/index.ts';
import { insertReceipts, loadReceipts } from '../store/index.ts';
import { startReconciler } from './reconciler.ts';
import { verifyDigests } from './verify.ts';
import { untilTrue } from '../../test/support/wait.ts';

// A verification worker on a machine whose cores may be busy elsewhere: generous bounds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let db: TestDb;
beforeAll(async () => {
  db = await freshSchema('verify');
});
afterAll(async () => {
  await db?.close();
});

describe('verifyDigests', () => {
  it('records the signer of good receipts and the code of bad ones, once', async () => {
    const session = randomHash();
    const good = receipt(session, 1n);
    const high = { ...receipt(session, 2n), signature: highS(receipt(session, 2n).signature) };
    const otherChain = receipt(session, 3n);
    const digests = [receiptDigest(domain, good), receiptDigest(domain, high), receiptDigest(makeDomain(1n, domain.verifyingContract), otherChain)];
    await insertReceipts(db, [good, high, otherChain], digests);

    const first = await verifyDigests({ db, domain }, [...digests, randomHash()]);
    expect(first).toEqual({ verified: 1, rejected: 1, skipped: 1 });
    const rows = await loadReceipts(db, digests);
    expect(rows.map((r) => [r.state, r.signer, r.code])).toEqual([
      ['verified', keys.receiptSigner.address, null],
      ['rejected', null, 'HighS'],
      // Stored under another domain's digest: a worker of this domain leaves it alone.
      ['stored', null, null],
    ]);
    // Delivered again (a retry, another worker): nothing changes.
    expect(await verifyDigests({ db, domain }, digests)).toEqual({ verified: 0, rejected: 0, skipped: 3 });
    // The worker of that other domain verifies it.
    expect(await verifyDigests({ db, domain: makeDomain(1n, domain.verifyingContract) }, [digests[2]!])).toEqual({ verified: 1, rejected: 0, skipped: 0 });
  });
});

describe('reconciler', () => {
  it('re-enqueues stored receipts that were never verified, and only those', async () => {
    const session = randomHash();
    const stranded = [receipt(session, 1n), receipt(session, 2n)];
    const digests = stranded.map((r) => receiptDigest(domain, r));
    await insertReceipts(db, stranded, digests);
    const queue = createMemoryQueue();
    const reconciler = startReconciler({ db, queue, intervalMs: 3_600_000, olderThanMs: 0 });
    const seen: Hash[] = [];
    const consumer = queue.process(async (batch) => {
      seen.push(...batch);
      await verifyDigests({ db, domain }, batch);
    }, { concurrency: 1 });
    expect(await reconciler.runOnce()).toBe(2);
    // Until the worker has verified them (not merely received them), they still count as stranded.
    await untilTrue('the re-enqueued receipts to be verified', async () => (await loadReceipts(db, digests)).every((r) => r.state === 'verified'));
    expect(new Set(seen)).toEqual(new Set(digests));
    // Verified now: nothing left to reconcile.
    expect(await reconciler.runOnce()).toBe(0);
    await consumer.close();
    // With a backlog waiting (workers down), a pass adds nothing to it.
    const more = [receipt(session, 3n)];
    await insertReceipts(db, more, more.map((r) => receiptDigest(domain, r)));
    const backlogged = startReconciler({ db, queue, intervalMs: 3_600_000, olderThanMs: 0, maxQueueDepth: 1 });
    expect(await backlogged.runOnce()).toBe(1);
    expect(await queue.depth()).toBe(1);
    expect(await backlogged.runOnce()).toBe(0);
    expect(await queue.depth()).toBe(1);
    await backlogged.stop();
    await reconciler.stop();
    await queue.close();
  });
});
