import {
  DEFAULT_LARGE_BODY_BYTES,
  DEFAULT_MAX_LARGE_BODIES,
  DEFAULT_MAX_QUEUE_DEPTH,
  DEFAULT_MAX_UNAPPLIED,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_SSE_PER_CLIENT,
  DEFAULT_SSE_PROVIDER_RESERVED,
  DEFAULT_SSE_SUBSCRIBERS,
} from '../config.ts';
import type { AdmissionConfig } from '../config.ts';
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
  /** Concurrent SSE subscribers of one client address. */
  sseSubscribersPerClient: number;
  /** Slots of `sseSubscribers` only runners' abort streams (`?provider=`) may take. */
  sseProviderReserved: number;
  /** A request body at least this large (by Content-Length, or chunked) counts as large. */
  largeBodyBytes: number;
  /** Large request bodies read and processed at once; more are refused (503 Overloaded) before they are read. */
  maxLargeBodies: number;
  /** Verification jobs waiting or running above which new receipts and calls are refused (503 Overloaded). */
  maxQueueDepth: number;
  /** Stored receipts and calls not yet applied above which new ones are refused (503 Overloaded). */
  maxUnappliedWork: number;
  /** How often the queue depth and the unapplied work are sampled for admission. */
  admissionSampleMs: number;
  /** Interval of the SSE comment lines that keep proxies from closing idle streams. */
  sseHeartbeatMs: number;
  /** Bytes an SSE subscriber may leave unread before it is disconnected. */
  sseBufferBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  jsonBodyBytes: 5 * 1024 * 1024,
  moduleBytes: 8 * 1024 * 1024,
  rateLimitMax: DEFAULT_RATE_LIMIT_PER_MINUTE,
  rateLimitWindowMs: 60_000,
  sseSubscribers: DEFAULT_SSE_SUBSCRIBERS,
  sseSubscribersPerClient: DEFAULT_SSE_PER_CLIENT,
  sseProviderReserved: DEFAULT_SSE_PROVIDER_RESERVED,
  largeBodyBytes: DEFAULT_LARGE_BODY_BYTES,
  maxLargeBodies: DEFAULT_MAX_LARGE_BODIES,
  maxQueueDepth: DEFAULT_MAX_QUEUE_DEPTH,
  maxUnappliedWork: DEFAULT_MAX_UNAPPLIED,
  admissionSampleMs: 250,
  sseHeartbeatMs: 15_000,
  sseBufferBytes: 1024 * 1024,
});

/** The API limits a process configuration sets (services/config.ts). */
export function limitsFromConfig(admission: AdmissionConfig): Partial<ApiLimits> {
  const { rateLimitPerMinute, ...rest } = admission;
  return { ...rest, rateLimitMax: rateLimitPerMinute === 0 ? false : rateLimitPerMinute, rateLimitWindowMs: 60_000 };
}

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
