import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { callHash, signCall } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import { KEYS, TEST_DOMAIN, testGenesis, testReceipt } from '../../test/support/chain.ts';
import { freshSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import { untilTrue, WAIT_BOUND_MS } from '../../test/support/wait.ts';
import { expireCalls, getCall, insertCall, markCalls, markRefused, pendingNonce } from './calls.ts';
import { claimModule, DEFAULT_MODULE_BOUNDS, expireModules, getModule, putModule } from './modules.ts';
import { expireApplied, insertReceipts, loadReceipts, markSettled, markVerified, receiptCopyKey } from './receipts.ts';
import { VACUUM_MIN_DEAD_ROWS, vacuumChurned } from './retention.ts';
import { saveAll } from './state.ts';

/** What the store deletes on its own, and what it must keep: on the real Postgres. */
let db: TestDb;
beforeAll(async () => {
  db = await freshSchema('retention');
});
afterAll(async () => {
  await db?.close();
});

const SESSION = `0x${'ce'.repeat(32)}` as Hash;
function copy(seq: bigint) {
  const h = sha3(new Uint8Array([Number(seq), 7]));
  const v = testReceipt({ sessionId: SESSION, seq, callGasLimit: 100n as Gas, callGas: 10n as Gas, cumulativeGas: (10n * seq) as Gas, inputHash: h, preStateHash: EMPTY_STATE_HASH, postStateHash: h, outputHash: h, status: CallStatus.Ok });
  return { receipt: v.receipt, digest: v.digest, copyKey: receiptCopyKey(v.digest, v.receipt) };
}
const wasm = (tag: number): Uint8Array => new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, tag, 1, 2, 3]);
const expiredUpload = { uploader: '10.9.0.1', bounds: { ...DEFAULT_MODULE_BOUNDS, ttlMs: 0 } };

describe('retention', () => {
  it('deletes applied copies after the retention, no-op (Duplicate) copies after the shorter one, never unsettled ones', async () => {
    const [settled, duplicate, verified, stored] = [copy(1n), copy(2n), copy(3n), copy(4n)];
    await insertReceipts(db, [settled, duplicate, verified, stored], '10.0.0.9');
    const signers = { signer: KEYS.receiptSigner.address as Address, invocationSigner: KEYS.user.address as Address };
    await markVerified(db, [settled, duplicate, verified].map((c) => ({ copyKey: c.copyKey, ...signers })));
    await markSettled(db, 3n, [
      { copyKey: settled.copyKey, applied: true, outcome: 'Settled', code: null },
      { copyKey: duplicate.copyKey, applied: true, outcome: 'Duplicate', code: null },
    ]);
    const keys = [settled, duplicate, verified, stored].map((c) => c.copyKey);
    expect(await expireApplied(db, { olderThanMs: 3_600_000, duplicatesOlderThanMs: 3_600_000, limit: 10 })).toBe(0);
    expect(await expireApplied(db, { olderThanMs: 3_600_000, duplicatesOlderThanMs: 0, limit: 10 })).toBe(1);
    expect((await loadReceipts(db, keys)).map((r) => r.copyKey)).toEqual([settled.copyKey, verified.copyKey, stored.copyKey]);
    expect(await expireApplied(db, { olderThanMs: 0, duplicatesOlderThanMs: 0, limit: 10 })).toBe(1);
    expect((await loadReceipts(db, keys)).map((r) => [r.copyKey, r.state])).toEqual([[verified.copyKey, 'verified'], [stored.copyKey, 'stored']]);
  });

  it('keeps operator modules and uploads a pending call names or a claim renewed; deletes the rest once expired', async () => {
    const operator = await putModule(db, wasm(1));
    const pendingNamed = await putModule(db, wasm(2), expiredUpload);
    const claimed = await putModule(db, wasm(3), expiredUpload);
    const loose = await putModule(db, wasm(4), expiredUpload);
    const call = signCall(TEST_DOMAIN, {
      from: KEYS.owner.address as Address, nonce: 0n,
      data: encodeMethod({ name: 'RegisterZApp', moduleHash: pendingNamed, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: false, openGasPerDay: 0n as Gas }),
    }, KEYS.owner.privateKey);
    const hash = callHash(TEST_DOMAIN, call);
    await insertCall(db, call, hash);
    expect(await claimModule(db, claimed, 3_600_000)).toBe(true);
    expect(await claimModule(db, `0x${'00'.repeat(32)}`, 3_600_000)).toBe(false);

    expect(await expireModules(db, 100)).toBe(1);
    expect(await getModule(db, loose)).toBeNull();
    for (const kept of [operator, pendingNamed, claimed]) expect(await getModule(db, kept), kept).not.toBeNull();
    // Once the call failed (no zApp references the module), the upload expires like any other.
    await markCalls(db, 1n, [{ hash, ok: false, code: 'InsufficientBalance', result: null }]);
    expect(await expireModules(db, 100)).toBe(1);
    expect(await getModule(db, pendingNamed)).toBeNull();
    expect(await getModule(db, operator)).not.toBeNull();
  });

  it('deletes settled calls after the call retention, never pending ones; the nonce checks still hold', async () => {
    await db.query('DELETE FROM calls'); // the calls of the other cases
    const owner = KEYS.user.address as Address;
    await saveAll(db, genesisState(testGenesis({ user: '1000000' })));
    const transfer = (nonce: bigint) => {
      const call = signCall(TEST_DOMAIN, { from: owner, nonce, data: encodeMethod({ name: 'Transfer', to: KEYS.owner.address as Address, amount: 1n as Qsr }) }, KEYS.user.privateKey);
      return { call, hash: callHash(TEST_DOMAIN, call) };
    };
    const [applied, failed, refused, pending] = [transfer(0n), transfer(1n), transfer(7n), transfer(2n)];
    for (const c of [applied!, failed!, refused!]) await insertCall(db, c.call, c.hash);
    await markCalls(db, 1n, [{ hash: applied!.hash, ok: true, code: null, result: null }, { hash: failed!.hash, ok: false, code: 'InsufficientBalance', result: null }]);
    await markRefused(db, [{ hash: refused!.hash, code: 'InvalidSignature' }]);
    // What the contract's state says once both took their nonce.
    await db.query('UPDATE accounts SET nonce = 2 WHERE address = $1', [owner]);
    await insertCall(db, pending!.call, pending!.hash);
    expect(await pendingNonce(db, owner)).toBe(3n);

    expect(await expireCalls(db, { olderThanMs: 3_600_000, limit: 10 })).toBe(0);
    expect(await expireCalls(db, { olderThanMs: 0, limit: 2 })).toBe(2);
    expect(await expireCalls(db, { olderThanMs: 0, limit: 10 })).toBe(1);
    for (const gone of [applied!, failed!, refused!]) expect(await getCall(db, gone.hash), gone.hash).toBeNull();
    expect((await getCall(db, pending!.hash))?.status).toBe('pending');
    expect(await pendingNonce(db, owner)).toBe(3n);

    // Once applied too, the account's nonce alone carries the count.
    await markCalls(db, 2n, [{ hash: pending!.hash, ok: true, code: null, result: null }]);
    await db.query('UPDATE accounts SET nonce = 3 WHERE address = $1', [owner]);
    expect(await expireCalls(db, { olderThanMs: 0, limit: 10 })).toBe(1);
    expect(await pendingNonce(db, owner)).toBe(3n);
  });

  // Each cycle waits for the server up to the suite's bound (a transaction of another test file can
  // hold the vacuum back), so the test as a whole gets as long as its waits.
  it('vacuums a table whose dead rows pass the threshold, so the space of deleted rows is reused', async () => {
    const deadRows = async (): Promise<number> =>
      Number((await db.query<{ n: string }>(`SELECT n_dead_tup::text AS n FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'meta'`)).rows[0]?.n ?? 0);
    const heapBytes = async (): Promise<number> => Number((await db.query<{ n: string }>(`SELECT pg_relation_size('meta')::text AS n`)).rows[0]?.n);
    const rows = 4 * VACUUM_MIN_DEAD_ROWS;
    const sizes: number[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      await db.query(`INSERT INTO meta (key, value) SELECT 'churn-' || i, repeat('x', 200) FROM generate_series(1, $1::int) AS i`, [rows]);
      await db.query(`DELETE FROM meta WHERE key LIKE 'churn-%'`);
      sizes.push(await heapBytes());
      // The counts reach the statistics views within about a second of the statements.
      await untilTrue('the deleted rows to be counted', async () => (await deadRows()) >= rows);
      const vacuumed = await vacuumChurned(db);
      expect(vacuumed.map((v) => v.table)).toContain('meta');
      // A transaction of another session of the shared server may still see the rows: until it
      // ends they stay, counted dead, and the next pass vacuums again.
      await untilTrue('the vacuum to remove the deleted rows', async () => {
        if ((await deadRows()) === 0) return true;
        await vacuumChurned(db);
        return false;
      });
    }
    // Every cycle after the first fits in the space the vacuum freed: the table does not grow
    // (without the vacuum each cycle adds its rows' size again).
    expect(sizes[0]).toBeGreaterThan(rows * 200);
    expect(sizes[3]).toBeLessThanOrEqual(sizes[0]! + 8192);
    // Below the threshold, nothing is vacuumed.
    expect((await vacuumChurned(db)).map((v) => v.table)).not.toContain('meta');
  }, 8 * WAIT_BOUND_MS);
});
