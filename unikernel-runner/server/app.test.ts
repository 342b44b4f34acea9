import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { recoverReceiptSigner, verifyReceipt } from '../../contracts/eip712/index.ts';
import { contextSeed, EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { createReexecutor } from '../runtime/reexecutor.ts';
import { loadZApp } from '../zapps/load.ts';
import { keys, openTestSession, testDomain, TestClient, testRunner, until } from '../../test/support/runner-kit.ts';
import type { TestRunner } from '../../test/support/runner-kit.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../runtime/execute.ts';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';

let runner: TestRunner;
/** The largest callGasLimit the test runner accepts: a spin call surely still running when an abort lands. */
const HUGE_CALL = gas(10_000_000_000n);
const text = (hex: string) => Buffer.from(hexToBytes(hex as `0x${string}`)).toString();

beforeAll(async () => {
  runner = await testRunner({ maxCallGasLimit: HUGE_CALL, maxInputBytes: 4096 });
});
afterAll(async () => {
  await runner.close();
});

const client = (...args: Parameters<typeof openTestSession> extends [unknown, ...infer R] ? R : never) =>
  new TestClient(runner.app, openTestSession(runner.ledger, ...args));

describe('POST /v1/sessions/:id/calls', () => {
  it('runs counter calls in order: output, settlement receipt and writes that rebuild the signed state', async () => {
    const user = client('counter');
    const first = await user.call('increment');
    expect(first.status).toBe(200);
    expect(text(first.json.output)).toBe('1');
    const r1 = first.receipt!;
    expect(recoverReceiptSigner(testDomain, r1)).toBe(keys.receiptSigner.address);
    expect(verifyReceipt(testDomain, r1).invocationSigner).toBe(keys.user.address);
    expect(r1).toMatchObject({ sessionId: user.sessionId, seq: 1n, callGasLimit: 50_000_000n, status: CallStatus.Ok, preStateHash: EMPTY_STATE_HASH, postStateHash: vectors.stateHash.countIs1.hash });
    expect(r1.inputHash).toBe(sha3(utf8Bytes('increment')));
    expect(r1.outputHash).toBe(sha3(utf8Bytes('1')));
    expect(r1.cumulativeGas).toBe(r1.callGas);
    expect(first.writes!.length).toBeGreaterThan(0);
    expect(user.stateHash()).toBe(r1.postStateHash);

    const second = await user.call('increment');
    const r2 = second.receipt!;
    expect(text(second.json.output)).toBe('2');
    expect(r2.preStateHash).toBe(r1.postStateHash);
    expect(r2.cumulativeGas).toBe(r1.cumulativeGas + r2.callGas);
    expect(user.stateHash()).toBe(r2.postStateHash);

    await runner.calls.flush();
    const pushed = runner.ledger.receipts.filter((r) => r.sessionId === user.sessionId);
    expect(pushed.map((r) => r.seq)).toEqual([1n, 2n]);
    expect(pushed.every((r) => verifyReceipt(testDomain, r).invocationSigner === keys.user.address)).toBe(true);
  });

  it('refuses an invocation not signed by the session user', async () => {
    const user = client('hello');
    const res = await user.post(user.invocation('x', undefined, { key: keys.owner.privateKey }));
    expect([res.status, res.json.code]).toEqual([401, 'NotSessionUser']);
  });

  it('refuses a seq out of order; answers a retried invocation with its logged receipt and refuses another one for that seq', async () => {
    const user = client('counter');
    expect((await user.post(user.invocation('', undefined, { seq: 2n }))).json.code).toBe('SessionStateLost');
    const fresh = client('counter');
    const sent = fresh.invocation('');
    const first = await fresh.post(sent);
    expect(first.status).toBe(200);
    const again = await fresh.post(sent);
    expect(again).toEqual(first);
    const other = await fresh.post(fresh.invocation('other input'));
    expect([other.status, other.json.code]).toEqual([409, 'InvocationReplayed']);
    fresh.accept(receiptFromJson(first.json.receipt), []);
    expect((await fresh.post(fresh.invocation('', undefined, { seq: 3n }))).json.code).toBe('InvocationOutOfOrder');
  });

  it('refuses an invocation that acknowledges another receipt, answering the newest one', async () => {
    const user = client('counter');
    expect((await user.call('increment')).status).toBe(200);
    const stale = await user.post(user.invocation('increment', undefined, { preStateHash: EMPTY_STATE_HASH }));
    expect([stale.status, stale.json.code]).toEqual([409, 'InvocationStale']);
    expect(receiptFromJson(stale.json.latest)).toEqual(user.receipts[0]);
    const wrongGas = await user.post(user.invocation('increment', undefined, { ackedGas: gas(1n) }));
    expect(wrongGas.json.code).toBe('InvocationStale');
    const firstStale = client('counter');
    const none = await firstStale.post(firstStale.invocation('increment', undefined, { ackedGas: gas(5n) }));
    expect([none.json.code, none.json.latest]).toEqual(['InvocationStale', null]);
  });

  it('refuses sessions that are closing, stopped, closed, unknown, out of gas, lost, or served by another provider or signer', async () => {
    for (const status of ['closing', 'closed'] as const) {
      const user = client('hello', { status });
      expect((await user.call('x')).json.code).toBe('SessionNotOpen');
    }
    const stopped = client('hello', { stopCall: true });
    expect((await stopped.call('x')).json.code).toBe('SessionNotOpen');
    const unknown = new TestClient(runner.app, sha3(utf8Bytes('nobody opened this')));
    expect(await unknown.call('x')).toMatchObject({ status: 404, json: { code: 'SessionNotFound' } });
    const small = client('hello', { gasLimit: gas(1_000n) });
    expect((await small.call('x', gas(1_001n))).json.code).toBe('SessionOutOfGas');
    expect((await small.call('x', gas(1_000n))).status).toBe(200);
    const lost = client('hello', { settledGas: gas(5_000n), lastSeq: 3n });
    expect(await lost.call('x')).toMatchObject({ status: 410, json: { code: 'SessionStateLost' } });
    const other = client('hello', { provider: keys.owner.address as Address });
    expect((await other.call('x')).json.code).toBe('NotThisProvider');
    const signer = client('hello', { receiptSigner: keys.owner.address as Address });
    expect((await signer.call('x')).json.code).toBe('ReceiptSignerMismatch');
  });

  it('refuses an input above maxInputBytes and a callGasLimit above the close-grace bound, running nothing', async () => {
    const user = client('hello');
    expect(await user.call(new Uint8Array(4097))).toMatchObject({ status: 413, json: { code: 'LimitExceeded' } });
    expect(await user.call('x', gas(HUGE_CALL + 1n))).toMatchObject({ status: 409, json: { code: 'CallGasLimitTooHigh' } });
    expect((await user.call(new Uint8Array(4096), HUGE_CALL)).status).toBe(200);
  });

  it('refuses when the module bytes do not match the session moduleHash', async () => {
    const user = client('fuddor-meme');
    const session = (await runner.ledger.getSession(user.sessionId))!;
    runner.ledger.modules.set(session.moduleHash, loadZApp('counter'));
    expect(await user.call('x')).toMatchObject({ status: 502, json: { code: 'ModuleHashMismatch' } });
  });

  it('a call that runs out of its callGasLimit gets an OutOfGas receipt for the limit, pushed', async () => {
    const user = client('loop');
    const res = await user.call('', gas(300_000n));
    expect(res.receipt).toMatchObject({ status: CallStatus.OutOfGas, callGasLimit: 300_000n, callGas: 300_000n, cumulativeGas: 300_000n, postStateHash: EMPTY_STATE_HASH });
    expect(res.json.output).toBe('0x');
    expect(res.writes).toEqual([]);
    await runner.calls.flush();
    expect(runner.ledger.receipts.some((r) => r.sessionId === user.sessionId && r.status === CallStatus.OutOfGas)).toBe(true);
  });

  it('an abort from the ledger stops the running call: Aborted receipt, pushed, reproduced by re-execution', async () => {
    const user = client('spin');
    await user.call('1');
    const running = user.call('100000000000', HUGE_CALL);
    await until(() => runner.pool.busy > 0, 'the call to start');
    runner.ledger.abort(user.sessionId);
    const res = await running;
    expect(res.status).toBe(200);
    const receipt = res.receipt!;
    expect(receipt.status).toBe(CallStatus.Aborted);
    expect(receipt.postStateHash).toBe(receipt.preStateHash);
    await runner.calls.flush();
    expect(runner.ledger.receipts.some((r) => r.sessionId === user.sessionId && r.status === CallStatus.Aborted)).toBe(true);
    const judged = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }).rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
      module: loadZApp('spin'),
      moduleHash: sha3(loadZApp('spin')),
      preState: new Uint8Array(0),
      input: utf8Bytes('100000000000'),
      gasLimit: receipt.callGas,
      seed: contextSeed(user.sessionId, 2n),
    });
    expect(judged).toMatchObject({ status: CallStatus.OutOfGas, callGas: receipt.callGas, postStateHash: receipt.preStateHash });
    expect((await user.call('1')).json.code).toBe('SessionNotOpen');
  });

  it('a session closed while a call runs lets the call finish and runs no new invocation', async () => {
    const user = client('spin');
    let answered = false;
    const running = user.call('200000000', HUGE_CALL).finally(() => {
      answered = true;
    });
    await until(() => runner.pool.busy > 0 || answered, 'the call to start');
    runner.ledger.closeSession(user.sessionId);
    const res = await running;
    expect(res.receipt?.status).toBe(CallStatus.Ok);
    expect((await user.call('1')).json.code).toBe('SessionNotOpen');
  });

  it('validates the request at the edge', async () => {
    const user = client('hello');
    const good = user.invocation('x');
    expect(await user.post({ ...good, sessionId: sha3(utf8Bytes('another')) })).toMatchObject({ status: 400, json: { code: 'InvalidRequest' } });
    const badUrl = await runner.app.inject({ method: 'POST', url: '/v1/sessions/0x1234/calls', payload: good });
    expect([badUrl.statusCode, badUrl.json().code]).toEqual([400, 'InvalidRequest']);
    const { signature: _missing, ...unsigned } = good;
    expect(await user.post(unsigned)).toMatchObject({ status: 400, json: { code: 'InvalidField' } });
    expect(await user.post({ ...good, extra: 1 })).toMatchObject({ status: 400, json: { code: 'InvalidField' } });
    expect((await user.post({ ...good, seq: '01' })).json.code).toBe('InvalidUint64');
    expect((await user.post({ ...good, input: '0xzz' })).json.code).toBe('InvalidHex');
    expect((await user.post({ ...good, signature: `0x${'00'.repeat(65)}` })).status).toBe(401);
    const huge = await runner.app.inject({ method: 'POST', url: `/v1/sessions/${user.sessionId}/calls`, payload: { ...good, input: `0x${'ab'.repeat(1_100_000)}` } });
    expect([huge.statusCode, huge.json().code]).toEqual([413, 'PayloadTooLarge']);
    const notJson = await runner.app.inject({ method: 'POST', url: `/v1/sessions/${user.sessionId}/calls`, headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([notJson.statusCode, notJson.json().code]).toEqual([400, 'InvalidRequest']);
    const plain = await runner.app.inject({ method: 'POST', url: `/v1/sessions/${user.sessionId}/calls`, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect([plain.statusCode, plain.json().code]).toEqual([415, 'UnsupportedMediaType']);
  });
});

describe('GET /v1/sessions/:id/receipts/latest', () => {
  it('answers 404 before the first call, then the newest settlement receipt', async () => {
    const user = client('counter');
    expect(await user.latest()).toMatchObject({ status: 404, json: { code: 'NotFound' } });
    await user.call('increment');
    await user.call('increment');
    const latest = await user.latest();
    expect(latest.status).toBe(200);
    expect(receiptFromJson(latest.json)).toEqual(user.receipts[1]);
  });
});

describe('POST /v1/sessions/:id/abort', () => {
  it("the user's signed Abort stops the running call at once and no new invocation runs", async () => {
    const user = client('spin');
    const running = user.call('100000000000', HUGE_CALL);
    await until(() => runner.pool.busy > 0, 'the call to start');
    expect(await user.abort()).toMatchObject({ status: 202, json: { aborted: true } });
    const res = await running;
    expect(res.receipt?.status).toBe(CallStatus.Aborted);
    expect((await user.call('1')).json.code).toBe('SessionNotOpen');
  });

  it("the zApp owner's signed Abort is taken too", async () => {
    const user = client('hello');
    expect((await user.abort(user.abortCall(keys.owner.privateKey))).status).toBe(202);
    expect((await user.call('x')).json.code).toBe('SessionNotOpen');
  });

  it('refuses an Abort from a stranger, of another session, another method or a forged signature, changing nothing', async () => {
    const user = client('hello');
    expect(await user.abort(user.abortCall(keys.provider.privateKey))).toMatchObject({ status: 403, json: { code: 'NotSessionParty' } });
    const other = openTestSession(runner.ledger, 'hello');
    expect(await user.abort(user.abortCall(keys.user.privateKey, other))).toMatchObject({ status: 400, json: { code: 'NotAnAbort' } });
    const forged = { ...user.abortCall(), from: keys.owner.address };
    expect(await user.abort(forged)).toMatchObject({ status: 401, json: { code: 'WrongSigner' } });
    expect((await user.abort({ from: keys.user.address })).status).toBe(400);
    expect((await user.call('x')).status).toBe(200);
  });
});

describe('GET /healthz and /docs', () => {
  it('reports the pool and the log, and serves the OpenAPI description', async () => {
    const res = await runner.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, workers: 1, log: 'memory (lost on restart)', state: { seeds: expect.any(Number), seededStateBytes: expect.any(Number), hashedStateBytes: expect.any(Number) } });
    expect((await runner.app.inject({ method: 'GET', url: '/nowhere' })).json().code).toBe('NotFound');
    const docs = await runner.app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    expect(Object.keys(docs.json().paths)).toEqual(expect.arrayContaining(['/v1/sessions/{id}/calls', '/v1/sessions/{id}/receipts/latest', '/v1/sessions/{id}/abort']));
  });
});
