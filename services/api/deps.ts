import { MAX_CALL_DATA_BYTES } from '../../contracts/abi/index.ts';
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
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Clock } from '../../unikernel-runner/clock.ts';
import type { Db } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ReceiptQueue } from '../queue/index.ts';
import { DEFAULT_MODULE_BOUNDS, MAX_UNVERIFIED_BYTES_PER_SUBMITTER, MAX_UNVERIFIED_COPIES_PER_SUBMITTER } from '../store/index.ts';
import type { ModuleBounds } from '../store/index.ts';

/** Every limit of the API, each a named number (overridable per instance, e.g. by tests). */
export interface ApiLimits {
  /** Largest JSON body but a signed call's (a full batch of 1,000 settlement receipts is about 900 KiB). */
  jsonBodyBytes: number;
  /**
   * Largest body of POST /v1/calls: a signed call whose data is the contract's largest call data
   * (hex doubles it). A Challenge at genesis maxStateBytes and maxInputBytes always fits (genesis
   * keeps them within MAX_CALL_DATA_BYTES), so every receipt that can be settled can be challenged.
   */
  callBodyBytes: number;
  /** Receipt copies one submitter (client address) may have stored and not yet verified; past it IntakeFull. */
  intakeCopiesPerSubmitter: number;
  /** Bytes of those copies. */
  intakeBytesPerSubmitter: number;
  /** Largest uploaded WASM module. */
  moduleBytes: number;
  /** Uploads no registered zApp references yet: per uploader, in all, and their time to live. */
  moduleBounds: ModuleBounds;
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

/** JSON around a signed call's data: from, nonce, signature, keys and quotes. */
const CALL_BODY_OVERHEAD_BYTES = 1024;

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  jsonBodyBytes: 5 * 1024 * 1024,
  callBodyBytes: 2 + 2 * MAX_CALL_DATA_BYTES + CALL_BODY_OVERHEAD_BYTES,
  intakeCopiesPerSubmitter: MAX_UNVERIFIED_COPIES_PER_SUBMITTER,
  intakeBytesPerSubmitter: MAX_UNVERIFIED_BYTES_PER_SUBMITTER,
  moduleBytes: 8 * 1024 * 1024,
  moduleBounds: DEFAULT_MODULE_BOUNDS,
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
  /** The chain's genesis: the parameters calls are checked against before they are stored. */
  genesis: Genesis;
  /** Chain time in unix seconds (the host's clock; default the system clock), never before the latest momentum. */
  clock?: Clock;
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
