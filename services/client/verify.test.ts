import { describe, expect, it } from 'vitest';
import { makeDomain, settlementReceipt, signInvocation, signReceipt } from '../../contracts/eip712/index.ts';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { GasReceipt, Hash } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { CompletedCall } from './session.ts';
import { SettlementClient } from './settlement.ts';
import { SessionState } from './state.ts';
import { disprovedFields, Verifier } from './verify.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';

const domain = makeDomain(73405n, '0x00000000000000000000000000000000007a6761');
const providerKey = sha3(utf8Bytes('verify test provider'));
const userKey = sha3(utf8Bytes('verify test user'));
const sessionId = sha3(utf8Bytes('verify test session')) as Hash;
const module = loadZApp('counter');
const input = utf8Bytes('increment');
const callGasLimit = gas(200_000);

/** The call as the counter zApp really runs it from the empty state. */
const honest = createReexecutor({ gasTable: DEFAULT_GAS_TABLE_HASH }).rerun({ maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES, module, moduleHash: sha3(module), preState: new Uint8Array(0), input, gasLimit: callGasLimit, seed: contextSeed(sessionId, 1n) });

function completed(callGas: bigint, over: Partial<GasReceipt> = {}): CompletedCall {
  const r: GasReceipt = {
    sessionId, seq: 1n, callGasLimit, callGas: gas(callGas), cumulativeGas: gas(callGas), inputHash: sha3(input), preStateHash: SessionState.empty().hash(),
    postStateHash: honest.postStateHash, outputHash: honest.outputHash, status: honest.status, ...over,
  };
  const receipt = settlementReceipt(signReceipt(domain, r, providerKey), signInvocation(domain, invocationOf(r), userKey));
  return { seq: 1n, input, output: new Uint8Array(0), writes: [], preState: SessionState.empty(), postState: SessionState.empty(), receipt };
}

// Nothing is sent: these verifiers do not challenge by themselves.
const verifier = new Verifier({ api: new SettlementClient({ baseUrl: 'http://127.0.0.1:9', domain }), challenger: { getAddress: async () => '', signTypedData: async () => '' }, module, autoChallenge: false });

describe('verify mode', () => {
  it('upholds an honest receipt', async () => {
    const v = await verifier.verify(sessionId, completed(honest.callGas));
    expect(v.disproved).toEqual([]);
  });

  it('catches a receipt that claims more gas than the call used, and one with another result', async () => {
    expect((await verifier.verify(sessionId, completed(honest.callGas + 100_000n))).disproved).toEqual(['callGas']);
    expect((await verifier.verify(sessionId, completed(honest.callGas, { outputHash: sha3(utf8Bytes('2')) }))).disproved).toEqual(['outputHash']);
    expect((await verifier.verify(sessionId, completed(honest.callGas, { status: CallStatus.Trapped }))).disproved).toEqual(['status']);
  });

  it('judges an Aborted receipt only by whether the call can finish within its gas', () => {
    const claimed = { callGas: gas(10), postStateHash: honest.postStateHash, outputHash: honest.outputHash, status: CallStatus.Aborted };
    expect(disprovedFields(claimed, { ...honest, status: CallStatus.OutOfGas, callGas: gas(10) })).toEqual([]);
    expect(disprovedFields(claimed, honest)).toEqual(['status']);
  });
});
