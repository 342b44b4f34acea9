// The node runs only on the metering its genesis pins: it refuses an unknown gas table or another
// metering version at start (one line naming the field), and states what it runs in GET /v1/genesis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GAS_TABLE_HASH, genesisToJson, parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { loadConfig } from '../../services/config.ts';
import type { Config } from '../../services/config.ts';
import { startNode } from '../../services/node/index.ts';
import type { RunningNode } from '../../services/node/index.ts';
import { startupMessage } from '../../services/node/index.ts';
import { silentLogger } from '../../services/log.ts';
import { gasTableByName, METERING_VERSION } from '../../unikernel-runner/metering/registry.ts';
import { EXTENDED_GAS_TABLE, gasTableHash } from '../../unikernel-runner/metering/table.ts';
import { testGenesis } from '../support/chain.ts';
import { freshSchema, TEST_DATABASE_URL } from '../support/db.ts';
import type { TestDb } from '../support/db.ts';
import { dropRedisKeys, REDIS_URL } from '../support/redis.ts';
import { testTag } from './fixtures.ts';

const tag = testTag();
let db: TestDb;
let config: Config;
let node: RunningNode | undefined;

const withJson = (overrides: Record<string, unknown>): Genesis => parseGenesis({ ...genesisToJson(testGenesis({ owner: '1000' })), ...overrides });

beforeAll(async () => {
  db = await freshSchema('metering_pin');
  config = loadConfig({ DATABASE_URL: TEST_DATABASE_URL, ZGAS_DB_SCHEMA: db.schema, REDIS_URL, ZGAS_QUEUE_NAME: `pin-${tag}`, ZGAS_REDIS_PREFIX: `zgas-test-pin-${tag}` });
});

afterAll(async () => {
  await node?.stop();
  await db?.close();
  await dropRedisKeys(`zgas-test-pin-${tag}`);
});

describe('the node and the metering its genesis pins', () => {
  it.each([
    ['a gas table it does not ship', { gasTable: `0x${'00'.repeat(32)}` }, 'gasTable'],
    ['another metering version', { meteringVersion: String(METERING_VERSION + 1) }, 'meteringVersion'],
  ])('refuses to start on %s, with one line naming the field and what to do', async (_name, overrides, field) => {
    const genesis = withJson(overrides);
    const error = await startNode({ config, genesis, log: silentLogger, listen: false, workers: 0, dashboard: false }).then(
      (started) => {
        node = started;
        return null;
      },
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'MeteringMismatch', details: { field } });
    const line = startupMessage(error);
    expect(line).not.toContain('\n');
    expect(line).toContain(`field=${field}`);
    expect(line).toMatch(/fix=/);
  });

  it('serves the genesis it runs on GET /v1/genesis: the table by hash and the metering version it implements', async () => {
    const extended = gasTableHash(gasTableByName(EXTENDED_GAS_TABLE));
    const genesis = withJson({ gasTable: extended });
    node = await startNode({ config, genesis, log: silentLogger, listen: false, workers: 0, dashboard: false });
    const res = await node.api.inject({ method: 'GET', url: '/v1/genesis' });
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(body).toEqual({ ...genesisToJson(genesis), meteringVersion: String(METERING_VERSION) });
    expect(body['gasTable']).toBe(extended);
    expect(parseGenesis(body).meteringVersion).toBe(METERING_VERSION);
    const doc = await node.api.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths)).toContain('/v1/genesis');
  });

  it('a genesis without gasTable pins the default table by its real hash', () => {
    expect(withJson({}).gasTable).toBe(DEFAULT_GAS_TABLE_HASH);
    expect(gasTableHash(gasTableByName())).toBe(DEFAULT_GAS_TABLE_HASH);
  });
});
