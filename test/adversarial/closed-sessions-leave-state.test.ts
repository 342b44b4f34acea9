// Anyone may open sessions for itself on an open zApp, free of upfront gas. Opening, closing and
// finalizing many of them must not grow the contract state for ever: a closed session leaves once
// none of its receipts can be challenged (the momentums keep its history).
import { describe, expect, it } from 'vitest';
import { addressOf } from '../../contracts/eip712/index.ts';
import { apply } from '../../contracts/gas/apply.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Address, Hash, Method, VerifiedReceipt } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, World } from '../support/contract-kit.ts';

const SESSIONS = 120;

function callAs(w: World, from: Address, nonce: bigint, tag: number, method: Method<VerifiedReceipt>) {
  return apply(w.state, { kind: 'call', from, nonce, callHash: sha3(new Uint8Array([9, tag >> 8, tag & 255, Number(nonce)])), method }, w.context());
}

describe('sessions opened and closed by users of an open zApp', () => {
  it('leave no session in the state after their windows', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n, openToAll: true, openGasPerDay: 10n ** 12n });
    const users: Array<{ from: Address; id: Hash }> = [];
    for (let i = 0; i < SESSIONS; i++) {
      const from = addressOf(sha3(new Uint8Array([3, i >> 8, i & 255])));
      const open = callAs(w, from, 0n, i, { name: 'OpenSession', zAppId, provider: ADDR.provider, user: from, gasLimit: 1_000n as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT });
      expect(open.result.ok).toBe(true);
      const id = open.result.ok ? open.result.created! : (undefined as never);
      expect(callAs(w, from, 1n, i, { name: 'CloseSession', sessionId: id }).result.ok).toBe(true);
      users.push({ from, id });
    }
    w.now += w.state.params.closeGracePeriodSeconds;
    users.forEach(({ from, id }, i) => expect(callAs(w, from, 2n, i, { name: 'FinalizeSession', sessionId: id }).result.ok).toBe(true));
    expect(w.state.sessions.size).toBe(SESSIONS);
    checkInvariants(w.state);

    // after the windows, ordinary traffic (any input) drains them, a bounded number per input
    w.now += w.state.params.challengeWindowSeconds + 60n;
    let inputs = 0;
    while (w.state.sessions.size > 0 && inputs < SESSIONS) {
      w.ok('other', { name: 'Transfer', to: ADDR.user, amount: 1n as Qsr });
      inputs++;
    }
    expect(w.state.sessions.size).toBe(0);
    expect(w.state.removals).toEqual([]);
    expect(w.state.providers.get(ADDR.provider)!.liveSessions).toBe(0);
    expect(w.state.zApps.get(zAppId)!.held).toBe(0n);
    checkInvariants(w.state);
  });
});
