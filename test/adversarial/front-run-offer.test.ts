// A provider sees an OpenSession coming and raises its price or upfront gas before it lands.
// v2: the opener signs maxPricePerMgas and maxUpfrontGas; anything above fails OfferChanged.
import { describe, expect, it } from 'vitest';
import { stateDigest } from '../../contracts/gas/state.ts';
import type { Method } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, World } from '../support/contract-kit.ts';

describe('front-running OpenSession with a new offer', () => {
  const open = (zAppId: `0x${string}`): Method => ({ name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 1_000_000n as Gas, durationSeconds: 60n, maxPricePerMgas: 1_000_000n as Qsr, maxUpfrontGas: 10_000n as Gas });

  it.each([
    ['a higher price', { pricePerMgas: 1_000_001n as Qsr, upfrontGas: 10_000n as Gas }],
    ['a higher upfrontGas', { pricePerMgas: 1_000_000n as Qsr, upfrontGas: 10_001n as Gas }],
  ])('%s fails OfferChanged and takes no hold', (_n, offer) => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 10_000n });
    w.ok('provider', { name: 'UpdateOffer', receiptSigner: ADDR.receiptSigner, ...offer });
    const zApp = JSON.stringify(w.state.zApps.get(zAppId), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    w.fails('owner', open(zAppId), 'OfferChanged');
    expect(JSON.stringify(w.state.zApps.get(zAppId), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(zApp);
    expect(w.state.sessions.size).toBe(0);
  });

  it('the offer the opener signed for opens', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 10_000n });
    const before = stateDigest(w.state);
    w.ok('owner', open(zAppId));
    expect(stateDigest(w.state)).not.toBe(before);
    expect([...w.state.sessions.values()][0]).toMatchObject({ price: 1_000_000n, upfrontGas: 10_000n });
  });
});
