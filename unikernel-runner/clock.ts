/**
 * The machine's clock in Unix seconds: what the runner, the host and the API compare with a
 * session's expiry and stamp on momentums. The contract never reads it; time reaches the contract
 * as an input. Every part takes a `Clock` so tests and the demo's accelerated chain can pass
 * their own.
 */
export type Clock = () => bigint;

/** Whole Unix seconds, rounded down. */
export const systemClock: Clock = () => BigInt(Math.floor(Date.now() / 1_000));
