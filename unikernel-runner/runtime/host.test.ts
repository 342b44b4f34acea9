import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import { effectsGas, GuestTrap, hostFunctions, price, StateView } from './host.ts';
import type { HostPrices } from './host.ts';
import { HashedState } from './hashed-state.ts';
import { MAX_STATE_BYTES, MAX_STATE_VALUE_BYTES, MAX_WRITES_PER_CALL, stateFromEntries } from './state.ts';

const prices: HostPrices = {
  storageRead: { base: 200, per32Bytes: 10 },
  storageWrite: { base: 300, per32Bytes: 20 },
  storageDelete: { base: 150, per32Bytes: 5 },
  contextSeed: { base: 100, per32Bytes: 0 },
  abort: { base: 1, per32Bytes: 0 },
  stateDiffEntry: { base: 500, per32Bytes: 20 },
  returnData: { base: 10, per32Bytes: 2 },
  stateRehash: { base: 100, per32Bytes: 1900 },
};

function setup(entries: Array<[string, string]> = []) {
  const pre = stateFromEntries(entries.map(([k, v]) => [utf8Bytes(k), utf8Bytes(v)]));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const bytes = () => new Uint8Array(memory.buffer);
  const view = new StateView(pre);
  const charges: number[] = [];
  const seed = new Uint8Array(32).map((_, i) => i + 1);
  const env = hostFunctions({ view, seed, prices, charge: (g) => void charges.push(g), memory: () => memory }) as {
    storage_read: (a: number, b: number, c: number, d: number) => number;
    storage_write: (a: number, b: number, c: number, d: number) => void;
    storage_delete: (a: number, b: number) => void;
    context_seed: (a: number) => void;
    abort: (code: number) => void;
  };
  const put = (ptr: number, text: string) => bytes().set(utf8Bytes(text), ptr);
  const get = (ptr: number, len: number) => Buffer.from(bytes().slice(ptr, ptr + len)).toString();
  return { pre, view, env, charges, put, get, bytes };
}

describe('price', () => {
  it('is base plus per32Bytes for every started 32 bytes', () => {
    expect(price({ base: 7, per32Bytes: 3 }, 0)).toBe(7);
    expect(price({ base: 7, per32Bytes: 3 }, 1)).toBe(10);
    expect(price({ base: 7, per32Bytes: 3 }, 32)).toBe(10);
    expect(price({ base: 7, per32Bytes: 3 }, 33)).toBe(13);
  });
});

describe('storage', () => {
  it('reads a stored value (charged on key + copied bytes) and -1 for a missing key', () => {
    const { env, charges, put, get } = setup([['name', 'fuddor']]);
    put(0, 'name');
    expect(env.storage_read(0, 4, 100, 64)).toBe(6);
    expect(get(100, 6)).toBe('fuddor');
    expect(charges).toEqual([price(prices.storageRead, 10)]);
    put(0, 'none');
    expect(env.storage_read(0, 4, 100, 64)).toBe(-1);
  });

  it('copies at most outCap bytes but reports the full length', () => {
    const { env, put, get, bytes } = setup([['k', 'abcdef']]);
    put(0, 'k');
    bytes().fill(0, 100, 110);
    expect(env.storage_read(0, 1, 100, 2)).toBe(6);
    expect(get(100, 3)).toBe('ab\0');
  });

  it('reads see the call\'s own writes and deletes; the pre-state is untouched', () => {
    const { pre, view, env, put, get } = setup([['a', 'old']]);
    put(0, 'a');
    put(10, 'new!');
    env.storage_write(0, 1, 10, 4);
    expect(env.storage_read(0, 1, 100, 16)).toBe(4);
    expect(get(100, 4)).toBe('new!');
    env.storage_delete(0, 1);
    expect(env.storage_read(0, 1, 100, 16)).toBe(-1);
    expect(Buffer.from(pre.get(bytesToHex(utf8Bytes('a')))!).toString()).toBe('old');
    expect(view.diff()).toEqual([[bytesToHex(utf8Bytes('a')), null]]);
    expect(pre.size).toBe(1);
  });

  it('a write back to the original value is no diff at all', () => {
    const { view, env, put } = setup([['a', 'same']]);
    put(0, 'a');
    put(10, 'same');
    env.storage_write(0, 1, 10, 4);
    expect(view.diff()).toEqual([]);
  });

  it('traps on keys over 32 bytes, oversized values and out-of-bounds memory', () => {
    const { env } = setup();
    expect(() => env.storage_write(0, 33, 100, 1)).toThrow(GuestTrap);
    expect(() => env.storage_write(0, 1, 100, MAX_STATE_VALUE_BYTES + 1)).toThrow(GuestTrap);
    expect(() => env.storage_read(65_530, 10, 0, 0)).toThrow(GuestTrap);
    expect(() => env.storage_write(0, 1, 65_535, 2)).toThrow(GuestTrap);
    expect(() => env.context_seed(65_520)).toThrow(GuestTrap);
  });

  it('checks every argument before it charges: a bad one traps with nothing charged', () => {
    const MAX_U32 = 0xffff_ffff;
    const PAGE = 65_536;
    const bad: Array<[string, (env: ReturnType<typeof setup>['env']) => unknown]> = [
      ['storage_write keyLen 2^32-1', (env) => env.storage_write(0, MAX_U32, 100, 1)],
      ['storage_write keyLen 33', (env) => env.storage_write(0, 33, 100, 1)],
      ['storage_write key out of memory', (env) => env.storage_write(PAGE - 2, 4, 100, 1)],
      ['storage_write valueLen 2^32-1', (env) => env.storage_write(0, 1, 100, MAX_U32)],
      ['storage_write value out of memory', (env) => env.storage_write(0, 1, PAGE - 2, 4)],
      ['storage_write value pointer 2^32-1', (env) => env.storage_write(0, 1, MAX_U32, 1)],
      ['storage_read keyLen 2^32-1', (env) => env.storage_read(0, MAX_U32, 100, 8)],
      ['storage_read key out of memory', (env) => env.storage_read(PAGE - 1, 4, 100, 8)],
      ['storage_read output out of memory', (env) => env.storage_read(0, 1, PAGE - 2, MAX_U32)],
      ['storage_delete keyLen 2^32-1', (env) => env.storage_delete(0, MAX_U32)],
      ['storage_delete key out of memory', (env) => env.storage_delete(MAX_U32, 1)],
      ['context_seed out of memory', (env) => env.context_seed(PAGE - 31)],
      ['context_seed pointer 2^32-1', (env) => env.context_seed(MAX_U32)],
    ];
    for (const [what, call] of bad) {
      const { env, charges, view, put } = setup([['k', 'stored value']]);
      put(0, 'k');
      expect(() => call(env), what).toThrow(GuestTrap);
      expect(charges, what).toEqual([]);
      expect(view.diff(), what).toEqual([]);
    }
  });

  it('the plan of a call that would grow the state past its byte limit says so before anything is hashed', () => {
    const big = new Uint8Array(MAX_STATE_VALUE_BYTES);
    const entries: Array<[Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < MAX_STATE_BYTES / MAX_STATE_VALUE_BYTES - 1; i++) entries.push([new Uint8Array([i >> 8, i & 255]), big]);
    const state = HashedState.from(stateFromEntries(entries));
    const absorbed = state.absorbedBytes;
    const view = new StateView(state);
    view.set(bytesToHex(utf8Bytes('one more')), big);
    expect(state.plan(view.diff()).bytes).toBeGreaterThan(MAX_STATE_BYTES);
    const small = new StateView(state);
    small.set(bytesToHex(utf8Bytes('small')), new Uint8Array(16));
    expect(state.plan(small.diff())).toMatchObject({ entries: entries.length + 1 });
    expect(state.plan(small.diff()).bytes).toBeLessThanOrEqual(MAX_STATE_BYTES);
    expect(state.absorbedBytes).toBe(absorbed);
  });

  it('limits the keys one call may write', () => {
    const { env, bytes } = setup();
    const view = new Uint32Array(bytes().buffer);
    for (let i = 0; i < MAX_WRITES_PER_CALL; i++) {
      view[0] = i;
      env.storage_write(0, 4, 0, 4);
    }
    view[0] = MAX_WRITES_PER_CALL;
    expect(() => env.storage_write(0, 4, 0, 4)).toThrow(GuestTrap);
  });
});

describe('context_seed and abort', () => {
  it('context_seed writes the 32 seed bytes', () => {
    const { env, bytes, charges } = setup();
    env.context_seed(64);
    expect([...bytes().slice(64, 96)]).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(charges).toEqual([100]);
  });

  it('abort ends the call as a trap carrying the code', () => {
    const { env } = setup();
    expect(() => env.abort(7)).toThrow(expect.objectContaining({ name: 'GuestTrap', code: 7 }));
  });

  it('a host charge that fails stops the operation before it happens', () => {
    const pre = stateFromEntries([]);
    const view = new StateView(pre);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const env = hostFunctions({ view, seed: new Uint8Array(32), prices, charge: () => { throw new Error('out of gas'); }, memory: () => memory }) as Record<string, (...a: number[]) => void>;
    expect(() => env.storage_write!(0, 1, 0, 1)).toThrow('out of gas');
    expect(view.diff()).toEqual([]);
  });
});

describe('effectsGas', () => {
  it('charges the output and each changed entry on key + value bytes', () => {
    const key = bytesToHex(utf8Bytes('count'));
    expect(effectsGas(prices, [], 0)).toBe(10);
    expect(effectsGas(prices, [[key, new Uint8Array(8)]], 33)).toBe(10 + 2 * 2 + 500 + 20);
    expect(effectsGas(prices, [[key, null]], 0)).toBe(10 + 520);
  });
});
