import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isZgasError } from '../../contracts/errors.ts';
import { MAX_UINT256 } from '../../contracts/units.ts';
import { durationText, formatQsrAmount, parseDurationSeconds, parseGasAmount, parseQsrAmount } from './format.ts';

const code = (run: () => unknown): string | null => {
  try {
    run();
    return null;
  } catch (error) {
    return isZgasError(error) ? error.code : 'other';
  }
};

describe('QSR amounts on the command line', () => {
  it('parse exactly to base units, up to 8 decimals', () => {
    expect(parseQsrAmount('12.5')).toBe(1_250_000_000n);
    expect(parseQsrAmount('0.00000001')).toBe(1n);
    expect(parseQsrAmount('1000')).toBe(100_000_000_000n);
    expect(parseQsrAmount('0')).toBe(0n);
    expect(parseQsrAmount('007.10')).toBe(710_000_000n);
    // 0.1 + 0.2 in floats is 0.30000000000000004; in base units it is exact.
    expect(parseQsrAmount('0.1') + parseQsrAmount('0.2')).toBe(parseQsrAmount('0.3'));
  });

  it('refuse a ninth decimal with its own reason, and anything that is not a plain decimal', () => {
    try {
      parseQsrAmount('0.000000001');
      expect.unreachable();
    } catch (error) {
      expect(isZgasError(error, 'InvalidQsrAmount')).toBe(true);
      expect(String((error as { details: { reason?: unknown } }).details.reason)).toContain('9 decimals');
    }
    for (const bad of ['', '-1', '+1', '1e3', '0x10', '1,000', '1_000', '.5', '5.', '1.2.3', 'NaN', 'Infinity', ' 1 2']) {
      expect(code(() => parseQsrAmount(bad)), bad).toBe('InvalidQsrAmount');
    }
    expect(code(() => parseQsrAmount(`${MAX_UINT256}`))).toBe('InvalidQsrAmount');
  });

  it('print with at most 8 decimals and read back to the same base units', () => {
    expect(formatQsrAmount(1_250_000_000n)).toBe('12.5');
    expect(formatQsrAmount(1n)).toBe('0.00000001');
    expect(formatQsrAmount(0n)).toBe('0');
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 / 100_000_000n }), (v) => parseQsrAmount(formatQsrAmount(v)) === v));
  });
});

describe('gas and durations', () => {
  it('gas is a whole number with optional separators, at most 2^64-1', () => {
    expect(parseGasAmount('1_000_000')).toBe(1_000_000n);
    expect(parseGasAmount('1,000,000')).toBe(1_000_000n);
    expect(code(() => parseGasAmount('1.5'))).toBe('InvalidUint64');
    expect(code(() => parseGasAmount('18446744073709551616'))).toBe('InvalidUint64');
  });
  it('durations take s, m, h, d', () => {
    expect(parseDurationSeconds('90')).toBe(90n);
    expect(parseDurationSeconds('15m')).toBe(900n);
    expect(parseDurationSeconds('2h')).toBe(7200n);
    expect(code(() => parseDurationSeconds('1.5h'))).toBe('InvalidUint64');
    expect(durationText(3_725n)).toBe('1h 2m');
    expect(durationText(0n)).toBe('0s');
  });
});
