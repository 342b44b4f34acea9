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

  it('refuses bad values with InvalidField naming the variable', () => {
    for (const env of [{ ZGAS_API_PORT: '70000' }, { ZGAS_API_PORT: '1e3' }, { ZGAS_MOMENTUM_INTERVAL_MS: '0' }, { ZGAS_LOG_LEVEL: 'loud' }]) {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (error) {
        caught = error;
      }
      expect(isZgasError(caught, 'InvalidField')).toBe(true);
      expect((caught as { details: { path: string } }).details.path).toBe(Object.keys(env)[0]);
    }
  });
});
