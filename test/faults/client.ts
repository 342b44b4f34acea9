/**
 * A client that behaves like a runner or a wallet under faults: it sends the same signed request
 * again after a refused connection, a dropped one or a retryable answer (429, 503 with
 * Retry-After), and records what the API accepted (202).
 */
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';

/** The longest one request is retried before the scenario fails. */
export const RETRY_BOUND_MS = 180_000;
const RETRY_PAUSE_MS = 200;

export class RetryingClient {
  readonly calls = new Set<Hash>();
  readonly receipts = new Map<Hash, SettlementReceipt>();
  retries = 0;
  /** Statuses answered along the way (503s included), for the report. */
  readonly statuses = new Map<number, number>();
  /** Retryable refusals (429, 503) answered without a Retry-After header. */
  withoutRetryAfter = 0;

  constructor(private readonly base: () => string) {}

  /** Sends until the API answers a final status; returns it with the body. 4xx other than 429 end the retries. */
  async send(method: 'POST' | 'PUT', path: string, body: string | Uint8Array, contentType = 'application/json'): Promise<{ status: number; json: unknown }> {
    const deadline = Date.now() + RETRY_BOUND_MS;
    for (;;) {
      let status = 0;
      let text = '';
      let retryAfterMs = RETRY_PAUSE_MS;
      try {
        const res = await fetch(`${this.base()}${path}`, { method, headers: { 'content-type': contentType }, body: body as string | Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(30_000) });
        status = res.status;
        text = await res.text();
        const after = Number(res.headers.get('retry-after'));
        if (Number.isFinite(after) && after > 0) retryAfterMs = Math.min(after * 1000, 2_000);
        else if (status === 429 || status === 503) this.withoutRetryAfter++;
      } catch {
        status = 0; // refused, reset or timed out: the request may or may not have been stored
      }
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      const retryable = status === 0 || status === 429 || status === 502 || status === 503 || status === 504;
      if (!retryable) return { status, json: text === '' ? null : (JSON.parse(text) as unknown) };
      if (Date.now() > deadline) throw new Error(`${method} ${path} still refused after ${RETRY_BOUND_MS} ms (last status ${status})`);
      this.retries++;
      await new Promise((r) => setTimeout(r, retryAfterMs));
    }
  }

  /** A signed call, sent until accepted. */
  async call(hash: Hash, body: Record<string, unknown>): Promise<void> {
    const { status, json } = await this.send('POST', '/v1/calls', JSON.stringify(body));
    if (status !== 202) throw new Error(`call ${hash} refused: ${status} ${JSON.stringify(json)}`);
    if ((json as { callHash?: string }).callHash !== hash) throw new Error(`call ${hash} answered as ${JSON.stringify(json)}`);
    this.calls.add(hash);
  }

  /** A receipt batch, sent until accepted; every digest must come back as accepted or duplicate. */
  async receiptBatch(receipts: SettlementReceipt[], digests: Hash[], body: unknown): Promise<void> {
    const { status, json } = await this.send('POST', '/v1/receipts', JSON.stringify(body));
    if (status !== 202) throw new Error(`receipt batch refused: ${status} ${JSON.stringify(json)}`);
    const answer = json as { accepted: Hash[]; duplicates: Hash[] };
    const back = new Set([...answer.accepted, ...answer.duplicates]);
    for (const [i, digest] of digests.entries()) {
      if (!back.has(digest)) throw new Error(`receipt ${digest} missing from the answer`);
      this.receipts.set(digest, receipts[i]!);
    }
  }
}
