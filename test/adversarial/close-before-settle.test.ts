// A user closes a session before the provider's receipts settle, hoping to pay nothing for calls
// that ran: v2 keeps settling receipts while the session is closing, until FinalizeSession.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { cost } from '../../contracts/units.ts';
import { ADDR, FakeRunner, World } from '../support/contract-kit.ts';

describe('closing before settlement does not erase what the user asked for', () => {
  it('50 honest receipts settle after CloseSession, until closesAt; the rest of the hold returns at finalize', () => {
    const w = new World();
    const price = 1_000_000n;
    const zAppId = w.setup({ price, upfrontGas: 0n });
    const id = w.open(zAppId, 10_000_000n, 3_600n);
    const runner = new FakeRunner(w, id);
    const receipts = Array.from({ length: 50 }, () => runner.run(16));
    w.ok('user', { name: 'CloseSession', sessionId: id });
    const closesAt = w.session(id).closesAt!;
    // nobody can finalize before closesAt; the receipts arrive one by one meanwhile
    w.fails('user', { name: 'FinalizeSession', sessionId: id }, 'FinalizeTooEarly');
    for (const [i, r] of receipts.entries()) {
      w.now = closesAt - 50n + BigInt(i);
      expect(w.settle([r]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
    }
    const total = receipts.at(-1)!.cumulativeGas;
    expect(w.session(id).billedGas).toBe(total);
    w.now = closesAt;
    const available = w.state.zApps.get(zAppId)!.available;
    w.ok('user', { name: 'FinalizeSession', sessionId: id });
    expect(w.state.zApps.get(zAppId)!.available - available).toBe(cost(10_000_000n, price) - cost(total, price));
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(cost(total, price));
    checkInvariants(w.state);
  });

  it('the user cannot close again to restart the grace, nor abort to shorten it', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const id = w.open(zAppId);
    w.ok('user', { name: 'CloseSession', sessionId: id });
    const closesAt = w.session(id).closesAt;
    w.fails('user', { name: 'CloseSession', sessionId: id }, 'SessionNotOpen');
    w.now += 10n;
    w.ok('user', { name: 'Abort', sessionId: id });
    expect(w.session(id).closesAt).toBe(closesAt);
  });
});
