import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { loadZApp } from '../zapps/load.ts';
import type { ZAppName } from '../zapps/load.ts';
import { WorkerPool } from './pool.ts';
import type { CallJob } from './pool.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { createReexecutor } from './reexecutor.ts';
import { encodeStateBytes, hashState, stateFromEntries } from './state.ts';
import type { State } from './state.ts';
import { gasTableByName } from '../metering/registry.ts';
import { STATE_OPS_WASM } from '../../test/support/state-ops.ts';
import { untilTrue } from '../../test/support/wait.ts';
import { DEFAULT_MAX_STATE_BYTES } from './state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from './execute.ts';
import { gasTableHash } from '../metering/table.ts';

const table = gasTableByName();
const prices = hostPrices(table);
const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });
const SESSION = `0x${'ab'.repeat(32)}` as Hash;
const STATE = stateFromEntries([[utf8Bytes('count'), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 41])]]);

function job(name: ZAppName, input: string, gasLimit: bigint, preState: State = STATE, sessionId: Hash = SESSION): CallJob {
  return { sessionId, preStateHash: hashState(preState), preState, prepared: prepareModule(loadZApp(name), table), prices, input: utf8Bytes(input), gasLimit: gas(gasLimit), seed: contextSeed(SESSION, 1n), maxStateBytes: DEFAULT_MAX_STATE_BYTES , maxInputBytes: DEFAULT_MAX_INPUT_BYTES};
}

function rerun(name: ZAppName, j: CallJob, gasLimit: bigint) {
  return reexecutor.rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module: loadZApp(name), moduleHash: sha3(loadZApp(name)), preState: encodeStateBytes(j.preState), input: j.input, gasLimit: gas(gasLimit), seed: j.seed });
}

const pools: WorkerPool[] = [];
const newPool = (options: ConstructorParameters<typeof WorkerPool>[0]) => {
  const pool = new WorkerPool(options);
  pools.push(pool);
  return pool;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('worker pool and re-executor', () => {
  it('a call run in the pool and re-run by the re-executor agree on every receipt field', async () => {
    const pool = newPool({ size: 2 });
    for (const [name, input] of [['counter', ''], ['hello', 'pool'], ['fuddor-meme', 'name'], ['recursion', ''], ['loop', '']] as const) {
      const j = job(name, input, 3_000_000n);
      const outcome = await pool.submit(j).result;
      const again = rerun(name, j, 3_000_000n);
      expect({ name, callGas: again.callGas, postStateHash: again.postStateHash, outputHash: again.outputHash, status: again.status }).toEqual({
        name,
        callGas: outcome.callGas,
        postStateHash: outcome.postStateHash,
        outputHash: outcome.outputHash,
        status: outcome.status,
      });
    }
    const counted = await pool.submit(job('counter', '', 1_000_000n)).result;
    expect(Buffer.from(counted.output).toString()).toBe('42');
    expect(counted.outputHash).toBe(sha3(utf8Bytes('42')));
  });

  it('an aborted spin call stops Aborted; re-judged with callGas as its limit it runs out of gas with post = pre', async () => {
    const pool = newPool({ size: 1 });
    await pool.submit(job('hello', 'warm up', 1_000_000n)).result;
    const j = job('spin', '100000000000', 1_000_000_000_000n);
    const call = pool.submit(j);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pool.abort(call.id)).toBe(true);
    const outcome = await call.result;
    expect(outcome.status).toBe(CallStatus.Aborted);
    expect(outcome.postStateHash).toBe(hashState(STATE));
    expect(outcome.output.length).toBe(0);
    // stopped by the abort, far below its limit (how far it got depends on scheduling, not on the protocol)
    expect(outcome.callGas).toBeLessThan(1_000_000_000_000n);
    const judged = rerun('spin', j, outcome.callGas);
    expect(judged.status).toBe(CallStatus.OutOfGas);
    expect(judged.callGas).toBe(outcome.callGas);
    expect(judged.postStateHash).toBe(hashState(STATE));
    // the flag is per call: the worker's next call runs normally
    expect((await pool.submit(job('hello', 'again', 1_000_000n)).result).status).toBe(CallStatus.Ok);
    expect(pool.abort(call.id)).toBe(false);
  });

  it('a worker that stops answering is terminated and replaced, and the next call works', async () => {
    const pool = newPool({ size: 1, timeoutMs: 1_500 });
    // a limit far beyond what the timeout lets it spend
    await expect(pool.submit(job('loop', '', 10n ** 15n)).result).rejects.toMatchObject({ code: 'CallTimeout' });
    expect(pool.restarts).toBe(1);
    const next = await pool.submit(job('hello', 'still here', 1_000_000n)).result;
    expect(Buffer.from(next.output).toString()).toBe('Hello, still here');
  });

  it('a call over the time limit is aborted like a user abort, and its receipt holds on re-execution', async () => {
    const pool = newPool({ size: 1, callTimeLimitMs: 300, timeoutMs: 10_000 });
    await pool.submit(job('hello', 'warm up', 1_000_000n)).result;
    const j = job('loop', '', 10n ** 15n);
    const outcome = await pool.submit(j).result;
    expect(outcome.status).toBe(CallStatus.Aborted);
    expect(pool.restarts).toBe(0);
    expect(rerun('loop', j, outcome.callGas)).toMatchObject({ status: CallStatus.OutOfGas, callGas: outcome.callGas, postStateHash: hashState(STATE) });
  });

  it('keeps a session\'s state in its worker: seeded once, then calls carry none; past its bound a worker drops the least recently used session', async () => {
    const pool = newPool({ size: 1, maxHeldSessions: 1 });
    const a = `0x${'a1'.repeat(32)}` as Hash;
    const b = `0x${'b2'.repeat(32)}` as Hash;
    const count = (n: number) => stateFromEntries([[utf8Bytes('count'), new Uint8Array([0, 0, 0, 0, 0, 0, 0, n])]]);
    const first = await pool.submit(job('counter', '', 1_000_000n, count(41), a)).result;
    expect(first.postStateHash).toBe(hashState(count(42)));
    expect(pool.stats.seeds).toBe(1);
    const second = await pool.submit(job('counter', '', 1_000_000n, count(42), a)).result;
    expect(Buffer.from(second.output).toString()).toBe('43');
    expect(pool.stats.seeds).toBe(1);
    await pool.submit(job('counter', '', 1_000_000n, count(7), b)).result;
    expect(pool.stats.seeds).toBe(2);
    const third = await pool.submit(job('counter', '', 1_000_000n, count(43), a)).result;
    expect(Buffer.from(third.output).toString()).toBe('44');
    expect(pool.stats.seeds).toBe(3);
  });

  it('a call whose large state is held by a busy worker waits for it rather than seed an idle one', async () => {
    const pool = newPool({ size: 2 });
    const big = `0x${'d4'.repeat(32)}` as Hash;
    const other = `0x${'e5'.repeat(32)}` as Hash;
    const busy = `0x${'f6'.repeat(32)}` as Hash;
    const bigState = stateFromEntries([[utf8Bytes('a'), new Uint8Array(40_000)], [utf8Bytes('b'), new Uint8Array(40_000)]]);
    const ops = (sessionId: Hash): CallJob => ({ ...job('hello', '', 1_000_000n, bigState, sessionId), prepared: prepareModule(STATE_OPS_WASM, table), input: new Uint8Array(0) });
    await untilTrue('both workers ready', () => pool.ready === 2);
    expect((await pool.submit(ops(big)).result).status).toBe(CallStatus.Ok);
    // one spin goes to the worker without state, the next to the one holding the large session
    const spins = [pool.submit(job('spin', '100000000000', 10n ** 15n, STATE, other)), pool.submit(job('spin', '100000000000', 10n ** 15n, STATE, busy))];
    expect(pool.busy).toBe(2);
    const waiting = pool.submit(ops(big));
    expect(pool.queued).toBe(1);
    // the worker without the state comes free: the call still waits for the one holding it
    pool.abort(spins[0]!.id);
    expect((await spins[0]!.result).status).toBe(CallStatus.Aborted);
    expect(pool.queued).toBe(1);
    pool.abort(spins[1]!.id);
    expect((await spins[1]!.result).status).toBe(CallStatus.Aborted);
    expect((await waiting.result).status).toBe(CallStatus.Ok);
    // seeded once for the large session and once for each spin's session, never again for the large one
    expect(pool.stats.seeds).toBe(3);
  });

  it('refuses to run on a seed that does not hash to the pre-state hash the call names, and runs once seeded right', async () => {
    const pool = newPool({ size: 1 });
    const session = `0x${'c3'.repeat(32)}` as Hash;
    const wrong = { ...job('counter', '', 1_000_000n, STATE, session), preStateHash: hashState(stateFromEntries([])) };
    await expect(pool.submit(wrong).result).rejects.toMatchObject({ code: 'Internal' });
    expect((await pool.submit(job('counter', '', 1_000_000n, STATE, session)).result).status).toBe(CallStatus.Ok);
  });

  it('a worker that cannot start fails waiting calls with NotReady instead of looping', async () => {
    let spawned = 0;
    const pool = newPool({
      size: 1,
      spawn: (init) => {
        spawned++;
        return new Worker('process.exit(3)', { eval: true, workerData: init });
      },
    });
    await expect(pool.submit(job('hello', 'x', 1_000_000n)).result).rejects.toMatchObject({ code: 'NotReady' });
    expect(spawned).toBe(1);
    expect(pool.ready).toBe(0);
  });

  it('refuses with RunnerBusy beyond its queue limit', async () => {
    const pool = newPool({ size: 1, queueLimit: 1 });
    await pool.submit(job('hello', 'warm up', 1_000_000n)).result;
    const running = pool.submit(job('spin', '100000000000', 10n ** 15n));
    const queued = pool.submit(job('hello', 'queued', 1_000_000n));
    expect(() => pool.submit(job('hello', 'one too many', 1_000_000n))).toThrow(expect.objectContaining({ code: 'RunnerBusy' }));
    pool.abort(running.id);
    expect((await running.result).status).toBe(CallStatus.Aborted);
    expect((await queued.result).status).toBe(CallStatus.Ok);
  });

  it('a call aborted while still queued stops at its first checkpoint', async () => {
    const pool = newPool({ size: 1 });
    const first = pool.submit(job('spin', '100000000000', 10n ** 15n));
    const second = pool.submit(job('spin', '100000000000', 10n ** 15n));
    pool.abort(second.id);
    pool.abort(first.id);
    expect((await first.result).status).toBe(CallStatus.Aborted);
    const outcome = await second.result;
    expect(outcome.status).toBe(CallStatus.Aborted);
    expect(rerun('spin', job('spin', '100000000000', 0n), outcome.callGas).status).toBe(CallStatus.OutOfGas);
  });
});
