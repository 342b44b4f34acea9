import { MAX_RECEIPTS_PER_BATCH } from '../abi/methods.ts';
import { RECEIPT_ENCODED_BYTES } from '../abi/receipt.ts';

/** Every collection the contract keeps or accepts has a named bound. */

/** Receipts in one Settle batch (the ABI's limit too). */
export const MAX_RECEIPTS_PER_SETTLE = MAX_RECEIPTS_PER_BATCH;
/** Sessions a provider may have not yet closed at once (`liveSessions`). */
export const MAX_LIVE_SESSIONS_PER_PROVIDER = 100_000;
/** Pending-earnings entries a provider may carry (one per session and settlement bucket inside the challenge window). */
export const MAX_PENDING_EARNINGS_PER_PROVIDER = 250_000;
/** Unbonding entries a provider may have waiting; withdraw released ones to make room. */
export const MAX_UNBONDING_ENTRIES = 32;
/**
 * Settlements are grouped in buckets of this many seconds: a receipt settled at `t` can be challenged
 * until `ceil(t / bucket) * bucket + challengeWindowSeconds`, and the earnings it moved become claimable
 * then. At most one minute later than the bare window, it keeps the per-session and per-provider
 * bookkeeping to (window / bucket + 2) entries per session.
 */
export const SETTLEMENT_BUCKET_SECONDS = 60n;
/** The longest challenge window a genesis may set (7 days): it bounds a session's coverage list. */
export const MAX_CHALLENGE_WINDOW_SECONDS = 7n * 86_400n;
/** Coverage entries of one session: one per settlement bucket still inside the window, plus the one being added. */
export const MAX_COVERAGE_ENTRIES = Number(MAX_CHALLENGE_WINDOW_SECONDS / SETTLEMENT_BUCKET_SECONDS) + 2;
/**
 * Seqs of one session judged by a failed challenge, newest kept. Past this many the oldest is
 * forgotten (it may be challenged again, for another bond): a full list never blocks a challenge,
 * so a provider challenging its own honest receipts cannot shield a fraudulent one.
 */
export const MAX_JUDGED_SEQS_PER_SESSION = 64;
/**
 * Closed sessions one input removes at most, before the input itself (the oldest due first). Each
 * input closes at most one session by FinalizeSession, so the queue of due sessions drains.
 */
export const MAX_SESSION_REMOVALS_PER_INPUT = 16;
/** Seconds in the UTC day that openGasPerDay counts (momentum time). */
export const SECONDS_PER_DAY = 86_400n;
/**
 * The largest `callGasLimit` a settlement receipt may carry: the largest re-execution the chain
 * allows (a Challenge re-runs at most this much gas). At 1–10 gas per instruction it is a few
 * seconds of metered WebAssembly; runners refuse invocations above it.
 */
export const MAX_CALL_GAS_LIMIT = 10_000_000_000n;
/**
 * The price at which the chain values its own re-execution work, in QSR base units per million gas
 * (0.000001 QSR per Mgas). Genesis requires `challengeBond ≥ cost(MAX_CALL_GAS_LIMIT,
 * REEXECUTION_PRICE_PER_MGAS)`: a failed challenge always pays for the largest re-execution.
 */
export const REEXECUTION_PRICE_PER_MGAS = 100n;
/**
 * Call-data bytes of a Challenge besides its input and pre-state: selector, three head words, the
 * receipt (length word + its settlement encoding), the input's and pre-state's length words,
 * and up to 31 + 31 bytes of padding. Genesis requires maxStateBytes + maxInputBytes + this ≤
 * MAX_CALL_DATA_BYTES, so every receipt that can be settled can be challenged.
 */
export const CHALLENGE_OVERHEAD_BYTES = 4 + 3 * 32 + 32 + RECEIPT_ENCODED_BYTES + 32 + 32 + 62;
/** Entities of one kind a state read back from JSON may hold. */
export const MAX_STATE_ENTITIES = 100_000_000;
/**
 * The longest unbonding period, close grace or session a genesis may set (100 years): with any
 * momentum timestamp below 2^63, every time the contract stores (releaseAt, expiresAt, closesAt,
 * deadlines) stays a uint64 and reads back.
 */
export const MAX_PARAM_SECONDS = 100n * 365n * 86_400n;
