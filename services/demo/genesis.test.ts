import { describe, expect, it } from 'vitest';
import { genesisSupply } from '../../contracts/gas/genesis.ts';
import { wholeQsr } from '../../contracts/units.ts';
import { acceleratedClock, DEMO_BALANCES_QSR, DEMO_CHALLENGE_BOND, demoGenesis } from './genesis.ts';

describe('the demo genesis and clock', () => {
  it('runs fast, then at real speed from where it stands, never going back', () => {
    let nowMs = 1_000_000;
    const clock = acceleratedClock(1_767_225_600n, 20, () => nowMs);
    expect(clock()).toBe(1_767_225_600n);
    nowMs += 3_000;
    expect(clock()).toBe(1_767_225_660n);
    clock.toRealTime();
    expect(clock.speed).toBe(1);
    expect(clock()).toBe(1_767_225_660n);
    nowMs += 3_000;
    expect(clock()).toBe(1_767_225_663n);
  });

  it('holds the demo balances and the v2 parameters', () => {
    const genesis = demoGenesis({ timestamp: 1_767_225_600n });
    const total = Object.values(DEMO_BALANCES_QSR).reduce((s, q) => s + wholeQsr(q ?? 0), 0n);
    expect(genesisSupply(genesis)).toBe(total);
    expect(genesis.params.challengeBond).toBe(DEMO_CHALLENGE_BOND);
    expect(genesis.params.challengerRewardBps).toBe(2_000n);
    expect(genesis.params.closeGracePeriodSeconds).toBeGreaterThan(0n);
  });
});
