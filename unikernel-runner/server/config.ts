/**
 * The runner's settings, read from the environment in this one place and checked with zod:
 * ZGAS_API_URL, ZGAS_RUNNER_PORT, ZGAS_RUNNER_HOST, ZGAS_RECEIPT_KEY, ZGAS_PROVIDER_ADDRESS,
 * ZGAS_CHAIN_ID, ZGAS_CONTRACT, ZGAS_MAX_INPUT_BYTES, ZGAS_CLOSE_GRACE_PERIOD_SECONDS (the last four
 * from the genesis), ZGAS_GAS_TABLE, ZGAS_RUNNER_WORKERS, ZGAS_SIGNATURE_BACKEND,
 * ZGAS_RUNNER_GAS_PER_SECOND, ZGAS_CALL_TIMEOUT_MS, ZGAS_QUEUE_LIMIT, ZGAS_RUNNER_DATA_DIR,
 * ZGAS_RUNNER_LOG_MAX_BYTES, ZGAS_RUNNER_LOG_MAX_SESSION_BYTES, ZGAS_RECEIPT_PUSH,
 * ZGAS_RECEIPT_FLUSH_MS. Empty strings count as unset.
 */
import { MAX_STATE_BYTES } from '../runtime/state.ts';
import os from 'node:os';
import { z } from 'zod';
import { ZgasError } from '../../contracts/errors.ts';
import { addressOf, privateKeyBytes } from '../../contracts/eip712/index.ts';
import { parseAddress } from '../../contracts/hex.ts';
import type { Address } from '../../contracts/types.ts';
import { parseUint256 } from '../../contracts/units.ts';
import { MAX_INVOCATION_INPUT_BYTES } from '../../contracts/json.ts';
import { DEFAULT_PARAMS } from '../../contracts/gas/genesis.ts';
import { DEFAULT_QUEUE_LIMIT, MAX_POOL_SIZE } from '../runtime/pool.ts';
import { DEFAULT_MAX_LOG_BYTES, DEFAULT_MAX_SESSION_LOG_BYTES } from '../runtime/session-log.ts';
import { CONSERVATIVE_GAS_PER_SECOND } from './call-gas-limit.ts';

export const DEFAULT_RUNNER_PORT = 8646;
export const DEFAULT_RUNNER_HOST = '127.0.0.1';
export const DEFAULT_CHAIN_ID = 73405n;
/** The gas contract's address on the built-in genesis. */
export const DEFAULT_CONTRACT = '0x00000000000000000000000000000000007a6761';
export const SIGNATURE_BACKENDS = ['default', 'native', 'noble', 'ethers'] as const;
export const MAX_CALL_TIMEOUT_MS = 3_600_000;
export const MAX_QUEUE_LIMIT = 100_000;
export const RECEIPT_PUSH_MODES = ['every', 'coalesced'] as const;
export const DEFAULT_RECEIPT_FLUSH_MS = 1_000;

export interface RunnerConfig {
  apiUrl: string;
  host: string;
  port: number;
  /** 0x + 64 hex digits. */
  receiptKey: string;
  /** The receipt signer's address, derived from the key. */
  receiptSigner: Address;
  /** The provider account whose sessions this runner serves. */
  provider: Address;
  chainId: bigint;
  contract: Address;
  /** ZGAS_GAS_TABLE: unset, the runner meters with the table the genesis names; set, a check that it is this one (genesis-pin.ts). */
  gasTable: string | null;
  workers: number;
  signatureBackend: (typeof SIGNATURE_BACKENDS)[number];
  /** Genesis maxInputBytes: a larger input is refused before it runs. */
  maxInputBytes: number;
  /** Genesis maxStateBytes: a call that would leave a larger state traps (as it does on re-execution). */
  maxStateBytes: number;
  /** Genesis closeGracePeriodSeconds: bounds the callGasLimit accepted (call-gas-limit.ts). */
  closeGracePeriodSeconds: bigint;
  /** The conservative metering rate the callGasLimit bound is computed with. */
  gasPerSecond: bigint;
  /** The watchdog: a worker that has not answered this long after its call started is replaced (CallTimeout). */
  callTimeoutMs: number;
  queueLimit: number;
  /** Where the session log lives; null: in memory, lost on restart. */
  dataDir: string | null;
  logMaxBytes: number;
  logMaxSessionBytes: number;
  /** 'every' receipt pushed at once, or 'coalesced': the newest of each session every flush interval (OutOfGas at once). */
  receiptPush: (typeof RECEIPT_PUSH_MODES)[number];
  receiptFlushMs: number;
}

const unset = (v: unknown): unknown => (v === '' ? undefined : v);
const text = z.preprocess(unset, z.string().min(1));
const optional = <T extends z.ZodType>(schema: T, fallback: string) => z.preprocess((v) => unset(v) ?? fallback, schema);
const int = (min: number, max: number) => z.string().regex(/^[0-9]{1,15}$/, 'a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));
const bigint = (min: bigint, max: bigint) =>
  z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'a decimal integer').transform(BigInt).pipe(z.bigint().min(min).max(max));

const schema = z.object({
  ZGAS_API_URL: text.pipe(z.url({ protocol: /^https?$/ })),
  ZGAS_RUNNER_HOST: optional(z.string().min(1), DEFAULT_RUNNER_HOST),
  ZGAS_RUNNER_PORT: optional(int(0, 65_535), String(DEFAULT_RUNNER_PORT)),
  ZGAS_RECEIPT_KEY: text.pipe(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a private key is 0x + 64 hex digits')),
  ZGAS_PROVIDER_ADDRESS: text,
  ZGAS_CHAIN_ID: optional(z.string(), DEFAULT_CHAIN_ID.toString()),
  ZGAS_CONTRACT: optional(z.string(), DEFAULT_CONTRACT),
  ZGAS_GAS_TABLE: z.preprocess(unset, z.string().min(1).optional()),
  ZGAS_RUNNER_WORKERS: optional(int(1, MAX_POOL_SIZE), String(Math.min(MAX_POOL_SIZE, os.availableParallelism()))),
  ZGAS_SIGNATURE_BACKEND: optional(z.enum(SIGNATURE_BACKENDS), 'default'),
  ZGAS_MAX_INPUT_BYTES: optional(int(1, MAX_INVOCATION_INPUT_BYTES), DEFAULT_PARAMS.maxInputBytes.toString()),
  ZGAS_MAX_STATE_BYTES: optional(int(1, MAX_STATE_BYTES), DEFAULT_PARAMS.maxStateBytes.toString()),
  ZGAS_CLOSE_GRACE_PERIOD_SECONDS: optional(bigint(1n, 86_400n * 365n), DEFAULT_PARAMS.closeGracePeriodSeconds.toString()),
  ZGAS_RUNNER_GAS_PER_SECOND: optional(bigint(1n, 1_000_000_000_000n), CONSERVATIVE_GAS_PER_SECOND.toString()),
  // Unset: the whole close grace, twice as long as the longest call accepted takes at the conservative rate.
  ZGAS_CALL_TIMEOUT_MS: z.preprocess(unset, int(1, MAX_CALL_TIMEOUT_MS).optional()),
  ZGAS_QUEUE_LIMIT: optional(int(1, MAX_QUEUE_LIMIT), String(DEFAULT_QUEUE_LIMIT)),
  ZGAS_RUNNER_DATA_DIR: z.preprocess(unset, z.string().min(1).optional()),
  ZGAS_RUNNER_LOG_MAX_BYTES: optional(int(1024, Number.MAX_SAFE_INTEGER), String(DEFAULT_MAX_LOG_BYTES)),
  ZGAS_RUNNER_LOG_MAX_SESSION_BYTES: optional(int(1024, Number.MAX_SAFE_INTEGER), String(DEFAULT_MAX_SESSION_LOG_BYTES)),
  ZGAS_RECEIPT_PUSH: optional(z.enum(RECEIPT_PUSH_MODES), 'every'),
  ZGAS_RECEIPT_FLUSH_MS: optional(int(1, MAX_CALL_TIMEOUT_MS), String(DEFAULT_RECEIPT_FLUSH_MS)),
});

/** Reads and checks the runner's configuration; any problem is an InvalidRequest naming the variable. */
export function loadRunnerConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ZgasError('InvalidRequest', { path: issue?.path.join('.') ?? 'environment', reason: issue?.message ?? 'invalid' });
  }
  const e = parsed.data;
  const field = <T>(name: string, read: () => T): T => {
    try {
      return read();
    } catch (error) {
      throw new ZgasError('InvalidRequest', { path: name, reason: error instanceof Error ? error.message : String(error) });
    }
  };
  return {
    apiUrl: e.ZGAS_API_URL.replace(/\/+$/, ''),
    host: e.ZGAS_RUNNER_HOST,
    port: e.ZGAS_RUNNER_PORT,
    receiptKey: e.ZGAS_RECEIPT_KEY.toLowerCase(),
    receiptSigner: field('ZGAS_RECEIPT_KEY', () => addressOf(privateKeyBytes(e.ZGAS_RECEIPT_KEY.toLowerCase()))),
    provider: field('ZGAS_PROVIDER_ADDRESS', () => parseAddress(e.ZGAS_PROVIDER_ADDRESS)),
    chainId: field('ZGAS_CHAIN_ID', () => parseUint256(e.ZGAS_CHAIN_ID)),
    contract: field('ZGAS_CONTRACT', () => parseAddress(e.ZGAS_CONTRACT)),
    gasTable: e.ZGAS_GAS_TABLE ?? null,
    workers: e.ZGAS_RUNNER_WORKERS,
    signatureBackend: e.ZGAS_SIGNATURE_BACKEND,
    maxInputBytes: e.ZGAS_MAX_INPUT_BYTES,
    maxStateBytes: e.ZGAS_MAX_STATE_BYTES,
    closeGracePeriodSeconds: e.ZGAS_CLOSE_GRACE_PERIOD_SECONDS,
    gasPerSecond: e.ZGAS_RUNNER_GAS_PER_SECOND,
    callTimeoutMs: e.ZGAS_CALL_TIMEOUT_MS ?? Math.min(MAX_CALL_TIMEOUT_MS, Number(e.ZGAS_CLOSE_GRACE_PERIOD_SECONDS) * 1000),
    queueLimit: e.ZGAS_QUEUE_LIMIT,
    dataDir: e.ZGAS_RUNNER_DATA_DIR ?? null,
    logMaxBytes: e.ZGAS_RUNNER_LOG_MAX_BYTES,
    logMaxSessionBytes: e.ZGAS_RUNNER_LOG_MAX_SESSION_BYTES,
    receiptPush: e.ZGAS_RECEIPT_PUSH,
    receiptFlushMs: e.ZGAS_RECEIPT_FLUSH_MS,
  };
}
