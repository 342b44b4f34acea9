import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hash, Hex } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { buildApi } from '../../services/api/app.ts';
import type { ApiLimits } from '../../services/api/app.ts';
import { createMemoryBus } from '../../services/events/index.ts';
import { silentLogger } from '../../services/log.ts';
import { createMetrics } from '../../services/metrics.ts';
import { createMemoryQueue } from '../../services/queue/index.ts';
import { DEFAULT_MODULE_BOUNDS, expireModules } from '../../services/store/index.ts';
import { KEYS, testGenesis } from '../support/chain.ts';
import { startSettlementNode } from '../support/settlement.ts';
import type { SettlementNode } from '../support/settlement.ts';

/**
 * PUT /v1/modules takes anyone's bytes. Uploads no registered zApp references are bounded per
 * uploader (429 ModuleQuotaExceeded) and in all (507 StorageFull), both with Retry-After; an upload
 * a RegisterZApp call names is kept while the call waits.
 */
const MODULE_BYTES = 3_500_000;
let node: SettlementNode;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  node = await startSettlementNode({ name: 'module_flood', genesis: testGenesis({ owner: '1000000000000' }) });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await node?.stop();
});

/** Another API on the node's store with other limits. */
async function api(limits: Partial<ApiLimits> = {}): Promise<FastifyInstance> {
  const app = await buildApi({ db: node.db, queue: createMemoryQueue(), bus: createMemoryBus(), domain: node.domain, genesis: node.genesis, metrics: createMetrics(), log: silentLogger, limits: { rateLimitMax: false, ...limits } });
  apps.push(app);
  return app;
}

/** A distinct module: the WebAssembly header, then random bytes. */
function module(bytes = MODULE_BYTES): Buffer {
  const b = randomBytes(bytes);
  Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]).copy(b);
  return b;
}

const upload = (app: FastifyInstance, from: string, body = module()) =>
  app.inject({ method: 'PUT', url: '/v1/modules', headers: { 'content-type': 'application/wasm' }, payload: body, remoteAddress: from });

const count = async (): Promise<number> => Number((await node.db.query<{ n: string }>('SELECT count(*)::text AS n FROM modules')).rows[0]!.n);

describe('module uploads from strangers', () => {
  it('stores at most the per-uploader quota of unregistered modules, then answers 429 with Retry-After', async () => {
    const app = await api();
    const statuses: number[] = [];
    let last = await upload(app, '10.1.0.1');
    statuses.push(last.statusCode);
    for (let i = 1; i < 20; i++) {
      last = await upload(app, '10.1.0.1');
      statuses.push(last.statusCode);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(DEFAULT_MODULE_BOUNDS.perUploaderCount);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - DEFAULT_MODULE_BOUNDS.perUploaderCount);
    expect(last.json()).toMatchObject({ code: 'ModuleQuotaExceeded' });
    // Until the oldest upload expires (about the time to live).
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(DEFAULT_MODULE_BOUNDS.ttlMs / 1000 - 60);
    expect(await count()).toBe(DEFAULT_MODULE_BOUNDS.perUploaderCount);
    // The same bytes again are no new upload: answered with their hash.
    const again = module(1_000);
    expect((await upload(app, '10.1.0.2', again)).statusCode).toBe(200);
    expect((await upload(app, '10.1.0.1', again)).statusCode).toBe(200);
  });

  it('refuses uploads past the node-wide bound with 507 StorageFull and Retry-After', async () => {
    const before = await count();
    const app = await api({ moduleBounds: { ...DEFAULT_MODULE_BOUNDS, totalCount: before + 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await upload(app, `10.2.0.${i + 1}`, module(10_000))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 507, 507, 507]);
    const full = await upload(app, '10.2.1.1', module(10_000));
    expect(full.json()).toMatchObject({ code: 'StorageFull' });
    expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(before + 3);
  });

  it('expires unregistered uploads after their time to live, never one a registered zApp references', async () => {
    const app = await api({ moduleBounds: { ...DEFAULT_MODULE_BOUNDS, ttlMs: 0, totalCount: 10_000, perUploaderCount: 2 } });
    const named = (await upload(app, '10.3.0.1', module(2_000))).json<{ moduleHash: Hash }>().moduleHash;
    const unnamed = (await upload(app, '10.3.0.1', module(2_000))).json<{ moduleHash: Hash }>().moduleHash;
    expect((await upload(app, '10.3.0.1', module(2_000))).statusCode).toBe(429);
    const zAppId = await node.ok(KEYS.owner.privateKey as Hex, { name: 'RegisterZApp', moduleHash: named, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    expect(zAppId).toBeDefined();
    expect(await expireModules(node.db, 100)).toBe(1);
    expect((await app.inject({ method: 'GET', url: `/v1/modules/${unnamed}` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/v1/modules/${named}` })).statusCode).toBe(200);
    // The registered module no longer counts against its uploader: two more uploads fit.
    expect((await upload(app, '10.3.0.1', module(2_000))).statusCode).toBe(200);
    expect((await upload(app, '10.3.0.1', module(2_000))).statusCode).toBe(200);
    expect(await expireModules(node.db, 100)).toBe(2);
    expect((await app.inject({ method: 'GET', url: `/v1/modules/${named}` })).statusCode).toBe(200);
  });
});
