import { describe, expect, it } from 'vitest';
import { ZgasError } from '../../../contracts/errors.ts';
import { asCliError, reportError } from './context.ts';

function report(error: unknown, json = false): { ok: boolean; out: string; err: string } {
  let out = '';
  let err = '';
  const ok = reportError(error, json, (fd, text) => (fd === 1 ? (out += text) : (err += text)));
  return { ok, out, err };
}

describe('failures on the command line', () => {
  it('are one line with the code, what to do, the hint and the details that matter', () => {
    const r = report(new ZgasError('WrongSigner', { httpStatus: 401, url: 'http://x/v1/calls', remoteMessage: 'same again', chainId: '1', hint: 'check --chain-id/--contract' }));
    expect(r.ok).toBe(true);
    expect(r.err).toBe('zgas: WrongSigner: the signature does not recover to the account that claims to have sent it — check --chain-id/--contract (chainId: 1)\n');
    expect(r.out).toBe('');
  });

  it('with --json also print { code, message, details } on stdout', () => {
    const r = report(new ZgasError('InvalidQsrAmount', { amount: '0.000000001' }), true);
    expect(JSON.parse(r.out)).toMatchObject({ code: 'InvalidQsrAmount', details: { amount: '0.000000001' } });
  });

  it('turn an unreachable server into NotReady saying what to start; anything else is not theirs to report', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8645'), { code: 'ECONNREFUSED' }) });
    const mapped = asCliError(refused);
    expect(mapped).toBeInstanceOf(ZgasError);
    expect(report(mapped).err).toMatch(/^zgas: NotReady: .*ECONNREFUSED.*npm start.*--api-url/);
    expect(report(new Error('a bug')).ok).toBe(false);
  });
});
