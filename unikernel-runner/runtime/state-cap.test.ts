import { describe, expect, it } from 'vitest';
import { contextSeed } from '../../contracts/hash.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { compileWat } from '../zapps/load.ts';
import { DEFAULT_MAX_INPUT_BYTES, executeCall } from './execute.ts';
import { HashedState } from './hashed-state.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { createReexecutor } from './reexecutor.ts';
import { EMPTY_STATE, encodeStateBytes, hashState } from './state.ts';
import { gasTableByName } from '../metering/registry.ts';
import { sha3 } from '../../contracts/hash.ts';
import { gasTableHash } from '../metering/table.ts';

// Stores its whole input under the one-byte key "k": the state then takes 8 + 1 + len bytes encoded.
const STORE_INPUT = compileWat(`(module
  (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "k")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (call $write (i32.const 0) (i32.const 1) (local.get $ptr) (local.get $len))
    (i64.const 0)))`);

const table = gasTableByName();
const prices = hostPrices(table);
const SESSION = `0x${'5c'.repeat(32)}` as Hash;
const CAP = 100;

function run(valueBytes: number) {
  const input = new Uint8Array(valueBytes).fill(7);
  const request = { input, gasLimit: gas(10_000_000n), seed: contextSeed(SESSION, 1n), maxStateBytes: CAP, maxInputBytes: DEFAULT_MAX_INPUT_BYTES };
  const state = HashedState.empty();
  const outcome = executeCall(prepareModule(STORE_INPUT, table), { ...request, state }, prices);
  const rerun = createReexecutor({ gasTable: gasTableHash(table) }).rerun({ ...request, module: STORE_INPUT, moduleHash: sha3(STORE_INPUT), preState: encodeStateBytes(EMPTY_STATE) });
  return { outcome, postState: state, rerun };
}

describe('the genesis maxStateBytes', () => {
  it('a call may leave a state of exactly maxStateBytes in the canonical encoding, and the re-executor agrees', () => {
    const { outcome, postState, rerun } = run(CAP - 9);
    expect(outcome.status).toBe(CallStatus.Ok);
    expect(encodeStateBytes(postState).length).toBe(CAP);
    expect(rerun).toEqual({ callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: CallStatus.Ok });
  });

  it('one byte more traps the call, changes nothing, and the re-executor traps at the same gas', () => {
    const { outcome, rerun } = run(CAP - 8);
    expect(outcome.status).toBe(CallStatus.Trapped);
    expect(outcome.postStateHash).toBe(hashState(EMPTY_STATE));
    expect(outcome.trap).toMatch(/more than 100 bytes/);
    expect(rerun).toEqual({ callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: CallStatus.Trapped });
  });
});
