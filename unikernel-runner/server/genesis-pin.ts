/**
 * What the runner meters with, as the chain's genesis pins it. At start the runner reads the
 * genesis the node runs (GET /v1/genesis) and takes the gas table by its hash from it; it refuses
 * to start when it does not ship that table, implements another metering version, or was told
 * (ZGAS_GAS_TABLE) to meter with another table: receipts metered otherwise would be disproved by
 * every honest challenge. The genesis maxInputBytes and maxStateBytes hold over the configuration.
 */
import pRetry from 'p-retry';
import { ZgasError } from '../../contracts/errors.ts';
import { parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { DEFAULT_GAS_TABLE } from '../metering/table.ts';
import { gasTableByName, meteringFor, METERING_VERSION } from '../metering/registry.ts';
import type { Metering } from '../metering/registry.ts';
import { REQUEST_TIMEOUT_MS } from './http-ledger.ts';

/** Attempts at reading the genesis at start (the node may be starting too). */
export const GENESIS_FETCH_ATTEMPTS = 5;
/** The largest genesis answer read. */
export const MAX_GENESIS_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The genesis the node at `apiUrl` runs; a node that cannot be reached or answers something else is an InvalidConfig on ZGAS_API_URL. */
export async function fetchGenesis(apiUrl: string, fetchFn: typeof fetch = fetch, retryMinMs = 250): Promise<Genesis> {
  const url = `${apiUrl}/v1/genesis`;
  let text: string;
  try {
    text = await pRetry(
      async () => {
        const response = await fetchFn(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = await response.text();
        if (body.length > MAX_GENESIS_RESPONSE_BYTES) throw new Error('the genesis answer is too large');
        return body;
      },
      { retries: GENESIS_FETCH_ATTEMPTS - 1, minTimeout: retryMinMs, maxTimeout: retryMinMs * 8 },
    );
  } catch (error) {
    throw new ZgasError('InvalidConfig', {
      variable: 'ZGAS_API_URL',
      reason: `cannot read the genesis from ${url} (${error instanceof Error ? error.message : String(error)}); start the node or fix ZGAS_API_URL`,
    });
  }
  try {
    return parseGenesis(JSON.parse(text));
  } catch (error) {
    throw new ZgasError('InvalidConfig', { variable: 'ZGAS_API_URL', reason: `${url} did not answer a genesis (${error instanceof Error ? error.message : String(error)}); point ZGAS_API_URL at a zgas node` });
  }
}

/**
 * The runner's metering: the genesis table when there is a genesis (the configured table, when
 * named, must be that very table), else the configured table or the default one.
 */
export function runnerMetering(configuredTable: string | null, genesis: Genesis | null): Metering {
  if (genesis === null) return { table: gasTableByName(configuredTable ?? DEFAULT_GAS_TABLE), tableName: configuredTable ?? DEFAULT_GAS_TABLE, meteringVersion: METERING_VERSION };
  const metering = meteringFor(genesis);
  if (configuredTable !== null && configuredTable !== metering.tableName) {
    throw new ZgasError('MeteringMismatch', {
      field: 'gasTable',
      genesis: `${metering.tableName} (${genesis.gasTable})`,
      configured: configuredTable,
      fix: `unset ZGAS_GAS_TABLE (the runner takes the genesis table) or set it to ${metering.tableName}`,
    });
  }
  return metering;
}
