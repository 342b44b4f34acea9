import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextSeed } from '../../contracts/hash.ts';
import { hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { SettlementReceipt } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { openTestSession, TestClient, testRunner } from '../../test/support/runner-kit.ts';
import type { TestRunner } from '../../test/support/runner-kit.ts';
import { loadZApp } from '../zapps/load.ts';
import { createReexecutor } from './reexecutor.ts';
import { encodeStateBytes } from './state.ts';
import type { State } from './state.ts';
import { DEFAULT_MAX_STATE_BYTES } from './state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from './execute.ts';
import { sha3 } from '../../contracts/hash.ts';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';
import { gasTableByName, METERING_VERSION } from '../metering/registry.ts';
import { EXTENDED_GAS_TABLE, gasTableHash } from '../metering/table.ts';
import { prepareModule } from './prepare.ts';

let runner: TestRunner;
const reexecutor = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH });

beforeAll(async () => {
  runner = await testRunner();
});
afterAll(async () => {
  await runner.close();
});

function rerun(receipt: SettlementReceipt, preState: State, input: Uint8Array, gasLimit: Gas = receipt.callGasLimit) {
  return reexecutor.rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module: loadZApp('counter'), moduleHash: sha3(loadZApp('counter')), preState: encodeStateBytes(preState), input, gasLimit, seed: contextSeed(receipt.sessionId, receipt.seq) });
}

describe('createReexecutor', () => {
  it("reproduces the runner's receipts under each receipt's callGasLimit: Ok, OutOfGas at the limit", async () => {
    const user = new TestClient(runner.app, openTestSession(runner.ledger, 'counter'));
    const calls: Array<{ receipt: SettlementReceipt; preState: State; input: Uint8Array }> = [];
    for (const [input, limit] of [['increment', 50_000_000n], ['increment', 1_000n], ['increment', 10_000_000n]] as const) {
      const preState = user.state;
      const res = await user.call(input, gas(limit));
      calls.push({ receipt: res.receipt!, preState, input: utf8Bytes(input) });
    }
    expect(calls.map((c) => c.receipt.status)).toEqual([CallStatus.Ok, CallStatus.OutOfGas, CallStatus.Ok]);
    for (const { receipt, preState, input } of calls) {
      expect(rerun(receipt, preState, input)).toEqual({ callGas: receipt.callGas, postStateHash: receipt.postStateHash, outputHash: receipt.outputHash, status: receipt.status });
    }
    // Under a lower limit than the one signed, an Ok call would be judged OutOfGas: the limit must be the receipt's.
    const ok = calls[0]!;
    expect(rerun(ok.receipt, ok.preState, ok.input, gas(ok.receipt.callGas - 1n)).status).toBe(CallStatus.OutOfGas);
    expect(hexToBytes(user.receipts[2]!.outputHash).length).toBe(32);
  });
});

describe('createReexecutor from the genesis pin', () => {
  it.each([
    ['a gas table this build does not ship', { gasTable: `0x${'00'.repeat(32)}` as const }, 'gasTable'],
    ['another metering version', { gasTable: DEFAULT_GAS_TABLE_HASH, meteringVersion: METERING_VERSION + 1 }, 'meteringVersion'],
  ])('refuses %s', (_name, pin, field) => {
    expect(() => createReexecutor(pin)).toThrowError(expect.objectContaining({ code: 'MeteringMismatch', details: expect.objectContaining({ field }) }));
  });

  it('meters with the table the pin names', () => {
    const extended = gasTableByName(EXTENDED_GAS_TABLE);
    const request = { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module: loadZApp('counter'), moduleHash: sha3(loadZApp('counter')), preState: new Uint8Array(0), input: utf8Bytes('increment'), gasLimit: gas(50_000_000n), seed: contextSeed(`0x${'01'.repeat(32)}`, 1n) };
    const byDefault = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }).rerun(request);
    const byExtended = createReexecutor({ gasTable: gasTableHash(extended) }).rerun(request);
    expect(byExtended.status).toBe(CallStatus.Ok);
    expect(byExtended.postStateHash).toBe(byDefault.postStateHash);
  });
});

describe('a prepared module is found by its hash', () => {
  it('a second preparation of the same module hashes no byte; the re-executor passes the hash the contract checked', () => {
    const table = gasTableByName(EXTENDED_GAS_TABLE);
    const module = loadZApp('hello');
    let bytesHashed = 0;
    const counting = (bytes: Uint8Array) => {
      bytesHashed += bytes.length;
      return sha3(bytes);
    };
    const first = prepareModule(module.slice(), table, undefined, counting);
    expect(bytesHashed).toBe(module.length);
    const second = prepareModule(module.slice(), table, sha3(module), counting);
    const third = prepareModule(module.slice(), table, sha3(module), counting);
    expect(bytesHashed).toBe(module.length);
    expect(second).toBe(first);
    expect(third).toBe(first);
    // The re-executor looks the module up by the moduleHash it is given: bytes it would hash differently are not read again.
    const request = { maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, moduleHash: sha3(module), preState: new Uint8Array(0), input: utf8Bytes('zgas'), gasLimit: gas(50_000_000n), seed: contextSeed(`0x${'02'.repeat(32)}`, 1n) };
    const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });
    const honest = reexecutor.rerun({ ...request, module });
    expect(reexecutor.rerun({ ...request, module: new Uint8Array(module.length) })).toEqual(honest);
  });
});
