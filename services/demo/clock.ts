/**
 * The demo's chain clock: `speed` times real time from `start` while the demo runs, so challenge
 * windows pass in seconds; then, from `realTime()` on, the system clock again. Chain time never
 * goes backwards (the host keeps momentum timestamps monotonic), so momentums keep the last demo
 * timestamp until real time catches up, instead of drifting further into the future for as long
 * as the system keeps serving.
 */
export interface DemoClock {
  /** Unix seconds. */
  now(): bigint;
  /** From now on, the system clock. */
  realTime(): void;
  /** Whether the clock is back on real time. */
  isRealTime(): boolean;
}

export function demoClock(start: bigint, speed: number, nowMs: () => number = Date.now): DemoClock {
  const t0 = nowMs();
  let real = false;
  return {
    now: () => (real ? BigInt(Math.floor(nowMs() / 1000)) : start + BigInt(Math.floor(((nowMs() - t0) * speed) / 1000))),
    realTime: () => {
      real = true;
    },
    isRealTime: () => real,
  };
}
