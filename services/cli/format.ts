/**
 * What people type and read on the command line: QSR amounts in QSR with at most 8 decimals
 * (parsed exactly to base units as bigint, never through a float), gas as whole numbers, times and
 * durations, and the JSON of `--json` (integers as decimal strings, as the API writes them).
 */
import { ZgasError } from '../../contracts/errors.ts';
import { MAX_UINT256, MAX_UINT64, QSR_BASE_UNITS, QSR_DECIMALS } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';

// Digits, then at most one point with digits after it; the decimals are checked separately so a
// ninth one gets its own message.
const QSR_TEXT = /^([0-9]{1,78})(?:\.([0-9]+))?$/;
const GAS_TEXT = /^[0-9]{1,20}$/;

/** "12.5" → 1_250_000_000n base units. Refuses a ninth decimal, signs, exponents and separators. */
export function parseQsrAmount(text: string, what = 'amount'): Qsr {
  const trimmed = text.trim();
  const match = QSR_TEXT.exec(trimmed);
  if (match === null) throw new ZgasError('InvalidQsrAmount', { [what]: text });
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > QSR_DECIMALS) {
    throw new ZgasError('InvalidQsrAmount', { [what]: text, reason: `${fraction.length} decimals: QSR has ${QSR_DECIMALS} (the smallest amount is 0.00000001)` });
  }
  const value = BigInt(whole) * QSR_BASE_UNITS + BigInt(fraction.padEnd(QSR_DECIMALS, '0') || '0');
  if (value > MAX_UINT256) throw new ZgasError('InvalidQsrAmount', { [what]: text, reason: 'above 2^256-1 base units' });
  return value as Qsr;
}

/** Base units as QSR text with at most 8 decimals and no trailing zeros: 1_250_000_000n → "12.5". */
export function formatQsrAmount(value: bigint): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / QSR_BASE_UNITS;
  const fraction = (abs % QSR_BASE_UNITS).toString().padStart(QSR_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** "12.5 QSR". */
export const qsrText = (value: bigint | string): string => `${formatQsrAmount(BigInt(value))} QSR`;

/** A whole amount of gas ("1000000", "1_000_000" or "1,000,000"). */
export function parseGasAmount(text: string, what = 'gas'): Gas {
  const digits = text.trim().replace(/[_,]/g, '');
  if (!GAS_TEXT.test(digits) || BigInt(digits) > MAX_UINT64) throw new ZgasError('InvalidUint64', { [what]: text });
  return BigInt(digits) as Gas;
}

/** 1234567n → "1,234,567". */
export function groupDigits(value: bigint | string): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A duration: "90", "90s", "15m", "2h", "1d" → seconds. */
export function parseDurationSeconds(text: string): bigint {
  const match = /^([0-9]{1,12})([smhd]?)$/.exec(text.trim());
  if (match === null) throw new ZgasError('InvalidUint64', { duration: text, reason: 'seconds, or a number with s, m, h or d' });
  const unit = { '': 1n, s: 1n, m: 60n, h: 3600n, d: 86_400n }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return BigInt(match[1] ?? '0') * unit;
}

/** Seconds as "1h 5m 3s" (largest units first, zeros left out; "0s" for none). */
export function durationText(seconds: bigint): string {
  if (seconds <= 0n) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86_400n], ['h', 3600n], ['m', 60n], ['s', 1n]] as const) {
    const n = rest / size;
    rest %= size;
    if (n > 0n) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(' ');
}

/** Unix seconds as an ISO time (UTC). */
export function timeText(unixSeconds: bigint | string): string {
  return new Date(Number(BigInt(unixSeconds)) * 1000).toISOString().replace('.000Z', 'Z');
}

/** JSON for `--json`: bigints as decimal strings, two-space indented. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : v), 2);
}

/** Label/value lines aligned on the longest label. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = rows.reduce((w, [label]) => Math.max(w, label.length), 0);
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
