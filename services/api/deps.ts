import type { Domain } from '../../contracts/eip712/index.ts';
import type { Db } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ReceiptQueue } from '../queue/index.ts';

/** Every limit of the API, each a named number (overridable per instance, e.g. by tests). */
export interface ApiLimits {
  /** Largest JSON body (a full batch of 1,000 receipts is about 700 KiB; a signed call at most 4 MiB of hex). */
  jsonBodyBytes: number;
  /** Largest uploaded WASM module. */
  moduleBytes: number;
  /** Requests per client address per rate window; false disables rate limiting. */
  rateLimitMax: number | false;
  rateLimitWindowMs: number;
  /** Concurrent SSE subscribers of one API process. */
  sseSubscribers: number;
  /** Interval of the SSE comment lines that keep proxies from closing idle streams. */
  sseHeartbeatMs: number;
  /** Bytes an SSE subscriber may leave unread before it is disconnected. */
  sseBufferBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  jsonBodyBytes: 5 * 1024 * 1024,
  moduleBytes: 8 * 1024 * 1024,
  rateLimitMax: 60_000,
  rateLimitWindowMs: 60_000,
  sseSubscribers: 1_000,
  sseHeartbeatMs: 15_000,
  sseBufferBytes: 1024 * 1024,
});

export interface ApiDeps {
  db: Db;
  queue: ReceiptQueue;
  bus: EventBus;
  /** The EIP-712 domain of this chain (from genesis). */
  domain: Domain;
  metrics: Metrics;
  log: Logger;
  limits?: Partial<ApiLimits>;
  /** Checks an uploaded module against the determinism profile; throws a ZgasError naming the rule. */
  validateModule?: (bytes: Uint8Array) => void;
  /** Milliseconds since the epoch; injected so tests can fix it. */
  now?: () => number;
}

/** What every route plugin receives. */
export interface RouteOptions {
  deps: ApiDeps;
  limits: ApiLimits;
}
