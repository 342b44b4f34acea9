import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZgasError } from '../../contracts/errors.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { KEYS, TestAccount, testReceipt } from '../../test/support/chain.ts';
import { freshPglite, freshSchema } from '../../test/support/db.ts';
import type { Db } from '../db/db.ts';
import { getCall, insertCall, markCalls, pendingCalls, pendingNonce } from './calls.ts';
import { getModule, putModule } from './modules.ts';
import { insertReceipts, loadReceipts, markRejected, markVerified, unverifiedReceipts, verifiedReceipts } from './receipts.ts';
import { getAccount, loadState, saveAll } from './state.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import { stateToJson } from '../../contracts/gas/state.ts';
import { testGenesis } from '../../test/support/chain.ts';

const receipt = (seq: bigint) => {
  const h = sha3(new Uint8Array([Number(seq)]));
  return testReceipt({ sessionId: `0x${'cd'.repeat(32)}`, seq, callGas: 10n as Gas, cumulativeGas: (10n * seq) as Gas, inputHash: h, preStateHash: EMPTY_STATE_HASH, postStateHash: h, outputHash: h, status: CallStatus.Ok });
};

function describeStore(name: string, open: () => Promise<Db>): void {
  describe(`store on ${name}`, () => {
    let db: Db;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('stores modules by their SHA3-256, idempotently', async () => {
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255]);
      const hash = await putModule(db, bytes);
      expect(hash).toBe(sha3(bytes));
      expect(await putModule(db, bytes)).toBe(hash);
      expect(Array.from((await getModule(db, hash))!)).toEqual(Array.from(bytes));
      expect(await getModule(db, sha3(new Uint8Array([1])))).toBeNull();
      await expect(putModule(db, new Uint8Array(0))).rejects.toSatisfy((e: unknown) => isZgasError(e, 'InvalidModule'));
    });

    it('ingests receipts once, tracks their state, and finds the stale unverified ones', async () => {
      const [a, b, c] = [receipt(1n), receipt(2n), receipt(3n)];
      expect(await insertReceipts(db, [a.receipt, b.receipt, a.receipt], [a.digest, b.digest, a.digest])).toEqual({ accepted: [a.digest, b.digest], duplicates: [a.digest] });
      expect(await insertReceipts(db, [b.receipt, c.receipt], [b.digest, c.digest])).toEqual({ accepted: [c.digest], duplicates: [b.digest] });
      const loaded = await loadReceipts(db, [c.digest, a.digest, `0x${'00'.repeat(32)}` as Hash]);
      expect(loaded.map((r) => [r.digest, r.state])).toEqual([[c.digest, 'stored'], [a.digest, 'stored']]);
      expect(loaded[1]!.receipt).toEqual(a.receipt);
      expect(await unverifiedReceipts(db, { olderThanMs: 0, limit: 10 })).toEqual(expect.arrayContaining([a.digest, b.digest, c.digest]));
      expect(await unverifiedReceipts(db, { olderThanMs: 3_600_000, limit: 10 })).toEqual([]);

      expect(await markVerified(db, [{ digest: a.digest, signer: a.signer }, { digest: b.digest, signer: b.signer }])).toBe(2);
      expect(await markRejected(db, [{ digest: c.digest, code: 'InvalidSignature' }])).toBe(1);
      expect(await markVerified(db, [{ digest: c.digest, signer: c.signer }])).toBe(0); // rejected stays rejected
      expect((await verifiedReceipts(db, 10)).map((r) => r.receipt.seq)).toEqual([1n, 2n]);
      const [firstVerified] = await verifiedReceipts(db, 10);
      expect((await verifiedReceipts(db, 10, [firstVerified!.digest])).map((r) => r.receipt.seq)).toEqual([2n]);
      const [ra, rc] = await loadReceipts(db, [a.digest, c.digest]);
      expect(ra).toMatchObject({ state: 'verified', signer: KEYS.receiptSigner.address });
      expect(rc).toMatchObject({ state: 'rejected', code: 'InvalidSignature' });
      expect(await unverifiedReceipts(db, { olderThanMs: 0, limit: 10 })).toEqual([]);
      // A receipt already verified is still a duplicate.
      expect((await insertReceipts(db, [a.receipt], [a.digest])).duplicates).toEqual([a.digest]);
    });

    it('ingests calls: duplicates, one call per nonce, pending nonce, outcomes', async () => {
      const owner = new TestAccount(KEYS.owner);
      expect(await pendingNonce(db, KEYS.owner.address)).toBe(0n);
      const first = owner.call({ name: 'Transfer', to: KEYS.user.address, amount: 5n as Qsr });
      expect(await insertCall(db, first.signed, first.hash)).toBe('accepted');
      expect(await insertCall(db, first.signed, first.hash)).toBe('duplicate');
      expect(await pendingNonce(db, KEYS.owner.address.toLowerCase())).toBe(1n);
      const rival = new TestAccount(KEYS.owner).call({ name: 'Transfer', to: KEYS.user.address, amount: 6n as Qsr });
      await expect(insertCall(db, rival.signed, rival.hash)).rejects.toSatisfy((e: unknown) => isZgasError(e, 'BadNonce'));
      const second = owner.call({ name: 'Transfer', to: KEYS.user.address, amount: 7n as Qsr });
      expect(await insertCall(db, second.signed, second.hash)).toBe('accepted');
      expect(await getCall(db, first.hash)).toEqual({ status: 'pending' });
      // Consecutive nonces from the account's next nonce; a gap holds the rest back.
      expect((await pendingCalls(db, 10, () => 0n)).map((c) => c.hash)).toEqual([first.hash, second.hash]);
      expect((await pendingCalls(db, 10, () => 1n, [first.hash])).map((c) => c.hash)).toEqual([second.hash]);
      expect(await pendingCalls(db, 10, () => 1n)).toHaveLength(1);
      expect(await pendingCalls(db, 10, () => 5n)).toEqual([]);
      await markCalls(db, 3n, [{ hash: first.hash, ok: false, code: 'InsufficientBalance', result: { ok: false, code: 'InsufficientBalance' } }]);
      expect(await getCall(db, first.hash)).toEqual({ status: 'failed', code: 'InsufficientBalance', momentumHeight: 3n, result: { ok: false, code: 'InsufficientBalance' } });
      expect(await getCall(db, `0x${'00'.repeat(32)}`)).toBeNull();
    });

    it('round-trips the contract state through its tables exactly', async () => {
      const genesis = testGenesis({ owner: '115792089237316195423570985008687907853269984665640564039457584007913129639935' });
      const state = genesisState(genesis);
      await saveAll(db, state);
      expect(stateToJson(await loadState(db, genesisState(genesis)))).toEqual(stateToJson(state));
      expect(await getAccount(db, KEYS.owner.address.toLowerCase())).toEqual({ address: KEYS.owner.address, balance: '115792089237316195423570985008687907853269984665640564039457584007913129639935', nonce: '0' });
      await expect(db.query('UPDATE accounts SET balance = -1')).rejects.toThrow(/check/);
    });
  });
}

describeStore('Postgres', () => freshSchema('store'));
describeStore('PGlite', () => freshPglite());
