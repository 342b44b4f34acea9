import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one process. Each instance has its own registry so that several
 * APIs (tests, several nodes in one process) never collide on metric names.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly receiptsAccepted: Counter;
  readonly receiptsDuplicate: Counter;
  readonly receiptsVerified: Counter;
  readonly receiptsRejected: Counter;
  readonly receiptsSettled: Counter;
  readonly callsAccepted: Counter;
  readonly queueDepth: Gauge;
  readonly momentumHeight: Gauge;
  /** Seconds between now and the timestamp of the newest momentum. */
  readonly momentumLagSeconds: Gauge;
  readonly sseSubscribers: Gauge;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'zgas_process_' });
  const registers = [registry];
  return {
    registry,
    receiptsAccepted: new Counter({ name: 'zgas_receipts_accepted_total', help: 'receipts stored for settlement', registers }),
    receiptsDuplicate: new Counter({ name: 'zgas_receipts_duplicate_total', help: 'receipts submitted again (already stored)', registers }),
    receiptsVerified: new Counter({ name: 'zgas_receipts_verified_total', help: 'receipts whose signature a worker verified', registers }),
    receiptsRejected: new Counter({ name: 'zgas_receipts_rejected_total', help: 'receipts refused by a worker', registers }),
    receiptsSettled: new Counter({ name: 'zgas_receipts_settled_total', help: 'receipts applied in a momentum', registers }),
    callsAccepted: new Counter({ name: 'zgas_calls_accepted_total', help: 'signed calls stored for the sequencer', registers }),
    queueDepth: new Gauge({ name: 'zgas_queue_depth', help: 'receipt verification jobs waiting', registers }),
    momentumHeight: new Gauge({ name: 'zgas_momentum_height', help: 'height of the newest momentum', registers }),
    momentumLagSeconds: new Gauge({ name: 'zgas_momentum_lag_seconds', help: 'seconds since the newest momentum was committed', registers }),
    sseSubscribers: new Gauge({ name: 'zgas_sse_subscribers', help: 'open event stream subscribers', registers }),
    httpDuration: new Histogram({
      name: 'zgas_http_request_duration_seconds',
      help: 'HTTP request durations',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
