import { genesisState } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { stateToJson } from '../../contracts/gas/state.ts';
import type { Db } from '../db/index.ts';
import { latestMomentum, loadMomentums, loadState, receiptCounts } from '../store/index.ts';
import { buildOverview } from './overview.ts';
import type { Overview } from './overview.ts';

/** Momentums the dashboard lists. */
export const DASHBOARD_MOMENTUMS = 50;

/** The dashboard's data read from the store: the contract state, the newest momentums and the receipt pipeline. */
export async function storeOverview(db: Db, genesis: Genesis): Promise<Overview> {
  // One snapshot: a momentum committing between the reads would leave them disagreeing (a
  // provider's total and its pending entries read on either side of it).
  const { state, momentums, counts } = await db.snapshot(async (s) => {
    const state = stateToJson(await loadState(s, genesisState(genesis)));
    const latest = await latestMomentum(s);
    const top = latest === null ? 0n : BigInt(latest.height);
    const from = top >= BigInt(DASHBOARD_MOMENTUMS) ? top - BigInt(DASHBOARD_MOMENTUMS - 1) : 0n;
    const momentums = (await loadMomentums(s, from, DASHBOARD_MOMENTUMS)).reverse();
    return { state, momentums, counts: await receiptCounts(s) };
  });
  return buildOverview(
    state,
    momentums.map((m) => ({ height: m.height, hash: m.hash, timestamp: m.timestamp, inputs: m.inputs })),
    { receiptsStored: counts.stored + counts.verified + counts.applied + counts.rejected, verified: counts.verified, applied: counts.applied, rejected: counts.rejected },
  );
}
