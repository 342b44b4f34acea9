/**
 * The settlement API client (docs/protocol.md §Fixed surfaces): state reads, signed calls,
 * receipts, modules and events. Calls are signed by an ethers `Signer` the caller holds (a wallet,
 * a browser or hardware wallet); the client only picks the nonce and speaks the wire JSON of
 * contracts/json.ts.
 */
import { encodeMethod } from '../../contracts/abi/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { errors, ZgasError } from '../../contracts/errors.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { parseAddress, parseHash } from '../../contracts/hex.ts';
import { callToJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, Method, SettlementReceipt, SignedCall } from '../../contracts/types.ts';
import { parseQsr } from '../../contracts/units.ts';
import type { Qsr } from '../../contracts/units.ts';
import { readEvents } from './events.ts';
import { getOrNull, poll, request } from './http.ts';
import type { TypedDataSigner } from './signer.ts';
import { signCallWith, signerAddress } from './signer.ts';
import type { AccountView, CallRecord, MomentumView, ProviderView, ReceiptRecord, ServerEvent, SessionView, ZAppView } from './views.ts';

/** How often a waiting client reads again. */
export const DEFAULT_POLL_INTERVAL_MS = 25;
/** How long a call may take to reach a momentum before waitForCall gives up. */
export const DEFAULT_WAIT_MS = 20_000;

export interface SettlementClientOptions {
  /** The API's base URL, e.g. http://127.0.0.1:8645. */
  baseUrl: string;
  /** The chain's EIP-712 domain (chainId and contract from genesis). */
  domain: Domain;
  pollIntervalMs?: number;
  waitTimeoutMs?: number;
}

/** An applied call: its record and hash, and what it created (zApp or session id), if anything. */
export interface AppliedCall extends CallRecord {
  callHash: Hash;
  created: Hash | null;
}

export class SettlementClient {
  readonly baseUrl: string;
  readonly domain: Domain;
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;
  /** The next nonce of each account this client signed for, and the signing queue that keeps them in order. */
  private readonly nonces = new Map<Address, bigint>();
  private readonly queues = new Map<Address, Promise<unknown>>();

  constructor(opts: SettlementClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.domain = opts.domain;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_MS;
  }

  // ── state ───────────────────────────────────────────────────────────────────────────────
  getAccount(address: string): Promise<AccountView | null> {
    return getOrNull<AccountView>(this.url(`/v1/accounts/${parseAddress(address)}`));
  }
  getZApp(id: string): Promise<ZAppView | null> {
    return getOrNull<ZAppView>(this.url(`/v1/zapps/${parseHash(id)}`));
  }
  getProvider(address: string): Promise<ProviderView | null> {
    return getOrNull<ProviderView>(this.url(`/v1/providers/${parseAddress(address)}`));
  }
  getSession(id: string): Promise<SessionView | null> {
    return getOrNull<SessionView>(this.url(`/v1/sessions/${parseHash(id)}`));
  }
  getMomentum(height: bigint | 'latest'): Promise<MomentumView | null> {
    return getOrNull<MomentumView>(this.url(`/v1/momentums/${height.toString()}`));
  }

  /** The same reads for things that must exist: a NotFound error naming what is missing otherwise. */
  async zApp(id: string): Promise<ZAppView> {
    return found(await this.getZApp(id), 'zApp', id);
  }
  async provider(address: string): Promise<ProviderView> {
    return found(await this.getProvider(address), 'provider', address);
  }
  async session(id: string): Promise<SessionView> {
    return found(await this.getSession(id), 'session', id);
  }

  /** An account's balance; an account that does not exist holds nothing. */
  async balance(address: string): Promise<Qsr> {
    return parseQsr((await this.getAccount(address))?.balance ?? '0');
  }

  /** Waits until the chain has momentum `height` (0: the genesis, committed when a node first starts on an empty store). */
  waitForMomentum(height = 0n, timeoutMs = this.waitTimeoutMs): Promise<MomentumView> {
    return poll(
      async () => this.getMomentum('latest'),
      (m): m is MomentumView => m !== null && BigInt(m.height) >= height,
      { timeoutMs, intervalMs: this.pollIntervalMs, what: `momentum ${height}` },
    ) as Promise<MomentumView>;
  }

  /** Waits until the session satisfies `done` (e.g. settled up to a seq, or closed). */
  waitForSession(id: Hash, done: (s: SessionView) => boolean, what: string, timeoutMs = this.waitTimeoutMs): Promise<SessionView> {
    return poll(() => this.session(id), done, { timeoutMs, intervalMs: this.pollIntervalMs, what: `session ${id}: ${what}` });
  }

  /** Waits until the session's settled receipts reach `seq`. */
  waitForSettled(id: Hash, seq: bigint, timeoutMs = this.waitTimeoutMs): Promise<SessionView> {
    return this.waitForSession(id, (s) => BigInt(s.lastSeq) >= seq, `settled up to seq ${seq}`, timeoutMs);
  }

  // ── calls ───────────────────────────────────────────────────────────────────────────────
  /**
   * Signs a method call with the account's next nonce. Calls of one account are signed one after
   * another, so concurrent callers never sign two calls with one nonce.
   */
  async signCall(signer: TypedDataSigner, method: Method): Promise<SignedCall> {
    const from = await signerAddress(signer);
    return this.serialized(from, async () => {
      const nonce = this.nonces.get(from) ?? BigInt((await this.getAccount(from))?.nonce ?? '0');
      const signed = await signCallWith(signer, this.domain, { from, nonce, data: encodeMethod(method) });
      this.nonces.set(from, nonce + 1n);
      return signed;
    });
  }

  /** Posts a signed call: its hash once the API stored it (202). A refused call resets the account's nonce. */
  async submitCall(signed: SignedCall): Promise<Hash> {
    try {
      return (await request<{ callHash: Hash }>(this.url('/v1/calls'), { json: callToJson(signed) })).body.callHash;
    } catch (error) {
      this.nonces.delete(parseAddress(signed.from));
      throw error;
    }
  }

  /** Signs and posts a call: its hash. */
  async sendCall(signer: TypedDataSigner, method: Method): Promise<Hash> {
    return this.submitCall(await this.signCall(signer, method));
  }

  getCall(hash: Hash): Promise<CallRecord> {
    return request<CallRecord>(this.url(`/v1/calls/${parseHash(hash)}`)).then((r) => r.body);
  }

  /** Waits until the call is in a momentum; a call the contract refused throws its error code. */
  async waitForCall(hash: Hash, timeoutMs = this.waitTimeoutMs): Promise<AppliedCall> {
    const record = await poll(() => this.getCall(hash), (r) => r.status !== 'pending', { timeoutMs, intervalMs: this.pollIntervalMs, what: `call ${hash}` });
    if (record.status === 'failed') {
      const code = record.code ?? record.result?.code;
      const details = { callHash: hash, momentumHeight: record.momentumHeight ?? null };
      throw code !== undefined && Object.hasOwn(errors, code) ? new ZgasError(code as ErrorCode, details) : new ZgasError('Internal', { ...details, remoteCode: code ?? null });
    }
    return { ...record, callHash: hash, created: record.result?.created ?? null };
  }

  /** Signs, posts and waits: the applied call. */
  async execute(signer: TypedDataSigner, method: Method): Promise<AppliedCall> {
    return this.waitForCall(await this.sendCall(signer, method));
  }

  // ── receipts, modules, events ─────────────────────────────────────────────────────────────
  /** Pushes settlement receipts (anyone may): the digests accepted and those already known. */
  async submitReceipts(receipts: readonly SettlementReceipt[]): Promise<{ accepted: Hash[]; duplicates: Hash[] }> {
    return (await request<{ accepted: Hash[]; duplicates: Hash[] }>(this.url('/v1/receipts'), { json: { receipts: receipts.map(receiptToJson) } })).body;
  }

  /** Where a receipt (by its EIP-712 digest, `receiptDigest`) is in the settlement pipeline; null if no copy was submitted. */
  getReceipt(digest: Hash): Promise<ReceiptRecord | null> {
    return getOrNull<ReceiptRecord>(this.url(`/v1/receipts/${parseHash(digest)}`));
  }

  /** Uploads a zApp's WASM bytes: their SHA3-256, the moduleHash to register. */
  async uploadModule(bytes: Uint8Array): Promise<Hash> {
    const { body } = await request<{ moduleHash: Hash }>(this.url('/v1/modules'), { method: 'PUT', bytes, contentType: 'application/wasm' });
    if (body.moduleHash !== sha3(bytes)) throw new ZgasError('ModuleHashMismatch', { expected: sha3(bytes), answered: body.moduleHash });
    return body.moduleHash;
  }

  /** A module's bytes by hash, checked against it. */
  async getModule(hash: Hash): Promise<Uint8Array> {
    const response = await fetch(this.url(`/v1/modules/${parseHash(hash)}`), { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new ZgasError(response.status === 404 ? 'NotFound' : 'ModuleUnavailable', { moduleHash: hash, httpStatus: response.status });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (sha3(bytes) !== hash) throw new ZgasError('ModuleHashMismatch', { moduleHash: hash, got: sha3(bytes) });
    return bytes;
  }

  /** Server-Sent Events: every momentum, and session aborts (only the provider's, when given). */
  followEvents(opts: { provider?: string; signal?: AbortSignal } = {}): AsyncGenerator<ServerEvent> {
    const query = opts.provider === undefined ? '' : `?provider=${parseAddress(opts.provider)}`;
    return readEvents(this.url(`/v1/events${query}`), opts.signal);
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private serialized<T>(key: Address, run: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.queues.set(key, next.catch(() => undefined));
    return next;
  }
}

function found<T>(value: T | null, what: string, id: string): T {
  if (value === null) throw new ZgasError('NotFound', { what, id });
  return value;
}
