import http from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../services/api/app.ts';
import { clientKey } from '../../services/api/routes/events.ts';
import type { ApiDeps, ApiLimits } from '../../services/api/app.ts';
import { createMemoryBus } from '../../services/events/index.ts';
import { silentLogger } from '../../services/log.ts';
import { createMetrics } from '../../services/metrics.ts';
import { createMemoryQueue } from '../../services/queue/index.ts';
import type { ReceiptQueue } from '../../services/queue/index.ts';
import { testGenesis } from '../support/chain.ts';
import { freshSchema } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { until } from '../support/zgas-process.ts';
import { callJson, domain, randomHash, receipt, receiptJson, transferCall } from './fixtures.ts';

/**
 * Admission: what the API refuses before it does the work, so that one client or a burst cannot
 * take the node: event-stream slots per client address with a share kept for runners' abort
 * streams, backpressure from the verification queue and the unapplied work, a bound on large
 * bodies in flight, and JSON errors even for requests Node refuses before fastify sees them.
 */
let db: TestDb;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  db = await freshSchema('admission');
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await db?.close();
});

async function api(limits: Partial<ApiLimits>, queue: ReceiptQueue = createMemoryQueue()): Promise<{ app: FastifyInstance; port: number }> {
  const deps: ApiDeps = { db, queue, bus: createMemoryBus(), domain, genesis: testGenesis({}), metrics: createMetrics(), log: silentLogger, limits: { rateLimitMax: false, ...limits } };
  const app = await buildApi(deps);
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port };
}

/** Opens an event stream from a given loopback address; resolves with the status and a closer. */
function stream(port: number, from: string, query = ''): Promise<{ status: number; body: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/v1/events${query}`, localAddress: from }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (res.statusCode === 200 && body.includes('zgas events')) resolve({ status: 200, body, close: () => req.destroy() });
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, close: () => req.destroy() }));
    });
    req.on('error', reject);
  });
}

/** Sends raw bytes and returns everything the server answers before it closes or goes quiet. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (out += c));
    socket.on('error', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      if (out === '') reject(new Error('no answer'));
    });
    socket.write(text);
  });
}

function parseRaw(text: string): { status: number; headers: string; body: string } {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  return { status, headers: head.toLowerCase(), body: rest.join('\r\n\r\n') };
}

describe('event-stream slots', () => {
  it('caps the streams of one client address, keeps a share for abort streams, and frees slots on close', async () => {
    const { port } = await api({ sseSubscribers: 6, sseSubscribersPerClient: 3, sseProviderReserved: 2 });
    const provider = `?provider=0x${'22'.repeat(20)}`;
    const a = [await stream(port, '127.0.0.2'), await stream(port, '127.0.0.2'), await stream(port, '127.0.0.2')];
    expect(a.map((s) => s.status)).toEqual([200, 200, 200]);
    const fourth = await stream(port, '127.0.0.2');
    expect(fourth.status).toBe(503);
    expect(JSON.parse(fourth.body)).toMatchObject({ code: 'TooManySubscribers', details: { perClient: 3 } });
    // A client address of its own may take what is left of the general share, no more.
    expect((await stream(port, '127.0.0.3')).status).toBe(200);
    const general = await stream(port, '127.0.0.4');
    expect(general.status).toBe(503);
    // A runner's abort stream still gets in: the reserved share is for `?provider=` streams.
    const runnerA = await stream(port, '127.0.0.4', provider);
    const runnerB = await stream(port, '127.0.0.5', provider);
    expect([runnerA.status, runnerB.status]).toEqual([200, 200]);
    expect((await stream(port, '127.0.0.6', provider)).status).toBe(503);
    // Closing streams frees their slots.
    for (const s of a) s.close();
    const again = await until('a freed slot', async () => {
      const s = await stream(port, '127.0.0.2');
      if (s.status === 200) return s;
      return undefined;
    }, 20_000);
    again.close();
    runnerA.close();
    runnerB.close();
  });

  it('counts IPv4 addresses one by one and IPv6 addresses by their /64', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:db8:0:1:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  it('never lets the abort streams of one address take the whole reserved share', async () => {
    const { port } = await api({ sseSubscribers: 4, sseSubscribersPerClient: 2, sseProviderReserved: 3 });
    const provider = `?provider=0x${'22'.repeat(20)}`;
    const mine = [await stream(port, '127.0.0.7', provider), await stream(port, '127.0.0.7', provider)];
    expect(mine.map((s) => s.status)).toEqual([200, 200]);
    expect((await stream(port, '127.0.0.7', provider)).status).toBe(503);
    const other = await stream(port, '127.0.0.8', provider);
    expect(other.status).toBe(200);
    for (const s of [...mine, other]) s.close();
  });
});

describe('backpressure', () => {
  it('refuses large bodies beyond the bound in flight with 503 Overloaded and Retry-After, before reading them', async () => {
    const { port } = await api({ largeBodyBytes: 1024, maxLargeBodies: 2 });
    const body = JSON.stringify({ receipts: Array.from({ length: 20 }, (_, i) => receiptJson(receipt(randomHash(), BigInt(i + 1)))) });
    expect(body.length).toBeGreaterThan(1024);
    // Two uploads that have sent their headers and half their body: both in flight.
    const slow = [0, 1].map(() => {
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/receipts', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } });
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 100));
      return { req, answered };
    });
    const refused = await until('the third large body to be refused', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return res.status === 503 ? res : undefined;
    }, 20_000);
    expect(await refused.json()).toMatchObject({ code: 'Overloaded' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Small requests pass meanwhile.
    const small = await fetch(`http://127.0.0.1:${port}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ receipts: [receiptJson(receipt(randomHash(), 1n))] }) });
    expect(small.status).toBe(202);
    // Once the slow uploads finish, large bodies are taken again.
    for (const s of slow) s.req.end(body.slice(100));
    expect(await Promise.all(slow.map((s) => s.answered))).toEqual([202, 202]);
    const after = await fetch(`http://127.0.0.1:${port}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(after.status).toBe(202);
  });

  it('refuses new receipts and calls with 503 Overloaded while the verification queue is deeper than its bound, and takes them again once it drains', async () => {
    const queue = createMemoryQueue();
    const { port } = await api({ maxQueueDepth: 1, admissionSampleMs: 50 }, queue);
    const postReceipts = () => fetch(`http://127.0.0.1:${port}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ receipts: [receiptJson(receipt(randomHash(), 1n))] }) });
    // No consumer: every accepted batch stays queued.
    expect((await postReceipts()).status).toBe(202);
    expect((await postReceipts()).status).toBe(202);
    const refused = await until('a refusal', async () => {
      const res = await postReceipts();
      return res.status === 503 ? res : undefined;
    }, 20_000);
    expect(await refused.json()).toMatchObject({ code: 'Overloaded', details: { reason: 'verification queue' } });
    expect(refused.headers.get('retry-after')).not.toBeNull();
    const call = await fetch(`http://127.0.0.1:${port}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(callJson(transferCall(0n))) });
    expect(call.status).toBe(503);
    // Reads are never refused.
    expect((await fetch(`http://127.0.0.1:${port}/v1/momentums/latest`)).status).not.toBe(503);
    // The queue drains: receipts are taken again.
    const consumer = queue.process(async () => undefined, { concurrency: 1 });
    await until('admission again', async () => ((await postReceipts()).status === 202 ? true : undefined), 20_000);
    await consumer.close();
  });

  it('refuses new work while more than the bound of stored work waits to be applied', async () => {
    const { port } = await api({ maxUnappliedWork: 3, admissionSampleMs: 50 });
    const res = await fetch(`http://127.0.0.1:${port}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ receipts: [1n, 2n, 3n, 4n].map((seq) => receiptJson(receipt(randomHash(), seq))) }) });
    expect(res.status).toBe(202);
    const refused = await until('a refusal', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(callJson(transferCall(0n))) });
      return r.status === 503 ? r : undefined;
    }, 20_000);
    expect(await refused.json()).toMatchObject({ code: 'Overloaded', details: { reason: 'unapplied work' } });
  });
});

describe('requests Node refuses before routing', () => {
  it('answers an over-long URL with 431 and a JSON error body', async () => {
    const { port } = await api({});
    const answer = parseRaw(await raw(port, `GET /v1/momentums/${'9'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers).toContain('content-type: application/json');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'HeadersTooLarge' });
  });

  it('answers broken HTTP framing with 400 and a JSON error body', async () => {
    const { port } = await api({});
    for (const text of ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'BLAH\r\n\r\n', 'POST /v1/calls HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']) {
      const answer = parseRaw(await raw(port, text));
      expect(answer.status, text).toBe(400);
      expect(JSON.parse(answer.body), text).toMatchObject({ code: 'MalformedHttp' });
    }
  });
});
