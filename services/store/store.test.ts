import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZgasError } from '../../contracts/errors.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import { MAX_COVERAGE_ENTRIES, MAX_JUDGED_SEQS_PER_SESSION, MAX_LIVE_SESSIONS_PER_PROVIDER, MAX_UNBONDING_ENTRIES } from '../../contracts/gas/limits.ts';
import { stateFromJson, stateToJson } from '../../contracts/gas/state.ts';
import type { PendingEarning, StateJson } from '../../contracts/gas/state.ts';
import { ALL_SESSION_FIELDS, noChanges, pendingKey, SESSION_FIELDS } from '../../contracts/gas/tx.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { KEYS, TestAccount, testGenesis, testReceipt, testSettlementReceipt } from '../../test/support/chain.ts';
import { freshPglite, freshSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import { untilTrue } from '../../test/support/wait.ts';
import type { Db } from '../db/db.ts';
import { getCall, insertCall, markCalls, pendingCalls, pendingNonce } from './calls.ts';
import { getModule, putModule } from './modules.ts';
import { expireRejected, insertReceipts, loadReceipts, markRejected, markSettled, markVerified, receiptCopies, receiptCopyKey, unverifiedReceipts, verifiedReceipts } from './receipts.ts';
import type { ReceiptCopy } from './receipts.ts';
import { resyncReceiptTallies, unappliedWork } from './backlog.ts';
import { getAccount, getProvider, loadEntities, loadState, saveAll, saveChanged, sessionSigners } from './state.ts';

const SESSION = `0x${'cd'.repeat(32)}` as Hash;

const fields = (seq: bigint) => {
  const h = sha3(new Uint8Array([Number(seq)]));
  return { sessionId: SESSION, seq, callGasLimit: 100n as Gas, callGas: 10n as Gas, cumulativeGas: (10n * seq) as Gas, inputHash: h, preStateHash: EMPTY_STATE_HASH, postStateHash: h, outputHash: h, status: CallStatus.Ok };
};

const copyOf = (receipt: SettlementReceipt, digest: Hash): ReceiptCopy => ({ receipt, digest, copyKey: receiptCopyKey(digest, receipt) });
const copy = (seq: bigint, signer = KEYS.receiptSigner): ReceiptCopy => {
  const v = testReceipt(fields(seq), signer);
  return copyOf(v.receipt, v.digest);
};

const U64 = MAX_UINT64.toString();
const U256 = MAX_UINT256.toString();

/**
 * One entity of every kind with every gas and uint64 field at 2^64−1, every amount that is not
 * part of the supply at 2^256−1 and every list holding entries at those values; `conserved` names
 * the one amount that holds the whole supply (2^256−1), the others are 0.
 */
function maximalState(base: StateJson, conserved: 'balance' | 'available' | 'held' | 'stake' | 'unbonding' | 'pending' | 'claimable' | 'burned'): StateJson {
  const at = (name: typeof conserved): string => (name === conserved ? U256 : '0');
  const id = `0x${'ab'.repeat(32)}` as Hash;
  return {
    ...base,
    supply: U256,
    burned: at('burned'),
    accounts: [{ address: KEYS.user.address, balance: at('balance'), nonce: U64 }],
    zApps: [{
      id, owner: KEYS.owner.address, moduleHash: `0x${'ee'.repeat(32)}`, available: at('available'), held: at('held'),
      policy: { maxPricePerMgas: U256, maxGasPerSession: U64, openToAll: true, openGasPerDay: U64 },
      autoTopUp: { minAvailable: U256, refill: U256 }, openGasToday: U64, openGasDay: U64,
    }],
    providers: [{
      address: KEYS.provider.address, receiptSigner: KEYS.receiptSigner.address, pricePerMgas: U256, upfrontGas: U64, stake: at('stake'),
      unbonding: [...Array(MAX_UNBONDING_ENTRIES).keys()].map((i) => ({ amount: i === 0 ? at('unbonding') : '0', releaseAt: U64 })),
      pendingEarnings: [{ sessionId: SESSION, amount: at('pending'), claimableAt: U64 }], pendingTotal: at('pending'),
      claimable: at('claimable'), accepting: true, liveSessions: MAX_LIVE_SESSIONS_PER_PROVIDER, challengeableUntil: U64,
    }],
    sessions: [{
      id: SESSION, zAppId: id, provider: KEYS.provider.address, user: KEYS.user.address, openedByOwner: true, price: U256,
      receiptSigner: KEYS.receiptSigner.address, gasLimit: U64, hold: U256, upfrontGas: U64, settledGas: U64, billedGas: U64,
      lastSeq: U64, lastReceiptHash: `0x${'11'.repeat(32)}`, lastPostStateHash: `0x${'22'.repeat(32)}`,
      lastInvocation: { callGasLimit: U64, inputHash: `0x${'33'.repeat(32)}`, preStateHash: `0x${'44'.repeat(32)}`, ackedGas: U64 },
      coverageFloorSeq: U64,
      coverage: [...Array(MAX_COVERAGE_ENTRIES).keys()].map(() => ({ upToSeq: U64, challengeDeadline: U64 })),
      judgedSeqs: [...Array(MAX_JUDGED_SEQS_PER_SESSION).keys()].map(() => U64),
      status: 'closed', stopCall: true, slashed: true, openedAt: U64, expiresAt: U64, closesAt: U64, finalizedAt: U64, removeAt: U64,
    }],
  };
}

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

    it('ingests receipt copies once each, keyed with their signatures, and tracks their state', async () => {
      const [a, b, c] = [copy(1n), copy(2n), copy(3n)];
      expect(await insertReceipts(db, [a, b, a], '10.0.0.1')).toMatchObject({ accepted: [a.digest, b.digest], duplicates: [a.digest], stored: [a.copyKey, b.copyKey] });
      expect(await insertReceipts(db, [b, c], '10.0.0.1')).toMatchObject({ accepted: [c.digest], duplicates: [b.digest] });
      // Another copy of receipt 1 — the same fields and digest, another receipt signature — is a row of its own.
      const forged = copy(1n, KEYS.user);
      expect(forged.digest).toBe(a.digest);
      expect(forged.copyKey).not.toBe(a.copyKey);
      expect(await insertReceipts(db, [forged], '10.0.0.2')).toMatchObject({ accepted: [a.digest], stored: [forged.copyKey] });

      const loaded = await loadReceipts(db, [c.copyKey, a.copyKey, `0x${'00'.repeat(32)}` as Hash]);
      expect(loaded.map((r) => [r.copyKey, r.digest, r.state])).toEqual([[c.copyKey, c.digest, 'stored'], [a.copyKey, a.digest, 'stored']]);
      expect(loaded[1]!.receipt).toEqual(a.receipt);
      expect(await unverifiedReceipts(db, { olderThanMs: 0, limit: 10 })).toEqual(expect.arrayContaining([a.copyKey, b.copyKey, c.copyKey, forged.copyKey]));
      expect(await unverifiedReceipts(db, { olderThanMs: 3_600_000, limit: 10 })).toEqual([]);

      const signers = { signer: KEYS.receiptSigner.address, invocationSigner: KEYS.user.address };
      expect(await markVerified(db, [{ copyKey: a.copyKey, ...signers }, { copyKey: b.copyKey, ...signers }])).toBe(2);
      expect(await markRejected(db, [{ copyKey: forged.copyKey, code: 'InvalidSigner' }, { copyKey: c.copyKey, code: 'InvalidInvocation' }])).toBe(2);
      expect(await markVerified(db, [{ copyKey: c.copyKey, ...signers }])).toBe(0); // rejected stays rejected
      expect((await verifiedReceipts(db, 10)).map((r) => r.receipt.seq)).toEqual([1n, 2n]);
      expect((await verifiedReceipts(db, 10, [a.copyKey])).map((r) => r.receipt.seq)).toEqual([2n]);
      // The copy that went furthest answers for the receipt; the rejected one stays visible until it expires.
      expect((await receiptCopies(db, a.digest)).map((r) => [r.copyKey, r.state, r.invocationSigner])).toEqual([[a.copyKey, 'verified', KEYS.user.address], [forged.copyKey, 'rejected', null]]);

      await markSettled(db, 5n, [{ copyKey: a.copyKey, applied: true, outcome: 'Settled', code: null }]);
      // A receipt the contract has taken: any further copy is a duplicate and is not stored.
      const resigned = copy(1n, KEYS.owner);
      expect(await insertReceipts(db, [resigned], '10.0.0.3')).toMatchObject({ accepted: [], duplicates: [a.digest], stored: [] });
      expect(await expireRejected(db, { olderThanMs: 3_600_000, limit: 10 })).toBe(0);
      expect(await expireRejected(db, { olderThanMs: 0, limit: 10 })).toBe(2);
      expect((await receiptCopies(db, a.digest)).map((r) => r.state)).toEqual(['applied']);
    });

    it('bounds each submitter\'s unverified copies', async () => {
      const copies = [4n, 5n, 6n].map((seq) => copy(seq));
      const bounds = { copies: 2, bytes: 1_000_000 };
      expect((await insertReceipts(db, copies.slice(0, 2), '10.0.0.9', bounds)).stored).toHaveLength(2);
      await expect(insertReceipts(db, copies.slice(2), '10.0.0.9', bounds)).rejects.toSatisfy((e: unknown) => isZgasError(e, 'IntakeFull'));
      // Another submitter is not held back, and verification frees the room.
      expect((await insertReceipts(db, copies.slice(2), '10.0.0.10', bounds)).stored).toHaveLength(1);
      await markVerified(db, [{ copyKey: copies[0]!.copyKey, signer: KEYS.receiptSigner.address, invocationSigner: KEYS.user.address }]);
      const again = copyOf(testSettlementReceipt(fields(6n), KEYS.receiptSigner, undefined, KEYS.owner), copies[2]!.digest);
      expect((await insertReceipts(db, [again], '10.0.0.9', bounds)).stored).toHaveLength(1);
      await expect(insertReceipts(db, [copy(7n)], '10.0.0.9', { copies: 100, bytes: 10 })).rejects.toSatisfy((e: unknown) => isZgasError(e, 'IntakeFull'));
    });

    it('keeps the count of copies waiting to be applied as they arrive and leave, exactly as a scan counts them', async () => {
      const scanned = async (): Promise<number> => {
        const { rows: [r] } = await db.query<{ n: string }>(
          `SELECT ((SELECT count(*) FROM receipts WHERE state = 'stored') + (SELECT count(*) FROM calls WHERE status = 'pending'))::text AS n`,
        );
        return Number(r!.n);
      };
      const expectTallied = async (): Promise<void> => expect(await unappliedWork(db, 1_000_000)).toBe(await scanned());
      await expectTallied();
      const [a, b, c, d] = [40n, 41n, 42n, 43n].map((seq) => copy(seq));
      await insertReceipts(db, [a!, b!, c!, a!], '10.0.0.12');
      await insertReceipts(db, [b!, d!], '10.0.0.12'); // b: a duplicate, not counted twice
      await expectTallied();
      await markVerified(db, [a!, b!].map((x) => ({ copyKey: x.copyKey, signer: KEYS.receiptSigner.address, invocationSigner: KEYS.user.address })));
      await expectTallied(); // verified copies still wait
      await markRejected(db, [{ copyKey: c!.copyKey, code: 'InvalidSigner' }]);
      await markRejected(db, [{ copyKey: c!.copyKey, code: 'InvalidSigner' }]); // rejected already: nothing moves
      await expectTallied();
      const outcomes = [{ copyKey: a!.copyKey, applied: true, outcome: 'Settled', code: null }, { copyKey: b!.copyKey, applied: false, outcome: 'BadSeq', code: 'BadSeq' }];
      await db.transaction(async (tx) => markSettled(tx, 9n, outcomes));
      await db.transaction(async (tx) => markSettled(tx, 10n, outcomes)); // settled already: nothing moves
      await expectTallied();
      // Capped like a count: above the cap reads as cap + 1.
      const waiting = await scanned();
      if (waiting > 0) expect(await unappliedWork(db, waiting - 1)).toBe(waiting);
    });

    it('sets drifted tallies back to a count of the copies, also while copies are stored and settled beside it', async () => {
      const scanned = async (): Promise<number> => {
        const { rows: [r] } = await db.query<{ n: string }>(
          `SELECT ((SELECT count(*) FROM receipts WHERE state = 'stored') + (SELECT count(*) FROM calls WHERE status = 'pending'))::text AS n`,
        );
        return Number(r!.n);
      };
      expect(await resyncReceiptTallies(db)).toBe(0);
      // A change outside the pipeline (by hand): the tallies no longer match.
      await db.query(`UPDATE receipt_tallies SET copies = copies + 5 WHERE name = 'stored'`);
      expect(await unappliedWork(db, 1_000_000)).toBe((await scanned()) + 5);
      expect(await resyncReceiptTallies(db)).toBe(5);
      expect(await unappliedWork(db, 1_000_000)).toBe(await scanned());
      // Side by side with intake and settlement, the result is still exact.
      const copies = [50n, 51n, 52n, 53n, 54n, 55n].map((seq) => copy(seq));
      await insertReceipts(db, copies.slice(0, 2), '10.0.0.13');
      await markVerified(db, copies.slice(0, 2).map((x) => ({ copyKey: x.copyKey, signer: KEYS.receiptSigner.address, invocationSigner: KEYS.user.address })));
      await Promise.all([
        resyncReceiptTallies(db),
        insertReceipts(db, copies.slice(2, 4), '10.0.0.13'),
        db.transaction(async (tx) => markSettled(tx, 11n, copies.slice(0, 2).map((x) => ({ copyKey: x.copyKey, applied: true, outcome: 'Settled', code: null })))),
        resyncReceiptTallies(db),
        insertReceipts(db, copies.slice(4), '10.0.0.13'),
      ]);
      expect(await unappliedWork(db, 1_000_000)).toBe(await scanned());
      expect(await resyncReceiptTallies(db)).toBe(0);
    });

    it('takes a caller\'s estimate of the unverified copies instead of counting them while it stays within half the bounds', async () => {
      const bounds = { copies: 6, bytes: 1_000_000 };
      const [a, b, c, d] = [8n, 9n, 10n, 11n].map((seq) => copy(seq));
      const first = await insertReceipts(db, [a!, b!], '10.0.0.11', bounds);
      expect(first.intake.counted).toEqual({ copies: 0, bytes: 0 });
      expect(first.intake.added.copies).toBe(2);
      // Estimate 0 + 1 copy: within half of 6, nothing counted (the estimate is the caller's to keep honest).
      const trusted = await insertReceipts(db, [c!], '10.0.0.11', bounds, { copies: 0, bytes: 0 });
      expect(trusted.intake).toMatchObject({ counted: null, added: { copies: 1 } });
      // Estimate 3 + 1: past half, counted: the store's own figure stands.
      const checked = await insertReceipts(db, [d!], '10.0.0.11', bounds, { copies: 3, bytes: 0 });
      expect(checked.intake.counted?.copies).toBe(3);
      await expect(insertReceipts(db, [copy(12n), copy(13n), copy(14n)], '10.0.0.11', bounds, { copies: 2, bytes: 0 })).rejects.toSatisfy((e: unknown) => isZgasError(e, 'IntakeFull'));
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
      expect((await pendingCalls(db, 10, () => 0n)).map((c) => c.hash)).toEqual([first.hash, second.hash]);
      expect((await pendingCalls(db, 10, () => 1n, [first.hash])).map((c) => c.hash)).toEqual([second.hash]);
      expect(await pendingCalls(db, 10, () => 1n)).toHaveLength(1);
      expect(await pendingCalls(db, 10, () => 5n)).toEqual([]);
      await markCalls(db, 3n, [{ hash: first.hash, ok: false, code: 'InsufficientBalance', result: { ok: false, code: 'InsufficientBalance' } }]);
      expect(await getCall(db, first.hash)).toEqual({ status: 'failed', code: 'InsufficientBalance', momentumHeight: 3n, result: { ok: false, code: 'InsufficientBalance' } });
      expect(await getCall(db, `0x${'00'.repeat(32)}`)).toBeNull();
    });

    it('every entity kind at its maximum values reads back exactly (a state the host commits always loads)', async () => {
      const genesis = testGenesis({ owner: U256 });
      const base = stateToJson(genesisState(genesis));
      for (const conserved of ['balance', 'available', 'held', 'stake', 'unbonding', 'pending', 'claimable', 'burned'] as const) {
        await db.query('DELETE FROM accounts');
        await db.query('DELETE FROM zapps');
        await db.query('DELETE FROM providers');
        await db.query('DELETE FROM pending_earnings');
        await db.query('DELETE FROM sessions');
        const state = stateFromJson(maximalState(base, conserved));
        await saveAll(db, state);
        expect(stateToJson(await loadState(db, genesisState(genesis))), conserved).toEqual(stateToJson(state));
      }
      // Every field of every view has a column of its own.
      for (const table of ['accounts', 'zapps', 'providers', 'sessions']) {
        expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE extra <> '{}'::jsonb`)).rows[0], table).toEqual({ n: 0 });
      }
      expect(await getAccount(db, KEYS.user.address.toLowerCase())).toEqual({ address: KEYS.user.address, balance: '0', nonce: U64 });
      expect(await sessionSigners(db, [SESSION.toUpperCase().replace('0X', '0x')])).toEqual(new Map([[SESSION, { receiptSigner: KEYS.receiptSigner.address, user: KEYS.user.address }]]));
      const partial = await loadEntities(db, genesisState(genesis), { accounts: [], zApps: [], providers: [KEYS.provider.address], sessions: [SESSION] });
      expect([...partial.providers.keys(), ...partial.sessions.keys(), ...partial.accounts.keys()]).toEqual([KEYS.provider.address, SESSION]);

      // What the contract cannot hold is refused at commit: it never becomes a state that does not load.
      const refused = async (sql: string): Promise<void> => {
        await expect(db.query(sql)).rejects.toThrow(/check|constraint|violates/i);
      };
      await refused(`UPDATE sessions SET gas_limit = ${MAX_UINT64 + 1n}`);
      await refused(`UPDATE sessions SET closes_at = ${MAX_UINT64 + 1n}`);
      await refused(`UPDATE zapps SET open_gas_today = ${MAX_UINT64 + 1n}`);
      await refused(`UPDATE providers SET stake = ${MAX_UINT256 + 1n}`);
      await refused('UPDATE accounts SET balance = -1');
      await refused('UPDATE accounts SET nonce = -1');
      await refused('UPDATE pending_earnings SET amount = -1');
      await refused(`UPDATE pending_earnings SET claimable_at = ${MAX_UINT64 + 1n}`);
    });

    // Postgres only: PGlite runs one statement at a time, and a transaction there is a snapshot already.
    it.runIf(name === 'Postgres')('reads a provider and the state on one snapshot: a momentum committing between two reads is never half seen', async () => {
      const genesis = testGenesis({ owner: '1000000' });
      const json = maximalState(stateToJson(genesisState(genesis)), 'pending');
      json.providers[0]!.pendingEarnings = [{ sessionId: SESSION, amount: '10', claimableAt: '1000' }];
      json.providers[0]!.pendingTotal = '10';
      json.supply = stateToJson(genesisState(genesis)).supply;
      json.accounts[0]!.balance = (BigInt(json.supply) - 10n).toString();
      for (const table of ['accounts', 'zapps', 'providers', 'pending_earnings', 'sessions']) await db.query(`DELETE FROM ${table}`);
      await saveAll(db, stateFromJson(json));
      // A commit that moves 1 from the account into the provider's pending entry and total, run
      // right after each read of the providers table, before the pending entries are read.
      const commitBetween = (): Promise<void> => db.transaction(async (tx) => {
        await tx.query('UPDATE accounts SET balance = balance - 1');
        await tx.query('UPDATE pending_earnings SET amount = amount + 1');
        await tx.query('UPDATE providers SET pending_total = pending_total + 1');
      });
      const interleaved = (inner: Db): Db => ({
        ...inner,
        async query<R>(sql: string, params?: unknown[]) {
          const result = await inner.query<R>(sql, params);
          if (/FROM providers/.test(sql)) await commitBetween();
          return result;
        },
        transaction: (fn) => inner.transaction((tx) => fn(interleaved(tx))),
        snapshot: (fn) => inner.snapshot((tx) => fn(interleaved(tx))),
      });
      const provider = await getProvider(interleaved(db), KEYS.provider.address);
      expect(provider).toMatchObject({ pendingTotal: '10', pendingEarnings: [{ amount: '10' }] });
      const state = await loadState(interleaved(db), genesisState(genesis));
      expect(state.providers.get(KEYS.provider.address)).toMatchObject({ pendingTotal: 11n });
      // Both commits happened, and the store agrees with itself.
      expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ pendingTotal: '12', pendingEarnings: [{ amount: '12' }] });
    });

    it('a momentum writes the pending entries it changed, not the provider\'s whole list', async () => {
      const genesis = testGenesis({ owner: '1000000' });
      const entries = 2_000;
      const json = maximalState(stateToJson(genesisState(genesis)), 'pending');
      const earned = (i: number) => ({ sessionId: `0x${i.toString(16).padStart(64, '0')}` as Hash, amount: '5', claimableAt: (1_000n + BigInt(i)).toString() });
      json.providers[0]!.pendingEarnings = [...Array(entries).keys()].map(earned);
      json.providers[0]!.pendingTotal = (5n * BigInt(entries)).toString();
      // The genesis supply: what is not pending is the account's.
      json.supply = stateToJson(genesisState(genesis)).supply;
      json.accounts[0]!.balance = (BigInt(json.supply) - BigInt(json.providers[0]!.pendingTotal)).toString();
      for (const table of ['accounts', 'zapps', 'providers', 'pending_earnings', 'sessions']) await db.query(`DELETE FROM ${table}`);
      const state = stateFromJson(json);
      await saveAll(db, state);
      expect((await db.query('SELECT count(*)::int AS n FROM pending_earnings')).rows[0]).toEqual({ n: entries });

      // One entry matures away, one is added, one grows: three rows change, whatever the list's length.
      const p = state.providers.get(KEYS.provider.address)!;
      const [first, second] = p.pendingEarnings as [PendingEarning, PendingEarning];
      const added = { sessionId: SESSION, amount: 7n as Qsr, claimableAt: 999_999n };
      p.pendingEarnings = [{ ...second, amount: 9n as Qsr }, ...p.pendingEarnings.slice(2), added];
      p.pendingTotal = (p.pendingTotal - 5n - 5n + 9n + 7n) as Qsr;
      p.claimable = (p.claimable + 5n) as Qsr;
      const payer = state.accounts.get(KEYS.user.address)!;
      payer.balance = (payer.balance - 11n) as Qsr;
      const changed = noChanges();
      changed.accounts.add(KEYS.user.address);
      changed.providers.add(KEYS.provider.address);
      for (const e of [first, second, added]) changed.pendingEarnings.add(pendingKey(KEYS.provider.address, e.claimableAt, e.sessionId));
      const written = await db.transaction(async (tx) => {
        await saveChanged(tx, state, changed);
        // Rows this transaction wrote carry its id as xmin.
        const { rows } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM pending_earnings WHERE xmin::text = (txid_current() % 4294967296)::text");
        return rows[0]!.n;
      });
      expect(written).toBe(2);
      expect((await db.query('SELECT count(*)::int AS n FROM pending_earnings')).rows[0]).toEqual({ n: entries });
      expect(stateToJson(await loadState(db, genesisState(genesis)))).toEqual(stateToJson(state));
      const view = await getProvider(db, KEYS.provider.address);
      expect(view?.pendingEarnings.at(0)).toEqual({ sessionId: second.sessionId, amount: '9', claimableAt: second.claimableAt.toString() });
      expect(view?.pendingEarnings.at(-1)).toEqual({ sessionId: SESSION, amount: '7', claimableAt: '999999' });
    });

    it('writes only the session columns a momentum changed, and nothing for a session that ended as it was', async () => {
      const genesis = testGenesis({ owner: '1000000' });
      const json = maximalState(stateToJson(genesisState(genesis)), 'balance');
      json.sessions[0] = { ...json.sessions[0]!, status: 'open', closesAt: null, finalizedAt: null, removeAt: null };
      // The genesis supply, all in the one account (loadState takes the supply from genesis).
      json.supply = stateToJson(genesisState(genesis)).supply;
      json.accounts[0]!.balance = json.supply;
      for (const table of ['accounts', 'zapps', 'providers', 'pending_earnings', 'sessions']) await db.query(`DELETE FROM ${table}`);
      const state = stateFromJson(json);
      await saveAll(db, state);
      const bit = (field: (typeof SESSION_FIELDS)[number]): number => 1 << SESSION_FIELDS.indexOf(field);
      const s = state.sessions.get(SESSION)!;
      const stored = async () => (await loadState(db, genesisState(genesis))).sessions.get(SESSION)!;

      // The mask names settledGas, lastInvocation and coverage: those columns are written, and only
      // those (gasLimit changed in memory too, yet its column keeps the stored value).
      s.settledGas = 7n as Gas;
      s.lastInvocation = { callGasLimit: 1n as Gas, inputHash: `0x${'55'.repeat(32)}` as Hash, preStateHash: `0x${'66'.repeat(32)}` as Hash, ackedGas: 2n as Gas };
      s.coverage = [{ upToSeq: 3n, challengeDeadline: 4n }];
      s.gasLimit = 9n as Gas;
      const changed = noChanges();
      changed.sessions.add(SESSION);
      changed.sessionFields.set(SESSION, bit('settledGas') | bit('lastInvocation') | bit('coverage'));
      await db.transaction((tx) => saveChanged(tx, state, changed));
      const partly = await stored();
      expect(partly.settledGas).toBe(7n);
      expect(partly.lastInvocation).toEqual(s.lastInvocation);
      expect(partly.coverage).toEqual([{ upToSeq: 3n, challengeDeadline: 4n }]);
      expect(partly.gasLimit).toBe(MAX_UINT64);

      // Mask 0: touched, but nothing to write (the row is what the state was).
      changed.sessionFields.set(SESSION, 0);
      const written = await db.transaction(async (tx) => {
        await saveChanged(tx, state, changed);
        const { rows } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE xmin::text = (txid_current() % 4294967296)::text");
        return rows[0]!.n;
      });
      expect(written).toBe(0);

      // Every field (or no mask: a session of unknown change) writes the whole row.
      changed.sessionFields.set(SESSION, ALL_SESSION_FIELDS);
      await db.transaction((tx) => saveChanged(tx, state, changed));
      expect((await stored()).gasLimit).toBe(9n);
      s.gasLimit = 8n as Gas;
      changed.sessionFields.clear();
      await db.transaction((tx) => saveChanged(tx, state, changed));
      expect(stateToJson(await loadState(db, genesisState(genesis)))).toEqual(stateToJson(state));
    });
  });
}

describeStore('Postgres', () => freshSchema('store'));
describeStore('PGlite', () => freshPglite());

describe('store on Postgres: a copy verified again while its settlement commits', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await freshSchema('store_verify_race');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is neither counted as verified nor left with a verification', async () => {
    const c = copy(700n);
    const signers = { copyKey: c.copyKey, signer: KEYS.receiptSigner.address, invocationSigner: KEYS.user.address };
    await insertReceipts(db, [c], '10.0.0.70');
    expect(await markVerified(db, [signers])).toBe(1);
    // The settlement deletes the verification and moves the copy on; before it commits, a second
    // delivery of the same job records the copy verified again and waits on the deleted row.
    let again: Promise<number> | null = null;
    await db.transaction(async (tx) => {
      await markSettled(tx, 70n, [{ copyKey: c.copyKey, applied: true, outcome: 'Settled', code: null }]);
      const { rows: [settling] } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      again = markVerified(db, [signers]);
      await untilTrue('the second verification to wait for the settlement', async () => {
        const { rows } = await db.query('SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))', [settling!.pid]);
        return rows.length > 0;
      });
    });
    expect(await again).toBe(0);
    const { rows } = await db.query('SELECT copy_key FROM receipt_verifications WHERE copy_key = $1', [c.copyKey]);
    expect(rows).toEqual([]);
    expect((await loadReceipts(db, [c.copyKey]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled' });
  });
});
