// startRunner against a fake settlement API over HTTP: the whole runner path, an abort that arrives
// as a Server-Sent Event while a call is running, and a restart that continues sessions from the
// session log.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { makeDomain, signInvocationRequest } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { invocationToJson, receiptFromJson, writesFromJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash, SettlementReceipt } from '../../contracts/types.ts';
import { sessionStopEvent } from '../../contracts/events.ts';
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { applyWrites } from '../runtime/sessions.ts';
import { EMPTY_STATE, hashState } from '../runtime/state.ts';
import type { State } from '../runtime/state.ts';
import { loadZApp } from '../zapps/load.ts';
import type { ZAppName } from '../zapps/load.ts';
import { startRunner } from './main.ts';
import type { StartedRunner } from './main.ts';
import { TEST_SESSION_EXPIRES_AT, testRunnerConfig, until } from '../../test/support/runner-kit.ts';
import { testGenesis } from '../../test/support/chain.ts';
import { genesisToJson } from '../../contracts/gas/genesis.ts';

const { keys } = vectors;
const domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
const pushed: SettlementReceipt[] = [];
const streams: ServerResponse[] = [];
let api: Server;
let apiUrl = '';
let dataDir = '';
const started: StartedRunner[] = [];

interface FakeSession {
  zApp: ZAppName;
  status: string;
  stopCall: boolean;
  lastSeq: string;
}
const sessions = new Map<Hash, FakeSession>();
const zAppId = (zApp: ZAppName): Hash => sha3(utf8Bytes(`zApp ${zApp}`));

function openSession(zApp: ZAppName, name: string): Hash {
  const id = sha3(utf8Bytes(`session ${name}`));
  sessions.set(id, { zApp, status: 'open', stopCall: false, lastSeq: '0' });
  return id;
}

function fakeApi(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/v1/genesis') return json(200, genesisToJson(testGenesis({ owner: '1' })));
  const session = sessions.get(url.pathname.replace('/v1/sessions/', '') as Hash);
  if (session !== undefined) {
    return json(200, {
      zAppId: zAppId(session.zApp), status: session.status, stopCall: session.stopCall, user: keys.user.address, provider: keys.provider.address,
      receiptSigner: keys.receiptSigner.address, gasLimit: '1000000000000000', settledGas: '0', lastSeq: session.lastSeq, expiresAt: TEST_SESSION_EXPIRES_AT.toString(),
    });
  }
  for (const zApp of ['spin', 'counter'] as const) {
    const module = loadZApp(zApp);
    if (url.pathname === `/v1/zapps/${zAppId(zApp)}`) return json(200, { owner: keys.owner.address, moduleHash: sha3(module) });
    if (url.pathname === `/v1/modules/${sha3(module)}`) {
      res.writeHead(200, { 'content-type': 'application/wasm' });
      return void res.end(Buffer.from(module));
    }
  }
  if (url.pathname === '/v1/receipts') {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      for (const r of (JSON.parse(text) as { receipts: unknown[] }).receipts) pushed.push(receiptFromJson(r));
      json(202, { accepted: 1, duplicates: 0 });
    });
    return;
  }
  if (url.pathname === '/v1/events' && url.searchParams.get('provider') === keys.provider.address) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': connected\n\n');
    streams.push(res);
    return;
  }
  json(404, { code: 'NotFound', message: 'nothing here' });
}

async function start(dir: string | null): Promise<StartedRunner> {
  const config = testRunnerConfig({
    ZGAS_API_URL: apiUrl,
    ZGAS_RUNNER_DATA_DIR: dir ?? '',
    // a close grace that allows the chain's largest callGasLimit: the aborted call is surely still running
    ZGAS_CLOSE_GRACE_PERIOD_SECONDS: '600',
  });
  const runner = await startRunner(config, { log: () => undefined });
  started.push(runner);
  return runner;
}

/** A user's client over HTTP: signs each invocation acknowledging the previous receipt, keeps the state from the writes. */
class Client {
  seq = 0n;
  ackedGas: Gas = gas(0n);
  preStateHash: Hash = EMPTY_STATE_HASH;
  state: State = EMPTY_STATE;
  constructor(readonly sessionId: Hash) {}

  body(input: string, seq = this.seq + 1n) {
    return invocationToJson(
      signInvocationRequest(
        domain,
        { sessionId: this.sessionId, seq, callGasLimit: gas(10_000_000_000n), input: bytesToHex(utf8Bytes(input)), preStateHash: this.preStateHash, ackedGas: this.ackedGas },
        keys.user.privateKey,
      ),
    );
  }

  async post(runner: StartedRunner, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${runner.url}/v1/sessions/${this.sessionId}/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async call(runner: StartedRunner, input: string): Promise<{ output: string; receipt: SettlementReceipt }> {
    const res = await this.post(runner, this.body(input));
    expect(res.status).toBe(200);
    const receipt = receiptFromJson(res.json['receipt']);
    this.state = applyWrites(this.state, writesFromJson(res.json['writes']));
    expect(hashState(this.state)).toBe(receipt.postStateHash);
    this.seq = receipt.seq;
    this.ackedGas = receipt.cumulativeGas;
    this.preStateHash = receipt.postStateHash;
    return { output: Buffer.from(hexToBytes(res.json['output'] as `0x${string}`)).toString(), receipt };
  }
}

beforeAll(async () => {
  api = createServer(fakeApi);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'zgas-runner-'));
});

afterAll(async () => {
  await Promise.allSettled(started.map((r) => r.close()));
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

describe('startRunner', () => {
  it('stops a running call when the settlement API streams an abort, and pushes the Aborted receipt', async () => {
    const runner = await start(null);
    const sessionId = openSession('spin', 'streamed abort');
    const user = new Client(sessionId);
    await until(() => streams.length > 0, 'the event stream');
    const running = user.post(runner, user.body('100000000000'));
    await until(() => runner.pool.busy > 0, 'the call to start');
    sessions.get(sessionId)!.stopCall = true;
    const stop = sessionStopEvent({ kind: 'abort', sessionId, provider: keys.provider.address as Address, stopCall: true, closesAt: 100n, height: 7n });
    for (const stream of streams) stream.write(`event: sessionStop\ndata: ${JSON.stringify(stop)}\n\n`);
    const res = await running;
    expect(res.status).toBe(200);
    const receipt = receiptFromJson(res.json['receipt']);
    expect(receipt.status).toBe(CallStatus.Aborted);
    await until(() => pushed.some((r) => r.sessionId === sessionId), 'the push');
    expect(pushed.filter((r) => r.sessionId === sessionId)).toEqual([receipt]);
    user.seq = 1n;
    user.ackedGas = receipt.cumulativeGas;
    user.preStateHash = receipt.postStateHash;
    const refused = await user.post(runner, user.body('1'));
    expect([refused.status, refused.json['code']]).toEqual([409, 'SessionNotOpen']);
    await runner.close();
  });

  it('after a restart continues each session from its log: the next seq on the right state, a retry answered the same', async () => {
    const sessionId = openSession('counter', 'restart');
    const user = new Client(sessionId);
    const first = await start(dataDir);
    expect((await user.call(first, 'increment')).output).toBe('1');
    const retried = user.body('increment');
    const second = await user.post(first, retried);
    await first.close();

    const again = await start(dataDir);
    // the newest logged receipt of each session is pushed again (it may never have been delivered)
    await until(() => pushed.filter((r) => r.sessionId === sessionId && r.seq === 2n).length >= 2, 'the newest receipt pushed again');
    // the retry of the call answered just before the restart gets the same answer
    expect(await user.post(again, retried)).toEqual(second);
    const receipt2 = receiptFromJson(second.json['receipt']);
    user.state = applyWrites(user.state, writesFromJson(second.json['writes']));
    user.seq = 2n;
    user.ackedGas = receipt2.cumulativeGas;
    user.preStateHash = receipt2.postStateHash;
    const third = await user.call(again, 'increment');
    expect(third.output).toBe('3');
    expect(third.receipt.preStateHash).toBe(receipt2.postStateHash);
    const latest = await fetch(`${again.url}/v1/sessions/${sessionId}/receipts/latest`);
    expect(receiptFromJson(await latest.json())).toEqual(third.receipt);
    await again.close();

    // a runner whose log is lost refuses the session for good, even a fresh start at seq 1
    sessions.get(sessionId)!.lastSeq = '3';
    const amnesiac = await start(await mkdtemp(path.join(os.tmpdir(), 'zgas-runner-empty-')));
    const lost = await user.post(amnesiac, user.body('increment'));
    expect([lost.status, lost.json['code']]).toEqual([410, 'SessionStateLost']);
    sessions.get(sessionId)!.lastSeq = '0';
    const fresh = new Client(sessionId);
    expect((await fresh.post(amnesiac, fresh.body('increment'))).json['code']).toBe('SessionStateLost');
    await amnesiac.close();
  });
});
