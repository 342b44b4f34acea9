import { formatUnits } from '../units.ts';
import type { Provider } from './state.ts';

/**
 * What a provider can claim at `now` (unix seconds), for the API: the stored `claimable` plus every
 * pending entry whose deadline has passed (`now ≥ claimableAt`; ClaimEarnings matures them), what
 * is still pending, and when it matures, summed per deadline, soonest first. Pure: the caller
 * passes the time (the latest momentum's timestamp).
 */
export function providerView(p: Provider, now: bigint) {
  let claimableNow = p.claimable as bigint;
  let pending = 0n;
  const schedule: Array<{ claimableAt: bigint; amount: bigint }> = [];
  for (const e of p.pendingEarnings) {
    if (e.claimableAt <= now) {
      claimableNow += e.amount;
      continue;
    }
    pending += e.amount;
    const last = schedule[schedule.length - 1];
    if (last !== undefined && last.claimableAt === e.claimableAt) last.amount += e.amount;
    else schedule.push({ claimableAt: e.claimableAt, amount: e.amount });
  }
  return {
    at: formatUnits(now),
    claimableNow: formatUnits(claimableNow),
    pending: formatUnits(pending),
    nextClaimableAt: schedule.length === 0 ? null : formatUnits(schedule[0]!.claimableAt),
    allClaimableAt: schedule.length === 0 ? null : formatUnits(schedule[schedule.length - 1]!.claimableAt),
    schedule: schedule.map((x) => ({ claimableAt: formatUnits(x.claimableAt), amount: formatUnits(x.amount) })),
    unbondedWithdrawableAt: unbondedWithdrawableAt(p),
  };
}

/** When WithdrawUnbonded can release the first unbonding entry: its releaseAt and challengeableUntil both passed. */
function unbondedWithdrawableAt(p: Provider): string | null {
  let first: bigint | null = null;
  for (const u of p.unbonding) if (first === null || u.releaseAt < first) first = u.releaseAt;
  if (first === null) return null;
  return formatUnits(first > p.challengeableUntil ? first : p.challengeableUntil);
}

export type ProviderViewJson = ReturnType<typeof providerView>;
