import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ACT_SCRIPT, CLIENT_SCRIPT } from './page.ts';

/** The pure helpers of the views per role, taken from the very scripts the page inlines. */
interface Helpers {
  formatDuration(seconds: number): string;
  spendRate(samples: { atMs: number; billed: string }[], nowMs: number, windowMs: number): number | null;
  runwaySeconds(available: string, rate: number | null): number | null;
  chainNowSeconds(latest: { timestamp: string } | null, seenMs: number | null, nowMs: number): number | null;
  burnPoints(samples: { atMs: number; total: string }[], width: number, height: number): string;
  sameAddr(a: unknown, b: unknown): boolean;
}

function helpers(): Helpers {
  // Without a document the scripts only define their functions.
  const context: Record<string, unknown> = {};
  runInNewContext(`${CLIENT_SCRIPT}\n${ACT_SCRIPT}`, context);
  return context as unknown as Helpers;
}

describe('dashboard views per role: helpers', () => {
  const f = helpers();

  it('forecasts the runway from the spend of the last window, on exact amounts', () => {
    const samples = [
      { atMs: 0, billed: '0' },
      { atMs: 30_000, billed: '3000' },
      { atMs: 60_000, billed: '6000' },
    ];
    expect(f.spendRate(samples, 60_000, 60_000)).toBe(100); // 6000 base units in 60 s
    expect(f.runwaySeconds('360000', 100)).toBe(3600);
    expect(f.formatDuration(3600)).toBe('1 h 0 min');
    // Only the window counts; one sample or no time is no rate; nothing spent is no runway limit.
    expect(f.spendRate(samples, 120_000, 60_000)).toBeNull();
    expect(f.spendRate([{ atMs: 5, billed: '1' }, { atMs: 5, billed: '9' }], 5, 60_000)).toBeNull();
    expect(f.spendRate([{ atMs: 0, billed: '7' }, { atMs: 1000, billed: '7' }], 1000, 60_000)).toBe(0);
    expect(f.runwaySeconds('100', 0)).toBeNull();
    expect(f.runwaySeconds('not a number', 5)).toBeNull();
  });

  it('counts down in chain time from the newest momentum', () => {
    expect(f.chainNowSeconds({ timestamp: '1000' }, 50_000, 53_500)).toBe(1003.5);
    expect(f.chainNowSeconds({ timestamp: '1000' }, null, 53_500)).toBe(1000);
    expect(f.chainNowSeconds(null, 0, 0)).toBeNull();
    expect(f.formatDuration(45)).toBe('45 s');
    expect(f.formatDuration(185)).toBe('3 min 05 s');
    expect(f.formatDuration(-1)).toBe('—');
  });

  it('draws the burn-down inside its box, between the lowest and the highest escrow seen', () => {
    const points = f.burnPoints([{ atMs: 0, total: '1200' }, { atMs: 10, total: '1100' }, { atMs: 20, total: '1000' }], 300, 90).split(' ');
    expect(points).toEqual(['0.0,3.0', '150.0,45.0', '300.0,87.0']);
    expect(f.burnPoints([{ atMs: 0, total: '5' }, { atMs: 10, total: '5' }], 300, 90)).toBe('0.0,45.0 300.0,45.0');
    expect(f.burnPoints([], 300, 90)).toBe('');
  });

  it('compares addresses whatever their case', () => {
    expect(f.sameAddr('0xAbC', '0xabc')).toBe(true);
    expect(f.sameAddr('0xabc', null)).toBe(false);
  });
});
