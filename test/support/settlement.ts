// A settlement node for host- and API-level tests: the real contract host, API, verification
// workers and store on the test Postgres (own schema), an in-process queue and bus, a controllable
// chain clock, and helpers that sign calls and wait for their outcome through the API only.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { addressOf, makeDomain, signCall } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Reexecutor } from '../../contracts/gas/reexecutor.ts';
import { callToJson } from '../../contracts/json.ts';
import type { Address, Hash, Hex, Method } from '../../contracts/types.ts';
import { buildApi } from '../../services/api/app.ts';
import type { ApiLimits } from '../../services/api/app.ts';
import { createMemoryBus } from '../../services/events/index.ts';
import type { EventBus } from '../../services/events/index.ts';
import { startHost } from '../../services/host/index.ts';
import type { Host } from '../../services/host/index.ts';
import { silentLogger } from '../../services/log.ts';
import { createMetrics } from '../../services/metrics.ts';
import { createMemoryQueue } from '../../services/queue/index.ts';
import type { QueueConsumer, ReceiptQueue } from '../../services/queue/index.ts';
import { startVerifier } from '../../services/workers/verify.ts';
import { freshSchema } from './db.ts';
import type { TestDb } from './db.ts';

/** The longest a test waits for a condition (never a fixed sleep). */
export const WAIT_LIMIT_MS = 60_000;

export interface CallOutcome {
  status: 'pending' | 'applied' | 'failed';
  code?: string;
  momentumHeight?: string;
  result?: { ok: boolean; events?: Array<Record<string, unknown> & { type: string }>; created?: Hash; code?: string };
}

export interface SettlementNode {
  db: TestDb;
  host: Host;
  api: FastifyInstance;
  queue: ReceiptQueue;
  bus: EventBus;
  domain: Domain;
  genesis: Genesis;
  /** Chain time (unix seconds) of the host and the API. */
  now: bigint;
  post(url: string, payload: unknown): Promise<LightMyRequestResponse>;
  get<T = Record<string, unknown>>(url: string): Promise<T>;
  /** Signs `method` with `key` at the sender's pending nonce and posts it; the raw answer. */
  send(key: Hex, method: Method): Promise<LightMyRequestResponse>;
  /** Like `send`, but expects 202 and waits until the call is applied or failed. */
  call(key: Hex, method: Method): Promise<CallOutcome>;
  /** Like `call`, but throws unless the call applied; returns what it created, if anything. */
  ok(key: Hex, method: Method): Promise<Hash | undefined>;
  /** Polls `check` until it returns a value other than undefined (at most WAIT_LIMIT_MS). */
  until<T>(check: () => Promise<T | undefined>, what: string): Promise<T>;
  stop(): Promise<void>;
}

export async function startSettlementNode(opts: { name: string; genesis: Genesis; reexecutor?: Reexecutor; limits?: Partial<ApiLimits> }): Promise<SettlementNode> {
  const { genesis } = opts;
  const db = await freshSchema(opts.name);
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const queue = createMemoryQueue();
  const bus = createMemoryBus();
  const clock = { now: genesis.timestamp + 10n };
  const host = await startHost({
    db, genesis, intervalMs: 20, clock: () => clock.now,
    ...(opts.reexecutor === undefined ? {} : { reexecutor: opts.reexecutor }),
    publish: (events) => bus.publish(events),
  });
  // Calls are judged against the committed state: wait until the genesis is.
  await host.waitForHeight(0n, { timeoutMs: 120_000 });
  const api = await buildApi({
    db, queue, bus, domain, genesis, metrics: createMetrics(), log: silentLogger, clock: () => clock.now,
    limits: { rateLimitMax: false, ...opts.limits },
  });
  const verifier: QueueConsumer = startVerifier({ db, domain, queue, concurrency: 2 });

  const until = async <T>(check: () => Promise<T | undefined>, what: string): Promise<T> => {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await host.waitForHeight((host.height() ?? 0n) + 1n, { timeoutMs: 50 }).catch(() => undefined);
    }
  };
  const post = (url: string, payload: unknown) => api.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  const get = async <T>(url: string): Promise<T> => (await api.inject({ method: 'GET', url })).json<T>();
  const send = async (key: Hex, method: Method): Promise<LightMyRequestResponse> => {
    const from = addressOf(key) as Address;
    const { pendingNonce } = await get<{ pendingNonce: string }>(`/v1/accounts/${from}`);
    const signed = signCall(domain, { from, nonce: BigInt(pendingNonce), data: encodeMethod(method) }, key);
    return post('/v1/calls', callToJson(signed));
  };
  const call = async (key: Hex, method: Method): Promise<CallOutcome> => {
    const res = await send(key, method);
    if (res.statusCode !== 202) throw new Error(`${method.name}: ${res.statusCode} ${res.body}`);
    const { callHash } = res.json<{ callHash: Hash }>();
    return until(async () => {
      const outcome = await get<CallOutcome>(`/v1/calls/${callHash}`);
      return outcome.status === 'pending' ? undefined : outcome;
    }, `${method.name} ${callHash}`);
  };
  const node: SettlementNode = {
    db, host, api, queue, bus, domain, genesis,
    get now() {
      return clock.now;
    },
    set now(value: bigint) {
      clock.now = value;
    },
    post, get, send, call, until,
    async ok(key, method) {
      const outcome = await call(key, method);
      if (outcome.status !== 'applied') throw new Error(`${method.name} ${outcome.status}: ${outcome.code ?? ''}`);
      return outcome.result?.created;
    },
    async stop() {
      await verifier.close();
      await api.close();
      await host.stop();
      await queue.close();
      await bus.close();
      await db.close();
    },
  };
  return node;
}
