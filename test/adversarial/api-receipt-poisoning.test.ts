// Attack: receipt poisoning. Metering is deterministic, so a session's user can compute the
// receipt of its own call before the provider sends it, sign it under its own key (or any key) and
// post it first. Were copies keyed by the receipt's identity alone (its digest, which leaves the
// signatures out), the provider's correctly signed copy would arrive as a "duplicate" of the
// attacker's, the attacker's would be rejected at verification, and the call would never be billed.
// Each copy is a row of its own (digest and both signatures), a wrongly signed copy is dropped, and
// the real one settles and bills.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptDigest, settlementReceipt, signReceipt } from '../../contracts/eip712/index.ts';
import { receiptToJson } from '../../contracts/json.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, FAKE_MODULE, FAKE_MODULE_HASH, FakeRunner, TEST_KEYS, World, testGenesis } from '../support/contract-kit.ts';
import { startSettlementNode } from '../support/settlement.ts';
import type { SettlementNode } from '../support/settlement.ts';

const PRICE = 1_000_000n;

let node: SettlementNode;
let sessionId: Hash;

beforeAll(async () => {
  node = await startSettlementNode({ name: 'adv_poison', genesis: testGenesis() });
  const put = await node.api.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.from(FAKE_MODULE), headers: { 'content-type': 'application/wasm' } });
  expect(put.json()).toEqual({ moduleHash: FAKE_MODULE_HASH });
  const zAppId = (await node.ok(TEST_KEYS.owner, { name: 'RegisterZApp', moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: wholeQsr(10), maxGasPerSession: 1_000_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas }))!;
  await node.ok(TEST_KEYS.owner, { name: 'TopUp', zAppId, amount: wholeQsr(1_000) });
  await node.ok(TEST_KEYS.provider, { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: PRICE as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(10_000) });
  sessionId = (await node.ok(TEST_KEYS.owner, { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 10_000_000n as Gas, durationSeconds: 3_600n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT }))!;
});

afterAll(async () => {
  await node?.stop();
});

interface ReceiptStatus {
  digest: Hash;
  state: string;
  outcome?: string;
  code?: string;
  copies: number;
}

async function settledAs(digest: Hash, outcome: string): Promise<ReceiptStatus> {
  return node.until(async () => {
    const status = await node.get<ReceiptStatus>(`/v1/receipts/${digest}`);
    return status.state === 'applied' && status.outcome === outcome ? status : undefined;
  }, `receipt ${digest} ${outcome}`);
}

describe('receipt poisoning through POST /v1/receipts', () => {
  it('the user\'s copy of a receipt under its own key, posted first, never blocks the provider\'s: the real one settles and bills', async () => {
    const runner = new FakeRunner(new World(node.genesis), sessionId);
    const real = runner.run(64, { callGasLimit: 1_000_000n });
    const digest = receiptDigest(node.domain, real);
    // The same ten fields (same identity), signed by the session's user instead of the provider;
    // its invocation signature is the user's own and valid.
    const forged: SettlementReceipt = settlementReceipt(signReceipt(node.domain, real, TEST_KEYS.user), real.invocationSignature);
    expect(receiptDigest(node.domain, forged)).toBe(digest);

    const first = await node.post('/v1/receipts', { receipts: [receiptToJson(forged)] });
    expect([first.statusCode, first.json()]).toEqual([202, { accepted: [digest], duplicates: [] }]);
    // The attacker's copy is verified and dropped before the real one arrives: the worst case for v1.
    await node.until(async () => {
      const s = await node.get<ReceiptStatus>(`/v1/receipts/${digest}`);
      return s.state === 'rejected' ? s : undefined;
    }, 'the forged copy dropped');
    expect(await node.get(`/v1/receipts/${digest}`)).toMatchObject({ state: 'rejected', code: 'InvalidSigner', copies: 1 });

    const second = await node.post('/v1/receipts', { receipts: [receiptToJson(real)] });
    expect([second.statusCode, second.json()]).toEqual([202, { accepted: [digest], duplicates: [] }]);
    const settled = await settledAs(digest, 'Settled');
    expect(settled.copies).toBe(2);

    const session = await node.get<{ settledGas: string; billedGas: string; lastReceiptHash: string }>(`/v1/sessions/${sessionId}`);
    expect(session).toMatchObject({ settledGas: real.cumulativeGas.toString(), billedGas: real.cumulativeGas.toString(), lastReceiptHash: digest });
    const provider = await node.get<{ pendingTotal: string }>(`/v1/providers/${ADDR.provider}`);
    expect(BigInt(provider.pendingTotal)).toBe((real.cumulativeGas * PRICE + 999_999n) / 1_000_000n);
    // Nothing the attacker posted reached a momentum: no input of any momentum carries its signature.
    const latest = await node.get<{ height: string }>('/v1/momentums/latest');
    for (let h = 1n; h <= BigInt(latest.height); h++) {
      expect(JSON.stringify(await node.get(`/v1/momentums/${h}`))).not.toContain(forged.signature.slice(2));
    }
  });

  it('a copy whose invocation is signed by someone other than the user is dropped too; the next real receipt settles', async () => {
    const runner = new FakeRunner(new World(node.genesis), sessionId);
    runner.run(64, { callGasLimit: 1_000_000n }); // seq 1, settled above
    const real = runner.run(32, { callGasLimit: 1_000_000n });
    const digest = receiptDigest(node.domain, real);
    const stranger: SettlementReceipt = { ...real, invocationSignature: new FakeRunner(new World(node.genesis), sessionId, TEST_KEYS.receiptSigner, TEST_KEYS.other).run(1).invocationSignature };
    const both = await node.post('/v1/receipts', { receipts: [receiptToJson(stranger), receiptToJson(real)] });
    expect([both.statusCode, both.json()]).toEqual([202, { accepted: [digest, digest], duplicates: [] }]);
    await settledAs(digest, 'Settled');
    // Once the contract has the receipt, further copies are duplicates and are not stored.
    const resigned = settlementReceipt(signReceipt(node.domain, real, TEST_KEYS.owner), real.invocationSignature);
    const late = await node.post('/v1/receipts', { receipts: [receiptToJson(resigned)] });
    expect(late.json()).toEqual({ accepted: [], duplicates: [digest] });
  });
});
