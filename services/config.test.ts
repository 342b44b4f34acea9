import { describe, expect, it } from 'vitest';
import { isZgasError } from '../contracts/errors.ts';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('fills in the defaults and treats empty values as unset', () => {
    const config = loadConfig({ DATABASE_URL: '' });
    expect(config).toMatchObject({ apiHost: '127.0.0.1', apiPort: 8645, runnerPort: 8646, logLevel: 'info', momentumIntervalMs: 100 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379', ZGAS_API_PORT: '9000', ZGAS_RUNNER_PORT: '9001', ZGAS_GENESIS: 'g.json',
      ZGAS_DATA_DIR: '/tmp/z', ZGAS_MOMENTUM_INTERVAL_MS: '250', ZGAS_LOG_LEVEL: 'debug', ZGAS_API_URL: 'http://127.0.0.1:9000',
    });
    expect(config).toMatchObject({ databaseUrl: 'postgres://x@h/db', redisUrl: 'redis://h:6379', apiPort: 9000, runnerPort: 9001, genesisPath: 'g.json', dataDir: '/tmp/z', momentumIntervalMs: 250, logLevel: 'debug', apiUrl: 'http://127.0.0.1:9000' });
  });

  it('reads the admission bounds, with defaults', () => {
    expect(loadConfig({}).admission).toEqual({
      rateLimitPerMinute: 60_000, sseSubscribers: 1_000, sseSubscribersPerClient: 32, sseProviderReserved: 200,
      maxQueueDepth: 200, maxUnappliedWork: 50_000, maxLargeBodies: 4, largeBodyBytes: 65_536,
    });
    const config = loadConfig({
      ZGAS_RATE_LIMIT_PER_MINUTE: '600', ZGAS_SSE_SUBSCRIBERS: '50', ZGAS_SSE_PER_CLIENT: '2', ZGAS_SSE_PROVIDER_RESERVED: '10',
      ZGAS_MAX_QUEUE_DEPTH: '20', ZGAS_MAX_UNAPPLIED: '5000', ZGAS_MAX_LARGE_BODIES: '1', ZGAS_LARGE_BODY_BYTES: '1024',
    });
    expect(config.admission).toEqual({
      rateLimitPerMinute: 600, sseSubscribers: 50, sseSubscribersPerClient: 2, sseProviderReserved: 10,
      maxQueueDepth: 20, maxUnappliedWork: 5_000, maxLargeBodies: 1, largeBodyBytes: 1_024,
    });
  });

  it('reads the storage bounds and retentions, with defaults', () => {
    expect(loadConfig({}).storage).toEqual({
      modules: { totalCount: 256, totalBytes: 268_435_456, perUploaderCount: 4, perUploaderBytes: 33_554_432, ttlMs: 3_600_000 },
      receiptRetentionMs: 86_400_000, duplicateRetentionMs: 3_600_000, callRetentionMs: 86_400_000, retentionIntervalMs: 60_000,
    });
    const config = loadConfig({
      ZGAS_MODULE_TTL_SECONDS: '60', ZGAS_MAX_UNREGISTERED_MODULES: '10', ZGAS_MAX_UNREGISTERED_MODULE_BYTES: '1000', ZGAS_MODULES_PER_UPLOADER: '2',
      ZGAS_MODULE_BYTES_PER_UPLOADER: '500', ZGAS_RECEIPT_RETENTION_SECONDS: '7200', ZGAS_DUPLICATE_RETENTION_SECONDS: '600',
      ZGAS_CALL_RETENTION_SECONDS: '900', ZGAS_RETENTION_INTERVAL_SECONDS: '5',
    });
    expect(config.storage).toEqual({
      modules: { totalCount: 10, totalBytes: 1_000, perUploaderCount: 2, perUploaderBytes: 500, ttlMs: 60_000 },
      receiptRetentionMs: 7_200_000, duplicateRetentionMs: 600_000, callRetentionMs: 900_000, retentionIntervalMs: 5_000,
    });
    expect(() => loadConfig({ ZGAS_RECEIPT_RETENTION_SECONDS: '0' })).toThrow();
    expect(() => loadConfig({ ZGAS_CALL_RETENTION_SECONDS: '0' })).toThrow();
    expect(() => loadConfig({ ZGAS_RETENTION_INTERVAL_SECONDS: '0' })).toThrow();
    expect(() => loadConfig({ ZGAS_RETENTION_INTERVAL_SECONDS: '86401' })).toThrow();
  });

  it('refuses connection strings that are not URLs of the right kind, saying what one looks like', () => {
    for (const [variable, value] of [['DATABASE_URL', 'localhost'], ['DATABASE_URL', 'redis://h:6379'], ['REDIS_URL', '127.0.0.1:6379'], ['ZGAS_API_URL', 'localhost:8645']] as const) {
      let caught: unknown;
      try {
        loadConfig({ [variable]: value });
      } catch (error) {
        caught = error;
      }
      expect(isZgasError(caught, 'InvalidConfig'), `${variable}=${value}`).toBe(true);
      const details = (caught as { details: { variable: string; reason: string } }).details;
      expect(details.variable).toBe(variable);
      expect(details.reason).toMatch(/expected a URL like \w+:\/\//);
      expect(details.reason).toContain(JSON.stringify(value));
    }
  });

  it('refuses bad values with InvalidConfig naming the variable', () => {
    for (const env of [{ ZGAS_API_PORT: '70000' }, { ZGAS_API_PORT: '1e3' }, { ZGAS_MOMENTUM_INTERVAL_MS: '0' }, { ZGAS_LOG_LEVEL: 'loud' }, { ZGAS_MAX_LARGE_BODIES: '0' }]) {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (error) {
        caught = error;
      }
      expect(isZgasError(caught, 'InvalidConfig')).toBe(true);
      expect((caught as { details: { variable: string } }).details.variable).toBe(Object.keys(env)[0]);
    }
  });
});
