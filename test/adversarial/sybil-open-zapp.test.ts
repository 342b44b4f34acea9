// Sybil users of an open zApp, colluding with a provider, try to drain its escrow: by the upfront
// gas of many sessions, by many users each within a per-user budget, or through a provider that
// has nothing at stake. v2: no upfront gas on user-opened sessions, one zApp-wide openGasPerDay,
// and providers below minProviderStake or retired get no sessions.
import { describe, expect, it } from 'vitest';
import { addressOf } from '../../contracts/eip712/index.ts';
import { apply } from '../../contracts/gas/apply.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Address, Hash, Method, VerifiedReceipt } from '../../contracts/types.ts';
import { wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, World } from '../support/contract-kit.ts';

const BUDGET = 1_000_000n;

/** A sybil opens a session for itself (the call is verified elsewhere; the contract sees its sender). */
function sybilOpen(w: World, i: number, zAppId: Hash, gasLimit: bigint, provider: Address = ADDR.provider) {
  const from = addressOf(sha3(new Uint8Array([7, i >> 8, i & 255])));
  const method: Method<VerifiedReceipt> = { name: 'OpenSession', zAppId, provider, user: from, gasLimit: gasLimit as Gas, durationSeconds: 60n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT };
  return apply(w.state, { kind: 'call', from, nonce: 0n, callHash: sha3(new Uint8Array([8, i >> 8, i & 255])), method }, w.context());
}

describe('sybil users of an open zApp', () => {
  it('bill no upfront gas, and share one openGasPerDay however many they are', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 500_000n, openToAll: true, openGasPerDay: BUDGET });
    const escrow = w.state.zApps.get(zAppId)!.available;
    let opened = 0;
    for (let i = 0; i < 200; i++) {
      const out = sybilOpen(w, i, zAppId, 10_000n);
      if (out.result.ok) opened++;
      else expect(out.result.code).toBe('OpenGasPerDayExceeded');
    }
    expect(opened).toBe(Number(BUDGET / 10_000n));
    expect(w.state.providers.get(ADDR.provider)!.pendingTotal).toBe(0n); // no upfront earned
    // all the sessions together hold the budget, and pay only what settles
    const z = w.state.zApps.get(zAppId)!;
    expect(escrow - z.available).toBe(BUDGET);
    expect(z.held).toBe(BUDGET);
    checkInvariants(w.state);
  });

  it('extensions by users count against the same budget', () => {
    const w = new World();
    const zAppId = w.setup({ openToAll: true, openGasPerDay: BUDGET });
    const id = w.open(zAppId, BUDGET, 60n, 'user');
    w.fails('user', { name: 'ExtendSession', sessionId: id, extraGas: 1n as Gas }, 'OpenGasPerDayExceeded');
  });

  it('a provider with too little stake, or retired, gets no sessions', () => {
    const w = new World();
    const zAppId = w.setup({ openToAll: true, openGasPerDay: BUDGET });
    w.ok('provider2', { name: 'RegisterProvider', receiptSigner: ADDR.signer2, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(1_000) });
    w.ok('provider2', { name: 'Unbond', amount: 1n as Qsr });
    expect(sybilOpen(w, 1, zAppId, 10_000n, ADDR.provider2).result).toMatchObject({ ok: false, code: 'InsufficientStake' });
    w.ok('provider', { name: 'Retire' });
    expect(sybilOpen(w, 2, zAppId, 10_000n).result).toMatchObject({ ok: false, code: 'ProviderRetired' });
    expect(w.state.sessions.size).toBe(0);
  });
});
