/**
 * The runner's settings, read from the environment in this one place and checked with zod:
 * ZGAS_API_URL, ZGAS_RUNNER_PORT, ZGAS_RUNNER_HOST, ZGAS_RECEIPT_KEY, ZGAS_PROVIDER_ADDRESS,
 * ZGAS_CHAIN_ID, ZGAS_CONTRACT, ZGAS_GAS_TABLE, ZGAS_RUNNER_WORKERS, ZGAS_SIGNATURE_BACKEND,
 * ZGAS_CALL_TIME_LIMIT_MS, ZGAS_CALL_TIMEOUT_MS, ZGAS_QUEUE_LIMIT. Empty strings count as unset.
 */
import os from 'node:os';
import { z } from 'zod';
import { ZgasError } from '../../contracts/errors.ts';
import { addressOf, privateKeyBytes } from '../../contracts/eip712/index.ts';
import { parseAddress } from '../../contracts/hex.ts';
import type { Address } from '../../contracts/types.ts';
import { parseUint256 } from '../../contracts/units.ts';
import { DEFAULT_GAS_TABLE } from '../metering/table.ts';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_QUEUE_LIMIT, MAX_POOL_SIZE } from '../runtime/pool.ts';

export const DEFAULT_RUNNER_PORT = 8646;
export const DEFAULT_RUNNER_HOST = '127.0.0.1';
export const DEFAULT_CHAIN_ID = 73405n;
/** The gas contract's address on the built-in genesis. */
export const DEFAULT_CONTRACT = '0x00000000000000000000000000000000007a6761';
export const SIGNATURE_BACKENDS = ['default', 'native', 'noble', 'ethers'] as const;
export const MAX_CALL_TIMEOUT_MS = 600_000;
/** A call running longer is aborted (an Aborted receipt, billed and reproducible). */
export const DEFAULT_CALL_TIME_LIMIT_MS = 10_000;
export const MAX_QUEUE_LIMIT = 100_000;

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
  gasTable: string;
  workers: number;
  signatureBackend: (typeof SIGNATURE_BACKENDS)[number];
  callTimeLimitMs: number;
  callTimeoutMs: number;
  queueLimit: number;
}

const unset = (v: unknown): unknown => (v === '' ? undefined : v);
const text = z.preprocess(unset, z.string().min(1));
const optional = <T extends z.ZodType>(schema: T, fallback: string) => z.preprocess((v) => unset(v) ?? fallback, schema);
const int = (min: number, max: number) => z.string().regex(/^[0-9]{1,9}$/, 'a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));

const schema = z.object({
  ZGAS_API_URL: text.pipe(z.url({ protocol: /^https?$/ })),
  ZGAS_RUNNER_HOST: optional(z.string().min(1), DEFAULT_RUNNER_HOST),
  ZGAS_RUNNER_PORT: optional(int(0, 65_535), String(DEFAULT_RUNNER_PORT)),
  ZGAS_RECEIPT_KEY: text.pipe(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a private key is 0x + 64 hex digits')),
  ZGAS_PROVIDER_ADDRESS: text,
  ZGAS_CHAIN_ID: optional(z.string(), DEFAULT_CHAIN_ID.toString()),
  ZGAS_CONTRACT: optional(z.string(), DEFAULT_CONTRACT),
  ZGAS_GAS_TABLE: optional(z.string().min(1), DEFAULT_GAS_TABLE),
  ZGAS_RUNNER_WORKERS: optional(int(1, MAX_POOL_SIZE), String(Math.min(MAX_POOL_SIZE, os.availableParallelism()))),
  ZGAS_SIGNATURE_BACKEND: optional(z.enum(SIGNATURE_BACKENDS), 'default'),
  ZGAS_CALL_TIME_LIMIT_MS: optional(int(1, MAX_CALL_TIMEOUT_MS), String(DEFAULT_CALL_TIME_LIMIT_MS)),
  ZGAS_CALL_TIMEOUT_MS: optional(int(1, MAX_CALL_TIMEOUT_MS), String(DEFAULT_CALL_TIMEOUT_MS)),
  ZGAS_QUEUE_LIMIT: optional(int(1, MAX_QUEUE_LIMIT), String(DEFAULT_QUEUE_LIMIT)),
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
    gasTable: e.ZGAS_GAS_TABLE,
    workers: e.ZGAS_RUNNER_WORKERS,
    signatureBackend: e.ZGAS_SIGNATURE_BACKEND,
    callTimeLimitMs: e.ZGAS_CALL_TIME_LIMIT_MS,
    callTimeoutMs: e.ZGAS_CALL_TIMEOUT_MS,
    queueLimit: e.ZGAS_QUEUE_LIMIT,
  };
}
