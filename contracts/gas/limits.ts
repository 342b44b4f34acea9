import { MAX_RECEIPTS_PER_BATCH } from '../abi/methods.ts';

/** Every collection the contract keeps or accepts has a named bound. */

/** Receipts in one Settle batch (the ABI's limit too). */
export const MAX_RECEIPTS_PER_SETTLE = MAX_RECEIPTS_PER_BATCH;
/** Sessions a provider may have open (not closed) at once. */
export const MAX_OPEN_SESSIONS_PER_PROVIDER = 100_000;
/** Pending-earnings entries a provider may carry (one per session and settlement bucket inside the challenge window). */
export const MAX_PENDING_EARNINGS_PER_PROVIDER = 250_000;
/** Unbonding entries a provider may have waiting; withdraw released ones to make room. */
export const MAX_UNBONDING_ENTRIES = 32;
/** Bytes of a challenged call's input. */
export const MAX_CHALLENGE_INPUT_BYTES = 1024 * 1024;
/** Bytes of a challenged call's pre-state. */
export const MAX_CHALLENGE_STATE_BYTES = 16 * 1024 * 1024;
/**
 * Settlements are grouped in buckets of this many seconds: a receipt settled at `t` can be challenged
 * until `ceil(t / bucket) * bucket + challengeWindowSeconds`, and the earnings it moved become claimable
 * then. At most one minute later than the bare window, it keeps the per-session and per-provider
 * bookkeeping to (window / bucket + 1) entries per session.
 */
export const SETTLEMENT_BUCKET_SECONDS = 60n;
/** Seconds in the UTC day that userGasPerDay counts. */
export const SECONDS_PER_DAY = 86_400n;
/** Extensions of one session (its gasLimit history is kept to judge OutOfGas receipts). */
export const MAX_EXTENSIONS_PER_SESSION = 100;
