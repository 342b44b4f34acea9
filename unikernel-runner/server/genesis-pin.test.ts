// A runner meters as the genesis the node runs pins, or does not start: it reads GET /v1/genesis
// from its API URL and refuses a table it does not ship, another metering version, or a
// configured table other than the genesis one.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { genesisToJson } from '../../contracts/gas/genesis.ts';
import { testGenesis } from '../../test/support/chain.ts';
import { gasTableByName, METERING_VERSION } from '../metering/registry.ts';
import { DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE, gasTableHash } from '../metering/table.ts';
import { loadRunnerConfig } from './config.ts';
import { fetchGenesis } from './genesis-pin.ts';
import { startRunner } from './main.ts';

const { keys } = vectors;
let served: Record<string, unknown> = {};
let api: Server;
let apiUrl = '';

beforeAll(async () => {
  api = createServer((req, res) => {
    if (req.url === '/v1/genesis') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(served));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"code":"NotFound","message":"nothing here"}');
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => api.close(resolve));
});

const genesisJson = (overrides: Record<string, unknown> = {}, params: Record<string, string> = {}): Record<string, unknown> => ({ ...genesisToJson(testGenesis({ owner: '1' }, params)), ...overrides });

function config(env: Record<string, string> = {}) {
  return loadRunnerConfig({
    ZGAS_API_URL: apiUrl, ZGAS_RUNNER_PORT: '0', ZGAS_RECEIPT_KEY: keys.receiptSigner.privateKey, ZGAS_PROVIDER_ADDRESS: keys.provider.address,
    ZGAS_RUNNER_WORKERS: '1', ZGAS_SIGNATURE_BACKEND: 'noble', ...env,
  });
}

describe('the runner and the genesis metering', () => {
  it.each([
    ['a gas table it does not ship', genesisJson({ gasTable: `0x${'00'.repeat(32)}` }), {}, 'gasTable'],
    ['another metering version', genesisJson({ meteringVersion: String(METERING_VERSION + 1) }), {}, 'meteringVersion'],
    ['ZGAS_GAS_TABLE naming another table than the genesis', genesisJson(), { ZGAS_GAS_TABLE: EXTENDED_GAS_TABLE }, 'gasTable'],
  ])('refuses to start on %s', async (_name, genesis, env, field) => {
    served = genesis;
    await expect(startRunner(config(env), { log: () => undefined, docsUi: false })).rejects.toMatchObject({ code: 'MeteringMismatch', details: { field } });
  });

  it('meters with the table the genesis names, by hash, and enforces the genesis input cap', async () => {
    const extended = gasTableByName(EXTENDED_GAS_TABLE);
    served = genesisJson({ gasTable: gasTableHash(extended), meteringVersion: String(METERING_VERSION) }, { maxInputBytes: '2048' });
    const logged: Array<Record<string, unknown>> = [];
    const runner = await startRunner(config({ ZGAS_MAX_INPUT_BYTES: '65536' }), { log: (msg, details) => logged.push({ msg, ...details }), docsUi: false });
    try {
      expect(logged.find((l) => l['msg'] === 'runner listening')).toMatchObject({ gasTable: EXTENDED_GAS_TABLE, meteringVersion: METERING_VERSION, maxInputBytes: 2048 });
    } finally {
      await runner.close();
    }
    served = genesisJson();
    const checked = await startRunner(config({ ZGAS_GAS_TABLE: DEFAULT_GAS_TABLE }), { log: () => undefined, docsUi: false });
    await checked.close();
  });

  it('names ZGAS_API_URL when no genesis can be read there', async () => {
    await expect(fetchGenesis(`${apiUrl}/nowhere`, fetch, 1)).rejects.toMatchObject({ code: 'InvalidConfig', details: { variable: 'ZGAS_API_URL' } });
    served = { chainId: 'not a genesis' };
    await expect(fetchGenesis(apiUrl, fetch, 1)).rejects.toMatchObject({ code: 'InvalidConfig', details: { variable: 'ZGAS_API_URL' } });
  });
});
