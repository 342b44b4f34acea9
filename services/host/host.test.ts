import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { insertReceipts, loadReceipts, markVerified, receiptCopyKey } from '../store/receipts.ts';
import type { ReceiptCopy } from '../store/receipts.ts';
import { FakeReexecutor, FAKE_MODULE } from '../../test/support/contract-kit.ts';
import { MAX_REEXECUTION_GAS_PER_MOMENTUM } from './host.ts';
import { MAX_UINT256, MAX_UINT64 } from '../../contracts/units.ts';
import { getMomentum, latestMomentum } from '../store/momentums.ts';
import { LEADER_LOCK_KEY, startHost } from './host.ts';
import { scopedLockKey } from '../db/lock-key.ts';
import type { Host, HostEvent, RoundTimings } from './host.ts';
import { replay } from './replay.ts';
import { untilTrue } from '../../test/support/wait.ts';
import { isZgasError } from '../../contracts/errors.ts';
import { contextSeed } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { putModule } from '../store/modules.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';

const QSR = 100_000_000n;
const PRICE = 123_457n as Qsr; // base units per Mgas
const UPFRONT_GAS = 50_000n as Gas;
const GAS_LIMIT = 2_000_000n as Gas;
const MODULE = new TextEncoder().encode('\0asm test module');
/** An opener that accepts any offer (OfferChanged is the contract's to test). */
const ANY_CAPS = { maxPricePerMgas: MAX_UINT256 as Qsr, maxUpfrontGas: MAX_UINT64 as Gas };

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

const copyOf = (r: VerifiedReceipt): ReceiptCopy => ({ receipt: r.receipt, digest: r.digest, copyKey: receiptCopyKey(r.digest, r.receipt) });
const keyOf = (r: VerifiedReceipt): Hash => receiptCopyKey(r.digest, r.receipt);

/** What the API and a verification worker do with a receipt (the signers as recovered, or as given). */
async function submitReceipts(db: Db, receipts: VerifiedReceipt[]): Promise<void> {
  const { accepted } = await insertReceipts(db, receipts.map(copyOf), 'test');
  expect(accepted).toHaveLength(receipts.length);
  await markVerified(db, receipts.map((r) => ({ copyKey: keyOf(r), signer: r.signer, invocationSigner: r.invocationSigner })));
}

async function waitSettled(host: Host, db: Db, receipts: VerifiedReceipt[]): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const rows = await loadReceipts(db, receipts.map(keyOf));
    if (rows.every((r) => r.state === 'applied' || r.state === 'rejected')) return;
    await host.waitForHeight((host.height() ?? 0n) + 1n, { timeoutMs: 50 }).catch(() => undefined);
  }
  throw new Error('receipts never settled');
}

async function waitApplied(host: Host, db: Db, hash: Hash): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const call = await getCall(db, hash);
    if (call !== null && call.status !== 'pending') return;
    await host.waitForHeight((host.height() ?? 0n) + 1n, { timeoutMs: 50 }).catch(() => undefined);
  }
  throw new Error(`call ${hash} never left pending`);
}

/**
 * The whole settlement flow through the host, with real signed calls and receipts; returns the
 * session id. Balances are checked to the base unit.
 */
async function settlementScenario(db: Db, host: Host, events: HostEvent[], time: ReturnType<typeof testClock>): Promise<Hash> {
  const owner = new TestAccount(KEYS.owner);
  const provider = new TestAccount(KEYS.provider);

  const register = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
  const zAppId = register; // the id of a created object is the hash of the call that created it
  await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
  const registerProvider = await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr });
  await waitApplied(host, db, registerProvider);
  await waitApplied(host, db, register);
  expect(await getCall(db, register)).toMatchObject({ status: 'applied', result: { ok: true, created: zAppId } });

  const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 3_600n, ...ANY_CAPS });
  await waitApplied(host, db, sessionId);
  expect((await getCall(db, sessionId))?.status).toBe('applied');
  // hold = cost(2,000,000 gas, 123,457) = 246,914; upfront = cost(50,000) = 6,173 paid at once.
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 246_914n).toString(), held: (246_914n - 6_173n).toString() });

  const h1 = sha3(new Uint8Array([1]));
  const h2 = sha3(new Uint8Array([2]));
  const r1 = testReceipt({ sessionId, seq: 1n, callGasLimit: 500_000n as Gas, callGas: 333_333n as Gas, cumulativeGas: 333_333n as Gas, inputHash: h1, preStateHash: EMPTY_STATE_HASH, postStateHash: h1, outputHash: h1, status: CallStatus.Ok });
  const r2 = testReceipt({ sessionId, seq: 2n, callGasLimit: 500_000n as Gas, callGas: 1_000n as Gas, cumulativeGas: 334_333n as Gas, inputHash: h2, preStateHash: h1, postStateHash: h2, outputHash: h2, status: CallStatus.Ok });
  // Signed by the user, not the session's receipt signer.
  const forged = testReceipt({ sessionId, seq: 3n, callGasLimit: 10n as Gas, callGas: 1n as Gas, cumulativeGas: 334_334n as Gas, inputHash: h2, preStateHash: h2, postStateHash: h2, outputHash: h2, status: CallStatus.Ok }, KEYS.user);
  await submitReceipts(db, [r2, forged, r1]);
  await waitSettled(host, db, [r1, r2, forged]);
  const rows = new Map((await loadReceipts(db, [r1, r2, forged].map(keyOf))).map((r) => [r.copyKey, r]));
  expect(rows.get(keyOf(r1))).toMatchObject({ state: 'applied', outcome: 'Settled', code: null });
  expect(rows.get(keyOf(r2))).toMatchObject({ state: 'applied', outcome: 'Settled', code: null });
  expect(rows.get(keyOf(forged))).toMatchObject({ state: 'rejected', code: 'InvalidSigner' });
  expect(rows.get(keyOf(r1))?.momentumHeight).toBe(rows.get(keyOf(r2))?.momentumHeight);

  // cost(334,333 gas) = ceil(334,333 × 123,457 / 10^6) = 41,276 billed in all (6,173 upfront + 34,980 + 123).
  expect(await getSession(db, sessionId)).toMatchObject({ lastSeq: '2', settledGas: '334333', billedGas: '334333', lastPostStateHash: h2, status: 'open' });
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 246_914n).toString(), held: (246_914n - 41_276n).toString() });
  expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ stake: (1_000n * QSR).toString(), pendingTotal: '41276', claimable: '0' });

  // The same receipts again: settled already, nothing stored, nothing to apply.
  const again = await insertReceipts(db, [copyOf(r1)], 'test');
  expect(again).toMatchObject({ accepted: [], duplicates: [r1.digest], stored: [], intake: { added: { copies: 0, bytes: 0 } } });

  // A failing call takes its nonce and changes nothing else; the next call of the same sender follows in order.
  const withdraw = await submit(db, owner, { name: 'WithdrawEscrow', zAppId, amount: (11n * QSR) as Qsr });
  const close = await submit(db, owner, { name: 'CloseSession', sessionId });
  await waitApplied(host, db, close);
  expect(await getCall(db, withdraw)).toMatchObject({ status: 'failed', code: 'InsufficientAvailable' });
  expect(await getCall(db, close)).toMatchObject({ status: 'applied' });
  const closing = await getSession(db, sessionId);
  expect(closing).toMatchObject({ status: 'closing', stopCall: false });
  expect(events).toContainEqual({ type: 'sessionStop', kind: 'close', sessionId, provider: KEYS.provider.address, stopCall: false, closesAt: closing!.closesAt, height: (await getCall(db, close))!.momentumHeight!.toString() });
  // Anyone may finalize once closesAt has passed; the hold's rest returns.
  time.advance(BigInt(closing!.closesAt!) - time.clock() + 1n);
  const finalize = await submit(db, owner, { name: 'FinalizeSession', sessionId });
  await waitApplied(host, db, finalize);
  // Finalizing returns hold − cost(billedGas) = 246,914 − 41,276 = 205,638 to available.
  expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR - 41_276n).toString(), held: '0' });
  expect(await getAccount(db, KEYS.owner.address)).toEqual({ address: KEYS.owner.address, balance: (990n * QSR).toString(), nonce: '6' });
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
  const published = events.filter((e) => e.type === 'momentum').map((e) => e.height);
  expect(published).toContain(latest!.height);
  return sessionId;
}

/**
 * A host on a fresh store for the tests of one describe block, with the flow's clock and the events
 * it publishes; its store and host are set before the first test and closed after the last.
 */
function hostOnFreshStore<D extends Db>(open: () => Promise<D>, intervalMs = 5): { db: D; host: Host; events: HostEvent[]; time: ReturnType<typeof testClock> } {
  const f = { db: undefined as unknown as D, host: undefined as unknown as Host, events: [] as HostEvent[], time: testClock() };
  beforeAll(async () => {
    f.db = await open();
    f.host = await startHost({ db: f.db, genesis: genesis(), clock: f.time.clock, intervalMs, publish: (e) => void f.events.push(...e) });
    await f.host.waitForHeight(0n);
  });
  afterAll(async () => {
    await f.host?.stop();
    await f.db?.close();
  });
  return f;
}

describe('host on Postgres', () => {
  const f = hostOnFreshStore(() => freshSchema('host'));

  it('settles real signed calls and receipts, to the base unit, and replays to the same hashes and state', async () => {
    await settlementScenario(f.db, f.host, f.events, f.time);
    const report = await replay(f.db, genesis());
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.height).toBe(f.host.height());
  });

  it('publishes a session stop event for the provider when a session is aborted', async () => {
    const owner = new TestAccount(KEYS.owner);
    owner.nonce = 6n;
    const registered = await submit(f.db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await submit(f.db, owner, { name: 'TopUp', zAppId: registered, amount: QSR as Qsr });
    const sessionId = await submit(f.db, owner, { name: 'OpenSession', zAppId: registered, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 60n, ...ANY_CAPS });
    await waitApplied(f.host, f.db, sessionId);
    const abort = await submit(f.db, owner, { name: 'Abort', sessionId });
    await waitApplied(f.host, f.db, abort);
    const applied = await getCall(f.db, abort);
    expect(applied).toMatchObject({ status: 'applied' });
    const session = await getSession(f.db, sessionId);
    expect(session).toMatchObject({ status: 'closing', stopCall: true });
    expect(f.events).toContainEqual({ type: 'sessionStop', kind: 'abort', sessionId, provider: KEYS.provider.address, stopCall: true, closesAt: session!.closesAt, height: applied!.momentumHeight!.toString() });
  });

  it('replay reports a tampered state row and a tampered momentum', async () => {
    await f.db.query('UPDATE accounts SET balance = balance + 1 WHERE address = $1', [KEYS.owner.address]);
    const state = await replay(f.db, genesis());
    expect(state.ok).toBe(false);
    expect(state.mismatches.map((m) => m.field)).toEqual(['state']);
    await f.db.query('UPDATE accounts SET balance = balance - 1 WHERE address = $1', [KEYS.owner.address]);
    expect((await replay(f.db, genesis())).ok).toBe(true);

    // Rewrite a recorded result (a failed call reported as applied).
    const { rows } = await f.db.query<{ height: string }>("SELECT height FROM momentums WHERE results::text LIKE '%InsufficientAvailable%'");
    const height = rows[0]!.height;
    await f.db.query(`UPDATE momentums SET results = replace(results::text, '"InsufficientAvailable"', '"ZeroAmount"')::json WHERE height = $1`, [height]);
    const tampered = await replay(f.db, genesis());
    expect(tampered.ok).toBe(false);
    expect(tampered.mismatches).toContainEqual(expect.objectContaining({ height, field: 'results' }));
    await f.db.query(`UPDATE momentums SET results = replace(results::text, '"ZeroAmount"', '"InsufficientAvailable"')::json WHERE height = $1`, [height]);
    expect((await replay(f.db, genesis())).ok).toBe(true);

    // Rewrite a recorded state digest (of a momentum that changed state).
    const latest = await f.db.query<{ height: string }>('SELECT max(height) AS height FROM momentums');
    const last = latest.rows[0]!.height;
    await f.db.query(`UPDATE momentums SET state_digest = $2 WHERE height = $1`, [last, `0x${'ab'.repeat(32)}`]);
    const digestTampered = await replay(f.db, genesis());
    expect(digestTampered.ok).toBe(false);
    expect(digestTampered.mismatches).toEqual([expect.objectContaining({ height: last, field: 'stateDigest', actual: `0x${'ab'.repeat(32)}` })]);
  });

  it('refuses to start on a store made from another genesis', async () => {
    const other = testGenesis({ owner: '1' });
    await expect(startHost({ db: f.db, genesis: other, intervalMs: 5 })).rejects.toSatisfy((e: unknown) => isZgasError(e, 'GenesisMismatch'));
  });
});

/**
 * With an interval of an hour, every momentum of the flow comes from the store's notices: a call
 * stored, a receipt verified. Without them the first call would wait out the hour.
 */
for (const kind of ['Postgres', 'PGlite'] as const) {
  describe(`host woken by the store's notices of new inputs on ${kind}`, () => {
    const f = hostOnFreshStore(() => (kind === 'Postgres' ? freshSchema('host_notices') : freshPglite()), 3_600_000);

    it('settles the whole flow though its interval is an hour', async () => {
      await settlementScenario(f.db, f.host, f.events, f.time);
    });
  });
}

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
      expect((await getCall(db, t2))?.momentumHeight).toBe(before + 1n);
      expect(await getAccount(db, KEYS.user.address)).toMatchObject({ balance: '6', nonce: '0' });
      expect(await getAccount(db, KEYS.owner.address)).toMatchObject({ balance: (1_000n * QSR - 6n).toString(), nonce: '3' });
      const report = await replay(db, genesis());
      expect(report).toMatchObject({ ok: true, height: BigInt((await latestMomentum(db))!.height) });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('takes over when the leader loses its lock connection', async () => {
    const time = testClock(TEST_GENESIS_TIMESTAMP + 100n);
    const a = await startHost({ db, genesis: genesis(), clock: time.clock, intervalMs: 5, followerRetryMs: 20 });
    await a.waitForHeight(0n);
    await untilTrue('the first host leads', () => a.isLeader());
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
      // The deposed leader learns of its lost connection on its own time (a loaded machine may take
      // longer than the new leader's first momentum): two leaders must not last.
      await untilTrue('one host leads', () => [a.isLeader(), b.isLeader()].filter(Boolean).length === 1);
      expect((await replay(db, genesis())).ok).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('host on PGlite', () => {
  const f = hostOnFreshStore(() => freshPglite());

  it('settles the same flow to the same balances and replays', async () => {
    await settlementScenario(f.db, f.host, f.events, f.time);
    expect((await replay(f.db, genesis())).ok).toBe(true);
  });

  it('replay recovers every signature again: a receipt passed with a wrong signer is reported', async () => {
    const owner = new TestAccount(KEYS.owner);
    owner.nonce = 6n;
    const zAppId = await submit(f.db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await submit(f.db, owner, { name: 'TopUp', zAppId, amount: QSR as Qsr });
    const sessionId = await submit(f.db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 600n, ...ANY_CAPS });
    await waitApplied(f.host, f.db, sessionId);
    const h = sha3(new Uint8Array([9]));
    // Signed by the user's key, but recorded as verified with the receipt signer's address.
    const forged = testReceipt({ sessionId, seq: 1n, callGasLimit: 10n as Gas, callGas: 10n as Gas, cumulativeGas: 10n as Gas, inputHash: h, preStateHash: EMPTY_STATE_HASH, postStateHash: h, outputHash: h, status: CallStatus.Ok }, KEYS.user);
    await submitReceipts(f.db, [{ ...forged, signer: KEYS.receiptSigner.address }]);
    await waitSettled(f.host, f.db, [forged]);
    expect((await loadReceipts(f.db, [keyOf(forged)]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled' });
    const report = await replay(f.db, genesis());
    expect(report.ok).toBe(false);
    expect(report.mismatches.map((m) => m.field)).toEqual(expect.arrayContaining(['results', 'stateDigest', 'hash', 'state']));
  });
});

describe('host judging a challenge through the injected re-executor (PGlite)', () => {
  let db: Db;
  let host: Host;
  const funded = (): Genesis => testGenesis({ owner: (1_000n * QSR).toString(), provider: (5_000n * QSR).toString(), user: (100n * QSR).toString() });
  beforeAll(async () => {
    db = await freshPglite();
    host = await startHost({ db, genesis: funded(), clock: testClock().clock, intervalMs: 5, reexecutor: createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }) });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('slashes a provider whose receipt re-execution under the receipt\'s callGasLimit disproves, with the module from the store', async () => {
    const module = loadZApp('counter');
    const moduleHash = await putModule(db, module);
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const user = new TestAccount(KEYS.user);
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash, maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
    await waitApplied(host, db, await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr }));
    const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 3_600n, ...ANY_CAPS });
    await waitApplied(host, db, sessionId);

    // The true run of the call under the user's limit, then a receipt claiming one more gas than it used.
    const callGasLimit = 1_000_000n as Gas;
    const input = new TextEncoder().encode('increment');
    const truth = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }).rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module, moduleHash: sha3(module), preState: new Uint8Array(0), input, gasLimit: callGasLimit, seed: contextSeed(sessionId, 1n) });
    const inflated = testReceipt({
      sessionId, seq: 1n, callGasLimit, callGas: (truth.callGas + 1n) as Gas, cumulativeGas: (truth.callGas + 1n) as Gas, inputHash: sha3(input),
      preStateHash: EMPTY_STATE_HASH, postStateHash: truth.postStateHash, outputHash: truth.outputHash, status: truth.status,
    });
    await submitReceipts(db, [inflated]);
    await waitSettled(host, db, [inflated]);
    const challenge = await submit(db, user, { name: 'Challenge', receipt: inflated.receipt, input: bytesToHex(input), preState: '0x' });
    await waitApplied(host, db, challenge);
    expect(await getCall(db, challenge)).toMatchObject({ status: 'applied', result: { ok: true, events: expect.arrayContaining([expect.objectContaining({ type: 'FraudProven', kind: 'challenge' })]) } });
    expect((await loadReceipts(db, [keyOf(inflated)]))[0]).toMatchObject({ state: 'applied', outcome: 'Settled' });

    // Slash half of the 1,000 QSR stake: a fifth of it (100 QSR) to the challenger with its bond back, the
    // rest (400 QSR) burned; the session's earnings go back to the zApp and its hold is released.
    expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ stake: (500n * QSR).toString(), pendingTotal: '0' });
    expect(await getAccount(db, KEYS.user.address)).toMatchObject({ balance: (200n * QSR).toString(), nonce: '1' });
    expect(await getZApp(db, zAppId)).toMatchObject({ available: (10n * QSR).toString(), held: '0' });
    expect(await getSession(db, sessionId)).toMatchObject({ status: 'closed', slashed: true });
    expect((await db.query<{ burned: string }>('SELECT burned::text AS burned FROM contract_globals')).rows).toEqual([{ burned: (400n * QSR).toString() }]);
    expect((await replay(db, funded(), { reexecutor: createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }) })).ok).toBe(true);
  });
});

describe('host capping re-execution per momentum (PGlite)', () => {
  let db: Db;
  let host: Host;
  const reexecutor = new FakeReexecutor();
  const funded = (): Genesis => testGenesis({ owner: (1_000n * QSR).toString(), provider: (5_000n * QSR).toString(), user: (100n * QSR).toString(), receiptSigner: (100n * QSR).toString() });
  beforeAll(async () => {
    db = await freshPglite();
    host = await startHost({ db, genesis: funded(), clock: testClock().clock, intervalMs: 5, reexecutor });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('judges challenges whose limits together exceed the cap in separate momentums, each under its receipt\'s callGasLimit', async () => {
    const moduleHash = await putModule(db, FAKE_MODULE);
    const owner = new TestAccount(KEYS.owner);
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash, maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: MAX_UINT64 as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
    await waitApplied(host, db, await submit(db, new TestAccount(KEYS.provider), { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: (1_000n * QSR) as Qsr }));
    const sessionId = await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: 20_000_000_000n as Gas, durationSeconds: 3_600n, ...ANY_CAPS });
    await waitApplied(host, db, sessionId);

    // Two honest receipts (re-execution upholds them) at limits that together pass the cap.
    const limit = (MAX_REEXECUTION_GAS_PER_MOMENTUM * 3n) / 5n;
    const receiptAt = (seq: bigint) => {
      const input = new Uint8Array([Number(seq)]);
      const honest = { callGas: 1_100n as Gas, postStateHash: sha3(input), outputHash: sha3(input), status: CallStatus.Ok };
      return { input, receipt: testReceipt({ sessionId, seq, callGasLimit: limit as Gas, ...honest, cumulativeGas: (1_100n * seq) as Gas, inputHash: sha3(input), preStateHash: EMPTY_STATE_HASH }) };
    };
    const [a, b] = [receiptAt(1n), receiptAt(2n)];
    const challenges = [
      await submit(db, new TestAccount(KEYS.user), { name: 'Challenge', receipt: a.receipt.receipt, input: bytesToHex(a.input), preState: '0x' }),
      await submit(db, new TestAccount(KEYS.receiptSigner), { name: 'Challenge', receipt: b.receipt.receipt, input: bytesToHex(b.input), preState: '0x' }),
    ];
    for (const c of challenges) await waitApplied(host, db, c);
    const [first, second] = await Promise.all(challenges.map((c) => getCall(db, c)));
    expect(first).toMatchObject({ status: 'applied' });
    expect(second).toMatchObject({ status: 'applied' });
    expect(second!.momentumHeight).not.toBe(first!.momentumHeight);
    expect(reexecutor.calls.map((c) => c.gasLimit)).toEqual([limit, limit]);
  });
});

describe('closed sessions leave the store on Postgres', () => {
  let db: TestDb;
  let host: Host;
  const time = testClock();
  const SESSIONS = 20;

  beforeAll(async () => {
    db = await freshSchema('host_removal');
    host = await startHost({ db, genesis: genesis(), clock: time.clock, intervalMs: 5 });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  const sessionRows = async (): Promise<number> => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions')).rows[0]!.n);

  it('sessions users open, close and finalize on an open zApp leave no rows after their windows, and replay agrees', async () => {
    const params = genesis().params;
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const user = new TestAccount(KEYS.user);
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: true, openGasPerDay: 10n ** 12n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: QSR as Qsr });
    await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr });
    const ids: Hash[] = [];
    for (let i = 0; i < SESSIONS; i++) ids.push(await submit(db, user, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: 100_000n as Gas, durationSeconds: 600n, ...ANY_CAPS }));
    let last: Hash = ids[0]!;
    for (const sessionId of ids) last = await submit(db, user, { name: 'CloseSession', sessionId });
    await waitApplied(host, db, last);
    time.advance(params.closeGracePeriodSeconds + 1n);
    for (const sessionId of ids) last = await submit(db, user, { name: 'FinalizeSession', sessionId });
    await waitApplied(host, db, last);
    for (const sessionId of ids) expect(await getSession(db, sessionId)).toMatchObject({ status: 'closed', removeAt: expect.any(String) });
    expect(await sessionRows()).toBe(SESSIONS);

    // Before the window ends, an input removes nothing.
    const removeAt = (await Promise.all(ids.map((id) => getSession(db, id)))).map((s) => BigInt(s!.removeAt!)).reduce((a, b) => (a > b ? a : b));
    time.advance(removeAt - time.clock() - 1n);
    await waitApplied(host, db, await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 1n as Qsr }));
    expect(await sessionRows()).toBe(SESSIONS);

    // From removeAt on, each input removes up to 16: two inputs remove all 20 rows in their momentums.
    time.advance(1n);
    await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 1n as Qsr });
    await waitApplied(host, db, await submit(db, owner, { name: 'Transfer', to: KEYS.user.address, amount: 1n as Qsr }));
    expect(await sessionRows()).toBe(0);
    expect(await getZApp(db, zAppId)).toMatchObject({ held: '0' });
    expect(await getProvider(db, KEYS.provider.address)).toMatchObject({ liveSessions: 0 });

    const report = await replay(db, genesis());
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.height).toBe(host.height());
  });
});

describe('host committing full batches back to back on Postgres', () => {
  let db: TestDb;
  let host: Host;
  const rounds: RoundTimings[] = [];
  const events: HostEvent[] = [];

  beforeAll(async () => {
    db = await freshSchema('host_pipeline');
    host = await startHost({ db, genesis: genesis(), clock: testClock().clock, intervalMs: 5, onRound: (t) => void rounds.push(t), publish: (e) => void events.push(...e) });
    await host.waitForHeight(0n);
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
  });

  it('applies and seals the next batch while a full one commits: every receipt settles once, in height order, and replay agrees', async () => {
    const owner = new TestAccount(KEYS.owner);
    const provider = new TestAccount(KEYS.provider);
    const zAppId = await submit(db, owner, { name: 'RegisterZApp', moduleHash: sha3(MODULE), maxPricePerMgas: 1_000_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    await submit(db, owner, { name: 'TopUp', zAppId, amount: (10n * QSR) as Qsr });
    await submit(db, provider, { name: 'RegisterProvider', receiptSigner: KEYS.receiptSigner.address, pricePerMgas: PRICE, upfrontGas: UPFRONT_GAS, stake: (1_000n * QSR) as Qsr });
    const sessions: Hash[] = [];
    for (let i = 0; i < 4; i++) sessions.push(await submit(db, owner, { name: 'OpenSession', zAppId, provider: KEYS.provider.address, user: KEYS.user.address, gasLimit: GAS_LIMIT, durationSeconds: 3_600n, ...ANY_CAPS }));
    await waitApplied(host, db, sessions[sessions.length - 1]!);

    // 2,400 receipts verified at once: a full batch (1,000), another, then 400, each session's seqs in order.
    const perSession = 600;
    const receipts: VerifiedReceipt[] = [];
    for (const sessionId of sessions) {
      for (let seq = 1; seq <= perSession; seq++) {
        const pre = seq === 1 ? EMPTY_STATE_HASH : sha3(new Uint8Array([seq >> 8, seq & 255]));
        const post = sha3(new Uint8Array([(seq + 1) >> 8, (seq + 1) & 255]));
        receipts.push(testReceipt({ sessionId, seq: BigInt(seq), callGasLimit: 1_000n as Gas, callGas: 100n as Gas, cumulativeGas: BigInt(100 * seq) as Gas, inputHash: post, preStateHash: pre, postStateHash: post, outputHash: post, status: CallStatus.Ok }));
      }
    }
    // Verified while no host runs (1,000 per statement), so the next leader finds them all at once.
    await host.stop();
    for (let i = 0; i < receipts.length; i += 1_000) await submitReceipts(db, receipts.slice(i, i + 1_000));
    const before = rounds.length;
    host = await startHost({ db, genesis: genesis(), clock: testClock().clock, intervalMs: 5, onRound: (t) => void rounds.push(t), publish: (e) => void events.push(...e) });
    const settled = async (): Promise<number> => Number((await db.query<{ n: string }>("SELECT count(*)::text AS n FROM receipts WHERE state = 'applied' AND outcome = 'Settled'")).rows[0]!.n);
    for (let i = 0; i < 400 && (await settled()) < receipts.length; i++) await host.waitForHeight((host.height() ?? 0n) + 1n, { timeoutMs: 50 }).catch(() => undefined);
    expect(await settled()).toBe(receipts.length);
    for (const sessionId of sessions) expect(await getSession(db, sessionId)).toMatchObject({ lastSeq: String(perSession), settledGas: String(100 * perSession) });

    const settling = rounds.slice(before).filter((t) => t.receipts > 0);
    expect(settling.map((t) => t.receipts)).toEqual([1_000, 1_000, 400]);
    expect(settling.map((t) => t.height)).toEqual([settling[0]!.height, settling[0]!.height + 1n, settling[0]!.height + 2n]);
    const published = events.filter((e): e is Extract<HostEvent, { type: 'momentum' }> => e.type === 'momentum').map((e) => BigInt(e.height));
    expect(published).toEqual([...published].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const report = await replay(db, genesis());
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.height).toBe(host.height());
  }, 120_000);
});
