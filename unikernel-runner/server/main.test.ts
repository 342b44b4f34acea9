// startRunner against a fake settlement API over HTTP: the whole runner path, including an abort
// that arrives as a Server-Sent Event while a call is running.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { makeDomain, signInvocation } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { SignedReceipt } from '../../contracts/types.ts';
import { loadZApp } from '../zapps/load.ts';
import { loadRunnerConfig } from './config.ts';
import { startRunner } from './main.ts';
import type { StartedRunner } from './main.ts';

const { keys } = vectors;
const domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
const module = loadZApp('spin');
const moduleHash = sha3(module);
const zAppId = sha3(utf8Bytes('spin zApp'));
const sessionId = sha3(utf8Bytes('spin session'));
const pushed: SignedReceipt[] = [];
const streams: ServerResponse[] = [];
let status = 'open';
let api: Server;
let runner: StartedRunner;

function fakeApi(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === `/v1/sessions/${sessionId}`) {
    return json(200, { zAppId, status, user: keys.user.address, provider: keys.provider.address, receiptSigner: keys.receiptSigner.address, gasLimit: '1000000000000000', settledGas: '0' });
  }
  if (url.pathname === `/v1/zapps/${zAppId}`) return json(200, { moduleHash });
  if (url.pathname === `/v1/modules/${moduleHash}`) {
    res.writeHead(200, { 'content-type': 'application/wasm' });
    return void res.end(Buffer.from(module));
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

beforeAll(async () => {
  api = createServer(fakeApi);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const config = loadRunnerConfig({
    ZGAS_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    ZGAS_RUNNER_PORT: '0',
    ZGAS_RECEIPT_KEY: keys.receiptSigner.privateKey,
    ZGAS_PROVIDER_ADDRESS: keys.provider.address,
    ZGAS_RUNNER_WORKERS: '1',
    ZGAS_SIGNATURE_BACKEND: 'noble',
    // only the streamed abort may stop the call
    ZGAS_CALL_TIME_LIMIT_MS: '600000',
  });
  runner = await startRunner(config, { log: () => undefined });
});

afterAll(async () => {
  await runner.close();
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
});

describe('startRunner', () => {
  it('stops a running call when the settlement API streams an abort, and pushes the Aborted receipt', async () => {
    for (const end = Date.now() + 20_000; streams.length === 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(streams.length).toBeGreaterThan(0);
    const invocation = signInvocation(domain, { sessionId, seq: 1n, input: bytesToHex(utf8Bytes('100000000000')) }, keys.user.privateKey);
    const running = fetch(`${runner.url}/v1/sessions/${sessionId}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seq: '1', input: invocation.input, signature: invocation.signature }),
    });
    // abort once the call runs in a worker
    for (const end = Date.now() + 20_000; runner.pool.busy === 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(runner.pool.busy).toBe(1);
    status = 'aborting';
    for (const stream of streams) stream.write(`event: abort\ndata: ${JSON.stringify({ sessionId, provider: keys.provider.address, abortCap: null })}\n\n`);
    const res = await running;
    expect(res.status).toBe(200);
    const receipt = receiptFromJson(((await res.json()) as { receipt: unknown }).receipt);
    expect(receipt.status).toBe(CallStatus.Aborted);
    for (const end = Date.now() + 20_000; pushed.length === 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(pushed).toEqual([receipt]);

    const next = signInvocation(domain, { sessionId, seq: 2n, input: '0x31' }, keys.user.privateKey);
    const refused = await fetch(`${runner.url}/v1/sessions/${sessionId}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seq: '2', input: next.input, signature: next.signature }),
    });
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([409, 'SessionNotOpen']);
  });
});
