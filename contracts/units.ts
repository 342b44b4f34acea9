import { ZgasError } from './errors.ts';

declare const qsrBrand: unique symbol;
/** QSR base units (1 QSR = 10^8). */
export type Qsr = bigint & { readonly [qsrBrand]: true };
declare const gasBrand: unique symbol;
/** Gas units. */
export type Gas = bigint & { readonly [gasBrand]: true };
/** QSR base units per 1,000,000 gas. */
export type PricePerMgas = Qsr;

export const QSR_DECIMALS = 8;
export const QSR_BASE_UNITS = 100_000_000n;
export const MAX_UINT256 = (1n << 256n) - 1n;
export const MAX_UINT64 = (1n << 64n) - 1n;
export const GAS_PER_MGAS = 1_000_000n;

// At most 78 digits (2^256-1 has 78); no sign, exponent, hex, spaces, separators or leading zeros.
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

export function parseUint256(text: string): bigint {
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw new ZgasError('InvalidAmount', { text });
  const value = BigInt(text);
  if (value > MAX_UINT256) throw new ZgasError('InvalidAmount', { text });
  return value;
}

export function parseUint64(text: string): bigint {
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw new ZgasError('InvalidUint64', { text });
  const value = BigInt(text);
  if (value > MAX_UINT64) throw new ZgasError('InvalidUint64', { text });
  return value;
}

export const parseQsr = (text: string): Qsr => parseUint256(text) as Qsr;
export const parseGas = (text: string): Gas => parseUint64(text) as Gas;

export function isDecimalString(text: string): boolean {
  return DECIMAL.test(text) && BigInt(text) <= MAX_UINT256;
}

export function formatUnits(value: bigint): string {
  if (value < 0n || value > MAX_UINT256) throw new ZgasError('InvalidAmount', { value: value.toString() });
  return value.toString(10);
}

export function qsr(value: bigint | number): Qsr {
  const v = BigInt(value);
  if (v < 0n || v > MAX_UINT256) throw new ZgasError('InvalidAmount', { value: v.toString() });
  return v as Qsr;
}

export function gas(value: bigint | number): Gas {
  const v = BigInt(value);
  if (v < 0n || v > MAX_UINT64) throw new ZgasError('InvalidUint64', { value: v.toString() });
  return v as Gas;
}

/** Whole QSR to base units, for readable genesis and demo figures. */
export const wholeQsr = (value: bigint | number): Qsr => qsr(BigInt(value) * QSR_BASE_UNITS);

/** Human text of a QSR amount with 8 decimals, e.g. "12.50000000 QSR". Display only. */
export function displayQsr(value: bigint): string {
  const whole = value / QSR_BASE_UNITS;
  const frac = (value % QSR_BASE_UNITS).toString().padStart(QSR_DECIMALS, '0');
  return `${whole}.${frac} QSR`;
}

// ── checked arithmetic: a result outside [0, 2^256-1] is an error, never a wrap ──────────
export function add<T extends bigint>(a: T, b: T): T {
  const r = (a as bigint) + (b as bigint);
  if (r > MAX_UINT256) throw new ZgasError('AmountOverflow', { a: a.toString(), b: b.toString() });
  return r as T;
}

export function sub<T extends bigint>(a: T, b: T): T {
  const r = (a as bigint) - (b as bigint);
  if (r < 0n) throw new ZgasError('AmountUnderflow', { a: a.toString(), b: b.toString() });
  return r as T;
}

export function mul<T extends bigint>(a: T, b: bigint): T {
  const r = (a as bigint) * b;
  if (r < 0n) throw new ZgasError('AmountUnderflow', { a: a.toString(), b: b.toString() });
  if (r > MAX_UINT256) throw new ZgasError('AmountOverflow', { a: a.toString(), b: b.toString() });
  return r as T;
}

export const min = <T extends bigint>(a: T, b: T): T => (a < b ? a : b);
export const max = <T extends bigint>(a: T, b: T): T => (a > b ? a : b);

/** cost(g, p) = ceil(g * p / 1_000_000): the QSR owed for `gasUsed` at `pricePerMgas`. */
export function cost(gasUsed: Gas | bigint, pricePerMgas: PricePerMgas | bigint): Qsr {
  if (gasUsed < 0n || pricePerMgas < 0n) throw new ZgasError('AmountUnderflow', { gas: gasUsed.toString(), price: pricePerMgas.toString() });
  const product = mul(gasUsed as bigint, pricePerMgas);
  return ((product + GAS_PER_MGAS - 1n) / GAS_PER_MGAS) as Qsr;
}
