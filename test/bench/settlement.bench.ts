// Settlement throughput of the gas contract: receipts/s of apply() on batches of 1,000 pre-verified
// receipts spread over many sessions, against one receipt per apply() in the same run.
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { parseAddress } from '../../contracts/hex.ts';
import { apply } from '../../contracts/gas/apply.ts';
import type { CallInput } from '../../contracts/gas/apply.ts';
import { genesisState, parseGenesis } from '../../contracts/gas/genesis.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import type { State } from '../../contracts/gas/state.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash, Method, VerifiedReceipt } from '../../contracts/types.ts';
import { MAX_UINT256, MAX_UINT64, wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { fmt, printTable, writeResults } from './harness.ts';

const PROVIDERS = 10;
const ZAPPS = 10;
const SESSIONS = 10_000;
const BATCH = 1_000;
const ROUNDS = 20; // receipts per session
const SINGLE = 20_000; // receipts applied one per call for the baseline
/** Each call's limit (well above what a call here uses; the session's gasLimit leaves room for all of them). */
const CALL_GAS_LIMIT = 10_000n as Gas;

const hex64 = (n: number, tag: number): Hash => `0x${tag.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}` as Hash;
const addr = (n: number, tag: number): Address => parseAddress(`0x${tag.toString(16).padStart(8, '0')}${n.toString(16).padStart(32, '0')}`);

interface Fixture { state: State; sessions: Hash[]; signer: Address; t0: bigint }

function build(): Fixture {
  const owners = Array.from({ length: ZAPPS }, (_, i) => addr(i, 1));
  const providers = Array.from({ length: PROVIDERS }, (_, i) => addr(i, 2));
  const signer = addr(0, 3);
  const genesis = parseGenesis({
    chainId: '73405', contract: '0x00000000000000000000000000000000007a6761', timestamp: '1700000000',
    accounts: [...owners, ...providers].map((address) => ({ address, balance: wholeQsr(100_000_000).toString() })),
  });
  const state = genesisState(genesis);
  let t = genesis.timestamp;
  let n = 0;
  const call = (from: Address, method: Method<VerifiedReceipt>): Hash => {
    const callHash = hex64(n++, 9);
    const input: CallInput = { kind: 'call', from, nonce: state.accounts.get(from)?.nonce ?? 0n, callHash, method };
    const out = apply(state, input, { height: BigInt(n), timestamp: t });
    if (!out.result.ok) throw new Error(`${method.name}: ${out.result.code}`);
    return callHash;
  };
  const zApps = owners.map((owner) => {
    const id = call(owner, { name: 'RegisterZApp', moduleHash: hex64(0, 7), maxPricePerMgas: wholeQsr(1), maxGasPerSession: 10n ** 12n as Gas, openToAll: false, openGasPerDay: 0n as Gas });
    call(owner, { name: 'TopUp', zAppId: id, amount: wholeQsr(50_000_000) });
    return id;
  });
  for (const p of providers) call(p, { name: 'RegisterProvider', receiptSigner: signer, pricePerMgas: 1_000n as Qsr, upfrontGas: 1_000n as Gas, stake: wholeQsr(10_000) });
  const sessions: Hash[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    sessions.push(call(owners[i % ZAPPS]!, { name: 'OpenSession', zAppId: zApps[i % ZAPPS]!, provider: providers[i % PROVIDERS]!, user: addr(i, 4), gasLimit: 10n ** 9n as Gas, durationSeconds: 86_400n, maxPricePerMgas: MAX_UINT256 as Qsr, maxUpfrontGas: MAX_UINT64 as Gas }));
  }
  t += 1n;
  return { state, sessions, signer, t0: t };
}

/**
 * Consistent receipts: round r (seq r+1) for every session, in session order. State hashes are
 * shared per round (each session's chain is still consistent), digests are unique per receipt.
 */
function receipts(fx: Fixture): VerifiedReceipt[] {
  const out: VerifiedReceipt[] = [];
  const stateAfter = Array.from({ length: ROUNDS }, (_, r) => hex64(r, 5));
  const inputHash = hex64(0, 6);
  const outputHash = hex64(0, 8);
  const signature = `0x${'00'.repeat(65)}` as const;
  const cumulative = new Array<bigint>(fx.sessions.length).fill(0n);
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    fx.sessions.forEach((sessionId, i) => {
      const callGas = (5_000n + BigInt(k % 977)) as Gas;
      cumulative[i]! += callGas;
      out.push({
        receipt: {
          sessionId, seq: BigInt(round + 1), callGasLimit: CALL_GAS_LIMIT, callGas, cumulativeGas: cumulative[i]! as Gas, inputHash,
          preStateHash: round === 0 ? EMPTY_STATE_HASH : stateAfter[round - 1]!, postStateHash: stateAfter[round]!,
          outputHash, status: CallStatus.Ok, signature, invocationSignature: signature,
        },
        signer: fx.signer,
        invocationSigner: addr(i, 4),
        digest: hex64(k, 10),
      });
      k++;
    });
  }
  return out;
}

function measure(fx: Fixture, all: VerifiedReceipt[], perCall: number, limit: number): { rate: number; cpuRate: number; settled: number; ms: number; cpuMs: number } {
  let settled = 0;
  let t = fx.t0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < limit; i += perCall) {
    const batch = all.slice(i, Math.min(i + perCall, limit));
    const out = apply(fx.state, { kind: 'receipts', receipts: batch }, { height: BigInt(i), timestamp: t });
    if (!out.result.ok) throw new Error(out.result.code);
    for (const o of out.result.outcomes!) if (o.outcome === 'Settled') settled++;
    if ((i / perCall) % 10 === 9) t += 1n; // a momentum a second, ten batches each
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  return { rate: (limit * 1000) / ms, cpuRate: (limit * 1000) / cpuMs, settled, ms, cpuMs };
}

export async function run(): Promise<void> {
  const batched = build();
  const single = build();
  const stream = receipts(batched);
  // warm-up on a throwaway fixture so both rows run compiled code
  const warm = build();
  measure(warm, stream, BATCH, 20_000);

  const one = measure(single, stream, 1, SINGLE);
  const many = measure(batched, stream, BATCH, stream.length);
  if (many.settled !== stream.length || one.settled !== SINGLE) throw new Error('not every receipt settled');
  checkInvariants(batched.state);
  checkInvariants(single.state);

  const table = {
    title: `settlement: apply() on pre-verified receipts (${SESSIONS.toLocaleString('en-US')} sessions, ${PROVIDERS} providers, ${ZAPPS} zApps)`,
    columns: ['case', 'receipts', 'wall ms', 'receipts/s', 'cpu ms', 'receipts/cpu-s', 'ratio'],
    rows: [
      { case: 'baseline: 1 receipt per apply', receipts: fmt(SINGLE), 'wall ms': fmt(one.ms, 1), 'receipts/s': fmt(one.rate), 'cpu ms': fmt(one.cpuMs, 1), 'receipts/cpu-s': fmt(one.cpuRate), ratio: '1.00x' },
      { case: `batches of ${BATCH}`, receipts: fmt(stream.length), 'wall ms': fmt(many.ms, 1), 'receipts/s': fmt(many.rate), 'cpu ms': fmt(many.cpuMs, 1), 'receipts/cpu-s': fmt(many.cpuRate), ratio: `${(many.rate / one.rate).toFixed(2)}x` },
    ],
    notes: ['aim: >= 100,000 receipts/s for batches of 1,000; signatures are verified before apply (not measured here)', 'cpu columns: process CPU time (all threads, GC included), steadier than wall time on a shared machine', 'every receipt settles (charges, pending earnings, checkpoints); invariants checked per input on what it touched'],
    data: { single: one, batched: many, sessions: SESSIONS, providers: PROVIDERS, zApps: ZAPPS, batch: BATCH },
  };
  printTable(table);
  writeResults('settlement', [table]);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
