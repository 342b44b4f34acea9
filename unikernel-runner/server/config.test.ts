import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { loadRunnerConfig } from './config.ts';

const base = {
  ZGAS_API_URL: 'http://127.0.0.1:8645/',
  ZGAS_RECEIPT_KEY: vectors.keys.receiptSigner.privateKey,
  ZGAS_PROVIDER_ADDRESS: vectors.keys.provider.address.toLowerCase(),
};

describe('loadRunnerConfig', () => {
  it('reads the environment with defaults and derives the receipt signer', () => {
    const config = loadRunnerConfig({ ...base, ZGAS_RUNNER_WORKERS: '3', ZGAS_RUNNER_PORT: '' });
    expect(config).toMatchObject({
      apiUrl: 'http://127.0.0.1:8645',
      port: 8646,
      host: '127.0.0.1',
      receiptSigner: vectors.keys.receiptSigner.address,
      provider: vectors.keys.provider.address,
      chainId: 73405n,
      contract: '0x00000000000000000000000000000000007A6761',
      gasTable: null, // unset: the genesis table
      workers: 3,
      signatureBackend: 'default',
      maxInputBytes: 1024 * 1024,
      closeGracePeriodSeconds: 60n,
      gasPerSecond: 50_000_000n,
      callTimeoutMs: 60_000,
      dataDir: null,
      receiptPush: 'every',
      receiptFlushMs: 1_000,
    });
  });

  it('reads the genesis limits, the session log, the push mode and the watchdog', () => {
    const config = loadRunnerConfig({
      ...base, ZGAS_MAX_INPUT_BYTES: '4096', ZGAS_CLOSE_GRACE_PERIOD_SECONDS: '10', ZGAS_RUNNER_GAS_PER_SECOND: '1000',
      ZGAS_RUNNER_DATA_DIR: '/var/lib/zgas-runner', ZGAS_RUNNER_LOG_MAX_BYTES: '2048', ZGAS_RUNNER_LOG_MAX_SESSION_BYTES: '1024',
      ZGAS_RECEIPT_PUSH: 'coalesced', ZGAS_RECEIPT_FLUSH_MS: '250',
    });
    expect(config).toMatchObject({
      maxInputBytes: 4096, closeGracePeriodSeconds: 10n, gasPerSecond: 1000n, callTimeoutMs: 10_000, dataDir: '/var/lib/zgas-runner',
      logMaxBytes: 2048, logMaxSessionBytes: 1024, receiptPush: 'coalesced', receiptFlushMs: 250,
    });
    expect(loadRunnerConfig({ ...base, ZGAS_CALL_TIMEOUT_MS: '5000' }).callTimeoutMs).toBe(5_000);
  });

  it.each([
    [{ ZGAS_API_URL: undefined }, 'ZGAS_API_URL'],
    [{ ZGAS_API_URL: 'ftp://x' }, 'ZGAS_API_URL'],
    [{ ZGAS_RECEIPT_KEY: '0x1234' }, 'ZGAS_RECEIPT_KEY'],
    [{ ZGAS_RECEIPT_KEY: `0x${'00'.repeat(32)}` }, 'ZGAS_RECEIPT_KEY'],
    [{ ZGAS_PROVIDER_ADDRESS: '0xnope' }, 'ZGAS_PROVIDER_ADDRESS'],
    [{ ZGAS_RUNNER_WORKERS: '0' }, 'ZGAS_RUNNER_WORKERS'],
    [{ ZGAS_RUNNER_PORT: '70000' }, 'ZGAS_RUNNER_PORT'],
    [{ ZGAS_CHAIN_ID: '1e3' }, 'ZGAS_CHAIN_ID'],
    [{ ZGAS_SIGNATURE_BACKEND: 'openssl' }, 'ZGAS_SIGNATURE_BACKEND'],
    [{ ZGAS_MAX_INPUT_BYTES: '0' }, 'ZGAS_MAX_INPUT_BYTES'],
    [{ ZGAS_CLOSE_GRACE_PERIOD_SECONDS: '-1' }, 'ZGAS_CLOSE_GRACE_PERIOD_SECONDS'],
    [{ ZGAS_RUNNER_GAS_PER_SECOND: '1.5' }, 'ZGAS_RUNNER_GAS_PER_SECOND'],
    [{ ZGAS_RECEIPT_PUSH: 'sometimes' }, 'ZGAS_RECEIPT_PUSH'],
    [{ ZGAS_RUNNER_LOG_MAX_BYTES: '10' }, 'ZGAS_RUNNER_LOG_MAX_BYTES'],
  ])('refuses %o naming the variable', (override, name) => {
    expect(() => loadRunnerConfig({ ...base, ...override })).toThrow(expect.objectContaining({ code: 'InvalidRequest', details: expect.objectContaining({ path: name }) }));
  });
});
