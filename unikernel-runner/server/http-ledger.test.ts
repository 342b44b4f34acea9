import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { loadZApp } from '../zapps/load.ts';
import { HttpLedger, ledgerSessionFromJson } from './http-ledger.ts';
import type { SessionStop } from './ledger.ts';
import { sessionStopEvent } from '../../contracts/events.ts';
import { readEvents } from './sse.ts';

const provider = vectors.keys.provider.address as Address;
const module = loadZApp('counter');
const moduleHash = sha3(module);
const zAppId = sha3(utf8Bytes('zapp'));
const sessionId = vectors.receipt.message.sessionId as Hash;
const signedReceipt = receiptFromJson(vectors.settlementReceipt.json);
/** A session as the settlement API answers it (contracts/gas/state.ts sessionJson). */
const sessionBody = {
  id: sessionId, zAppId, provider: provider.toLowerCase(), user: vectors.keys.user.address, openedByOwner: true, price: '7',
  receiptSigner: vectors.keys.receiptSigner.address, gasLimit: '1000000', hold: '7', upfrontGas: '0', settledGas: '12345', billedGas: '20000',
  lastSeq: '4', lastReceiptHash: null, lastPostStateHash: vectors.receipt.message.postStateHash, lastInvocation: null, coverageFloorSeq: '0', coverage: [],
  judgedSeqs: [], status: 'closing', stopCall: true, slashed: false, openedAt: '1', expiresAt: '100', closesAt: '160', finalizedAt: null, removeAt: null,
};

let server: Server;
let base = '';
const receiptBodies: unknown[] = [];
let receiptFailures = 2;
let eventConnections = 0;
let refusedPushes = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && url.pathname === `/v1/sessions/${sessionId}`) {
    return send(200, sessionBody);
  }
  if (req.method === 'GET' && url.pathname.startsWith('/v1/sessions/')) return send(404, { code: 'SessionNotFound', message: 'no' });
  if (req.method === 'GET' && url.pathname === `/v1/zapps/${zAppId}`) return send(200, { owner: vectors.keys.owner.address, moduleHash });
  if (req.method === 'GET' && url.pathname === `/v1/modules/${moduleHash}`) {
    res.writeHead(200, { 'content-type': 'application/wasm' });
    return void res.end(Buffer.from(module));
  }
  if (req.method === 'POST' && url.pathname === '/v1/receipts') {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { receipts: Array<{ seq: string }> };
      if (body.receipts.some((r) => r.seq === '999')) {
        refusedPushes++;
        return send(409, { code: 'NonMonotonic', message: 'refused' });
      }
      if (receiptFailures > 0) {
        receiptFailures--;
        return send(503, { code: 'NotReady', message: 'later' });
      }
      receiptBodies.push(body);
      send(202, { accepted: body.receipts.length, duplicates: 0 });
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/v1/events') {
    eventConnections++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n');
    if (eventConnections === 1) return void res.end(); // the stream drops; the ledger must reconnect
    expect(url.searchParams.get('provider')).toBe(provider);
    res.write(`event: momentum\ndata: {"height":"3"}\n\n`);
    res.write('event: sessionStop\ndata: {"type":"sessionStop","kind":"sideways"}\n\n');
    res.write(`event: sessionStop\ndata: ${JSON.stringify(sessionStopEvent({ kind: 'close', sessionId, provider, stopCall: false, closesAt: 160n, height: 4n }))}\n\n`);
    res.write(`event: sessionStop\ndata: ${JSON.stringify(sessionStopEvent({ kind: 'abort', sessionId, provider, stopCall: true, closesAt: 160n, height: 5n }))}\n\n`);
    return;
  }
  send(404, { code: 'NotFound', message: 'no' });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('HttpLedger', () => {
  it("reads a session with its zApp's module hash and owner, and null for an unknown one", async () => {
    const ledger = new HttpLedger({ apiUrl: `${base}/`, provider });
    expect(await ledger.getSession(sessionId)).toEqual({
      id: sessionId, status: 'closing', stopCall: true, user: vectors.keys.user.address, provider, zAppId, zAppOwner: vectors.keys.owner.address, moduleHash,
      gasLimit: 1_000_000n, settledGas: 12_345n, lastSeq: 4n, receiptSigner: vectors.keys.receiptSigner.address, expiresAt: 100n,
    });
    expect(await ledger.getSession(sha3(utf8Bytes('other')))).toBeNull();
    await ledger.close();
  });

  it('refuses a session shape it does not know as NotReady, naming the field', () => {
    expect(() => ledgerSessionFromJson(sessionId, { ...sessionBody, status: 'aborting' }, { owner: provider, moduleHash })).toThrow(
      expect.objectContaining({ code: 'NotReady', details: expect.objectContaining({ path: 'status' }) }),
    );
    const { stopCall: _stopCall, ...v1 } = sessionBody;
    expect(() => ledgerSessionFromJson(sessionId, v1, { owner: provider, moduleHash })).toThrow(expect.objectContaining({ code: 'NotReady' }));
  });

  it('fetches module bytes', async () => {
    const ledger = new HttpLedger({ apiUrl: base, provider });
    expect(Buffer.from((await ledger.getModule(moduleHash))!).equals(Buffer.from(module))).toBe(true);
    expect(await ledger.getModule(sha3(utf8Bytes('missing')))).toBeNull();
  });

  it('pushes receipts, retrying while the API is unavailable, and gives up at once on a refusal', async () => {
    const ledger = new HttpLedger({ apiUrl: base, provider, retryMinMs: 5 });
    await ledger.submitReceipts([signedReceipt]);
    expect(receiptFailures).toBe(0);
    expect(receiptBodies).toHaveLength(1);
    const [body] = receiptBodies as Array<{ receipts: unknown[] }>;
    expect(receiptFromJson(body!.receipts[0])).toEqual(signedReceipt);
    await expect(ledger.submitReceipts([{ ...signedReceipt, seq: 999n }])).rejects.toMatchObject({ code: 'NotReady', details: { status: 409 } });
    expect(refusedPushes).toBe(1);
  });

  it('learns closes and aborts from the event stream, skipping malformed events and reconnecting after it drops', async () => {
    const errors: string[] = [];
    const ledger = new HttpLedger({ apiUrl: base, provider, onError: (_error, what) => errors.push(what) });
    const seen: SessionStop[] = [];
    await new Promise<void>((resolve) =>
      ledger.onSessionStop((stop) => {
        seen.push(stop);
        if (seen.length === 2) resolve();
      }),
    );
    expect(seen).toEqual([{ sessionId, stopCall: false }, { sessionId, stopCall: true }]);
    expect(errors).toContain('session stop event');
    expect(eventConnections).toBeGreaterThanOrEqual(2);
    await ledger.close();
  });

  it('reports an unreachable API as NotReady', async () => {
    const ledger = new HttpLedger({ apiUrl: 'http://127.0.0.1:1', provider });
    await expect(ledger.getSession(sessionId)).rejects.toMatchObject({ code: 'NotReady' });
  });
});

describe('readEvents', () => {
  it('parses events, multi-line data, comments and CRLF', async () => {
    const text = ': c\r\nevent: abort\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: plain\n\n';
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = utf8Bytes(text);
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    const out = [];
    for await (const event of readEvents(stream)) out.push(event);
    expect(out).toEqual([{ event: 'abort', data: '{"a":\n1}' }, { event: 'message', data: 'plain' }]);
  });
});
