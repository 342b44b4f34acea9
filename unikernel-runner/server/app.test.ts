import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { makeDomain, nobleBackend, privateKeyBytes, recoverReceiptSigner, signInvocation } from '../../contracts/eip712/index.ts';
import { contextSeed, EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash, Hex } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { WorkerPool } from '../runtime/pool.ts';
import { createReexecutor } from '../runtime/reexecutor.ts';
import { gasTableByName } from '../runtime/tables.ts';
import { loadZApp } from '../zapps/load.ts';
import type { ZAppName } from '../zapps/load.ts';
import { buildRunner } from './app.ts';
import { CallService } from './calls.ts';
import { MemoryLedger } from './ledger.ts';
import type { LedgerSession } from './ledger.ts';

const { keys } = vectors;
const domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
const table = gasTableByName();
const ledger = new MemoryLedger();
const pool = new WorkerPool({ size: 1 });
const calls = new CallService({
  ledger,
  pool,
  table,
  domain,
  receiptKey: privateKeyBytes(keys.receiptSigner.privateKey),
  receiptSigner: keys.receiptSigner.address as Address,
  provider: keys.provider.address as Address,
  backend: nobleBackend,
});
let app: FastifyInstance;
let sessionCount = 0;

beforeAll(async () => {
  app = await buildRunner({ calls, pool });
});
afterAll(async () => {
  await app.close();
  await calls.close();
  await pool.close();
});

function openSession(zApp: ZAppName, overrides: Partial<LedgerSession> = {}): Hash {
  sessionCount++;
  const sessionId = sha3(utf8Bytes(`session ${sessionCount}`));
  ledger.putSession({
    id: sessionId,
    status: 'open',
    user: keys.user.address as Address,
    provider: keys.provider.address as Address,
    zAppId: sha3(utf8Bytes(`zapp ${zApp}`)),
    moduleHash: ledger.putModule(loadZApp(zApp)),
    gasLimit: gas(50_000_000n),
    settledGas: gas(0n),
    receiptSigner: keys.receiptSigner.address as Address,
    ...overrides,
  });
  return sessionId;
}

function body(sessionId: Hash, seq: bigint, input: string, key = keys.user.privateKey) {
  const inv = signInvocation(domain, { sessionId, seq, input: bytesToHex(utf8Bytes(input)) }, key, nobleBackend);
  return { seq: seq.toString(), input: inv.input, signature: inv.signature };
}

async function call(sessionId: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/calls`, payload: payload as Record<string, unknown> });
  return { status: res.statusCode, json: res.json() as { output: Hex; receipt: unknown; code?: string } };
}

describe('POST /v1/sessions/:id/calls', () => {
  it('runs counter calls in order and answers signed receipts that chain', async () => {
    const sessionId = openSession('counter');
    const first = await call(sessionId, body(sessionId, 1n, 'increment'));
    expect(first.status).toBe(200);
    expect(Buffer.from(hexToBytes(first.json.output)).toString()).toBe('1');
    const r1 = receiptFromJson(first.json.receipt);
    expect(recoverReceiptSigner(domain, r1)).toBe(keys.receiptSigner.address);
    expect(r1).toMatchObject({ sessionId, seq: 1n, status: CallStatus.Ok, preStateHash: EMPTY_STATE_HASH, postStateHash: vectors.stateHash.countIs1.hash });
    expect(r1.inputHash).toBe(sha3(utf8Bytes('increment')));
    expect(r1.outputHash).toBe(sha3(utf8Bytes('1')));
    expect(r1.cumulativeGas).toBe(r1.callGas);

    const second = await call(sessionId, body(sessionId, 2n, 'increment'));
    const r2 = receiptFromJson(second.json.receipt);
    expect(Buffer.from(hexToBytes(second.json.output)).toString()).toBe('2');
    expect(r2.preStateHash).toBe(r1.postStateHash);
    expect(r2.cumulativeGas).toBe(r1.cumulativeGas + r2.callGas);

    await calls.flush();
    expect(ledger.receipts.filter((r) => r.sessionId === sessionId).map((r) => r.seq)).toEqual([1n, 2n]);
  });

  it('refuses an invocation not signed by the session user', async () => {
    const sessionId = openSession('hello');
    const res = await call(sessionId, body(sessionId, 1n, 'x', keys.owner.privateKey));
    expect([res.status, res.json.code]).toEqual([401, 'NotSessionUser']);
  });

  it('refuses a seq out of order and a replayed seq, running nothing', async () => {
    const sessionId = openSession('counter');
    expect((await call(sessionId, body(sessionId, 2n, ''))).json.code).toBe('InvocationOutOfOrder');
    expect((await call(sessionId, body(sessionId, 1n, ''))).status).toBe(200);
    const replay = await call(sessionId, body(sessionId, 1n, ''));
    expect([replay.status, replay.json.code]).toEqual([409, 'InvocationReplayed']);
    const next = await call(sessionId, body(sessionId, 2n, ''));
    expect(Buffer.from(hexToBytes(next.json.output)).toString()).toBe('2');
  });

  it('refuses a session that is not open, unknown, out of gas, or served by another provider or signer', async () => {
    const closed = openSession('hello', { status: 'closed' });
    expect((await call(closed, body(closed, 1n, 'x'))).json.code).toBe('SessionNotOpen');
    const unknown = sha3(utf8Bytes('nobody opened this'));
    expect(await call(unknown, body(unknown, 1n, 'x'))).toMatchObject({ status: 404, json: { code: 'SessionNotFound' } });
    const spent = openSession('hello', { gasLimit: gas(1_000n), settledGas: gas(1_000n) });
    expect((await call(spent, body(spent, 1n, 'x'))).json.code).toBe('SessionOutOfGas');
    const lost = openSession('hello', { settledGas: gas(5_000n) });
    expect(await call(lost, body(lost, 1n, 'x'))).toMatchObject({ status: 410, json: { code: 'SessionStateLost' } });
    const other = openSession('hello', { provider: keys.owner.address as Address });
    expect((await call(other, body(other, 1n, 'x'))).json.code).toBe('NotThisProvider');
    const signer = openSession('hello', { receiptSigner: keys.owner.address as Address });
    expect((await call(signer, body(signer, 1n, 'x'))).json.code).toBe('ReceiptSignerMismatch');
  });

  it('refuses when the module bytes do not match the session moduleHash', async () => {
    const sessionId = openSession('hello');
    const session = (await ledger.getSession(sessionId))!;
    ledger.modules.set(session.moduleHash, loadZApp('counter'));
    const res = await call(sessionId, body(sessionId, 1n, 'x'));
    expect([res.status, res.json.code]).toEqual([502, 'ModuleHashMismatch']);
  });

  it('a call that runs out of the session gas gets an OutOfGas receipt for the rest; then the session is spent', async () => {
    const sessionId = openSession('loop', { gasLimit: gas(300_000n) });
    const res = await call(sessionId, body(sessionId, 1n, ''));
    const receipt = receiptFromJson(res.json.receipt);
    expect(receipt).toMatchObject({ status: CallStatus.OutOfGas, callGas: 300_000n, cumulativeGas: 300_000n, postStateHash: EMPTY_STATE_HASH });
    expect(res.json.output).toBe('0x');
    expect((await call(sessionId, body(sessionId, 2n, ''))).json.code).toBe('SessionOutOfGas');
  });

  it('an abort from the ledger stops the running call: Aborted receipt, pushed, and re-execution with its gas runs out', async () => {
    const sessionId = openSession('spin', { gasLimit: gas(10n ** 15n) });
    await call(sessionId, body(sessionId, 1n, '1'));
    const running = call(sessionId, body(sessionId, 2n, '100000000000'));
    for (const end = Date.now() + 20_000; pool.busy === 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(pool.busy).toBe(1);
    ledger.abort(sessionId);
    const res = await running;
    expect(res.status).toBe(200);
    const receipt = receiptFromJson(res.json.receipt);
    expect(receipt.status).toBe(CallStatus.Aborted);
    expect(receipt.postStateHash).toBe(receipt.preStateHash);
    await calls.flush();
    expect(ledger.receipts.some((r) => r.sessionId === sessionId && r.status === CallStatus.Aborted)).toBe(true);
    const judged = createReexecutor(table).rerun({
      module: loadZApp('spin'),
      preState: new Uint8Array(0),
      input: utf8Bytes('100000000000'),
      gasLimit: receipt.callGas,
      seed: contextSeed(sessionId, 2n),
    });
    expect(judged).toMatchObject({ status: CallStatus.OutOfGas, callGas: receipt.callGas, postStateHash: receipt.preStateHash });
    expect((await call(sessionId, body(sessionId, 3n, '1'))).json.code).toBe('SessionNotOpen');
  });

  it('validates the request at the edge', async () => {
    const sessionId = openSession('hello');
    const good = body(sessionId, 1n, 'x');
    expect(await call('0x1234', good)).toMatchObject({ status: 400, json: { code: 'InvalidRequest' } });
    expect(await call(sessionId, { seq: good.seq, input: good.input })).toMatchObject({ status: 400, json: { code: 'InvalidRequest' } });
    expect(await call(sessionId, { ...good, extra: 1 })).toMatchObject({ status: 400, json: { code: 'InvalidRequest' } });
    expect((await call(sessionId, { ...good, seq: '01' })).json.code).toBe('InvalidUint64');
    expect((await call(sessionId, { ...good, input: '0xzz' })).json.code).toBe('InvalidHex');
    expect((await call(sessionId, { ...good, signature: `0x${'00'.repeat(65)}` })).status).toBe(401);
    const huge = await app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/calls`, payload: { ...good, input: `0x${'ab'.repeat(200_000)}` } });
    expect([huge.statusCode, huge.json().code]).toEqual([413, 'PayloadTooLarge']);
    const notJson = await app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/calls`, headers: { 'content-type': 'application/json' }, payload: '{' });
    expect([notJson.statusCode, notJson.json().code]).toEqual([400, 'InvalidRequest']);
    const text = await app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/calls`, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect([text.statusCode, text.json().code]).toEqual([415, 'UnsupportedMediaType']);
  });
});

describe('GET /healthz', () => {
  it('reports the pool', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, workers: 1 });
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).json().code).toBe('NotFound');
  });
});
