import { MAX_CALL_DATA_BYTES } from '../../contracts/abi/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Db } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ReceiptQueue } from '../queue/index.ts';
import { MAX_UNVERIFIED_BYTES_PER_SUBMITTER, MAX_UNVERIFIED_COPIES_PER_SUBMITTER } from '../store/index.ts';

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

/** JSON around a signed call's data: from, nonce, signature, keys and quotes. */
const CALL_BODY_OVERHEAD_BYTES = 1024;

export const DEFAULT_LIMITS: Readonly<ApiLimits> = Object.freeze({
  jsonBodyBytes: 5 * 1024 * 1024,
  callBodyBytes: 2 + 2 * MAX_CALL_DATA_BYTES + CALL_BODY_OVERHEAD_BYTES,
  intakeCopiesPerSubmitter: MAX_UNVERIFIED_COPIES_PER_SUBMITTER,
  intakeBytesPerSubmitter: MAX_UNVERIFIED_BYTES_PER_SUBMITTER,
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
  /** The chain's genesis: the parameters calls are checked against before they are stored. */
  genesis: Genesis;
  /** Chain time in unix seconds (the host's clock; default the system clock), never before the latest momentum. */
  clock?: () => bigint;
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
