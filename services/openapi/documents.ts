/**
 * The OpenAPI documents of the settlement API and of the runner API, read from the apps as they
 * are built (their route schemas), so the committed copies in docs/ are the code's own. Each app is
 * built on in-memory parts (PGlite, the memory queue and bus, a memory ledger) and closed again;
 * no request is served.
 */
import { addressOf, makeDomain, nobleBackend, privateKeyBytes } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { gas } from '../../contracts/units.ts';
import { WorkerPool } from '../../unikernel-runner/runtime/pool.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { buildRunner } from '../../unikernel-runner/server/app.ts';
import { CallService } from '../../unikernel-runner/server/calls.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import { buildApi } from '../api/app.ts';
import { loadGenesis } from '../node/genesis.ts';
import { openDb } from '../db/index.ts';
import { openEventBus } from '../events/index.ts';
import { silentLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { createMemoryQueue } from '../queue/index.ts';

/** The settlement API's document, as `GET /docs/json` serves it. */
export async function settlementApiDocument(): Promise<unknown> {
  const { genesis } = await loadGenesis(undefined);
  const db = await openDb();
  const queue = createMemoryQueue();
  const bus = await openEventBus({});
  try {
    const app = await buildApi({ db, queue, bus, domain: makeDomain(genesis.chainId, genesis.contract), genesis, metrics: createMetrics(), log: silentLogger });
    await app.ready();
    const document = app.swagger();
    await app.close();
    return document;
  } finally {
    await bus.close();
    await queue.close();
    await db.close();
  }
}

/** The runner API's document, as a runner's `GET /docs/json` serves it. */
export async function runnerApiDocument(): Promise<unknown> {
  const pool = new WorkerPool({ size: 1 });
  // A key of its own: the document does not depend on who signs receipts.
  const receiptKey = sha3(utf8Bytes('zgas openapi document'));
  const calls = new CallService({
    ledger: new MemoryLedger(), pool, table: gasTableByName(), domain: makeDomain(73405n, '0x00000000000000000000000000000000007a6761'),
    receiptKey: privateKeyBytes(receiptKey), receiptSigner: addressOf(receiptKey), provider: addressOf(receiptKey), backend: nobleBackend,
    maxCallGasLimit: gas(1_000_000n), maxInputBytes: 1024, maxStateBytes: DEFAULT_MAX_STATE_BYTES,
  });
  try {
    const app = await buildRunner({ calls, pool, docsUi: false });
    await app.ready();
    const document = app.swagger();
    await app.close();
    return document;
  } finally {
    await calls.close();
    await pool.close();
  }
}

/** A document as committed: two-space JSON and a final newline. */
export const documentText = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;
