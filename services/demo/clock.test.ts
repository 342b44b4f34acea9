import { describe, expect, it } from 'vitest';
import { demoClock } from './clock.ts';

describe('demoClock', () => {
  it('runs `speed` times real time from the start, then the system clock once the demo ends', () => {
    let ms = 1_000_000_000_000; // real time: unix 1,000,000,000 s
    const clock = demoClock(1_000_000_000n, 20, () => ms);
    expect(clock.now()).toBe(1_000_000_000n);
    ms += 15_000;
    expect(clock.now()).toBe(1_000_000_300n); // 15 s of demo = 300 s of chain time
    clock.realTime();
    expect(clock.isRealTime()).toBe(true);
    expect(clock.now()).toBe(1_000_000_015n);
    ms += 3_600_000;
    expect(clock.now()).toBe(1_000_003_615n); // an hour later: an hour of chain time, not twenty
  });
});
