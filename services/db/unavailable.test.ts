import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from './unavailable.ts';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it('recognises a database that is away: sockets refused or reset, the server shutting down, pg losing the connection', () => {
    for (const err of [
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('wrapped', { cause: withCode('ECONNREFUSED') }),
      new AggregateError([withCode('ECONNREFUSED')]),
    ]) {
      expect(isStoreUnavailable(err), String(err)).toBe(true);
    }
  });

  it('leaves statement failures alone: they are bugs or bad input, not an outage', () => {
    for (const err of [withCode('23505', 'duplicate key'), withCode('42P01', 'relation does not exist'), new Error('boom'), null, 'text', 42]) {
      expect(isStoreUnavailable(err), String(err)).toBe(false);
    }
  });
});
