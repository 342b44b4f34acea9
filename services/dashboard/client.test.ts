import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_UINT256 } from '../../contracts/units.ts';
import { CLIENT_SCRIPT } from './page.ts';

/** The page's pure formatting helpers, taken from the very script the page inlines. */
interface Helpers {
  formatQsr(text: unknown): string;
  splitQsr(text: unknown): { whole: string; frac: string } | null;
  groupDigits(digits: string): string;
  formatCount(text: unknown): string;
  percentOf(part: unknown, whole: unknown): number;
  shortHex(text: unknown): string;
  agoMs(thenMs: number, nowMs: number): string;
  seenAt(timestamp: unknown, nowMs: number): number;
}

function helpers(): Helpers {
  // Without a document the script only defines its functions.
  const context: Record<string, unknown> = {};
  runInNewContext(CLIENT_SCRIPT, context);
  return context as unknown as Helpers;
}

describe('dashboard script formatting', () => {
  const f = helpers();

  it('formats QSR base units with 8 decimals by string arithmetic, exactly', () => {
    expect(f.formatQsr('0')).toBe('0.00000000');
    expect(f.formatQsr('1')).toBe('0.00000001');
    expect(f.formatQsr('100000000')).toBe('1.00000000');
    expect(f.formatQsr('123456789012')).toBe('1,234.56789012');
    expect(f.formatQsr('9007199254740993')).toBe('90,071,992.54740993'); // 2^53 + 1: a float would print ...992
    const max = MAX_UINT256.toString();
    expect(f.formatQsr(max).replace(/[,.]/g, '')).toBe(max);
    expect(f.splitQsr('50000000')).toEqual({ whole: '0', frac: '50000000' });
  });

  it('shows a dash for anything that is not a decimal string', () => {
    for (const bad of ['', '-1', '1e3', '0x10', '01', ' 1', 1, null, undefined]) expect(f.formatQsr(bad)).toBe('—');
    expect(f.formatCount('1.5')).toBe('—');
  });

  it('groups digits and computes bar widths on bigints', () => {
    expect(f.groupDigits('1')).toBe('1');
    expect(f.groupDigits('1000')).toBe('1,000');
    expect(f.groupDigits('123456789')).toBe('123,456,789');
    expect(f.percentOf('640118', '1000000')).toBe(64.01);
    expect(f.percentOf('18446744073709551615', '18446744073709551615')).toBe(100);
    expect(f.percentOf('2', '1')).toBe(100);
    expect(f.percentOf('1', '0')).toBe(0);
  });

  it('shortens hashes and tells ages', () => {
    expect(f.shortHex(`0x${'ab'.repeat(32)}`)).toBe('0xababab…abab');
    expect(f.shortHex('0x12')).toBe('0x12');
    expect(f.agoMs(100_000, 100_500)).toBe('now');
    expect(f.agoMs(100_000, 112_000)).toBe('12 s ago');
    expect(f.agoMs(100_000, 280_000)).toBe('3 min ago');
    // A chain clock ahead of the wall clock (the accelerated demo) never dates anything in the future.
    expect(f.seenAt('100', 150_000)).toBe(100_000);
    expect(f.seenAt('900', 150_000)).toBe(150_000);
    expect(f.seenAt(undefined, 150_000)).toBe(150_000);
  });
});
