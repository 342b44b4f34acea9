// Builds the single-file runner, runs it as a plain `node` process from an empty directory against
// a fake settlement API, and checks a counter call end to end: signed receipt, pushed receipt, no
// files (with no ZGAS_RUNNER_DATA_DIR the session log is in memory).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { makeDomain, recoverReceiptSigner, signInvocationRequest } from '../../contracts/eip712/index.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { invocationToJson, receiptFromJson, writesFromJson } from '../../contracts/json.ts';
import type { SettlementReceipt } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { CallStatus } from '../../contracts/types.ts';
import { loadZApp } from '../zapps/load.ts';
import { buildRunnerBundle } from './build.ts';
import { genesisToJson } from '../../contracts/gas/genesis.ts';
import { testGenesis } from '../../test/support/chain.ts';
import { TEST_SESSION_EXPIRES_AT } from '../../test/support/runner-kit.ts';

const { keys } = vectors;
const domain = makeDomain(BigInt(vectors.domain.chainId), vectors.domain.verifyingContract);
const module = loadZApp('counter');
const moduleHash = sha3(module);
const zAppId = sha3(utf8Bytes('counter zApp'));
const sessionId = sha3(utf8Bytes('bundle session'));

const pushed: SettlementReceipt[] = [];
let api: Server;
let apiUrl = '';
let dir = '';
let runner: ChildProcess | undefined;
let runnerUrl = '';
let stderr = '';

function fakeApi(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/v1/genesis') return json(200, genesisToJson(testGenesis({ owner: '1' })));
  if (url.pathname === `/v1/sessions/${sessionId}`) {
    return json(200, {
      zAppId, status: 'open', stopCall: false, user: keys.user.address, provider: keys.provider.address, receiptSigner: keys.receiptSigner.address,
      gasLimit: '10000000', settledGas: '0', lastSeq: '0', expiresAt: TEST_SESSION_EXPIRES_AT.toString(),
    });
  }
  if (url.pathname === `/v1/zapps/${zAppId}`) return json(200, { owner: keys.owner.address, moduleHash });
  if (url.pathname === `/v1/modules/${moduleHash}`) {
    res.writeHead(200, { 'content-type': 'application/wasm' });
    return void res.end(Buffer.from(module));
  }
  if (url.pathname === '/v1/receipts' && req.method === 'POST') {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      for (const r of (JSON.parse(text) as { receipts: unknown[] }).receipts) pushed.push(receiptFromJson(r));
      json(202, { accepted: 1, duplicates: 0 });
    });
    return;
  }
  if (url.pathname === '/v1/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    return void res.write(': connected\n\n');
  }
  json(404, { code: 'NotFound', message: 'nothing here' });
}

beforeAll(async () => {
  api = createServer(fakeApi);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  const built = mkdtempSync(path.join(os.tmpdir(), 'zgas-bundle-'));
  const { outfile } = await buildRunnerBundle(path.join(built, 'zgas-runner.mjs'));
  dir = mkdtempSync(path.join(os.tmpdir(), 'zgas-runner-'));
  copyFileSync(outfile, path.join(dir, 'zgas-runner.mjs'));
  rmSync(built, { recursive: true, force: true });

  runner = spawn(process.execPath, ['zgas-runner.mjs'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      ZGAS_API_URL: apiUrl,
      ZGAS_RUNNER_PORT: '0',
      ZGAS_RECEIPT_KEY: keys.receiptSigner.privateKey,
      ZGAS_PROVIDER_ADDRESS: keys.provider.address,
      ZGAS_CHAIN_ID: String(vectors.domain.chainId),
      ZGAS_CONTRACT: vectors.domain.verifyingContract,
      ZGAS_RUNNER_WORKERS: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  runnerUrl = await new Promise<string>((resolve, reject) => {
    runner!.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /"msg":"runner listening","url":"([^"]+)"/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    runner!.on('exit', (code) => reject(new Error(`runner exited ${code}: ${stderr}`)));
  });
}, 120_000);

afterAll(async () => {
  if (runner !== undefined && runner.exitCode === null) {
    const exited = new Promise((resolve) => runner!.once('exit', resolve));
    runner.kill('SIGTERM');
    await exited;
  }
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the packaged runner', () => {
  it('runs a counter call from an empty directory and signs its receipt', async () => {
    const invocation = signInvocationRequest(
      domain,
      { sessionId, seq: 1n, callGasLimit: gas(1_000_000n), input: bytesToHex(utf8Bytes('increment')), preStateHash: EMPTY_STATE_HASH, ackedGas: gas(0n) },
      keys.user.privateKey,
    );
    const res = await fetch(`${runnerUrl}/v1/sessions/${sessionId}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(invocationToJson(invocation)),
    });
    const body = (await res.json()) as { output: string; receipt: unknown; writes: unknown };
    expect(res.status).toBe(200);
    expect(writesFromJson(body.writes).length).toBeGreaterThan(0);
    expect(Buffer.from(hexToBytes(body.output)).toString()).toBe('1');
    const receipt = receiptFromJson(body.receipt);
    expect(recoverReceiptSigner(domain, receipt)).toBe(keys.receiptSigner.address);
    expect(receipt).toMatchObject({ sessionId, seq: 1n, status: CallStatus.Ok, preStateHash: EMPTY_STATE_HASH, postStateHash: vectors.stateHash.countIs1.hash });
    expect(stderr).toContain('"signatureBackend":"noble"');

    for (const end = Date.now() + 20_000; pushed.length === 0 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pushed).toEqual([receipt]);
    expect(readdirSync(dir)).toEqual(['zgas-runner.mjs']);
    const docs = await fetch(`${runnerUrl}/docs/json`);
    expect(docs.status).toBe(200);
  });
});
