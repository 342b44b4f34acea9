/**
 * The ledger over the settlement API's fixed surface (docs/protocol.md §Fixed surfaces): sessions,
 * zApps and modules by GET, receipts by POST /v1/receipts (retried; duplicates are harmless),
 * aborts and closes from the `sessionStop` Server-Sent Events of GET /v1/events?provider=…
 * (reconnecting).
 */
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import { receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, SettlementReceipt } from '../../contracts/types.ts';
import { parseGas, parseUint64 } from '../../contracts/units.ts';
import type { Ledger, LedgerSession, SessionStop } from './ledger.ts';
import { SESSION_STOP_EVENT, sessionStopEventFromJson } from '../../contracts/events.ts';
import { readEvents } from './sse.ts';

export const RECEIPT_PUSH_RETRIES = 8;
export const MAX_MODULE_BYTES = 16 * 1024 * 1024;
export const REQUEST_TIMEOUT_MS = 10_000;
export const SSE_RECONNECT_MIN_MS = 250;
export const SSE_RECONNECT_MAX_MS = 10_000;
/** Receipts sent in one POST; larger pushes are split. */
export const MAX_RECEIPTS_PER_PUSH = 1_000;
/** zApps whose owner and module hash are kept. */
export const MAX_CACHED_ZAPPS = 10_000;

export interface HttpLedgerOptions {
  apiUrl: string;
  provider: Address;
  fetch?: typeof fetch;
  retries?: number;
  /** Minimum wait between receipt push attempts. */
  retryMinMs?: number;
  onError?: (error: unknown, what: string) => void;
}

/**
 * The settlement API's session JSON (contracts/gas/state.ts `sessionJson`), the one place it is
 * mapped. Fields the runner does not read are ignored.
 */
const sessionJson = z.looseObject({
  status: z.enum(['open', 'closing', 'closed']),
  stopCall: z.boolean(),
  user: z.string(),
  provider: z.string(),
  zAppId: z.string(),
  gasLimit: z.string(),
  settledGas: z.string(),
  lastSeq: z.string(),
  receiptSigner: z.string(),
  expiresAt: z.string(),
});
const zAppJson = z.looseObject({ owner: z.string(), moduleHash: z.string() });

interface ZAppFacts {
  owner: Address;
  moduleHash: Hash;
}

/** A session as the runner needs it, from the settlement API's session JSON and its zApp's facts. */
export function ledgerSessionFromJson(id: Hash, value: unknown, zApp: ZAppFacts): LedgerSession {
  const s = parseSessionJson(value);
  return {
    id,
    status: s.status,
    stopCall: s.stopCall,
    user: parseAddress(s.user),
    provider: parseAddress(s.provider),
    zAppId: parseHash(s.zAppId),
    zAppOwner: zApp.owner,
    moduleHash: zApp.moduleHash,
    gasLimit: parseGas(s.gasLimit),
    settledGas: parseGas(s.settledGas),
    lastSeq: parseUint64(s.lastSeq),
    receiptSigner: parseAddress(s.receiptSigner),
    expiresAt: parseUint64(s.expiresAt),
  };
}

function parseSessionJson(value: unknown): z.infer<typeof sessionJson> {
  const parsed = sessionJson.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ZgasError('NotReady', { reason: 'the settlement API answered an unexpected session shape', path: issue?.path.join('.'), issue: issue?.message });
  }
  return parsed.data;
}

/** Accepts the object itself or one wrapped as `{ session: … }` / `{ zApp: … }`. */
function unwrap(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null && key in value) return (value as Record<string, unknown>)[key];
  return value;
}

export class HttpLedger implements Ledger {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly zApps = new Map<Hash, ZAppFacts>();
  private readonly listeners = new Set<(event: SessionStop) => void>();
  private stream: AbortController | null = null;
  private closed = false;

  constructor(private readonly options: HttpLedgerOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? fetch;
  }

  async getSession(id: Hash): Promise<LedgerSession | null> {
    const response = await this.request(`/v1/sessions/${id}`);
    if (response.status === 404) return null;
    const body = unwrap(await this.json(response, 'session'), 'session');
    const zAppId = parseHash(parseSessionJson(body).zAppId);
    return ledgerSessionFromJson(id, body, await this.zAppFacts(zAppId));
  }

  async getModule(moduleHash: Hash): Promise<Uint8Array | null> {
    const response = await this.request(`/v1/modules/${moduleHash}`);
    if (response.status === 404) return null;
    if (!response.ok) throw new ZgasError('ModuleUnavailable', { moduleHash, status: response.status });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_MODULE_BYTES) throw new ZgasError('ModuleTooLarge', { moduleHash, bytes: bytes.length });
    return bytes;
  }

  async submitReceipts(receipts: SettlementReceipt[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += MAX_RECEIPTS_PER_PUSH) {
      const body = JSON.stringify({ receipts: receipts.slice(i, i + MAX_RECEIPTS_PER_PUSH).map(receiptToJson) });
      await pRetry(
        async () => {
          const response = await this.request('/v1/receipts', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (response.status === 202 || response.ok) return;
          const text = await response.text();
          const error = new ZgasError('NotReady', { reason: 'receipt push refused', status: response.status, body: text.slice(0, 200) });
          // A receipt the API rejects outright will not pass on retry.
          if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new AbortError(error);
          throw error;
        },
        { retries: this.options.retries ?? RECEIPT_PUSH_RETRIES, minTimeout: this.options.retryMinMs ?? 200, maxTimeout: 10_000, factor: 2 },
      );
    }
  }

  onSessionStop(listener: (event: SessionStop) => void): () => void {
    this.listeners.add(listener);
    if (this.stream === null && !this.closed) void this.follow();
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stream?.abort();
  }

  /** Follows the event stream until closed, reconnecting with a growing back-off. */
  private async follow(): Promise<void> {
    let wait = SSE_RECONNECT_MIN_MS;
    while (!this.closed) {
      const controller = new AbortController();
      this.stream = controller;
      try {
        const response = await this.fetch(`${this.base}/v1/events?provider=${this.options.provider}`, {
          headers: { accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok || response.body === null) throw new ZgasError('NotReady', { reason: 'event stream refused', status: response.status });
        wait = SSE_RECONNECT_MIN_MS;
        for await (const event of readEvents(response.body)) {
          if (event.event !== SESSION_STOP_EVENT) continue;
          this.dispatchStop(event.data);
        }
      } catch (error) {
        if (this.closed) break;
        this.options.onError?.(error, 'event stream');
      }
      if (this.closed) break;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      wait = Math.min(SSE_RECONNECT_MAX_MS, wait * 2);
    }
    this.stream = null;
  }

  private dispatchStop(data: string): void {
    let stop: SessionStop;
    try {
      const event = sessionStopEventFromJson(JSON.parse(data));
      stop = { sessionId: event.sessionId, stopCall: event.stopCall || event.kind === 'abort' };
    } catch (error) {
      this.options.onError?.(error, 'session stop event');
      return;
    }
    for (const listener of this.listeners) listener(stop);
  }

  /** A zApp's owner and module hash, which never change once registered (cached). */
  private async zAppFacts(zAppId: Hash): Promise<ZAppFacts> {
    const cached = this.zApps.get(zAppId);
    if (cached !== undefined) return cached;
    const response = await this.request(`/v1/zapps/${zAppId}`);
    if (response.status === 404) throw new ZgasError('ZAppNotFound', { zAppId });
    const parsed = zAppJson.safeParse(unwrap(await this.json(response, 'zApp'), 'zApp'));
    if (!parsed.success) throw new ZgasError('NotReady', { reason: 'the settlement API answered an unexpected zApp shape' });
    const facts = { owner: parseAddress(parsed.data.owner), moduleHash: parseHash(parsed.data.moduleHash) };
    if (this.zApps.size >= MAX_CACHED_ZAPPS) this.zApps.delete(this.zApps.keys().next().value!);
    this.zApps.set(zAppId, facts);
    return facts;
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await this.fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new ZgasError('NotReady', { reason: 'the settlement API is unreachable', path }, { cause: error });
    }
  }

  private async json(response: Response, what: string): Promise<unknown> {
    if (!response.ok) throw new ZgasError('NotReady', { reason: `the settlement API refused the ${what}`, status: response.status });
    try {
      return await response.json();
    } catch (error) {
      throw new ZgasError('NotReady', { reason: `the settlement API answered a malformed ${what}` }, { cause: error });
    }
  }
}
