import { z } from 'zod';
import { ZgasError } from '../contracts/errors.ts';

/** Defaults of the settings every process shares. */
export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 8645;
export const DEFAULT_RUNNER_PORT = 8646;
export const DEFAULT_MOMENTUM_INTERVAL_MS = 100;
export const DEFAULT_WORKERS = 2;
export const MAX_WORKERS = 64;
export const MAX_MOMENTUM_INTERVAL_MS = 60_000;
/** Admission defaults of the API (what one 2-core node serves); see services/api/admission.ts. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 60_000;
export const DEFAULT_SSE_SUBSCRIBERS = 1_000;
export const DEFAULT_SSE_PER_CLIENT = 32;
export const DEFAULT_SSE_PROVIDER_RESERVED = 200;
export const DEFAULT_MAX_QUEUE_DEPTH = 200;
export const DEFAULT_MAX_UNAPPLIED = 50_000;
export const DEFAULT_MAX_LARGE_BODIES = 4;
export const DEFAULT_LARGE_BODY_BYTES = 64 * 1024;
/** Storage defaults: what anyone may upload, and how long what a replay does not need is kept. */
export const DEFAULT_MODULE_TTL_SECONDS = 3_600;
export const DEFAULT_MAX_UNREGISTERED_MODULES = 256;
export const DEFAULT_MAX_UNREGISTERED_MODULE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MODULES_PER_UPLOADER = 4;
export const DEFAULT_MODULE_BYTES_PER_UPLOADER = 32 * 1024 * 1024;
export const DEFAULT_RECEIPT_RETENTION_SECONDS = 86_400;
export const DEFAULT_DUPLICATE_RETENTION_SECONDS = 3_600;
export const DEFAULT_CALL_RETENTION_SECONDS = 86_400;
export const DEFAULT_RETENTION_INTERVAL_SECONDS = 60;
const MAX_RETENTION_INTERVAL_SECONDS = 86_400;
const MAX_RETENTION_SECONDS = 10 * 365 * 86_400;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Empty strings count as unset, so `FOO= zgas node` behaves like leaving FOO out.
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());
const port = (fallback: number) =>
  z.preprocess((v) => (v === '' || v === undefined ? String(fallback) : v), z.string().regex(/^[0-9]{1,5}$/).transform(Number).pipe(z.number().int().min(0).max(65_535))); // 0: any free port
const boundedInt = (fallback: number, min: number, max: number) =>
  z.preprocess((v) => (v === '' || v === undefined ? String(fallback) : v), z.string().regex(/^[0-9]{1,9}$/).transform(Number).pipe(z.number().int().min(min).max(max)));

/** A connection string with one of `protocols`, e.g. postgres://user@host:5432/db. */
const connectionUrl = (protocols: readonly string[], example: string) =>
  optionalText.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        const url = new URL(v);
        return protocols.includes(url.protocol) && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: `expected a URL like ${example}` },
  );

const schema = z.object({
  DATABASE_URL: connectionUrl(['postgres:', 'postgresql:'], 'postgres://user@127.0.0.1:5432/zgas'),
  REDIS_URL: connectionUrl(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  ZGAS_API_HOST: z.preprocess((v) => (v === '' || v === undefined ? DEFAULT_API_HOST : v), z.string().min(1)),
  ZGAS_API_PORT: port(DEFAULT_API_PORT),
  ZGAS_RUNNER_PORT: port(DEFAULT_RUNNER_PORT),
  ZGAS_GENESIS: optionalText,
  ZGAS_RECEIPT_KEY: optionalText,
  ZGAS_PROVIDER_KEY: optionalText,
  ZGAS_API_URL: connectionUrl(['http:', 'https:'], 'http://127.0.0.1:8645'),
  ZGAS_LOG_LEVEL: z.preprocess((v) => (v === '' || v === undefined ? 'info' : v), z.enum(LOG_LEVELS)),
  ZGAS_DATA_DIR: optionalText,
  ZGAS_MOMENTUM_INTERVAL_MS: boundedInt(DEFAULT_MOMENTUM_INTERVAL_MS, 1, MAX_MOMENTUM_INTERVAL_MS),
  ZGAS_WORKERS: boundedInt(DEFAULT_WORKERS, 0, MAX_WORKERS),
  ZGAS_DB_SCHEMA: z.preprocess((v) => (v === '' || v === undefined ? 'public' : v), z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/)),
  ZGAS_QUEUE_NAME: z.preprocess((v) => (v === '' || v === undefined ? 'zgas-receipts' : v), z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/)),
  ZGAS_REDIS_PREFIX: z.preprocess((v) => (v === '' || v === undefined ? 'zgas' : v), z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/)),
  ZGAS_RATE_LIMIT_PER_MINUTE: boundedInt(DEFAULT_RATE_LIMIT_PER_MINUTE, 0, 100_000_000),
  ZGAS_SSE_SUBSCRIBERS: boundedInt(DEFAULT_SSE_SUBSCRIBERS, 0, 100_000),
  ZGAS_SSE_PER_CLIENT: boundedInt(DEFAULT_SSE_PER_CLIENT, 1, 100_000),
  ZGAS_SSE_PROVIDER_RESERVED: boundedInt(DEFAULT_SSE_PROVIDER_RESERVED, 0, 100_000),
  ZGAS_MAX_QUEUE_DEPTH: boundedInt(DEFAULT_MAX_QUEUE_DEPTH, 0, 100_000_000),
  ZGAS_MAX_UNAPPLIED: boundedInt(DEFAULT_MAX_UNAPPLIED, 0, 100_000_000),
  ZGAS_MAX_LARGE_BODIES: boundedInt(DEFAULT_MAX_LARGE_BODIES, 1, 10_000),
  ZGAS_LARGE_BODY_BYTES: boundedInt(DEFAULT_LARGE_BODY_BYTES, 1, 100_000_000),
  ZGAS_MODULE_TTL_SECONDS: boundedInt(DEFAULT_MODULE_TTL_SECONDS, 1, MAX_RETENTION_SECONDS),
  ZGAS_MAX_UNREGISTERED_MODULES: boundedInt(DEFAULT_MAX_UNREGISTERED_MODULES, 0, 1_000_000),
  ZGAS_MAX_UNREGISTERED_MODULE_BYTES: boundedInt(DEFAULT_MAX_UNREGISTERED_MODULE_BYTES, 0, 999_999_999),
  ZGAS_MODULES_PER_UPLOADER: boundedInt(DEFAULT_MODULES_PER_UPLOADER, 0, 1_000_000),
  ZGAS_MODULE_BYTES_PER_UPLOADER: boundedInt(DEFAULT_MODULE_BYTES_PER_UPLOADER, 0, 999_999_999),
  ZGAS_RECEIPT_RETENTION_SECONDS: boundedInt(DEFAULT_RECEIPT_RETENTION_SECONDS, 1, MAX_RETENTION_SECONDS),
  ZGAS_DUPLICATE_RETENTION_SECONDS: boundedInt(DEFAULT_DUPLICATE_RETENTION_SECONDS, 1, MAX_RETENTION_SECONDS),
  ZGAS_CALL_RETENTION_SECONDS: boundedInt(DEFAULT_CALL_RETENTION_SECONDS, 1, MAX_RETENTION_SECONDS),
  ZGAS_RETENTION_INTERVAL_SECONDS: boundedInt(DEFAULT_RETENTION_INTERVAL_SECONDS, 1, MAX_RETENTION_INTERVAL_SECONDS),
});

/** What the API admits: rate, event-stream slots and backpressure bounds. */
export interface AdmissionConfig {
  /** Requests per client address per minute; 0 disables the rate limit. */
  rateLimitPerMinute: number;
  sseSubscribers: number;
  sseSubscribersPerClient: number;
  sseProviderReserved: number;
  maxQueueDepth: number;
  maxUnappliedWork: number;
  maxLargeBodies: number;
  largeBodyBytes: number;
}

/** Bounds on modules no registered zApp references yet (services/store/modules.ts). */
export interface ModuleStorageConfig {
  totalCount: number;
  totalBytes: number;
  perUploaderCount: number;
  perUploaderBytes: number;
  ttlMs: number;
}

/** What the store keeps: module uploads and the retention of receipt copies. */
export interface StorageConfig {
  modules: ModuleStorageConfig;
  /** Applied receipt copies are deleted this long after their momentum (the momentum keeps them). */
  receiptRetentionMs: number;
  /** Rejected copies and copies settled as no-ops (Duplicate) are deleted this long after. */
  duplicateRetentionMs: number;
  /** Settled calls (applied or failed) are deleted this long after settling (the momentums keep them). */
  callRetentionMs: number;
  /** How often the retention deletes what expired and vacuums the tables it churned. */
  retentionIntervalMs: number;
}

/** Every setting of a zgas process. Only this module reads the environment. */
export interface Config {
  /** Postgres connection string; absent: the embedded PGlite store. */
  databaseUrl?: string;
  /** Redis connection string; absent: in-process queue and event bus. */
  redisUrl?: string;
  apiHost: string;
  apiPort: number;
  runnerPort: number;
  /** Path of the genesis JSON file; absent: the built-in genesis. */
  genesisPath?: string;
  /** The runner's receipt-signing private key (0x hex). */
  receiptKey?: string;
  /** The provider's account private key (0x hex). */
  providerKey?: string;
  /** The settlement API the runner talks to. */
  apiUrl?: string;
  logLevel: LogLevel;
  /** PGlite data directory; absent: in-memory. */
  dataDir?: string;
  momentumIntervalMs: number;
  workers: number;
  /** Postgres schema of the store (pg only; default public). */
  dbSchema: string;
  /** BullMQ queue name and Redis key prefix of the receipt queue and event channel. */
  queueName: string;
  redisPrefix: string;
  admission: AdmissionConfig;
  storage: StorageConfig;
}

/** A setting that cannot be used, as one line: the variable, what is wrong and what to do. */
export class ConfigError extends ZgasError {
  constructor(variable: string, reason: string) {
    super('InvalidConfig', { variable, reason });
  }
}

/** Reads and validates the settings; a bad value fails with InvalidConfig naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = issue?.path.join('.') ?? '';
    const given = env[variable];
    throw new ConfigError(variable, `${issue?.message ?? 'invalid'}${given === undefined ? '' : ` (got ${JSON.stringify(given.length > 80 ? `${given.slice(0, 80)}…` : given)})`}`);
  }
  const e = parsed.data;
  const config: Config = {
    apiHost: e.ZGAS_API_HOST,
    apiPort: e.ZGAS_API_PORT,
    runnerPort: e.ZGAS_RUNNER_PORT,
    logLevel: e.ZGAS_LOG_LEVEL,
    momentumIntervalMs: e.ZGAS_MOMENTUM_INTERVAL_MS,
    workers: e.ZGAS_WORKERS,
    dbSchema: e.ZGAS_DB_SCHEMA,
    queueName: e.ZGAS_QUEUE_NAME,
    redisPrefix: e.ZGAS_REDIS_PREFIX,
    admission: {
      rateLimitPerMinute: e.ZGAS_RATE_LIMIT_PER_MINUTE,
      sseSubscribers: e.ZGAS_SSE_SUBSCRIBERS,
      sseSubscribersPerClient: e.ZGAS_SSE_PER_CLIENT,
      sseProviderReserved: e.ZGAS_SSE_PROVIDER_RESERVED,
      maxQueueDepth: e.ZGAS_MAX_QUEUE_DEPTH,
      maxUnappliedWork: e.ZGAS_MAX_UNAPPLIED,
      maxLargeBodies: e.ZGAS_MAX_LARGE_BODIES,
      largeBodyBytes: e.ZGAS_LARGE_BODY_BYTES,
    },
    storage: {
      modules: {
        totalCount: e.ZGAS_MAX_UNREGISTERED_MODULES,
        totalBytes: e.ZGAS_MAX_UNREGISTERED_MODULE_BYTES,
        perUploaderCount: e.ZGAS_MODULES_PER_UPLOADER,
        perUploaderBytes: e.ZGAS_MODULE_BYTES_PER_UPLOADER,
        ttlMs: e.ZGAS_MODULE_TTL_SECONDS * 1000,
      },
      receiptRetentionMs: e.ZGAS_RECEIPT_RETENTION_SECONDS * 1000,
      duplicateRetentionMs: e.ZGAS_DUPLICATE_RETENTION_SECONDS * 1000,
      callRetentionMs: e.ZGAS_CALL_RETENTION_SECONDS * 1000,
      retentionIntervalMs: e.ZGAS_RETENTION_INTERVAL_SECONDS * 1000,
    },
  };
  if (e.DATABASE_URL !== undefined) config.databaseUrl = e.DATABASE_URL;
  if (e.REDIS_URL !== undefined) config.redisUrl = e.REDIS_URL;
  if (e.ZGAS_GENESIS !== undefined) config.genesisPath = e.ZGAS_GENESIS;
  if (e.ZGAS_RECEIPT_KEY !== undefined) config.receiptKey = e.ZGAS_RECEIPT_KEY;
  if (e.ZGAS_PROVIDER_KEY !== undefined) config.providerKey = e.ZGAS_PROVIDER_KEY;
  if (e.ZGAS_API_URL !== undefined) config.apiUrl = e.ZGAS_API_URL;
  if (e.ZGAS_DATA_DIR !== undefined) config.dataDir = e.ZGAS_DATA_DIR;
  return config;
}

const cliSchema = z.object({
  ZGAS_API_URL: optionalText,
  ZGAS_RUNNER_URL: optionalText,
  ZGAS_GENESIS: optionalText,
  ZGAS_KEYSTORE: optionalText,
  ZGAS_PASSWORD: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  ZGAS_CLI_HOME: optionalText,
});

/** The settings of the role commands of `zgas` (keys, zapp, session, provider, challenge, status). */
export interface CliConfig {
  /** The settlement API (ZGAS_API_URL). */
  apiUrl?: string;
  /** The provider's runner sessions call (ZGAS_RUNNER_URL). */
  runnerUrl?: string;
  /** The genesis whose chainId and contract make the signing domain (ZGAS_GENESIS). */
  genesisPath?: string;
  /** The directory of encrypted keys (ZGAS_KEYSTORE). */
  keystoreDir?: string;
  /** The keystore password, for scripts (ZGAS_PASSWORD); absent: --password-file or a prompt. */
  password?: string;
  /** Where the command line keeps its files, e.g. session records (ZGAS_CLI_HOME; default ~/.zgas). */
  home?: string;
}

/** Reads the role commands' settings; a bad value fails with InvalidField naming the variable. */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const parsed = cliSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ZgasError('InvalidField', { path: issue?.path.join('.') ?? '', reason: issue?.message ?? 'invalid' });
  }
  const e = parsed.data;
  const out: CliConfig = {};
  if (e.ZGAS_API_URL !== undefined) out.apiUrl = e.ZGAS_API_URL;
  if (e.ZGAS_RUNNER_URL !== undefined) out.runnerUrl = e.ZGAS_RUNNER_URL;
  if (e.ZGAS_GENESIS !== undefined) out.genesisPath = e.ZGAS_GENESIS;
  if (e.ZGAS_KEYSTORE !== undefined) out.keystoreDir = e.ZGAS_KEYSTORE;
  if (e.ZGAS_PASSWORD !== undefined) out.password = e.ZGAS_PASSWORD;
  if (e.ZGAS_CLI_HOME !== undefined) out.home = e.ZGAS_CLI_HOME;
  return out;
}
