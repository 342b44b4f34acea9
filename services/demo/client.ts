/**
 * A small client of the fixed HTTP surfaces (DESIGN §9): the settlement API and a runner. It signs
 * with the contract's EIP-712 helpers and speaks JSON as on the wire, so it works against any
 * assembly of the servers.
 */
import { encodeMethod } from '../../contracts/abi/index.ts';
import { signCall, signInvocation } from '../../contracts/eip712/index.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { ZgasError } from '../../contracts/errors.ts';
import { parseAddress } from '../../contracts/hex.ts';
import { callToJson, receiptFromJson, receiptToJson } from '../../contracts/json.ts';
import type { Address, Hash, Hex, Method, SignedReceipt } from '../../contracts/types.ts';
import type { AccountJson, ProviderJson, SessionJson, ZAppJson } from '../store/index.ts';
import type { MomentumJson } from '../store/index.ts';

export type { AccountJson, ProviderJson, SessionJson, ZAppJson, MomentumJson };

/** Per request. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often a waiting client polls. */
export const POLL_INTERVAL_MS = 25;
/** How long a call or a settlement may take before the client gives up. */
export const DEFAULT_WAIT_MS = 20_000;

export interface CallRecordJson {
  status: 'pending' | 'applied' | 'failed';
  code?: string;
  momentumHeight?: string;
  result?: { ok: boolean; events?: Array<Record<string, unknown> & { type: string }>; created?: Hash; code?: string };
}

export interface Signer {
  address: Address;
  privateKey: Hex;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'HttpError';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function request<T>(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    const err = (typeof body === 'object' && body !== null ? body : {}) as { code?: string; message?: string };
    throw new HttpError(response.status, err.code ?? 'Http', err.message ?? String(text).slice(0, 200));
  }
  return { status: response.status, body: body as T };
}

const json = (value: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

/** The settlement API: modules, signed calls, receipts and state reads. */
export class SettlementClient {
  private readonly nonces = new Map<Address, bigint>();

  constructor(
    readonly baseUrl: string,
    readonly domain: Domain,
  ) {}

  async putModule(bytes: Uint8Array): Promise<Hash> {
    const { body } = await request<{ moduleHash: Hash }>(this.baseUrl, '/v1/modules', {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: Buffer.from(bytes),
    });
    return body.moduleHash;
  }

  /** Signs and submits a call; the nonce is the account's next one (tracked after the first read). */
  async submit(signer: Signer, method: Method): Promise<Hash> {
    const from = parseAddress(signer.address);
    let nonce = this.nonces.get(from);
    if (nonce === undefined) {
      const account = await this.account(from);
      nonce = account === null ? 0n : BigInt(account.nonce);
    }
    const signed = signCall(this.domain, { from, nonce, data: encodeMethod(method) }, signer.privateKey);
    const { body } = await request<{ callHash: Hash }>(this.baseUrl, '/v1/calls', json(callToJson(signed)));
    this.nonces.set(from, nonce + 1n);
    return body.callHash;
  }

  async call(hash: Hash): Promise<CallRecordJson> {
    return (await request<CallRecordJson>(this.baseUrl, `/v1/calls/${hash}`)).body;
  }

  /** Waits until the call is in a momentum; a failed call throws its contract error code. */
  async waitCall(hash: Hash, timeoutMs = DEFAULT_WAIT_MS): Promise<CallRecordJson> {
    const record = await poll(() => this.call(hash), (r) => r.status !== 'pending', timeoutMs, `call ${hash}`);
    if (record.status === 'failed') throw new HttpError(409, record.code ?? 'Failed', `call ${hash} failed in momentum ${record.momentumHeight ?? '?'}`);
    return record;
  }

  /** Submits and waits: the applied call's record. */
  async execute(signer: Signer, method: Method): Promise<CallRecordJson & { callHash: Hash }> {
    const callHash = await this.submit(signer, method);
    return { ...(await this.waitCall(callHash)), callHash };
  }

  async postReceipts(receipts: SignedReceipt[]): Promise<{ accepted: Hash[]; duplicates: Hash[] }> {
    return (await request<{ accepted: Hash[]; duplicates: Hash[] }>(this.baseUrl, '/v1/receipts', json({ receipts: receipts.map(receiptToJson) }))).body;
  }

  account(address: string): Promise<AccountJson | null> {
    return this.getOrNull<AccountJson>(`/v1/accounts/${address}`);
  }
  zApp(id: string): Promise<ZAppJson | null> {
    return this.getOrNull<ZAppJson>(`/v1/zapps/${id}`);
  }
  provider(address: string): Promise<ProviderJson | null> {
    return this.getOrNull<ProviderJson>(`/v1/providers/${address}`);
  }
  session(id: string): Promise<SessionJson | null> {
    return this.getOrNull<SessionJson>(`/v1/sessions/${id}`);
  }
  momentum(height: bigint | 'latest'): Promise<MomentumJson | null> {
    return this.getOrNull<MomentumJson>(`/v1/momentums/${height.toString()}`);
  }

  async mustZApp(id: string): Promise<ZAppJson> {
    return must(await this.zApp(id), 'zApp', id);
  }
  async mustProvider(address: string): Promise<ProviderJson> {
    return must(await this.provider(address), 'provider', address);
  }
  async mustSession(id: string): Promise<SessionJson> {
    return must(await this.session(id), 'session', id);
  }
  async balance(address: string): Promise<bigint> {
    return BigInt((await this.account(address))?.balance ?? '0');
  }

  /** Waits until the session has settled receipts up to `seq`. */
  async waitSettled(sessionId: Hash, seq: bigint, timeoutMs = DEFAULT_WAIT_MS): Promise<SessionJson> {
    return poll(() => this.mustSession(sessionId), (s) => BigInt(s.lastSeq) >= seq, timeoutMs, `settlement of ${sessionId} up to seq ${seq}`);
  }

  private async getOrNull<T>(path: string): Promise<T | null> {
    try {
      return (await request<T>(this.baseUrl, path)).body;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return null;
      throw error;
    }
  }
}

/** A provider's runner: runs signed invocations. */
export class RunnerClient {
  constructor(
    readonly baseUrl: string,
    readonly domain: Domain,
  ) {}

  /** Signs `Invocation(sessionId, seq, input)` as the session's user and runs it. */
  async invoke(user: Signer, sessionId: Hash, seq: bigint, input: Uint8Array): Promise<{ output: Uint8Array; receipt: SignedReceipt }> {
    const inputHex = `0x${Buffer.from(input).toString('hex')}` as Hex;
    const signed = signInvocation(this.domain, { sessionId, seq, input: inputHex }, user.privateKey);
    const { body } = await request<{ output: Hex; receipt: unknown }>(
      this.baseUrl,
      `/v1/sessions/${sessionId}/calls`,
      json({ seq: seq.toString(), input: inputHex, signature: signed.signature }),
    );
    return { output: new Uint8Array(Buffer.from(body.output.slice(2), 'hex')), receipt: receiptFromJson(body.receipt) };
  }

  async health(): Promise<{ busy: number } & Record<string, unknown>> {
    return (await request<{ busy: number } & Record<string, unknown>>(this.baseUrl, '/healthz')).body;
  }
}

function must<T>(value: T | null, what: string, id: string): T {
  if (value === null) throw new ZgasError('NotFound', { what, id });
  return value;
}

/** Polls `read` until `done` holds, at most `timeoutMs`. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new ZgasError('NotReady', { reason: `timed out waiting for ${what}`, timeoutMs });
    await sleep(POLL_INTERVAL_MS);
  }
}
