import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantViolation } from '../../contracts/errors.ts';
import { canonicalHash, canonicalJson, toJsonValue } from './canonical.ts';
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { changesDigest, genesisHash, momentumHash, momentumHashOfTexts, momentumTexts, ZERO_HASH } from './momentum.ts';
import { mergeChanged } from './sequence.ts';
import { genesisState } from '../../contracts/gas/genesis.ts';
import { ALL_SESSION_FIELDS, noChanges, pendingKey } from '../../contracts/gas/tx.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import type { Provider } from '../../contracts/gas/state.ts';
import { KEYS, testGenesis } from '../../test/support/chain.ts';

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
    // Strings that need escaping are written as JSON.stringify writes them.
    const odd = { 'a"b': 'c\\d\n\u007f', '\u2028': '\ud800', x: ['\t', '"'] };
    expect(canonicalJson(odd)).toBe(`{${JSON.stringify('a"b')}:${JSON.stringify('c\\d\n\u007f')},"x":[${JSON.stringify('\t')},${JSON.stringify('"')}],${JSON.stringify('\u2028')}:${JSON.stringify('\ud800')}}`);
  });

  it('hashes the UTF-8 bytes of the canonical text with SHA3-256', () => {
    expect(canonicalHash({})).toBe('0x840eb7aa2a9935de63366bacbe9d97e978a859e93dc792a0334de60ed52f8e99');
    const data = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? Math.trunc(x) % 1_000_000 : x))) as unknown);
    fc.assert(fc.property(data, (v) => canonicalHash(v) === sha3(utf8Bytes(canonicalJson(v)))), { numRuns: 300 });
    const odd = { 'é': '\u2028\ud800', 'a"b': ['\t', '€𝄞'] };
    expect(canonicalHash(odd)).toBe(sha3(utf8Bytes(canonicalJson(odd))));
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

  it('hashes a momentum from the canonical texts of its inputs and results as from the data', () => {
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? Math.trunc(x) % 1_000_000 : x))) as unknown);
    const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hash);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), hex, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.array(json), fc.array(json), hex, (height, prevHash, timestamp, inputs, results, stateDigest) => {
      const fields = { height, prevHash, timestamp, inputs, results, stateDigest };
      const texts = momentumTexts(inputs, results);
      expect(texts.inputs).toBe(canonicalJson(inputs));
      expect(momentumHashOfTexts(fields, texts)).toBe(momentumHash(fields));
    }), { numRuns: 200 });
  });

  it('merges the fields of a session several inputs changed; a created one stays whole', () => {
    const a = `0x${'0a'.repeat(32)}` as Hash;
    const b = `0x${'0b'.repeat(32)}` as Hash;
    const into = noChanges();
    into.sessions.add(a);
    into.sessionFields.set(a, ALL_SESSION_FIELDS);
    into.sessions.add(b);
    into.sessionFields.set(b, 0b0100);
    const more = noChanges();
    for (const k of [a, b]) {
      more.sessions.add(k);
      more.sessionFields.set(k, 0b0011);
    }
    mergeChanged(into, more);
    expect(into.sessionFields.get(a)).toBe(ALL_SESSION_FIELDS);
    expect(into.sessionFields.get(b)).toBe(0b0111);
    const unknown = noChanges();
    unknown.sessions.add(b); // no mask: wholly changed
    mergeChanged(into, unknown);
    expect(into.sessionFields.get(b)).toBe(ALL_SESSION_FIELDS);
  });

  it('identifies a genesis by its content', () => {
    expect(genesisHash(testGenesis({ owner: '1' }))).toBe(genesisHash(testGenesis({ owner: '1' })));
    expect(genesisHash(testGenesis({ owner: '1' }))).not.toBe(genesisHash(testGenesis({ owner: '2' })));
  });

  it('digests exactly the changed entities, chained to the previous hash', () => {
    const state = genesisState(testGenesis({ owner: '100', provider: '200' }));
    const owner = KEYS.owner.address;
    const changed = noChanges();
    changed.accounts.add(owner);
    const before = changesDigest(ZERO_HASH, state, changed);
    expect(changesDigest(ZERO_HASH, state, noChanges())).not.toBe(before);
    expect(changesDigest(`0x${'11'.repeat(32)}`, state, changed)).not.toBe(before);
    // Another entity's value is not covered; the changed one's is, and so is a deletion.
    const other = [...state.accounts.keys()].find((a) => a !== owner) as Address;
    state.accounts.get(other)!.balance = (state.accounts.get(other)!.balance + 1n) as Qsr;
    expect(changesDigest(ZERO_HASH, state, changed)).toBe(before);
    state.accounts.get(owner)!.balance = (state.accounts.get(owner)!.balance + 1n) as Qsr;
    const after = changesDigest(ZERO_HASH, state, changed);
    expect(after).not.toBe(before);
    state.accounts.delete(owner);
    expect(changesDigest(ZERO_HASH, state, changed)).not.toBe(after);
    // The order changes were recorded in does not matter.
    const two = noChanges();
    two.accounts.add(other);
    two.accounts.add(owner);
    const twoReversed = noChanges();
    twoReversed.accounts.add(owner);
    twoReversed.accounts.add(other);
    expect(changesDigest(ZERO_HASH, state, two)).toBe(changesDigest(ZERO_HASH, state, twoReversed));
  });

  it('digests a changed provider without its pending list, and the pending entries the momentum names', () => {
    const state = genesisState(testGenesis({ owner: '100', provider: '200' }));
    const provider = KEYS.provider.address;
    const session = `0x${'ab'.repeat(32)}` as Hash;
    const p: Provider = {
      receiptSigner: KEYS.receiptSigner.address, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: 1n as Qsr, unbonding: [],
      pendingEarnings: [{ sessionId: session, amount: 5n as Qsr, claimableAt: 10n }, { sessionId: session, amount: 6n as Qsr, claimableAt: 20n }],
      pendingTotal: 11n as Qsr, claimable: 0n as Qsr, accepting: true, liveSessions: 0, challengeableUntil: 0n,
    };
    state.providers.set(provider, p);
    const changed = noChanges();
    changed.providers.add(provider);
    changed.pendingEarnings.add(pendingKey(provider, 20n, session));
    const before = changesDigest(ZERO_HASH, state, changed);
    // An entry the momentum did not name is not covered: the list's length does not enter the digest.
    p.pendingEarnings[0] = { ...p.pendingEarnings[0]!, amount: 50n as Qsr };
    expect(changesDigest(ZERO_HASH, state, changed)).toBe(before);
    // A named one is, and so is its removal.
    p.pendingEarnings[1] = { ...p.pendingEarnings[1]!, amount: 60n as Qsr };
    const grown = changesDigest(ZERO_HASH, state, changed);
    expect(grown).not.toBe(before);
    p.pendingEarnings.pop();
    expect(changesDigest(ZERO_HASH, state, changed)).not.toBe(grown);
  });
});
