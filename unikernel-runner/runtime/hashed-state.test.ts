import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import type { Hash, Hex } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { STATE_OPS_WASM, stateOpsInput } from '../../test/support/state-ops.ts';
import type { StateOp } from '../../test/support/state-ops.ts';
import { DEFAULT_MAX_INPUT_BYTES, executeCall } from './execute.ts';
import { CHECKPOINT_INTERVAL_BYTES, HashedState } from './hashed-state.ts';
import type { StateDiff } from './hashed-state.ts';
import { hostPrices, prepareModule } from './prepare.ts';
import { createReexecutor } from './reexecutor.ts';
import { DEFAULT_MAX_STATE_BYTES, encodedEntryBytes, encodeStateBytes, hashState } from './state.ts';
import { gasTableByName } from '../metering/registry.ts';
import { gasTableHash } from '../metering/table.ts';

const STATE_OPS_HASH = sha3(STATE_OPS_WASM);

const table = gasTableByName();
const prices = hostPrices(table);
const SESSION = `0x${'4e'.repeat(32)}` as Hash;

// Few distinct keys (so writes hit existing entries and deletes find them), values large enough
// that a state spans many checkpoints.
const key = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((k) => bytesToHex(k.map((b) => b % 4)));
const value = fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 0, max: 6_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)));
const diff = fc.uniqueArray(fc.tuple(key, fc.option(value, { freq: 4 })), { selector: ([k]) => k, maxLength: 12 });

/** The diff as the runtime produces it: only keys whose value changes. */
function effective(state: ReadonlyMap<Hex, Uint8Array>, d: StateDiff): StateDiff {
  return d.filter(([k, v]) => (v === null ? state.has(k) : !sameBytes(state.get(k), v)));
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The charge's definition, from the post-state alone: encoded bytes from the first changed key to the end. */
function suffixBytes(post: ReadonlyMap<Hex, Uint8Array>, d: StateDiff): number {
  if (d.length === 0) return 0;
  const first = d.map(([k]) => k).sort()[0]!;
  let bytes = 0;
  for (const [k, v] of post) if (k >= first) bytes += encodedEntryBytes((k.length - 2) / 2, v.length);
  return bytes;
}

describe('incremental state hashing', () => {
  it('after any sequence of diffs the hash is the full stateHash, the plan is exact and the work is the charged suffix plus at most one interval and one entry', () => {
    fc.assert(
      fc.property(fc.array(diff, { maxLength: 25 }), (diffs) => {
        const state = HashedState.empty();
        const plain = new Map<Hex, Uint8Array>();
        for (const raw of diffs) {
          const d = effective(plain, raw);
          const plan = state.plan(d);
          for (const [k, v] of d) {
            if (v === null) plain.delete(k);
            else plain.set(k, v);
          }
          const absorbed = state.absorbedBytes;
          const hash = state.apply(d);
          expect(hash).toBe(hashState(plain));
          expect(plan.rehashBytes).toBe(suffixBytes(plain, d));
          expect(plan.bytes).toBe(encodeStateBytes(plain).length);
          expect(plan.entries).toBe(plain.size);
          expect(state.absorbedBytes - absorbed).toBeLessThanOrEqual(plan.rehashBytes + CHECKPOINT_INTERVAL_BYTES + 8 + 32 + 6_000);
          if (d.length === 0) expect(state.absorbedBytes).toBe(absorbed);
        }
        // compared as one buffer: an element-wise deep equality of ~100 KB would dominate the run
        expect(Buffer.compare(state.encode(), encodeStateBytes(plain))).toBe(0);
        expect(HashedState.decode(state.encode()).hash).toBe(state.hash);
      }),
      { numRuns: 100 },
    );
  });

  it('a write at the last key of a large state re-absorbs about one interval, not the state', () => {
    const entries: Array<[Hex, Uint8Array]> = [];
    for (let i = 0; i < 64; i++) entries.push([bytesToHex(new Uint8Array([0x10, i])), new Uint8Array(64_000)]);
    const state = HashedState.fromEntries(entries);
    const absorbed = state.absorbedBytes;
    const d: StateDiff = [[bytesToHex(new Uint8Array([0xff])), new Uint8Array([1, 2, 3])]];
    expect(state.plan(d).rehashBytes).toBe(8 + 1 + 3);
    state.apply(d);
    expect(state.absorbedBytes - absorbed).toBeLessThan(64_000 + CHECKPOINT_INTERVAL_BYTES + 64);
    expect(state.hash).toBe(hashState(new Map(state)));
  });
});

const op: fc.Arbitrary<StateOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), key: fc.uint8Array({ maxLength: 3 }).map((k) => k.map((b) => b % 5)), value: fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.integer({ min: 0, max: 9_000 }).map((n) => new Uint8Array(n).fill(7))) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.uint8Array({ maxLength: 3 }).map((k) => k.map((b) => b % 5)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fill' as const), tag: fc.integer({ min: 0, max: 4 }), count: fc.integer({ min: 0, max: 6 }), valueBytes: fc.integer({ min: 0, max: 3_000 }) }) },
);

describe('the runner and the re-executor', () => {
  const prepared = prepareModule(STATE_OPS_WASM, table);
  const reexecutor = createReexecutor({ gasTable: gasTableHash(table) });

  it('agree on callGas, status and postStateHash for every call of random write sequences, the runner keeping its state between calls', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(op, { maxLength: 6 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 8 }), (calls) => {
        const kept = HashedState.empty();
        let seq = 0n;
        for (const [ops, limitChoice] of calls) {
          seq++;
          const input = stateOpsInput(ops);
          const pre = kept.encode();
          const preHash = kept.hash;
          // some calls get a limit that runs out (often inside the end-of-call charges), the rest enough
          const gasLimit = gas([40_000n, 120_000n, 400_000n, 10n ** 9n, 10n ** 9n][limitChoice]!);
          const request = { input, gasLimit, seed: contextSeed(SESSION, seq), maxStateBytes: DEFAULT_MAX_STATE_BYTES, maxInputBytes: DEFAULT_MAX_INPUT_BYTES };
          const outcome = executeCall(prepared, { ...request, state: kept }, prices);
          const judged = reexecutor.rerun({ ...request, module: STATE_OPS_WASM, moduleHash: STATE_OPS_HASH, preState: pre });
          expect(judged).toEqual({ callGas: outcome.callGas, postStateHash: outcome.postStateHash, outputHash: outcome.outputHash, status: outcome.status });
          expect(outcome.postStateHash).toBe(hashState(new Map(kept)));
          if (outcome.writes.length === 0) expect(outcome.postStateHash).toBe(preHash);
        }
      }),
      { numRuns: 60 },
    );
  });
});
