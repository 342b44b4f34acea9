// Verify mode's cost per call: the user's client re-executes each call with the same metered
// runtime (state encoding + re-execution + comparison), next to what the runner spent running it.
import { contextSeed, EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import type { Hash, Hex, SettlementReceipt } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import type { SettlementClient } from '../../services/client/settlement.ts';
import type { CompletedCall } from '../../services/client/session.ts';
import { SessionState } from '../../services/client/state.ts';
import { Verifier } from '../../services/client/verify.ts';
import { executeCall } from '../../unikernel-runner/runtime/execute.ts';
import { HashedState } from '../../unikernel-runner/runtime/hashed-state.ts';
import { hostPrices, prepareModule } from '../../unikernel-runner/runtime/prepare.ts';
import { DEFAULT_MAX_STATE_BYTES, stateEntries } from '../../unikernel-runner/runtime/state.ts';
import type { State } from '../../unikernel-runner/runtime/state.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { ZAppName } from '../../unikernel-runner/zapps/load.ts';
import { fmt, percentile, printTable, writeResults } from './harness.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';

const CALLS = Number(process.env.ZGAS_BENCH_VERIFY_CALLS ?? 300);
const CALL_GAS_LIMIT = gas(5_000_000_000n);
const SIGNATURE = `0x${'00'.repeat(65)}` as Hex;
const CASES: Array<{ zApp: ZAppName; input: string }> = [
  { zApp: 'counter', input: 'increment' },
  { zApp: 'fuddor-meme', input: 'Fuddor the Unmetered' },
  { zApp: 'spin', input: '200000' },
];

const toWrites = (before: State, after: State) => {
  const writes: Array<{ key: Hex; value: Hex | null }> = [];
  for (const [key, value] of after) if (before.get(key) !== value) writes.push({ key, value: `0x${Buffer.from(value).toString('hex')}` as Hex });
  for (const key of before.keys()) if (!after.has(key)) writes.push({ key, value: null });
  return writes;
};

export async function run(): Promise<void> {
  const table = gasTableByName();
  const prices = hostPrices(table);
  const rows = [];
  const data: Record<string, unknown> = {};
  for (const { zApp, input } of CASES) {
    const module = loadZApp(zApp);
    const prepared = prepareModule(module, table);
    const sessionId = `0x${'7e'.repeat(32)}` as Hash;
    // Not used: nothing is challenged when every receipt holds.
    const verifier = new Verifier({ api: {} as SettlementClient, challenger: {} as never, module, autoChallenge: false });
    const state = HashedState.empty();
    let before: State = new Map();
    let client = SessionState.empty();
    const runMs: number[] = [];
    const verifyMs: number[] = [];
    let held = 0;
    let cumulative = 0n;
    for (let i = 1; i <= CALLS; i++) {
      const seq = BigInt(i);
      const bytes = utf8Bytes(input);
      const startRun = performance.now();
      const outcome = executeCall(prepared, { state, input: bytes, gasLimit: CALL_GAS_LIMIT, seed: contextSeed(sessionId, seq), maxStateBytes: DEFAULT_MAX_STATE_BYTES , maxInputBytes: DEFAULT_MAX_INPUT_BYTES}, prices);
      runMs.push(performance.now() - startRun);
      cumulative += outcome.callGas;
      const receipt: SettlementReceipt = {
        sessionId, seq, callGasLimit: CALL_GAS_LIMIT, callGas: outcome.callGas, cumulativeGas: gas(cumulative), inputHash: EMPTY_STATE_HASH,
        preStateHash: client.hash(), postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status,
        signature: SIGNATURE, invocationSignature: SIGNATURE,
      };
      const next = client.apply(toWrites(before, state));
      const call: CompletedCall = { seq, input: bytes, output: outcome.output, writes: [], preState: client, postState: next, receipt };
      const startVerify = performance.now();
      const verification = await verifier.verify(sessionId, call);
      verifyMs.push(performance.now() - startVerify);
      if (verification.disproved.length === 0) held++;
      before = new Map(state);
      client = next;
    }
    const r = [...runMs].sort((a, b) => a - b);
    const v = [...verifyMs].sort((a, b) => a - b);
    const runP50 = percentile(r, 50);
    const verifyP50 = percentile(v, 50);
    rows.push({
      zApp, calls: CALLS, 'state entries': stateEntries(state).length, 'run p50 ms': fmt(runP50, 3), 'verify p50 ms': fmt(verifyP50, 3),
      'verify p99 ms': fmt(percentile(v, 99), 3), 'verify ÷ run': `${fmt(verifyP50 / runP50, 2)}x`, held: `${held}/${CALLS}`,
    });
    data[zApp] = { runMs, verifyMs, held };
  }
  const tables = [{
    title: 'Verify mode: re-executing a call in the user\'s client vs running it in the runner (same metered runtime, one thread)',
    columns: ['zApp', 'calls', 'state entries', 'run p50 ms', 'verify p50 ms', 'verify p99 ms', 'verify ÷ run', 'held'],
    rows,
    notes: ['verify = encode the client\'s copy of the pre-state + re-execute under the receipt\'s callGasLimit + compare callGas, status, postStateHash, outputHash (no challenge: every receipt holds)'],
    data,
  }];
  for (const t of tables) printTable(t);
  writeResults('verify', tables);
}
