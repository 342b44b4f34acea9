// A call on a session whose state is near the genesis cap moves and hashes what the call changed,
// not the whole state: counted in bytes posted to and from the worker (as the structured clone
// serializes them) and in bytes absorbed by the state hash, never by timing.
import { serialize } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStatus } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { openTestSession, TestClient, testRunner } from '../../test/support/runner-kit.ts';
import type { TestRunner } from '../../test/support/runner-kit.ts';
import { STATE_OPS_WASM, stateOpsInput } from '../../test/support/state-ops.ts';
import { untilTrue } from '../../test/support/wait.ts';
import { defaultSpawn, WorkerPool } from '../runtime/pool.ts';
import { MemorySessionLog } from '../runtime/session-log.ts';
import { DEFAULT_MAX_STATE_BYTES, encodeStateBytes } from '../runtime/state.ts';

/** Bytes a steady call may move or hash: its own input, writes and output, with room for the envelope. */
const SMALL_BYTES = 64 * 1024;
const FILL_GAS_LIMIT = gas(2_000_000_000n);

const workers: Worker[] = [];
let posted: number[] = [];
let answered: number[] = [];

/** A worker whose traffic is counted: what a message would take on the wire between threads. */
function countingSpawn(init: Parameters<typeof defaultSpawn>[0]): Worker {
  const worker = defaultSpawn(init);
  workers.push(worker);
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (message: Record<string, unknown>, transfer?: readonly ArrayBuffer[]) => {
    // the compiled module is shared between threads, not copied
    posted.push(serialize({ ...message, prepared: null }).length);
    post(message, transfer as never);
  };
  worker.on('message', (reply: unknown) => answered.push(serialize(reply).length));
  return worker;
}

let runner: TestRunner;
const log = new MemorySessionLog();
let pool: WorkerPool;
/** Bytes the workers' state hashing absorbed so far (the pool's metric). */
const hashedStateBytes = (): number => pool.stats.hashedStateBytes;

beforeAll(async () => {
  pool = new WorkerPool({ size: 1, spawn: countingSpawn });
  runner = await testRunner({ pool, log });
});
afterAll(async () => {
  await runner.close();
  await pool.close();
});

const moduleSession = (r: TestRunner) => openTestSession(r.ledger, 'hello', { moduleHash: r.ledger.putModule(STATE_OPS_WASM) });
const small = (i: number) => stateOpsInput([{ op: 'write', key: new Uint8Array([0xff, i]), value: new Uint8Array([i, i, i]) }]);

describe('a session whose state is near the cap', () => {
  let user: TestClient;

  it('is built by one call', async () => {
    user = new TestClient(runner.app, moduleSession(runner));
    const fill = await user.call(stateOpsInput([{ op: 'fill', tag: 0x10, count: 64, valueBytes: 64_000 }]), FILL_GAS_LIMIT);
    expect(fill.status).toBe(200);
    expect(fill.receipt?.status).toBe(CallStatus.Ok);
    const bytes = encodeStateBytes(user.state).length;
    expect(bytes).toBeGreaterThan(DEFAULT_MAX_STATE_BYTES - 128 * 1024);
    expect(bytes).toBeLessThanOrEqual(DEFAULT_MAX_STATE_BYTES);
    expect(user.stateHash()).toBe(fill.receipt?.postStateHash);
  });

  it('then each small call posts, answers and hashes O(changed) bytes, and the receipts chain', async () => {
    for (let i = 0; i < 3; i++) {
      posted = [];
      answered = [];
      const hashedBefore = hashedStateBytes();
      const call = await user.call(small(i));
      expect(call.status).toBe(200);
      expect(user.stateHash()).toBe(call.receipt?.postStateHash);
      expect(posted.reduce((a, b) => a + b, 0)).toBeLessThan(SMALL_BYTES);
      expect(answered.reduce((a, b) => a + b, 0)).toBeLessThan(SMALL_BYTES);
      expect(hashedStateBytes() - hashedBefore).toBeLessThan(SMALL_BYTES);
    }
  });

  it('a replaced worker is seeded again from the runner\'s copy, once, and the next calls are small again', async () => {
    const restarts = pool.restarts;
    await workers.at(-1)!.terminate();
    await untilTrue('the worker replaced and ready', () => pool.restarts === restarts + 1 && pool.ready === 1);
    posted = [];
    const seeded = await user.call(small(7));
    expect(seeded.status).toBe(200);
    expect(user.stateHash()).toBe(seeded.receipt?.postStateHash);
    expect(posted.reduce((a, b) => a + b, 0)).toBeGreaterThan(DEFAULT_MAX_STATE_BYTES - 128 * 1024);
    posted = [];
    const next = await user.call(small(8));
    expect(next.status).toBe(200);
    expect(posted.reduce((a, b) => a + b, 0)).toBeLessThan(SMALL_BYTES);
  });

  it('a runner restarted from the log continues the session where it stopped', async () => {
    const again = await testRunner({ pool, log, ledger: runner.ledger });
    try {
      const resumed = new TestClient(again.app, user.sessionId);
      Object.assign(resumed, { seq: user.seq, ackedGas: user.ackedGas, preStateHash: user.preStateHash, state: user.state });
      const call = await resumed.call(small(9));
      expect(call.status).toBe(200);
      expect(resumed.stateHash()).toBe(call.receipt?.postStateHash);
    } finally {
      await again.calls.close();
      await again.app.close();
    }
  });
});
