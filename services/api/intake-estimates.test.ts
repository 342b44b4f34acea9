import { describe, expect, it } from 'vitest';
import { IntakeEstimates } from './intake-estimates.ts';

const none = { copies: 0, bytes: 0 };

describe('intake estimates', () => {
  it('start from a count, add what later POSTs stored, and expire a while after the count', () => {
    const e = new IntakeEstimates(1_000, 10);
    expect(e.get('a', 0)).toBeUndefined();
    e.record('a', { counted: null, added: { copies: 5, bytes: 50 } }, 0); // no count yet: nothing to add to
    expect(e.get('a', 0)).toBeUndefined();
    e.record('a', { counted: { copies: 7, bytes: 70 }, added: { copies: 3, bytes: 30 } }, 100);
    expect(e.get('a', 100)).toEqual({ copies: 10, bytes: 100 });
    e.record('a', { counted: null, added: { copies: 2, bytes: 20 } }, 900);
    e.record('a', { counted: null, added: { copies: 1, bytes: 10 } }, 950);
    expect(e.get('a', 1_100)).toEqual({ copies: 13, bytes: 130 });
    // Adding does not renew it: a second after the count it is gone, and the next POST counts again.
    expect(e.get('a', 1_101)).toBeUndefined();
    expect(e.size).toBe(0);
  });

  it('track a bounded number of submitters, dropping the one counted longest ago', () => {
    const e = new IntakeEstimates(1_000, 2);
    e.record('a', { counted: none, added: none }, 0);
    e.record('b', { counted: none, added: none }, 1);
    e.record('a', { counted: none, added: { copies: 1, bytes: 1 } }, 2); // counted again: now the newest
    e.record('c', { counted: none, added: none }, 3);
    expect(e.size).toBe(2);
    expect(e.get('b', 3)).toBeUndefined();
    expect(e.get('a', 3)).toEqual({ copies: 1, bytes: 1 });
    expect(e.get('c', 3)).toEqual(none);
  });
});
