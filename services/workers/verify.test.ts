import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeDomain, receiptDigest } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { freshSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import { domain, highS, keys, randomHash, receipt, settlementOf } from '../../test/integration/fixtures.ts';
import { createMemoryQueue } from '../queue/index.ts';
import { expireApplied, expireRejected, insertReceipts, loadReceipts, markSettled, receiptCopyKey, unverifiedReceipts, verifiedReceipts } from '../store/index.ts';
import type { ReceiptCopy } from '../store/index.ts';
import { startReconciler } from './reconciler.ts';
import { verifyCopies } from './verify.ts';
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

const copyOf = (r: SettlementReceipt, on = domain): ReceiptCopy => {
  const digest = receiptDigest(on, r);
  return { receipt: r, digest, copyKey: receiptCopyKey(digest, r) };
};

/** A session row with the vectors' receipt signer and user (what verification checks copies against). */
async function openSession(): Promise<Hash> {
  const id = randomHash();
  await db.query(
    `INSERT INTO sessions (id, zapp_id, provider, user_address, opened_by_owner, price, receipt_signer, gas_limit, hold, upfront_gas, settled_gas,
       billed_gas, last_seq, last_post_state_hash, coverage_floor_seq, coverage, judged_seqs, status, stop_call, slashed, opened_at, expires_at)
     VALUES ($1, $2, $3, $4, true, 1, $5, 1000000, 1, 0, 0, 0, 0, $6, 0, '[]', '[]', 'open', false, false, 1, 2)`,
    [id, randomHash(), keys.provider.address, keys.user.address, keys.receiptSigner.address, EMPTY_STATE_HASH],
  );
  return id;
}

describe('verifyCopies', () => {
  it('records both signers of good copies and drops bad ones with their code, once', async () => {
    const session = await openSession();
    const good = receipt(session, 1n);
    const high = { ...receipt(session, 2n), signature: highS(receipt(session, 2n).signature) };
    const notProvider = receipt(session, 3n, 1_000n, keys.owner.privateKey);
    const notUser = receipt(session, 4n, 1_000n, keys.receiptSigner.privateKey, keys.owner.privateKey);
    const noSession = receipt(randomHash(), 1n);
    const other = makeDomain(1n, domain.verifyingContract);
    const { signature: _s, invocationSignature: _i, ...fields } = receipt(session, 5n);
    const otherChain = copyOf(settlementOf(fields, keys.receiptSigner.privateKey, keys.user.privateKey, other), other);
    const copies = [copyOf(good), copyOf(high), copyOf(notProvider), copyOf(notUser), copyOf(noSession), otherChain];
    await insertReceipts(db, copies, 'test');
    const keysOf = copies.map((c) => c.copyKey);

    expect(await verifyCopies({ db, domain }, [...keysOf, randomHash()])).toEqual({ verified: 1, rejected: 4, skipped: 1 });
    const rows = await loadReceipts(db, keysOf);
    expect(rows.map((r) => [r.state, r.signer, r.invocationSigner, r.code])).toEqual([
      ['verified', keys.receiptSigner.address, keys.user.address, null],
      ['rejected', null, null, 'HighS'],
      ['rejected', null, null, 'InvalidSigner'],
      ['rejected', null, null, 'InvalidInvocation'],
      ['rejected', null, null, 'SessionNotFound'],
      // Stored under another domain's digest: a worker of this domain leaves it alone.
      ['stored', null, null, null],
    ]);
    // Delivered again (a retry, another worker): nothing changes.
    expect(await verifyCopies({ db, domain }, keysOf)).toEqual({ verified: 0, rejected: 0, skipped: 6 });
    // The worker of that other domain verifies it.
    expect(await verifyCopies({ db, domain: makeDomain(1n, domain.verifyingContract) }, [otherChain.copyKey])).toEqual({ verified: 1, rejected: 0, skipped: 0 });
    // A dropped copy never stands in for the receipt: the right copy of receipt 3 is stored and verified.
    const right = copyOf({ ...notProvider, signature: receipt(session, 3n).signature });
    expect(right.digest).toBe(copies[2]!.digest);
    expect((await insertReceipts(db, [right], 'test')).stored).toEqual([right.copyKey]);
    expect(await verifyCopies({ db, domain }, [right.copyKey])).toMatchObject({ verified: 0, rejected: 1 });
  });
});

describe('reconciler', () => {
  it('re-enqueues stored copies that were never verified, and only those; expires rejected ones', async () => {
    const session = await openSession();
    const stranded = [copyOf(receipt(session, 1n)), copyOf(receipt(session, 2n))];
    await insertReceipts(db, stranded, 'test');
    const queue = createMemoryQueue();
    const reconciler = startReconciler({ db, queue, intervalMs: 3_600_000, olderThanMs: 0, rejectedTtlMs: 0 });
    const seen: Hash[] = [];
    const consumer = queue.process(async (batch) => {
      seen.push(...batch);
      await verifyCopies({ db, domain }, batch);
    }, { concurrency: 1 });
    expect(await reconciler.runOnce()).toBe(2);
    // Until the worker has verified them (not merely received them), they still count as stranded.
    const keys = stranded.map((c) => c.copyKey);
    await untilTrue('the re-enqueued copies to be verified', async () =>
      (await loadReceipts(db, keys)).every((r) => r.state === 'verified'));
    expect(new Set(seen)).toEqual(new Set(stranded.map((c) => c.copyKey)));
    // Verified now: nothing left to reconcile.
    expect(await reconciler.runOnce()).toBe(0);
    await consumer.close();
    // With a backlog waiting (workers down), a pass adds nothing to it.
    await insertReceipts(db, [copyOf(receipt(session, 3n))], 'test');
    const backlogged = startReconciler({ db, queue, intervalMs: 3_600_000, olderThanMs: 0, maxQueueDepth: 1 });
    expect(await backlogged.runOnce()).toBe(1);
    expect(await queue.depth()).toBe(1);
    expect(await backlogged.runOnce()).toBe(0);
    expect(await queue.depth()).toBe(1);
    // Rejected copies expire.
    const rejected = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM receipts WHERE state = 'rejected'")).rows[0]!.n;
    expect(rejected).toBeGreaterThan(0);
    expect(await reconciler.expireOnce()).toBe(rejected);
    expect(await expireRejected(db, { olderThanMs: 0, limit: 10 })).toBe(0);
    await backlogged.stop();
    await reconciler.stop();
    await queue.close();
  });

  it('sends a copy whose verification was lost (a crash before it was flushed) to verification again', async () => {
    const session = await openSession();
    const copy = copyOf(receipt(session, 1n));
    await insertReceipts(db, [copy], 'test');
    expect(await verifyCopies({ db, domain }, [copy.copyKey])).toMatchObject({ verified: 1 });
    const reconciler = startReconciler({ db, queue: createMemoryQueue(), intervalMs: 3_600_000, olderThanMs: 0 });
    const drained = async (): Promise<void> => {
      // Other tests' copies may be stranded too: verify whatever this pass enqueues.
      for (let i = 0; i < 10 && (await unverifiedReceipts(db, { olderThanMs: 0, limit: 1_000 })).length > 0; i++) {
        await verifyCopies({ db, domain }, await unverifiedReceipts(db, { olderThanMs: 0, limit: 1_000 }));
      }
    };
    await drained();
    expect(await unverifiedReceipts(db, { olderThanMs: 0, limit: 1_000 })).not.toContain(copy.copyKey);
    // Verifications are committed without waiting for the WAL flush: a crash can lose one.
    await db.query('DELETE FROM receipt_verifications WHERE copy_key = $1', [copy.copyKey]);
    expect((await loadReceipts(db, [copy.copyKey]))[0]?.state).toBe('stored');
    expect(await unverifiedReceipts(db, { olderThanMs: 0, limit: 1_000 })).toContain(copy.copyKey);
    expect(await reconciler.runOnce()).toBeGreaterThan(0);
    await drained();
    expect((await loadReceipts(db, [copy.copyKey]))[0]).toMatchObject({ state: 'verified', signer: keys.receiptSigner.address, invocationSigner: keys.user.address });
    await reconciler.stop();
  });

  it('never counts a verification whose copy settled meanwhile, and drops it with the copy', async () => {
    const session = await openSession();
    const copy = copyOf(receipt(session, 1n));
    await insertReceipts(db, [copy], 'test');
    await verifyCopies({ db, domain }, [copy.copyKey]);
    await markSettled(db, 1n, [{ copyKey: copy.copyKey, applied: true, outcome: 'Settled', code: null }]);
    // A worker verifying it again just as it settled (its statement saw the copy still stored).
    await db.query(`INSERT INTO receipt_verifications (copy_key, session_id, seq, signer, invocation_signer) VALUES ($1, $2, 1, $3, $4)`,
      [copy.copyKey, session, keys.receiptSigner.address, keys.user.address]);
    expect((await loadReceipts(db, [copy.copyKey]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled', momentumHeight: 1n });
    expect((await verifiedReceipts(db, 1_000)).map((r) => r.copyKey)).not.toContain(copy.copyKey);
    expect(await expireApplied(db, { olderThanMs: 0, duplicatesOlderThanMs: 0, limit: 1_000 })).toBeGreaterThanOrEqual(1);
    expect((await db.query('SELECT 1 FROM receipt_verifications WHERE copy_key = $1', [copy.copyKey])).rows).toEqual([]);
  });
});
