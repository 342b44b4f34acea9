import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, Method, VerifiedReceipt } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { freshPglite, freshSchema, openSchema } from '../../test/support/db.ts';
import type { TestDb } from '../../test/support/db.ts';
import { KEYS, TestAccount, testGenesis, testReceipt, TEST_GENESIS_TIMESTAMP } from '../../test/support/chain.ts';
import type { Db } from '../db/db.ts';
import { getCall, insertCall } from '../store/calls.ts';
import { getAccount, getProvider, getSession, getZApp } from '../store/state.ts';
import { insertReceipts, loadReceipts, markVerified } from '../store/receipts.ts';
import { getMomentum, latestMomentum } from '../store/momentums.ts';
import { LEADER_LOCK_KEY, startHost } from './host.ts';
import { scopedLockKey } from '../db/lock-key.ts';
import type { Host, HostEvent } from './host.ts';
import { replay } from './replay.ts';
import { isZgasError } from '../../contracts/errors.ts';
import { untilTrue } from '../../test/support/wait.ts';
import { contextSeed } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { gasTableByName } from '../../unikernel-runner/runtime/tables.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { putModule } from '../store/modules.ts';

// Stores, hosts and momentums on a machine whose cores may be busy elsewhere: generous bounds.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const QSR = 100_000_000n;
const PRICE = 123_457n as Qsr; // base units per Mgas
const UPFRONT_GAS = 50_000n as Gas;
const GAS_LIMIT = 2_000_000n as Gas;
const MODULE = new TextEncoder().encode('\0asm test module');

const genesis = (): Genesis => testGenesis({ owner: (1_000n * QSR).toString(), provider: (5_000n * QSR).toString() });

/** A controllable clock: unix seconds. */
function testClock(start = TEST_GENESIS_TIMESTAMP + 10n) {
  let now = start;
  return { clock: () => now, advance: (s: bigint) => (now += s) };
}

async function submit(db: Db, account: TestAccount, method: Method): Promise<Hash> {
  const { signed, hash } = account.call(method);
  expect(await insertCall(db, signed, hash)).toBe('accepted');
  return hash;
}

/** What the API and a verification worker do with a receipt. */
async function submitReceipts(db: Db, receipts: VerifiedReceipt[]): Promise<void> {
  const { accepted } = await insertReceipts(db, receipts.map((r) => r.receipt), receipts.map((r) => r.digest));
  expect(accepted).toHaveLength(receipts.length);
  await markVerified(db, receipts.map((r) => ({ digest: r.digest, signer: r.signer })));
}

async function waitApplied(_host: Host, db: Db, hash: Hash): Promise<void> {
  await untilTrue(`call ${hash} to leave pending`, async () => {
    const call = await getCall(db, hash);
    return call !== null && call.status !== 'pending';
  });
}

/** Waits until every receipt has left `verified` (applied or rejected by a momentum). */
async function waitSettled(db: Db, digests: Hash[]): Promise<void> {
  await untilTrue('the receipts to settle', async () => (await loadReceipts(db, digests)).every((r) => r.state === 'applied' || r.state === 'rejected'));
}

/**
 * The whole settlement flow through the host, with real signed calls and receipts; returns the
 * session id. Balances are checked to the base unit.
 */
async function settlementScenario(db: Db, host: Host, events: HostEvent[]): Promise<Hash> {
  const owner = new TestAccount(KEYS.owner);
  const provider = new TestAccount(KEYS.provider);

  const register = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, userGasPerDay: 0n as Gas });
  const zAppId = register; // the id of a created object is the hash of the call that created it
  await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
  const registerProvider = await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr });
  await waitApplied(host, db, registerProvider);
  await waitApplied(host, db, register);
  expect(await getCall(db, register)).toMatchObject({ status: 'applied', result: { ok: true, created: zAppId } });

  const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 3_600n });
  await waitApplied(host, db, sessionId);
  expect((await getCall(db, sessionId))?.status).toBe('applied');
  // hold = cost(2,000,000 gas, 123,457) = 246,914; upfront = cost(50,000) = 6,173 paid at once.
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 246_914n).toString(), held: (246_914n - 6_173n).toString() });

  const h1 = sha3(new Uint8Array([1]));
  const h2 = sha3(new Uint8Array([2]));
  const r1 = testReceipt({ sessionId, seq: 1n, callGas: 333_333n as Gas, cumulativeGas: 333_333n as Gas, inputHash: h1, preStateHash: EMPTY_STATE_HASH, postStateHash: h1, outputHash: h1, status: CallStatus.Ok });
  const r2 = testReceipt({ sessionId, seq: 2n, callGas: 1_000n as Gas, cumulativeGas: 334_333n as Gas, inputHash: h2, preStateHash: h1, postStateHash: h2, outputHash: h2, status: CallStatus.Ok });
  // Signed by the user, not the session's receipt signer.
  const forged = testReceipt({ sessionId, seq: 3n, callGas: 1n as Gas, cumulativeGas: 334_334n as Gas, inputHash: h2, preStateHash: h2, postStateHash: h2, outputHash: h2, status: CallStatus.Ok }, KEYS.user);
  // One statement marks all three verified, so the sequencer takes them in one batch.
  await submitReceipts(db, [r2, forged, r1]);
  await waitSettled(db, [r1.digest, r2.digest, forged.digest]);
  const rows = new Map((await loadReceipts(db, [r1.digest, r2.digest, forged.digest])).map((r) => [r.digest, r]));
  expect(rows.get(r1.digest)).toMatchObject({ state: 'applied', outcome: 'Settled', code: null });
  expect(rows.get(r2.digest)).toMatchObject({ state: 'applied', outcome: 'Settled', code: null });
  expect(rows.get(forged.digest)).toMatchObject({ state: 'rejected', code: 'InvalidSigner' });
  expect(rows.get(r1.digest)?.momentumHeight).toBe(rows.get(r2.digest)?.momentumHeight);

  // cost(334,333 gas) = ceil(334,333 × 123,457 / 10^6) = 41,276 billed in all (6,173 upfront + 34,980 + 123).
  expect(await getSession(db, sessionId)).toMatchObject({ lastSeq: '2', settledGas: '334333', billedGas: '334333', lastPostStateHash: h2, status: 'open' });
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 246_914n).toString(), held: (246_914n - 41_276n).toString() });
  expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ stake: (1_000n * QSR).toString(), pendingTotal: '41276', claimable: '0' });

  // The same receipts again: stored already, nothing to apply.
  const again = await insertReceipts(db, [r1.receipt], [r1.digest]);
  expect(again).toEqual({ accepted: [], duplicates: [r1.digest] });

  // A failing call takes its nonce and changes nothing else; the next call of the same sender follows in order.
  const withdraw = await submit(db, owner, { name: 'WithdrawEscrow', zAppId, amount: (11n * QSR) as Qsr });
  const close = await submit(db, owner, { name: 'CloseSession', sessionId });
  await waitApplied(host, db, close);
  expect(await getCall(db, withdraw)).toMatchObject({ status: 'failed', code: 'InsufficientAvailable' });
  expect(await getCall(db, close)).toMatchObject({ status: 'applied' });
  // Closing returns hold − cost(billedGas) = 246,914 − 41,276 = 205,638 to available.
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 41_276n).toString(), held: '0' });
  expect(await getAccount(db, KEYS.owner.address)).toEqual({ address: KEYS.owner.address, balance: (990n * QSR).toString(), nonce: '5' });
  expect(await getAccount(db, KEYS.provider.address)).toEqual({ address: KEYS.provider.address, balance: (4_000n * QSR).toString(), nonce: '1' });
  expect(await getSession(db, sessionId)).toMatchObject({ status: 'closed' });

  // Conservation over the rows: 1,000 + 5,000 QSR.
  const owners = BigInt((await getAccount(db, KEYS.owner.address))!.balance) + BigInt((await getAccount(db, KEYS.provider.address))!.balance);
  const zApp = await getZApp(db, zAppId);
  const prov = await getProvider(db, KEYS.provider.address);
  expect(owners + BigInt(zApp!.available) + BigInt(zApp!.held) + BigInt(prov!.stake) + BigInt(prov!.pendingTotal) + BigInt(prov!.claimable)).toBe(6_000n * QSR);

  // Momentums: contiguous, chained, non-decreasing timestamps; events published for each.
  const latest = await latestMomentum(db);
  const top = BigInt(latest!.height);
  let prev = await getMomentum(db, 0n);
  expect(prev).toMatchObject({ height: '0', inputs: [], timestamp: TEST_GENESIS_TIMESTAMP.toString() });
  for (let h = 1n; h <= top; h++) {
    const m = await getMomentum(db, h);
    expect(m?.prevHash).toBe(prev?.hash);
    expect(BigInt(m!.timestamp)).toBeGreaterThanOrEqual(BigInt(prev!.timestamp));
    expect(m!.inputs.length).toBeGreaterThan(0);
    prev = m;
  }
  // Events are published after the commit that a reader may see first.
  await untilTrue('the newest momentum to be published', () => events.some((e) => e.type === 'momentum' && e.height === latest!.height));
  return sessionId;
}

describe('host on Postgres', () => {
  let db: TestDb;
  let host: Host;
  const events: HostEvent[] = [];
  const time = testClock();

  beforeAll(async () => {
    db = await freshSchema('host');
    host = await startHost({ db, genesis: genesis(), clock: time.clock, intervalMs: 5, publish: (e) => void events.push(...e) });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('settles real signed calls and receipts, to the base unit, and replays to the same hashes and state', async () => {
    await settlementScenario(db, host, events);
    const report = await replay(db, genesis());
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.height).toBe(host.height());
  });

  it('publishes an abort event for the provider', async () => {
    const owner = new TestAccount(KEYS.owner);
    owner.nonce = 5n;
    const registered = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, userGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId: registered, amount: QSR as Qsr });
    const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId: registered, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 60n });
    await waitApplied(host, db, sessionId);
    const abort = await submit(db, owner, { name: 'Abort', sessionId, lastReceipt: null });
    await waitApplied(host, db, abort);
    expect(await getCall(db, abort)).toMatchObject({ status: 'applied' });
    await untilTrue('the abort event', () => events.some((e) => e.type === 'abort' && e.sessionId === sessionId && e.provider === KEYS.provider.address));
  });

  it('replay reports a tampered state row and a tampered momentum', async () => {
    await db.query('UPDATE accounts SET balance = balance + 1 WHERE address = $1', [KEYS.owner.address]);
    const state = await replay(db, genesis());
    expect(state.ok).toBe(false);
    expect(state.mismatches.map((m) => m.field)).toEqual(['state']);
    await db.query('UPDATE accounts SET balance = balance - 1 WHERE address = $1', [KEYS.owner.address]);
    expect((await replay(db, genesis())).ok).toBe(true);

    // Rewrite a recorded result (a failed call reported as applied).
    const { rows } = await db.query<{ height: string }>("SELECT height FROM momentums WHERE results::text LIKE '%InsufficientAvailable%'");
    const height = rows[0]!.height;
    await db.query(`UPDATE momentums SET results = replace(results::text, '"InsufficientAvailable"', '"ZeroAmount"')::json WHERE height = $1`, [height]);
    const tampered = await replay(db, genesis());
    expect(tampered.ok).toBe(false);
    expect(tampered.mismatches).toContainEqual(expect.objectContaining({ height, field: 'results' }));
    await db.query(`UPDATE momentums SET results = replace(results::text, '"ZeroAmount"', '"InsufficientAvailable"')::json WHERE height = $1`, [height]);
    expect((await replay(db, genesis())).ok).toBe(true);

    // Rewrite a recorded state digest (of a momentum that changed state).
    const latest = await db.query<{ height: string }>('SELECT max(height) AS height FROM momentums');
    const last = latest.rows[0]!.height;
    await db.query(`UPDATE momentums SET state_digest = $2 WHERE height = $1`, [last, `0x${'ab'.repeat(32)}`]);
    const digestTampered = await replay(db, genesis());
    expect(digestTampered.ok).toBe(false);
    expect(digestTampered.mismatches).toEqual([expect.objectContaining({ height: last, field: 'stateDigest', actual: `0x${'ab'.repeat(32)}` })]);
  });

  it('refuses to start on a store made from another genesis', async () => {
    const other = testGenesis({ owner: '1' });
    await expect(startHost({ db, genesis: other, intervalMs: 5 })).rejects.toSatisfy((e: unknown) => isZgasError(e, 'GenesisMismatch'));
  });
});

describe('host fail-over on Postgres', () => {
  let db: TestDb;
  let second: Db;
  beforeAll(async () => {
    db = await freshSchema('host_failover');
    second = await openSchema(db.schema);
  });
  afterAll(async () => {
    await second?.close();
    await db?.close();
  });

  it('hands over to a follower when the leader stops: next height, no gap, no duplicate effects', async () => {
    const time = testClock();
    const a = await startHost({ db, genesis: genesis(), clock: time.clock, intervalMs: 5 });
    await a.waitForHeight(0n);
    const b = await startHost({ db: second, genesis: genesis(), clock: time.clock, intervalMs: 5, followerRetryMs: 20 });
    try {
      expect(a.isLeader()).toBe(true);
      expect(b.isLeader()).toBe(false);
      const owner = new TestAccount(KEYS.owner);
      const t1 = await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 1n as Qsr });
      await waitApplied(a, db, t1);
      const before = BigInt((await latestMomentum(db))!.height);

      await a.stop();
      const t2 = await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 2n as Qsr });
      const t3 = await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 3n as Qsr });
      await waitApplied(b, db, t3);
      expect(b.isLeader()).toBe(true);
      // The follower continues at the next height; t2 and t3 may share a momentum or not.
      const at2 = (await getCall(db, t2))?.momentumHeight;
      const at3 = (await getCall(db, t3))?.momentumHeight;
      expect(at2).toBe(before + 1n);
      expect(at3).toBeGreaterThanOrEqual(at2!);
      expect(await getAccount(db, KEYS.user.address)).toMatchObject({ balance: '6', nonce: '0' });
      expect(await getAccount(db, KEYS.owner.address)).toMatchObject({ balance: (1_000n * QSR - 6n).toString(), nonce: '3' });
      const report = await replay(db, genesis());
      expect(report).toMatchObject({ ok: true, height: at3 });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('takes over when the leader loses its lock connection', async () => {
    const time = testClock(TEST_GENESIS_TIMESTAMP + 100n);
    const a = await startHost({ db, genesis: genesis(), clock: time.clock, intervalMs: 5, followerRetryMs: 20 });
    await a.waitForHeight(0n);
    await untilTrue('the first host to lead', () => a.isLeader());
    const b = await startHost({ db: second, genesis: genesis(), clock: time.clock, intervalMs: 5, followerRetryMs: 20 });
    try {
      expect(a.isLeader()).toBe(true);
      // Kill the backend holding the sequencer's advisory lock of this schema.
      const key = BigInt.asUintN(64, scopedLockKey(db.schema, LEADER_LOCK_KEY));
      const killed = await db.query<{ done: boolean }>(
        "SELECT pg_terminate_backend(pid) AS done FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid AND objid = $2::oid",
        [(key >> 32n).toString(), (key & 0xffff_ffffn).toString()],
      );
      expect(killed.rows).toEqual([{ done: true }]);
      const owner = new TestAccount(KEYS.owner);
      owner.nonce = 3n;
      const t4 = await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 4n as Qsr });
      await waitApplied(b, db, t4);
      expect(await getAccount(db, KEYS.user.address)).toMatchObject({ balance: '10' });
      // The deposed leader notices the lost lock at the end of its round: then exactly one leads.
      await untilTrue('exactly one leader', () => [a.isLeader(), b.isLeader()].filter(Boolean).length === 1);
      expect((await replay(db, genesis())).ok).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('host on PGlite', () => {
  let db: Db;
  let host: Host;
  const events: HostEvent[] = [];
  beforeAll(async () => {
    db = await freshPglite();
    host = await startHost({ db, genesis: genesis(), clock: testClock().clock, intervalMs: 5, publish: (e) => void events.push(...e) });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('settles the same flow to the same balances and replays', async () => {
    await settlementScenario(db, host, events);
    expect((await replay(db, genesis())).ok).toBe(true);
  });

  it('replay recovers every signature again: a receipt passed with a wrong signer is reported', async () => {
    const owner = new TestAccount(KEYS.owner);
    owner.nonce = 5n;
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, userGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: QSR as Qsr });
    const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 600n });
    await waitApplied(host, db, sessionId);
    const h = sha3(new Uint8Array([9]));
    // Signed by the user's key, but recorded as verified with the receipt signer's address.
    const forged = testReceipt({ sessionId, seq: 1n, callGas: 10n as Gas, cumulativeGas: 10n as Gas, inputHash: h, preStateHash: EMPTY_STATE_HASH, postStateHash: h, outputHash: h, status: CallStatus.Ok }, KEYS.user);
    await submitReceipts(db, [{ ...forged, signer: KEYS.receiptSigner.address }]);
    await waitSettled(db, [forged.digest]);
    expect((await loadReceipts(db, [forged.digest]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled' });
    const report = await replay(db, genesis());
    expect(report.ok).toBe(false);
    expect(report.mismatches.map((m) => m.field)).toEqual(expect.arrayContaining(['results', 'stateDigest', 'hash', 'state']));
  });
});

describe('host judging a challenge through the injected re-executor (PGlite)', () => {
  let db: Db;
  let host: Host;
  beforeAll(async () => {
    db = await freshPglite();
    host = await startHost({ db, genesis: genesis(), clock: testClock().clock, intervalMs: 5, reexecutor: createReexecutor(gasTableByName()) });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('slashes a provider whose receipt re-execution disproves, with the module from the store', async () => {
    const module = loadZApp('counter');
    const moduleHash = await putModule(db, module);
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const user = new TestAccount(KEYS.user);
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash, maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, userGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
    await waitApplied(host, db, await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr }));
    const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 3_600n });
    await waitApplied(host, db, sessionId);

    // The true run of the call, then a receipt claiming one more gas than it used.
    const input = new TextEncoder().encode('increment');
    const truth = createReexecutor(gasTableByName()).rerun({ module, preState: new Uint8Array(0), input, gasLimit: GAS_LIMIT, seed: contextSeed(sessionId, 1n) });
    const inflated = testReceipt({
      sessionId, seq: 1n, callGas: (truth.callGas + 1n) as Gas, cumulativeGas: (truth.callGas + 1n) as Gas, inputHash: sha3(input),
      preStateHash: EMPTY_STATE_HASH, postStateHash: truth.postStateHash, outputHash: truth.outputHash, status: truth.status,
    });
    await submitReceipts(db, [inflated]);
    await waitSettled(db, [inflated.digest]);
    const challenge = await submit(db, user, { name: 'Challenge', receipt: inflated.receipt, input: bytesToHex(input), preState: '0x' });
    await waitApplied(host, db, challenge);
    expect(await getCall(db, challenge)).toMatchObject({ status: 'applied', result: { ok: true, events: expect.arrayContaining([expect.objectContaining({ type: 'FraudProven', kind: 'challenge' })]) } });
    expect((await loadReceipts(db, [inflated.digest]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled' });

    // Slash half of the 1,000 QSR stake: 250 QSR to the challenger, 250 QSR and the voided upfront 6,173 to the zApp,
    // and closing releases the rest of the hold: 10 + 250 QSR available.
    expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ stake: (500n * QSR).toString(), pendingTotal: '0' });
    expect(await getAccount(db, KEYS.user.address)).toMatchObject({ balance: (250n * QSR).toString(), nonce: '1' });
    expect(await getZApp(db, zAppId)).toMatchObject({ available: (260n * QSR).toString(), held: '0' });
    expect(await getSession(db, sessionId)).toMatchObject({ status: 'closed', slashed: true });
    expect((await replay(db, genesis(), { reexecutor: createReexecutor(gasTableByName()) })).ok).toBe(true);
  });
});
