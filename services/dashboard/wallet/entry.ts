/**
 * What the dashboard page signs with, bundled for the browser by bundle.ts: the typed client
 * (settlement calls, sessions on a runner with every receipt checked) and three kinds of signer —
 * a browser wallet (EIP-1193 `eth_signTypedData_v4`), a key generated and kept in this browser,
 * or a demo key the local demo hands to the page. Keys never leave the page: only signed calls go out.
 */
import { TypedDataEncoder, Wallet } from 'ethers';
import type { TypedDataDomain, TypedDataField } from 'ethers';
import { makeDomain } from '../../../contracts/eip712/index.ts';
import { hexToBytes, parseAddress, parseHash, utf8Bytes } from '../../../contracts/hex.ts';
import { callToJson } from '../../../contracts/json.ts';
import type { Address, Hash, Method } from '../../../contracts/types.ts';
import { gas, parseQsr, QSR_DECIMALS } from '../../../contracts/units.ts';
import type { Gas, Qsr } from '../../../contracts/units.ts';
import { request } from '../../client/http.ts';
import { SessionClient } from '../../client/session.ts';
import type { CompletedCall } from '../../client/session.ts';
import { SettlementClient } from '../../client/settlement.ts';
import type { TypedDataSigner } from '../../client/signer.ts';

/** An EIP-1193 provider (`window.ethereum`). */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export interface PageSigner {
  address: Address;
  kind: 'wallet' | 'demo' | 'browser';
  label: string;
  signer: TypedDataSigner;
}

const jsonSafe = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString(10) : value);

/** A signer that asks a browser wallet for EIP-712 signatures (`eth_signTypedData_v4`). */
export async function connectWallet(ethereum: Eip1193): Promise<PageSigner> {
  const accounts = (await ethereum.request({ method: 'eth_requestAccounts' })) as unknown;
  if (!Array.isArray(accounts) || typeof accounts[0] !== 'string') throw new Error('the wallet gave no account');
  const address = parseAddress(accounts[0]);
  const signer: TypedDataSigner = {
    getAddress: async () => address,
    signTypedData: async (domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) => {
      const payload = TypedDataEncoder.getPayload(domain, types, value);
      const signature = await ethereum.request({ method: 'eth_signTypedData_v4', params: [address, JSON.stringify(payload, jsonSafe)] });
      if (typeof signature !== 'string') throw new Error('the wallet returned no signature');
      return signature;
    },
  };
  return { address, kind: 'wallet', label: 'browser wallet', signer };
}

/** A signer over a private key held by this page (a demo key, or one generated here). */
export function keySigner(privateKey: string, kind: 'demo' | 'browser', label: string): PageSigner {
  const wallet = new Wallet(privateKey);
  return { address: parseAddress(wallet.address), kind, label, signer: wallet };
}

/** A fresh random key, generated in the browser. */
export function newPrivateKey(): string {
  return Wallet.createRandom().privateKey;
}

/** "12.5" (QSR) -> base units; at most 8 decimals. */
export function qsrFromText(text: string): Qsr {
  const m = /^\s*([0-9]{1,30})(?:\.([0-9]{1,8}))?\s*$/.exec(text);
  if (m === null) throw new Error('an amount of QSR like 12.5 (at most 8 decimals)');
  return parseQsr(`${BigInt(`${m[1]}${(m[2] ?? '').padEnd(QSR_DECIMALS, '0')}`)}`);
}

/** The zgas protocol as the page speaks it: calls through the settlement API, sessions on a runner. */
export class PageClient {
  readonly api: SettlementClient;

  constructor(baseUrl: string, chainId: string, contract: string) {
    this.api = new SettlementClient({ baseUrl, domain: makeDomain(BigInt(chainId), contract), pollIntervalMs: 200 });
  }

  /** Signs a call, posts it to `POST /v1/calls` and waits for its momentum. */
  async execute(who: PageSigner, method: Method): Promise<{ callHash: Hash; created: Hash | null; height: string | null }> {
    const applied = await this.api.execute(who.signer, method);
    return { callHash: applied.callHash, created: applied.created, height: applied.momentumHeight ?? null };
  }

  topUp(who: PageSigner, zAppId: string, amount: string) {
    return this.execute(who, { name: 'TopUp', zAppId: parseHash(zAppId), amount: qsrFromText(amount) });
  }
  setAutoTopUp(who: PageSigner, zAppId: string, minAvailable: string, refill: string) {
    return this.execute(who, { name: 'SetAutoTopUp', zAppId: parseHash(zAppId), minAvailable: qsrFromText(minAvailable), refill: qsrFromText(refill) });
  }
  claim(who: PageSigner) {
    return this.execute(who, { name: 'ClaimEarnings' });
  }
  close(who: PageSigner, sessionId: string) {
    return this.execute(who, { name: 'CloseSession', sessionId: parseHash(sessionId) });
  }

  /** Abort: the signed call to the API and, the same signed call, to the runner when one is known (it stops the running call at once). */
  async abort(who: PageSigner, sessionId: string, runnerUrl: string | null): Promise<{ callHash: Hash }> {
    const signed = await this.api.signCall(who.signer, { name: 'Abort', sessionId: parseHash(sessionId) });
    const runner = runnerUrl === null ? Promise.resolve() : request(`${runnerUrl}/v1/sessions/${parseHash(sessionId)}/abort`, { json: callToJson(signed) }).catch(() => undefined);
    const [callHash] = await Promise.all([this.api.submitCall(signed), runner]);
    await this.api.waitForCall(callHash);
    return { callHash };
  }

  /** Opens a session for the signer itself on a zApp open to all, at the provider's current offer. */
  async openOwnSession(who: PageSigner, zAppId: string, provider: string, gasLimit: bigint, durationSeconds = 3_600n): Promise<Hash> {
    const offer = await this.api.provider(provider);
    const opened = await this.execute(who, {
      name: 'OpenSession', zAppId: parseHash(zAppId), provider: parseAddress(provider), user: who.address, gasLimit: gas(gasLimit) as Gas, durationSeconds,
      maxPricePerMgas: parseQsr(offer.pricePerMgas), maxUpfrontGas: gas(BigInt(offer.upfrontGas)),
    });
    return opened.created ?? opened.callHash;
  }

  /** A session client for a session that has just opened (its first call is seq 1). */
  attach(who: PageSigner, sessionId: string, runnerUrl: string): Promise<SessionClient> {
    return SessionClient.attach({ api: this.api, runnerUrl, sessionId: parseHash(sessionId), user: who.signer, defaultCallGasLimit: gas(200_000) });
  }
}

/** Runs one call with a UTF-8 input: its output as text, the gas and seq the checked receipt reports. */
export async function callText(session: SessionClient, input: string): Promise<{ output: string; callGas: string; cumulativeGas: string; seq: string }> {
  const done: CompletedCall = await session.call(utf8Bytes(input));
  return { output: new TextDecoder().decode(done.output), callGas: done.receipt.callGas.toString(10), cumulativeGas: done.receipt.cumulativeGas.toString(10), seq: done.seq.toString(10) };
}

export { hexToBytes };
