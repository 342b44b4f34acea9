/**
 * What every role command shares: where the settlement API and the runner are, the signing domain
 * (chainId and contract), the key that signs, how answers are printed (text, or `--json` with
 * decimal strings as the API writes them), and signed calls sent and awaited with progress on
 * stderr. A call whose signature the API recovers to another address is reported as a domain
 * mismatch: the key is right, the chainId or contract it signed for is not the node's.
 */
import { join } from 'node:path';
import type { Wallet } from 'ethers';
import type { Domain } from '../../../contracts/eip712/index.ts';
import { makeDomain } from '../../../contracts/eip712/index.ts';
import { isZgasError, ZgasError } from '../../../contracts/errors.ts';
import { parseGenesis } from '../../../contracts/gas/genesis.ts';
import { parseAddress } from '../../../contracts/hex.ts';
import type { Address, Method } from '../../../contracts/types.ts';
import { parseUint256 } from '../../../contracts/units.ts';
import { request, SettlementClient } from '../../client/index.ts';
import type { AppliedCall } from '../../client/index.ts';
import { loadCliConfig } from '../../config.ts';
import type { CliConfig } from '../../config.ts';
import { BUILTIN_GENESIS_JSON, loadGenesis } from '../../node/genesis.ts';
import { jsonText } from '../format.ts';
import { defaultKeystoreDir, Keystore } from '../keystore.ts';
import { readPassword } from '../password.ts';
import { withProgress } from '../progress.ts';
import { homedir } from 'node:os';

export const DEFAULT_API_URL = 'http://127.0.0.1:8645';
export const DEFAULT_RUNNER_URL = 'http://127.0.0.1:8646';
/** How long a command waits for its call's momentum. */
export const CALL_WAIT_MS = 120_000;

/** The options every role command accepts (commander's camel-cased flags). */
export interface CommonOptions {
  apiUrl?: string;
  runnerUrl?: string;
  chainId?: string;
  contract?: string;
  genesis?: string;
  json?: boolean;
  key?: string;
  keystore?: string;
  passwordFile?: string;
  scryptN?: string;
}

export type Env = Record<string, string | undefined>;

export class Cli {
  readonly config: CliConfig;
  private domainCache: Promise<{ domain: Domain; source: string }> | undefined;
  private apiCache: Promise<SettlementClient> | undefined;

  constructor(
    readonly opts: CommonOptions,
    env: Env,
    private readonly out: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
  ) {
    this.config = loadCliConfig(env);
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  get apiUrl(): string {
    return (this.opts.apiUrl ?? this.config.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  }

  get runnerUrl(): string {
    return (this.opts.runnerUrl ?? this.config.runnerUrl ?? DEFAULT_RUNNER_URL).replace(/\/+$/, '');
  }

  /** Where the command line keeps its own files (session records). */
  get home(): string {
    return this.config.home ?? join(homedir(), '.zgas');
  }

  keystore(): Keystore {
    const dir = this.opts.keystore ?? this.config.keystoreDir ?? defaultKeystoreDir();
    if (this.opts.scryptN !== undefined) {
      const N = Number(this.opts.scryptN);
      if (!/^[0-9]{1,10}$/.test(this.opts.scryptN) || N < 2 || (N & (N - 1)) !== 0) throw new ZgasError('InvalidField', { path: 'scrypt-n', reason: 'a power of two, e.g. 1024' });
      return new Keystore(dir, { N, r: 8, p: 1 });
    }
    return new Keystore(dir);
  }

  password(prompt: string, confirm = false): Promise<string> {
    return readPassword(
      { ...(this.opts.passwordFile === undefined ? {} : { passwordFile: this.opts.passwordFile }), ...(this.config.password === undefined ? {} : { envPassword: this.config.password }) },
      { prompt, confirm },
    );
  }

  /** The key named by --key, unlocked. */
  async signer(): Promise<Wallet> {
    const name = this.opts.key;
    if (name === undefined) throw new ZgasError('KeyNotFound', { reason: 'this command signs: name the key with --key NAME (see `zgas keys list`)' });
    const keystore = this.keystore();
    const entry = await keystore.find(name);
    const { wallet } = await keystore.unlock(entry.name, await this.password(`password of key ${entry.name}: `));
    return wallet;
  }

  /** The address of --key without decrypting it (for reads that need only the address). */
  async keyAddress(): Promise<Address | undefined> {
    if (this.opts.key === undefined) return undefined;
    return (await this.keystore().find(this.opts.key)).address;
  }

  /**
   * The signing domain: --chain-id/--contract when given, else the genesis file (--genesis or
   * ZGAS_GENESIS), else what the API serves, else the built-in genesis.
   */
  domain(): Promise<{ domain: Domain; source: string }> {
    this.domainCache ??= this.resolveDomain();
    return this.domainCache;
  }

  async api(): Promise<SettlementClient> {
    this.apiCache ??= this.domain().then(({ domain }) => new SettlementClient({ baseUrl: this.apiUrl, domain, waitTimeoutMs: CALL_WAIT_MS }));
    return this.apiCache;
  }

  /** Signs `method` with --key, posts it and waits for its momentum (progress on stderr). */
  async execute(method: Method, signer?: Wallet): Promise<AppliedCall> {
    const api = await this.api();
    const wallet = signer ?? (await this.signer());
    const signed = await api.signCall(wallet, method);
    let hash;
    try {
      hash = await api.submitCall(signed);
    } catch (error) {
      throw await this.explainSignerError(error, signed.from);
    }
    return withProgress(`${method.name}: waiting for the call's momentum`, () => api.waitForCall(hash, CALL_WAIT_MS));
  }

  /** Prints the answer: `json` with --json, otherwise `text`. */
  emit(json: unknown, text: string | (() => string)): void {
    this.out(this.json ? jsonText(json) : typeof text === 'string' ? text : text());
  }

  /** A WrongSigner for a call signed here means the API recovers another address: the domain differs. */
  private async explainSignerError(error: unknown, from: Address): Promise<unknown> {
    if (!isZgasError(error) || (error.code !== 'WrongSigner' && error.code !== 'InvalidSignature')) return error;
    const { domain, source } = await this.domain();
    return new ZgasError(error.code, {
      ...error.details, from, chainId: domain.chainId.toString(), contract: domain.verifyingContract, domainFrom: source,
      hint: 'the key signed for another chain: check --chain-id/--contract (or --genesis) against the node\'s genesis',
    });
  }

  private async resolveDomain(): Promise<{ domain: Domain; source: string }> {
    const { chainId, contract } = this.opts;
    if (chainId !== undefined || contract !== undefined) {
      const builtin = BUILTIN_GENESIS_JSON;
      return { domain: makeDomain(parseUint256(chainId ?? builtin.chainId), parseAddress(contract ?? builtin.contract)), source: 'flags' };
    }
    const genesisPath = this.opts.genesis ?? this.config.genesisPath;
    if (genesisPath !== undefined) {
      const { genesis } = await loadGenesis(genesisPath);
      return { domain: makeDomain(genesis.chainId, genesis.contract), source: genesisPath };
    }
    const served = await this.servedDomain();
    if (served !== null) return { domain: served, source: this.apiUrl };
    const genesis = parseGenesis(structuredClone(BUILTIN_GENESIS_JSON));
    return { domain: makeDomain(genesis.chainId, genesis.contract), source: 'built-in genesis' };
  }

  /** The chain the API serves (`/v1/genesis`, else the dashboard's `/v1/overview`), or null. */
  private async servedDomain(): Promise<Domain | null> {
    for (const path of ['/v1/genesis', '/v1/overview']) {
      try {
        const { body } = await request<{ chainId?: unknown; contract?: unknown; chain?: { chainId?: unknown; contract?: unknown } }>(`${this.apiUrl}${path}`, { timeoutMs: 10_000 });
        const chain = body.chain ?? body;
        if (typeof chain.chainId === 'string' && typeof chain.contract === 'string') return makeDomain(parseUint256(chain.chainId), chain.contract);
      } catch (error) {
        if (isZgasError(error) && error.details['httpStatus'] !== undefined) continue;
        throw new ZgasError('NotReady', { reason: `the settlement API at ${this.apiUrl} does not answer; start it (npm start) or give --api-url`, cause: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) });
      }
    }
    return null;
  }
}

/** A failure to reach a server as one NotReady line saying which and what to do; anything else as it is. */
export function asCliError(error: unknown): unknown {
  if (isZgasError(error) || !(error instanceof Error)) return error;
  const cause = error.cause instanceof Error ? error.cause : null;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (error.name === 'TypeError' && /fetch failed/.test(error.message)) {
    return new ZgasError('NotReady', { reason: `a server does not answer (${code ?? cause?.message ?? 'no connection'}); start the local system with npm start, or check --api-url / --runner-url` });
  }
  if (error.name === 'TimeoutError') return new ZgasError('NotReady', { reason: 'a server did not answer in time; retry, or check --api-url / --runner-url' });
  return error;
}

/** Details that repeat the message or only locate the request: left out of the one-line report. */
const QUIET_DETAILS = new Set(['httpStatus', 'url', 'remoteMessage', 'hint', 'cause']);

/**
 * Prints a typed failure as one line — `zgas: Code: what to do — hint (details)` — on stderr, and
 * with --json its `{ code, message, details }` on stdout, as the API writes errors. False for
 * anything that is not a ZgasError.
 */
export function reportError(error: unknown, json: boolean, write = (fd: 1 | 2, text: string): void => void (fd === 1 ? process.stdout : process.stderr).write(text)): boolean {
  if (!isZgasError(error)) return false;
  const hint = typeof error.details['hint'] === 'string' ? ` — ${error.details['hint']}` : '';
  const shown = Object.entries(error.details).filter(([key, value]) => !QUIET_DETAILS.has(key) && value !== undefined && value !== null);
  const details = shown.length === 0 ? '' : ` (${shown.map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : String(value)}`).join(', ')})`;
  write(2, `zgas: ${error.code}: ${error.message}${hint}${details}\n`.replace(/\n(?!$)/g, ' '));
  if (json) write(1, `${jsonText({ code: error.code, message: error.message, details: error.details })}\n`);
  return true;
}
