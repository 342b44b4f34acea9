import { makeDomain } from '../../contracts/eip712/index.ts';
import { isZgasError } from '../../contracts/errors.ts';
import type { Context, Input } from '../../contracts/gas/apply.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Reexecutor } from '../../contracts/gas/reexecutor.ts';
import { stateDigest, stateToJson } from '../../contracts/gas/state.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Db } from '../db/db.ts';
import { getModule } from '../store/modules.ts';
import { loadMomentums, MAX_MOMENTUMS_PER_PAGE } from '../store/momentums.ts';
import { loadState } from '../store/state.ts';
import { canonicalJson } from './canonical.ts';
import { GENESIS_META_KEY } from './head.ts';
import { getMeta } from '../store/meta.ts';
import { changesDigest, genesisHash, momentumHash, ZERO_HASH } from './momentum.ts';
import type { MomentumInput } from './momentum.ts';
import { applyAll, inputFromWire, modulesNeeded, resultJson } from './sequence.ts';

/** Mismatches one replay reports at most (it stops collecting after that many). */
export const MAX_REPLAY_MISMATCHES = 100;

export interface ReplayMismatch {
  /** The momentum where it was found (for `state`: the last one). */
  height: string;
  /** What differs: the genesis, a field of the momentum, or the state rows against the replayed state. */
  field: 'genesis' | 'height' | 'prevHash' | 'timestamp' | 'inputs' | 'results' | 'stateDigest' | 'hash' | 'state';
  expected: string;
  actual: string;
}

export interface ReplayReport {
  /** The last momentum replayed (-1 when the store holds none). */
  height: bigint;
  ok: boolean;
  mismatches: ReplayMismatch[];
}

export interface ReplayOptions {
  reexecutor?: Reexecutor;
  /** Module bytes by hash, for re-executing challenges; default the store's modules. */
  loadModule?: (moduleHash: Hash) => Promise<Uint8Array | null> | Uint8Array | null;
}

const short = (value: unknown): string => {
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
};

/**
 * Re-applies every stored momentum from genesis — re-verifying every signature from the recorded
 * wire inputs, with each momentum's own height and timestamp — and checks the chain (heights,
 * previous hashes, non-decreasing timestamps), every result, state digest (momentum 0: the genesis
 * state's; later: the digest of the entities each momentum changed, chained through the previous
 * hash) and hash, and finally every state row against the replayed state. Reports what differs; it never writes.
 */
export async function replay(db: Db, genesis: Genesis, opts: ReplayOptions = {}): Promise<ReplayReport> {
  const domain = makeDomain(genesis.chainId, genesis.contract);
  const load = opts.loadModule ?? ((h: Hash) => getModule(db, h));
  const mismatches: ReplayMismatch[] = [];
  const report = (m: ReplayMismatch): void => {
    if (mismatches.length < MAX_REPLAY_MISMATCHES) mismatches.push(m);
  };

  const expectedGenesis = genesisHash(genesis);
  const storedGenesis = await getMeta(db, GENESIS_META_KEY);
  if (storedGenesis !== null && storedGenesis !== expectedGenesis) report({ height: '0', field: 'genesis', expected: expectedGenesis, actual: storedGenesis });

  const state = genesisState(genesis);
  let prevHash: Hash = ZERO_HASH;
  let prevTimestamp = genesis.timestamp;
  let expectedHeight = 0n;
  let last = -1n;
  for (;;) {
    const page = await loadMomentums(db, expectedHeight, MAX_MOMENTUMS_PER_PAGE);
    for (const m of page) {
      const h = m.height.toString();
      if (m.height !== expectedHeight) {
        report({ height: h, field: 'height', expected: expectedHeight.toString(), actual: h });
        return { height: last, ok: false, mismatches };
      }
      if (m.prevHash !== prevHash) report({ height: h, field: 'prevHash', expected: prevHash, actual: m.prevHash });
      if (m.timestamp < prevTimestamp) report({ height: h, field: 'timestamp', expected: `>= ${prevTimestamp.toString()}`, actual: m.timestamp.toString() });

      let results: unknown[] = [];
      let digest: Hash;
      if (m.height === 0n) {
        digest = stateDigest(state);
        if (m.inputs.length !== 0) report({ height: h, field: 'inputs', expected: '[]', actual: short(m.inputs) });
        if (m.timestamp !== genesis.timestamp) report({ height: h, field: 'timestamp', expected: genesis.timestamp.toString(), actual: m.timestamp.toString() });
      } else {
        const inputs: Input[] = [];
        try {
          for (const wire of m.inputs) inputs.push(inputFromWire(domain, wire as MomentumInput));
        } catch (error) {
          if (!isZgasError(error)) throw error;
          report({ height: h, field: 'inputs', expected: 'valid signed inputs', actual: `${error.code} ${short(error.details)}` });
          return { height: last, ok: false, mismatches };
        }
        const modules = new Map<Hash, Uint8Array>();
        for (const hash of modulesNeeded(state, inputs)) {
          const bytes = await load(hash);
          if (bytes !== null) modules.set(hash, bytes);
        }
        const context: Context = { height: m.height, timestamp: m.timestamp, loadModule: (hash) => modules.get(hash.toLowerCase() as Hash) };
        if (opts.reexecutor !== undefined) context.reexecutor = opts.reexecutor;
        const applied = applyAll(state, inputs, context);
        results = applied.results.map(resultJson);
        if (canonicalJson(results) !== canonicalJson(m.results)) report({ height: h, field: 'results', expected: short(results), actual: short(m.results) });
        digest = changesDigest(prevHash, state, applied.changed);
      }
      if (digest !== m.stateDigest) report({ height: h, field: 'stateDigest', expected: digest, actual: m.stateDigest });
      const hash = momentumHash({ height: m.height, prevHash, timestamp: m.timestamp, inputs: m.inputs, results, stateDigest: digest });
      if (hash !== m.hash) report({ height: h, field: 'hash', expected: hash, actual: m.hash });
      prevHash = m.hash;
      prevTimestamp = m.timestamp;
      last = m.height;
      expectedHeight = m.height + 1n;
    }
    if (page.length < MAX_MOMENTUMS_PER_PAGE) break;
  }

  if (last >= 0n) {
    const stored = await loadState(db, genesisState(genesis)).then(
      (s) => canonicalJson(stateToJson(s)),
      (error: unknown) => (isZgasError(error) ? `unreadable: ${error.code} ${short(error.details)}` : Promise.reject(error)),
    );
    const replayed = canonicalJson(stateToJson(state));
    if (stored !== replayed) report({ height: last.toString(), field: 'state', ...firstDifference(replayed, stored) });
  }
  return { height: last, ok: mismatches.length === 0, mismatches };
}

/** The neighbourhood of the first differing character of two texts. */
function firstDifference(expected: string, actual: string): { expected: string; actual: string } {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const from = Math.max(0, i - 60);
  return { expected: expected.slice(from, i + 60), actual: actual.slice(from, i + 60) };
}
