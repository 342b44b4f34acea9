import type { AddressInfo } from 'node:net';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectors } from '../../contracts/abi/index.ts';
import { callHash as hashOfCall, signCall } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Address, Hash, Hex } from '../../contracts/types.ts';
import { instrument } from '../../unikernel-runner/metering/index.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { buildApi } from '../../services/api/app.ts';
import type { ApiDeps } from '../../services/api/app.ts';
import { createRedisBus } from '../../services/events/index.ts';
import type { EventBus } from '../../services/events/index.ts';
import { silentLogger } from '../../services/log.ts';
import { createMetrics } from '../../services/metrics.ts';
import { createBullQueue } from '../../services/queue/index.ts';
import type { ReceiptQueue } from '../../services/queue/index.ts';
import { expireCalls, loadReceipts, markCalls, receiptCopyKey, saveAll } from '../../services/store/index.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import { stateFromJson, stateToJson } from '../../contracts/gas/state.ts';
import { receiptDigest } from '../../contracts/eip712/index.ts';
import { sessionStopEvent } from '../../contracts/events.ts';
import { testGenesis } from '../support/chain.ts';
import { freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { REDIS_URL, callJson, domain, highS, keys, randomHash, receipt, receiptJson, testTag, transferCall } from './fixtures.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { dropRedisKeys } from '../support/redis.ts';

const tag = testTag();
const OWNER_BALANCE = '1000000000000';
let db: TestDb;
let queue: ReceiptQueue;
let bus: EventBus;
let app: FastifyInstance;
let deps: ApiDeps;

beforeAll(async () => {
  db = await freshSchema('api');
  queue = createBullQueue({ url: REDIS_URL, name: `api-${tag}`, prefix: `zgas-test-${tag}` });
  bus = await createRedisBus({ url: REDIS_URL, channel: `zgas-test-${tag}:events` });
  const genesis = testGenesis({ owner: OWNER_BALANCE });
  await saveAll(db, genesisState(genesis));
  deps = { db, queue, bus, domain, genesis, metrics: createMetrics(), log: silentLogger, limits: { moduleBytes: 64 * 1024, sseHeartbeatMs: 50 } };
  app = await buildApi(deps);
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  await bus?.close();
  await db?.close();
  await dropRedisKeys(`zgas-test-${tag}`);
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });

describe('modules', () => {
  const wasm = Buffer.from(loadZApp('hello'));

  it('stores a module under its SHA3-256 and serves the bytes back', async () => {
    const put = await app.inject({ method: 'PUT', url: '/v1/modules', payload: wasm, headers: { 'content-type': 'application/wasm' } });
    expect(put.statusCode).toBe(200);
    const { moduleHash } = put.json<{ moduleHash: Hash }>();
    expect(moduleHash).toBe(sha3(wasm));
    const again = await app.inject({ method: 'PUT', url: '/v1/modules', payload: wasm, headers: { 'content-type': 'application/octet-stream' } });
    expect(again.json()).toEqual({ moduleHash });
    const get = await app.inject({ method: 'GET', url: `/v1/modules/${moduleHash}` });
    expect(get.statusCode).toBe(200);
    expect(get.headers['content-type']).toBe('application/wasm');
    expect(Buffer.compare(get.rawPayload, wasm)).toBe(0);
  });

  it('refuses what is not a module, the wrong content type, an oversized body and unknown hashes', async () => {
    const bad = await app.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.from('not wasm at all'), headers: { 'content-type': 'application/wasm' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('InvalidModule');
    const text = await app.inject({ method: 'PUT', url: '/v1/modules', payload: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(text.json().code).toBe('UnsupportedMediaType');
    const big = await app.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.alloc(65 * 1024), headers: { 'content-type': 'application/wasm' } });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('PayloadTooLarge');
    const missing = await app.inject({ method: 'GET', url: `/v1/modules/${randomHash()}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NotFound' });
    const checked = await buildApi({ ...deps, validateModule: (bytes) => void instrument(bytes, gasTableByName()) });
    const float = Buffer.from(loadZApp('float'));
    const refused = await checked.inject({ method: 'PUT', url: '/v1/modules', payload: float, headers: { 'content-type': 'application/wasm' } });
    expect([refused.statusCode, refused.json().code]).toEqual([422, 'ForbiddenOpcode']);
    const fine = await checked.inject({ method: 'PUT', url: '/v1/modules', payload: wasm, headers: { 'content-type': 'application/wasm' } });
    expect(fine.statusCode).toBe(200);
    await checked.close();
    const badHash = await app.inject({ method: 'GET', url: '/v1/modules/0x1234' });
    expect(badHash.statusCode).toBe(400);
    expect(badHash.json()).toMatchObject({ code: 'InvalidRequest', path: 'hash' });
  });
});

describe('receipts', () => {
  it('stores receipts durably before answering 202, enqueues them, and answers repeats as duplicates', async () => {
    const sessionId = randomHash();
    const batch = [1n, 2n, 3n].map((seq) => receipt(sessionId, seq));
    const depthBefore = await queue.depth();
    const res = await post('/v1/receipts', { receipts: batch.map(receiptJson) });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ accepted: Hash[]; duplicates: Hash[] }>();
    expect(body.accepted).toHaveLength(3);
    expect(body.duplicates).toEqual([]);
    // Read back on the same database as soon as the answer arrived: the rows are committed.
    const rows = await loadReceipts(db, batch.map((r) => receiptCopyKey(receiptDigest(domain, r), r)));
    expect(rows.map((r) => r.digest)).toEqual(body.accepted);
    expect(rows.map((r) => r.receipt.seq)).toEqual([1n, 2n, 3n]);
    expect(rows.every((r) => r.state === 'stored')).toBe(true);
    expect(rows.map((r) => r.receipt)).toEqual(batch);
    expect(await queue.depth()).toBeGreaterThan(depthBefore);

    const repeat = await post('/v1/receipts', { receipts: [...batch, batch[0]!].map(receiptJson) });
    expect(repeat.statusCode).toBe(202);
    expect(repeat.json()).toEqual({ accepted: [], duplicates: [...body.accepted, body.accepted[0]] });

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/zgas_receipts_accepted_total 3/);
    expect(metrics.body).toMatch(/zgas_receipts_duplicate_total 4/);
    expect(metrics.body).toMatch(/zgas_queue_depth \d+/);

    const status = await app.inject({ method: 'GET', url: `/v1/receipts/${body.accepted[0]}` });
    expect(status.json()).toEqual({ digest: body.accepted[0], state: 'stored', copies: 1 });
    const unknown = await app.inject({ method: 'GET', url: `/v1/receipts/${randomHash()}` });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'NotFound']);
  });

  it.each([
    ['an unknown field', (r: Record<string, unknown>) => ({ ...r, extra: 1 }), 'receipts.0.extra'],
    ['a number where a decimal string belongs', (r: Record<string, unknown>) => ({ ...r, seq: 1 }), 'receipts.0.seq'],
    ['an exponent in a decimal string', (r: Record<string, unknown>) => ({ ...r, callGas: '1e3' }), 'receipts.0.callGas'],
    ['a leading zero', (r: Record<string, unknown>) => ({ ...r, cumulativeGas: '0100' }), 'receipts.0.cumulativeGas'],
    ['a uint64 overflow', (r: Record<string, unknown>) => ({ ...r, seq: '18446744073709551616' }), 'receipts.0.seq'],
    ['bad hex in a hash', (r: Record<string, unknown>) => ({ ...r, sessionId: `0x${'zz'.repeat(32)}` }), 'receipts.0.sessionId'],
    ['a short signature', (r: Record<string, unknown>) => ({ ...r, signature: '0x1234' }), 'receipts.0.signature'],
    ['no invocation signature', (r: Record<string, unknown>) => ({ ...r, invocationSignature: undefined }), 'receipts.0.invocationSignature'],
    ['no callGasLimit', (r: Record<string, unknown>) => ({ ...r, callGasLimit: undefined }), 'receipts.0.callGasLimit'],
    ['an unknown status', (r: Record<string, unknown>) => ({ ...r, status: 9 }), 'receipts.0.status'],
    ['a missing field', (r: Record<string, unknown>) => ({ ...r, outputHash: undefined }), 'receipts.0.outputHash'],
  ])('answers 400 InvalidRequest naming the field for %s', async (_what, mutate, path) => {
    const good = receiptJson(receipt(randomHash(), 1n));
    const res = await post('/v1/receipts', { receipts: [mutate(good)] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'InvalidRequest', path });
    expect(typeof res.json().message).toBe('string');
  });

  it('answers 429 IntakeFull past the submitter\'s bound of unverified copies, storing nothing', async () => {
    const full = await buildApi({ ...deps, limits: { ...deps.limits, intakeCopiesPerSubmitter: 0 } });
    try {
      const r = receipt(randomHash(), 1n);
      const res = await full.inject({ method: 'POST', url: '/v1/receipts', payload: { receipts: [receiptJson(r)] } });
      expect([res.statusCode, res.json().code]).toEqual([429, 'IntakeFull']);
      expect(await loadReceipts(db, [receiptCopyKey(receiptDigest(domain, r), r)])).toEqual([]);
    } finally {
      await full.close();
    }
  });

  it('holds a submitter that keeps posting to its bound exactly, though it counts its copies only near the bound', async () => {
    const bounded = await buildApi({ ...deps, limits: { ...deps.limits, intakeCopiesPerSubmitter: 10 } });
    try {
      const postN = async (n: number): Promise<{ status: number; code?: string }> => {
        const res = await bounded.inject({ method: 'POST', url: '/v1/receipts', remoteAddress: '10.20.30.40', payload: { receipts: Array.from({ length: n }, () => receiptJson(receipt(randomHash(), 1n))) } });
        return { status: res.statusCode, ...(res.statusCode === 202 ? {} : { code: res.json().code as string }) };
      };
      // 4 (counted: 0 before), 1 (estimate 4 + 1 within half of 10: not counted), 4 (counted: 5 + 4 fits), then 2 over.
      expect(await postN(4)).toEqual({ status: 202 });
      expect(await postN(1)).toEqual({ status: 202 });
      expect(await postN(4)).toEqual({ status: 202 });
      expect(await postN(2)).toEqual({ status: 429, code: 'IntakeFull' });
      expect(await postN(1)).toEqual({ status: 202 });
      expect(await postN(1)).toEqual({ status: 429, code: 'IntakeFull' });
    } finally {
      await bounded.close();
    }
  });

  it('refuses a bad envelope, an empty batch, an oversized batch and malformed JSON', async () => {
    const extra = await post('/v1/receipts', { receipts: [receiptJson(receipt(randomHash(), 1n))], more: true });
    expect(extra.json()).toMatchObject({ code: 'InvalidRequest', path: 'more' });
    const empty = await post('/v1/receipts', { receipts: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('EmptyBatch');
    const one = receiptJson(receipt(randomHash(), 1n));
    const big = await post('/v1/receipts', { receipts: Array.from({ length: 1_001 }, () => one) });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('BatchTooLarge');
    const broken = await app.inject({ method: 'POST', url: '/v1/receipts', payload: '{"receipts": [', headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('InvalidRequest');
    const inconsistent = await post('/v1/receipts', { receipts: [{ ...one, callGas: '5', cumulativeGas: '4' }] });
    expect(inconsistent.statusCode).toBe(400);
    expect(inconsistent.json()).toMatchObject({ code: 'InvalidReceipt', path: 'receipts.0' });
    const overLimit = await post('/v1/receipts', { receipts: [{ ...one, callGasLimit: '1', callGas: '2', cumulativeGas: '2' }] });
    expect(overLimit.json()).toMatchObject({ code: 'InvalidReceipt', path: 'receipts.0' });
    // Signatures that can never verify are refused before anything is stored.
    const high = await post('/v1/receipts', { receipts: [{ ...one, invocationSignature: highS(one.invocationSignature as Hex) }] });
    expect([high.statusCode, high.json()]).toMatchObject([401, { code: 'HighS', path: 'receipts.0.invocationSignature' }]);
    const badV = await post('/v1/receipts', { receipts: [{ ...one, signature: `${(one.signature as string).slice(0, 130)}1d` }] });
    expect([badV.statusCode, badV.json()]).toMatchObject([401, { code: 'InvalidSignature', path: 'receipts.0.signature' }]);
  });
});

describe('calls', () => {
  it('stores a signed call with the next nonce and reports it pending; the same call again is not stored twice', async () => {
    const call = transferCall(0n);
    const res = await post('/v1/calls', callJson(call));
    expect(res.statusCode).toBe(202);
    const { callHash } = res.json<{ callHash: Hash }>();
    expect(callHash).toMatch(/^0x[0-9a-f]{64}$/);
    const status = await app.inject({ method: 'GET', url: `/v1/calls/${callHash}` });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toEqual({ status: 'pending' });
    const again = await post('/v1/calls', callJson(call));
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ callHash, duplicate: true });
    // The next call must carry nonce 1 now (pending calls count).
    const next = await post('/v1/calls', callJson(transferCall(1n)));
    expect(next.statusCode).toBe(202);
    const account = await app.inject({ method: 'GET', url: `/v1/accounts/${keys.owner.address.toLowerCase()}` });
    expect(account.json()).toEqual({ address: keys.owner.address, balance: OWNER_BALANCE, nonce: '0', pendingNonce: '2' });
  });

  it('maps every refusal to its registry code and status', async () => {
    const wrongNonce = await post('/v1/calls', callJson(transferCall(7n)));
    expect([wrongNonce.statusCode, wrongNonce.json().code]).toEqual([409, 'BadNonce']);

    // Signed by the user's key but claiming to come from the owner.
    const forged = transferCall(2n, keys.user.privateKey);
    const wrong = await post('/v1/calls', callJson(forged));
    expect([wrong.statusCode, wrong.json().code]).toEqual([401, 'WrongSigner']);

    const good = transferCall(2n);
    const high = await post('/v1/calls', { ...callJson(good), signature: highS(good.signature) });
    expect([high.statusCode, high.json().code]).toEqual([401, 'HighS']);

    const unknown = signCall(domain, { from: keys.owner.address as Address, nonce: 2n, data: '0xdeadbeef' }, keys.owner.privateKey);
    const u = await post('/v1/calls', callJson(unknown));
    expect([u.statusCode, u.json().code]).toEqual([400, 'UnknownMethod']);

    const badData = signCall(domain, { from: keys.owner.address as Address, nonce: 2n, data: `${selectors.Transfer}00` as Hex }, keys.owner.privateKey);
    const b = await post('/v1/calls', callJson(badData));
    expect([b.statusCode, b.json().code]).toEqual([400, 'InvalidCallData']);

    const badAddress = await post('/v1/calls', { ...callJson(good), from: '0x19e7E376E7C213B7E7e7e46cc70A5dD086DAff2A' });
    expect(badAddress.json()).toMatchObject({ code: 'InvalidRequest', path: 'from' });
    const badNonce = await post('/v1/calls', { ...callJson(good), nonce: '-1' });
    expect(badNonce.json()).toMatchObject({ code: 'InvalidRequest', path: 'nonce' });
    const oddHex = await post('/v1/calls', { ...callJson(good), data: '0xabc' });
    expect(oddHex.json()).toMatchObject({ code: 'InvalidRequest', path: 'data' });

    const missing = await app.inject({ method: 'GET', url: `/v1/calls/${randomHash()}` });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'NotFound']);
  });

  it('answers NotFound for a call deleted by the retention once settled, and BadNonce when it is sent again', async () => {
    const [first, second] = [transferCall(0n), transferCall(1n)];
    const hashes = [first, second].map((c) => hashOfCall(domain, c));
    // What the sequencer does for the two calls the first case stored: applies them, takes their nonces.
    await markCalls(db, 1n, hashes.map((hash) => ({ hash, ok: true, code: null, result: null })));
    await db.query('UPDATE accounts SET nonce = 2 WHERE address = $1', [keys.owner.address]);
    const applied = await app.inject({ method: 'GET', url: `/v1/calls/${hashes[0]}` });
    expect(applied.json()).toMatchObject({ status: 'applied', momentumHeight: '1' });

    expect(await expireCalls(db, { olderThanMs: 0, limit: 10 })).toBe(2);
    const gone = await app.inject({ method: 'GET', url: `/v1/calls/${hashes[0]}` });
    expect([gone.statusCode, gone.json().code]).toEqual([404, 'NotFound']);
    const again = await post('/v1/calls', callJson(first));
    expect([again.statusCode, again.json().code]).toEqual([409, 'BadNonce']);
    const account = await app.inject({ method: 'GET', url: `/v1/accounts/${keys.owner.address.toLowerCase()}` });
    expect(account.json()).toMatchObject({ nonce: '2', pendingNonce: '2' });
  });
});

describe('state reads', () => {
  it('answers 404 with the fitting code for what does not exist, and 400 for malformed keys', async () => {
    const cases: [string, number, string][] = [
      [`/v1/zapps/${randomHash()}`, 404, 'ZAppNotFound'],
      [`/v1/sessions/${randomHash()}`, 404, 'SessionNotFound'],
      [`/v1/providers/${keys.provider.address}`, 404, 'ProviderNotFound'],
      ['/v1/momentums/999999', 404, 'NotFound'],
      ['/v1/zapps/0x12', 400, 'InvalidRequest'],
      ['/v1/accounts/0xnothex', 400, 'InvalidRequest'],
      ['/v1/momentums/01', 400, 'InvalidRequest'],
      ['/v1/nothing-here', 404, 'NotFound'],
    ];
    for (const [url, status, code] of cases) {
      const res = await app.inject({ method: 'GET', url });
      expect([url, res.statusCode, res.json().code]).toEqual([url, status, code]);
    }
  });
});

describe('provider earnings', () => {
  it('shows what is claimable at the chain time and when the rest matures (never 0 once earnings matured)', async () => {
    const T = 1_800_000_000n;
    const provider = {
      address: keys.provider.address, receiptSigner: keys.receiptSigner.address, pricePerMgas: '1000', upfrontGas: '0', stake: '0', unbonding: [],
      pendingEarnings: [
        { sessionId: `0x${'01'.repeat(32)}`, amount: '100', claimableAt: (T + 10n).toString() },
        { sessionId: `0x${'02'.repeat(32)}`, amount: '50', claimableAt: (T + 100n).toString() },
      ],
      pendingTotal: '150', claimable: '7', accepting: true, liveSessions: 0, challengeableUntil: (T + 100n).toString(),
    };
    const json = stateToJson(genesisState(deps.genesis));
    await saveAll(db, stateFromJson({ ...json, accounts: [], zApps: [], providers: [provider], sessions: [], supply: '157', burned: '0' }));
    let now = T + 50n;
    const timed = await buildApi({ ...deps, clock: () => now });
    try {
      const before = await timed.inject({ method: 'GET', url: `/v1/providers/${keys.provider.address}` });
      expect(before.json()).toMatchObject({
        pendingTotal: '150', claimable: '7',
        earnings: { at: (T + 50n).toString(), claimableNow: '107', pending: '50', nextClaimableAt: (T + 100n).toString(), allClaimableAt: (T + 100n).toString(), schedule: [{ claimableAt: (T + 100n).toString(), amount: '50' }] },
      });
      now = T + 100n;
      const after = await timed.inject({ method: 'GET', url: `/v1/providers/${keys.provider.address}` });
      expect(after.json().earnings).toMatchObject({ claimableNow: '157', pending: '0', nextClaimableAt: null, schedule: [] });
    } finally {
      await timed.close();
    }
  });
});

describe('operations', () => {
  it('serves health, readiness, the OpenAPI document and metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', db: 'pg', queue: 'bullmq', events: 'redis' });
    const doc = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths);
    for (const p of ['/v1/modules', '/v1/calls', '/v1/receipts', '/v1/events', '/v1/momentums/latest', '/v1/sessions/{id}']) expect(paths).toContain(p);
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/zgas_http_request_duration_seconds_bucket/);
    expect(metrics.body).toMatch(/zgas_momentum_height/);
  });

  it('stores receipts and answers 202 even when Redis does not answer (the reconciler enqueues them later)', async () => {
    const deadQueue = createBullQueue({ url: 'redis://127.0.0.1:1', name: `dead-${tag}`, prefix: `zgas-test-${tag}` });
    const offline = await buildApi({ ...deps, queue: deadQueue });
    try {
      const batch = [receipt(randomHash(), 1n)];
      const res = await offline.inject({ method: 'POST', url: '/v1/receipts', payload: { receipts: batch.map(receiptJson) } });
      expect(res.statusCode).toBe(202);
      expect(res.json<{ accepted: Hash[] }>().accepted).toEqual([receiptDigest(domain, batch[0]!)]);
      expect((await loadReceipts(db, [receiptCopyKey(receiptDigest(domain, batch[0]!), batch[0]!)])).map((r) => r.state)).toEqual(['stored']);
    } finally {
      await offline.close();
      await deadQueue.close().catch(() => {});
    }
  });

  it('answers 503 NotReady when the queue is gone, and 429 past the rate limit', async () => {
    const deadQueue = createBullQueue({ url: 'redis://127.0.0.1:1', name: `dead-${tag}`, prefix: `zgas-test-${tag}` });
    const limited = await buildApi({ ...deps, queue: deadQueue, limits: { rateLimitMax: 2, rateLimitWindowMs: 60_000 } });
    try {
      const notReady = await limited.inject({ method: 'GET', url: '/readyz' });
      expect([notReady.statusCode, notReady.json().code]).toEqual([503, 'NotReady']);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await limited.inject({ method: 'GET', url: `/v1/zapps/${randomHash()}` })).statusCode);
      expect(codes).toEqual([404, 404, 429]);
      const limitedBody = await limited.inject({ method: 'GET', url: `/v1/zapps/${randomHash()}` });
      expect(limitedBody.json().code).toBe('RateLimited');
    } finally {
      await limited.close();
      await deadQueue.close().catch(() => {});
    }
  });
});

describe('events', () => {
  function openStream(url: string): Promise<{ chunks: string[]; close: () => void; res: http.IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, (res) => {
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => chunks.push(c));
        resolve({ chunks, res, close: () => req.destroy() });
      });
      req.on('error', reject);
    });
  }
  async function until(predicate: () => boolean): Promise<void> {
    for (const end = Date.now() + 20_000; !predicate() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    expect(predicate()).toBe(true);
  }

  it('streams momentum events and the filtered provider session stops over SSE, with heartbeats', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const all = await openStream(`http://127.0.0.1:${port}/v1/events`);
    const mine = await openStream(`http://127.0.0.1:${port}/v1/events?provider=${keys.provider.address.toLowerCase()}`);
    expect(all.res.headers['content-type']).toMatch(/^text\/event-stream/);
    // Subscriptions are registered once the first frame arrived.
    await until(() => all.chunks.join('').includes('zgas events') && mine.chunks.join('').includes('zgas events'));
    const other = sessionStopEvent({ kind: 'abort', sessionId: `0x${'01'.repeat(32)}`, provider: keys.user.address as Address, stopCall: true, closesAt: 100n, height: 5n });
    const ours = sessionStopEvent({ kind: 'close', sessionId: `0x${'02'.repeat(32)}`, provider: keys.provider.address as Address, stopCall: false, closesAt: 200n, height: 5n });
    await bus.publish([{ type: 'momentum', height: 5n, hash: `0x${'ab'.repeat(32)}` }, other, ours]);
    await until(() => all.chunks.join('').split('event: sessionStop').length === 3 && mine.chunks.join('').includes('event: sessionStop'));
    await until(() => mine.chunks.join('').includes(': heartbeat'));
    const text = mine.chunks.join('');
    expect(text).toContain(`event: momentum\ndata: {"height":"5","hash":"0x${'ab'.repeat(32)}"}\n\n`);
    expect(text).toContain(`event: sessionStop\ndata: {"type":"sessionStop","kind":"close","sessionId":"0x${'02'.repeat(32)}","provider":"${keys.provider.address}","stopCall":false,"closesAt":"200","height":"5"}\n\n`);
    expect(text).not.toContain('01'.repeat(32));
    all.close();
    mine.close();
  });

  it('ends open streams when the API closes', async () => {
    const closing = await buildApi(deps);
    await closing.listen({ port: 0, host: '127.0.0.1' });
    const { port } = closing.server.address() as AddressInfo;
    const stream = await openStream(`http://127.0.0.1:${port}/v1/events`);
    const ended = new Promise<void>((resolve) => stream.res.once('end', () => resolve()));
    await until(() => stream.chunks.join('').includes('zgas events'));
    await closing.close();
    await ended;
    expect(stream.res.complete).toBe(true);
  });

  it('refuses subscribers past the limit', async () => {
    const small = await buildApi({ ...deps, limits: { sseSubscribers: 0 } });
    const res = await small.inject({ method: 'GET', url: '/v1/events' });
    expect([res.statusCode, res.json().code]).toEqual([503, 'TooManySubscribers']);
    await small.close();
  });
});
