// Attack: a provider that cannot be challenged. A receipt whose call ran on a large state with a
// large input can be settled; if the API's body limit were below the Challenge that disproves it (a
// pre-state of up to genesis maxStateBytes and an input of up to maxInputBytes, hex-encoded inside
// a signed call), the provider could inflate exactly those receipts and keep the money. The body
// limit of POST /v1/calls admits a Challenge at both caps, and the host judges it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { signCall } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import { callToJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { GasReceipt, Hash } from '../../contracts/types.ts';
import { wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, FAKE_MODULE, FAKE_MODULE_HASH, FakeReexecutor, TEST_KEYS, fakeRun, testGenesis } from '../support/contract-kit.ts';
import { settlementOf } from '../integration/fixtures.ts';
import { startSettlementNode } from '../support/settlement.ts';
import type { SettlementNode } from '../support/settlement.ts';

let node: SettlementNode;
let sessionId: Hash;
const reexecutor = new FakeReexecutor();

beforeAll(async () => {
  node = await startSettlementNode({ name: 'adv_caps', genesis: testGenesis(), reexecutor });
  await node.api.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.from(FAKE_MODULE), headers: { 'content-type': 'application/wasm' } });
  const zAppId = (await node.ok(TEST_KEYS.owner, { name: 'RegisterZApp', moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: wholeQsr(10), maxGasPerSession: 1_000_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas }))!;
  await node.ok(TEST_KEYS.owner, { name: 'TopUp', zAppId, amount: wholeQsr(1_000) });
  await node.ok(TEST_KEYS.provider, { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: 1_000_000n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(10_000) });
  sessionId = (await node.ok(TEST_KEYS.owner, { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 1_000_000_000n as Gas, durationSeconds: 3_600n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT }))!;
});

afterAll(async () => {
  await node?.stop();
});

describe('a Challenge at the genesis state and input caps', () => {
  it('goes through POST /v1/calls (inject) and is judged: the inflated receipt is fraud, the provider slashed', async () => {
    const { maxStateBytes, maxInputBytes } = node.genesis.params;
    const preState = new Uint8Array(Number(maxStateBytes)).fill(7);
    const input = new Uint8Array(Number(maxInputBytes)).fill(9);
    const honest = fakeRun(preState, input, 200_000_000n);
    expect(honest.status).toBe(CallStatus.Ok);
    // The provider bills twice the gas the call takes; the user signed the invocation (its limit, input and state).
    const fields: GasReceipt = {
      sessionId, seq: 1n, callGasLimit: 400_000_000n as Gas, callGas: (honest.callGas * 2n) as Gas, cumulativeGas: (honest.callGas * 2n) as Gas,
      inputHash: sha3(input), preStateHash: sha3(preState), postStateHash: honest.postStateHash, outputHash: honest.outputHash, status: CallStatus.Ok,
    };
    const inflated = settlementOf(fields, TEST_KEYS.receiptSigner, TEST_KEYS.user, node.domain);

    const { pendingNonce } = await node.get<{ pendingNonce: string }>(`/v1/accounts/${ADDR.other}`);
    const data = encodeMethod({ name: 'Challenge', receipt: inflated, input: bytesToHex(input), preState: bytesToHex(preState) });
    expect((data.length - 2) / 2).toBeGreaterThan(Number(maxStateBytes + maxInputBytes));
    const body = callToJson(signCall(node.domain, { from: ADDR.other, nonce: BigInt(pendingNonce), data }, TEST_KEYS.other));
    const payload = JSON.stringify(body);
    expect(payload.length).toBeGreaterThan(2 * Number(maxStateBytes + maxInputBytes));

    const res = await node.api.inject({ method: 'POST', url: '/v1/calls', payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(202);
    const { callHash } = res.json<{ callHash: Hash }>();
    const outcome = await node.until(async () => {
      const c = await node.get<{ status: string; result?: { ok: boolean; events?: { type: string }[] } }>(`/v1/calls/${callHash}`);
      return c.status === 'pending' ? undefined : c;
    }, 'the challenge judged');
    expect(outcome.status).toBe('applied');
    expect(outcome.result?.events?.map((e) => e.type)).toContain('FraudProven');
    expect(reexecutor.calls.at(-1)).toMatchObject({ gasLimit: fields.callGasLimit });
    expect(reexecutor.calls.at(-1)?.preState.length).toBe(Number(maxStateBytes));
    expect(await node.get(`/v1/sessions/${sessionId}`)).toMatchObject({ slashed: true, status: 'closed' });

    // One byte of data past the contract's largest call data is refused as too large.
    const over = await node.api.inject({ method: 'POST', url: '/v1/calls', payload: JSON.stringify({ ...body, data: `0x${'00'.repeat(8 * 1024 * 1024 + 1)}` }), headers: { 'content-type': 'application/json' } });
    expect(over.statusCode).toBeGreaterThanOrEqual(400);
    expect(['PayloadTooLarge', 'InvalidRequest']).toContain(over.json().code);
  });
});
