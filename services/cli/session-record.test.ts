import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import type { Address, Hash, Hex, SettlementReceipt, StateWrite } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { SessionState } from '../client/state.ts';
import type { CompletedCall } from '../client/session.ts';
import { readSessionRecord, writeSessionRecord } from './session-record.ts';
import type { SessionRecord } from './session-record.ts';

const SESSION = sha3(utf8Bytes('session')) as Hash;
const SIG = `0x${'11'.repeat(32)}${'22'.repeat(32)}1b` as Hex;

function callOf(seq: bigint, pre: SessionState, writes: StateWrite[], cumulative: bigint): CompletedCall {
  const post = pre.apply(writes);
  const input = utf8Bytes(`call ${seq}`);
  const output = utf8Bytes(String(seq));
  const receipt: SettlementReceipt = {
    sessionId: SESSION, seq, callGasLimit: 1_000_000n as Gas, callGas: 100n as Gas, cumulativeGas: cumulative as Gas,
    inputHash: sha3(input), preStateHash: pre.hash(), postStateHash: post.hash(), outputHash: sha3(output), status: 1,
    signature: SIG, invocationSignature: SIG,
  };
  return { seq, input, output, writes, preState: pre, postState: post, receipt };
}

describe('the local record of a session', () => {
  it('reads back every call with its pre- and post-state rebuilt from the writes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'zgas-home-'));
    expect(await readSessionRecord(home, SESSION)).toBeNull();
    const first = callOf(1n, SessionState.empty(), [{ key: '0x636f756e74' as Hex, value: '0x01' as Hex }], 100n);
    const second = callOf(2n, first.postState, [{ key: '0x636f756e74' as Hex, value: '0x02' as Hex }, { key: '0x6f6c64' as Hex, value: null }], 200n);
    const record: SessionRecord = {
      sessionId: SESSION, apiUrl: 'http://127.0.0.1:8645', runnerUrl: 'http://127.0.0.1:8646', chainId: 73405n,
      contract: '0x00000000000000000000000000000000007A6761' as Address, user: '0x1D151c336Ad060Ec8ABFC3Fb57293b1d1Fcb2465' as Address, stopped: false, calls: [first, second],
      pending: { seq: 3n, input: utf8Bytes('three'), callGasLimit: 5_000n as Gas },
    };
    await writeSessionRecord(home, record);
    const back = await readSessionRecord(home, SESSION.toUpperCase().replace('0X', '0x'));
    expect(back?.calls.map((c) => c.seq)).toEqual([1n, 2n]);
    expect(back?.calls[1]?.preState.hash()).toBe(first.postState.hash());
    expect(back?.calls[1]?.postState.hash()).toBe(second.postState.hash());
    expect(back?.calls[1]?.receipt).toEqual(second.receipt);
    expect(back?.calls[0]?.input).toEqual(first.input);
    expect(back?.pending).toEqual(record.pending);
  });
});
