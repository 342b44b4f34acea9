import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantViolation } from '../../contracts/errors.ts';
import { canonicalJson, toJsonValue } from './canonical.ts';
import { genesisHash, momentumHash, ZERO_HASH } from './momentum.ts';
import { testGenesis } from '../../test/support/chain.ts';

describe('canonical JSON and momentum hashes', () => {
  it('encodes equal data as equal text whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }], e: true })).toBe('{"a":[{"c":null,"d":"x"}],"b":1,"e":true}');
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson(JSON.parse('{"b":{"d":3,"c":2},"a":1}')));
  });

  it('equals a plain recursive encoding with sorted keys on any JSON data', () => {
    const reference = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(',')}}`;
    };
    const data = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? Math.trunc(x) % 1_000_000 : x))) as unknown);
    fc.assert(fc.property(data, (v) => canonicalJson(v) === reference(v)), { numRuns: 500 });
    expect(canonicalJson({ 'é': 1, z: 2, Z: 3, '': [] })).toBe('{"":[],"Z":3,"z":2,"é":1}');
  });

  it('turns bigints into decimal strings and refuses what has no JSON', () => {
    expect(toJsonValue({ amount: 2n ** 255n, skip: undefined, list: [1n] })).toEqual({ amount: (2n ** 255n).toString(), list: ['1'] });
    expect(() => toJsonValue(new Map())).toThrow(InvariantViolation);
    expect(() => canonicalJson(0.5)).toThrow(InvariantViolation);
  });

  it('changes the momentum hash with every field', () => {
    const base = { height: 1n, prevHash: ZERO_HASH, timestamp: 5n, inputs: [{ type: 'call' }], results: [{ ok: true }], stateDigest: ZERO_HASH };
    const hash = momentumHash(base);
    expect(momentumHash({ ...base })).toBe(hash);
    const variants = [
      { height: 2n }, { prevHash: `0x${'11'.repeat(32)}` }, { timestamp: 6n }, { inputs: [] }, { results: [{ ok: false }] }, { stateDigest: `0x${'22'.repeat(32)}` },
    ];
    for (const v of variants) expect(momentumHash({ ...base, ...v } as typeof base)).not.toBe(hash);
  });

  it('identifies a genesis by its content', () => {
    expect(genesisHash(testGenesis({ owner: '1' }))).toBe(genesisHash(testGenesis({ owner: '1' })));
    expect(genesisHash(testGenesis({ owner: '1' }))).not.toBe(genesisHash(testGenesis({ owner: '2' })));
  });
});
