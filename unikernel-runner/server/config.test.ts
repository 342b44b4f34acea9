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
      gasTable: 'zeno-wasm-gas-v1',
      workers: 3,
      signatureBackend: 'default',
    });
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
  ])('refuses %o naming the variable', (override, name) => {
    expect(() => loadRunnerConfig({ ...base, ...override })).toThrow(expect.objectContaining({ code: 'InvalidRequest', details: expect.objectContaining({ path: name }) }));
  });
});
