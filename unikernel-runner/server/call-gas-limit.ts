/**
 * The largest `callGasLimit` a runner accepts (docs/protocol.md §Runner rules): a call it could not
 * run and settle within the genesis `closeGracePeriodSeconds` is refused, so closing a session
 * never leaves a call that outlasts the grace and cannot be billed.
 */
import { MAX_CALL_GAS_LIMIT } from '../../contracts/gas/limits.ts';
import { gas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';

/**
 * A conservative rate of metered execution, in gas per second. Measured on the 2-core development
 * machine (tsx, one call of 2 Ggas, default table): the `loop` test module runs at 1.65 Ggas/s,
 * `spin` at 10 Ggas/s; small state-writing zApps (counter, fuddor-meme) are dominated by their
 * fixed instantiation and end in a few milliseconds whatever the rate. The table prices work so
 * that one gas buys about the same time everywhere; 50 Mgas/s leaves a margin of 30x on the slowest
 * long-running module measured, for a slower or busier machine. A provider sets its own figure with
 * ZGAS_RUNNER_GAS_PER_SECOND.
 */
export const CONSERVATIVE_GAS_PER_SECOND = 50_000_000n;

/**
 * The share of the close grace a call may run for; the other half is left for its receipt to be
 * pushed, verified and settled in a momentum before the session is finalized.
 */
export const CALL_SHARE_OF_CLOSE_GRACE_BPS = 5_000n;

/** min(MAX_CALL_GAS_LIMIT, closeGrace × share × gasPerSecond): the largest callGasLimit accepted. */
export function maxCallGasLimit(closeGracePeriodSeconds: bigint, gasPerSecond: bigint = CONSERVATIVE_GAS_PER_SECOND): Gas {
  const byGrace = (closeGracePeriodSeconds * gasPerSecond * CALL_SHARE_OF_CLOSE_GRACE_BPS) / 10_000n;
  return gas(byGrace < MAX_CALL_GAS_LIMIT ? byGrace : MAX_CALL_GAS_LIMIT);
}
