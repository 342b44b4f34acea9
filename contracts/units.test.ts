import { describe, expect, it } from 'vitest';
import vectors from '../test/vectors/vectors.json' with { type: 'json' };
import { add, cost, formatUnits, gas, MAX_UINT256, mul, parseUint256, parseUint64, qsr, sub } from './units.ts';
import { isZgasError } from './errors.ts';

describe('decimal strings', () => {
  it.each(vectors.decimalStrings.valid)('accepts %j', (text) => {
    expect(formatUnits(parseUint256(text))).toBe(text);
  });
  it.each(vectors.decimalStrings.invalid)('rejects %j', (text) => {
    expect(() => parseUint256(text)).toThrowError(expect.objectContaining({ code: 'InvalidAmount' }));
  });
  it('bounds uint64', () => {
    expect(parseUint64('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(() => parseUint64('18446744073709551616')).toThrowError(expect.objectContaining({ code: 'InvalidUint64' }));
  });
});

describe('cost', () => {
  it.each(vectors.cost)('cost($gas, $pricePerMgas) = $cost', (v) => {
    expect(cost(BigInt(v.gas), BigInt(v.pricePerMgas))).toBe(BigInt(v.cost));
  });
  it('never drifts: charging cumulative differences sums to the cost of the total', () => {
    let charged = 0n;
    for (let g = 0n; g <= 5_000_000n; g += 123_457n) charged += cost(g, 7n) - charged;
    expect(charged).toBe(cost(4_938_280n, 7n));
  });
});

describe('checked arithmetic', () => {
  it('rejects overflow and underflow instead of wrapping', () => {
    const err = (f: () => unknown) => { try { f(); } catch (e) { return isZgasError(e) ? e.code : 'other'; } return 'none'; };
    expect(err(() => add(qsr(MAX_UINT256), qsr(1)))).toBe('AmountOverflow');
    expect(err(() => sub(qsr(1), qsr(2)))).toBe('AmountUnderflow');
    expect(err(() => mul(qsr(MAX_UINT256), 2n))).toBe('AmountOverflow');
    expect(err(() => gas(-1))).toBe('InvalidUint64');
    expect(add(qsr(2), qsr(3))).toBe(5n);
  });
});
