// Attack: state spam from keys that hold nothing. Creating a key is free; a call that fails still
// takes its sender's nonce (so it can never be replayed), and taking a nonce creates the account.
// Were every well-signed call stored, 2,000 fresh keys sending calls bound to fail would leave
// 2,000 account rows behind at no cost. The API applies such a call to the latest state first and
// refuses it when it would fail; a key with nothing can still do what it is entitled to (open a
// session on an open zApp, abort, close, finalize). And RegisterZApp for a module nobody uploaded
// is refused, whoever sends it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressOf } from '../../contracts/eip712/index.ts';
import { errors } from '../../contracts/errors.ts';
import { sha3 } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import type { Address, Hash, Hex } from '../../contracts/types.ts';
import { wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, FAKE_MODULE, FAKE_MODULE_HASH, FakeRunner, TEST_KEYS, World, testGenesis } from '../support/contract-kit.ts';
import { startSettlementNode } from '../support/settlement.ts';
import type { SettlementNode } from '../support/settlement.ts';

/** Fresh keys per attack round (the attack uses thousands; a few dozen show every row it would leave). */
const UNFUNDED_KEYS = 40;

let node: SettlementNode;
let openZApp: Hash;
let ownerOnlyZApp: Hash;

const freshKey = (): Hex => bytesToHex(randomBytes(32));
const session = { gasLimit: 1_000_000n as Gas, durationSeconds: 600n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT };

async function accountRows(addresses: readonly Address[]): Promise<number> {
  const { rows } = await node.db.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE address = ANY($1::text[])', [addresses]);
  return rows[0]!.n;
}

async function callRows(addresses: readonly Address[]): Promise<number> {
  const { rows } = await node.db.query<{ n: number }>('SELECT count(*)::int AS n FROM calls WHERE from_address = ANY($1::text[])', [addresses]);
  return rows[0]!.n;
}

beforeAll(async () => {
  node = await startSettlementNode({ name: 'adv_unfunded', genesis: testGenesis() });
  await node.api.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.from(FAKE_MODULE), headers: { 'content-type': 'application/wasm' } });
  const policy = { moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: wholeQsr(10), maxGasPerSession: 1_000_000_000n as Gas };
  openZApp = (await node.ok(TEST_KEYS.owner, { name: 'RegisterZApp', ...policy, openToAll: true, openGasPerDay: 100_000_000n as Gas }))!;
  ownerOnlyZApp = (await node.ok(TEST_KEYS.owner, { name: 'RegisterZApp', ...policy, openToAll: false, openGasPerDay: 0n as Gas }))!;
  await node.ok(TEST_KEYS.owner, { name: 'TopUp', zAppId: openZApp, amount: wholeQsr(1_000) });
  await node.ok(TEST_KEYS.owner, { name: 'TopUp', zAppId: ownerOnlyZApp, amount: wholeQsr(1_000) });
  await node.ok(TEST_KEYS.provider, { name: 'RegisterProvider', receiptSigner: ADDR.receiptSigner, pricePerMgas: 1_000_000n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(10_000) });
});

afterAll(async () => {
  await node?.stop();
});

describe('calls from keys that hold nothing', () => {
  it('are refused before they are stored when they would fail: no account row, no call row, whatever the method', async () => {
    const keys = Array.from({ length: UNFUNDED_KEYS }, freshKey);
    const addresses = keys.map((k) => addressOf(k) as Address);
    const someone = ADDR.other;
    const attempts = [
      { method: { name: 'Transfer', to: someone, amount: 1n as Qsr }, code: 'InsufficientBalance' },
      { method: { name: 'TopUp', zAppId: openZApp, amount: 1n as Qsr }, code: 'InsufficientBalance' },
      { method: { name: 'RegisterProvider', receiptSigner: someone, pricePerMgas: 1n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(10_000) }, code: 'InsufficientBalance' },
      { method: { name: 'WithdrawEscrow', zAppId: openZApp, amount: 1n as Qsr }, code: 'NotZAppOwner' },
      { method: { name: 'ClaimEarnings' }, code: 'ProviderNotFound' },
      { method: { name: 'OpenSession', zAppId: ownerOnlyZApp, provider: ADDR.provider, user: someone, ...session }, code: 'NotAllowedToOpen' },
      { method: { name: 'Abort', sessionId: `0x${'ab'.repeat(32)}` as Hash }, code: 'SessionNotFound' },
    ] as const;
    let i = 0;
    for (const key of keys) {
      const { method, code } = attempts[i++ % attempts.length]!;
      const res = await node.send(key, method);
      expect([method.name, res.statusCode, res.json().code]).toEqual([method.name, errors[code].status, code]);
    }
    // A call the host applies after them: had any been stored, it would have been applied by now.
    await node.ok(TEST_KEYS.owner, { name: 'Transfer', to: someone, amount: 1n as Qsr });
    expect(await callRows(addresses)).toBe(0);
    expect(await accountRows(addresses)).toBe(0);
    for (const address of addresses.slice(0, 3)) expect(await node.get(`/v1/accounts/${address}`)).toEqual({ address, balance: '0', nonce: '0', pendingNonce: '0' });
  });

  it('a key with nothing can still open a session on an open zApp, abort, close and finalize', async () => {
    const opener = freshKey();
    const own = (await node.ok(opener, { name: 'OpenSession', zAppId: openZApp, provider: ADDR.provider, user: addressOf(opener) as Address, ...session }))!;
    expect(await node.get(`/v1/sessions/${own}`)).toMatchObject({ status: 'open', openedByOwner: false, upfrontGas: '0' });

    // Sessions the owner opened for users that do not exist yet: each user's first call is its stop.
    const aborter = freshKey();
    const closer = freshKey();
    const aborted = (await node.ok(TEST_KEYS.owner, { name: 'OpenSession', zAppId: ownerOnlyZApp, provider: ADDR.provider, user: addressOf(aborter) as Address, ...session }))!;
    const closed = (await node.ok(TEST_KEYS.owner, { name: 'OpenSession', zAppId: ownerOnlyZApp, provider: ADDR.provider, user: addressOf(closer) as Address, ...session }))!;
    await node.ok(aborter, { name: 'Abort', sessionId: aborted });
    await node.ok(closer, { name: 'CloseSession', sessionId: closed });
    expect(await node.get(`/v1/sessions/${aborted}`)).toMatchObject({ status: 'closing', stopCall: true });
    const closing = await node.get<{ status: string; stopCall: boolean; closesAt: string }>(`/v1/sessions/${closed}`);
    expect(closing).toMatchObject({ status: 'closing', stopCall: false });

    // Too early to finalize: a stranger with nothing is refused and leaves nothing behind.
    const stranger = freshKey();
    const early = await node.send(stranger, { name: 'FinalizeSession', sessionId: closed });
    expect([early.statusCode, early.json().code]).toEqual([409, 'FinalizeTooEarly']);
    expect(await accountRows([addressOf(stranger) as Address])).toBe(0);
    node.now = BigInt(closing.closesAt) + 1n;
    await node.ok(stranger, { name: 'FinalizeSession', sessionId: closed });
    expect(await node.get(`/v1/sessions/${closed}`)).toMatchObject({ status: 'closed' });
  });

  it('a Settle sent by a key with nothing goes through when its receipts settle', async () => {
    const sessionId = (await node.ok(TEST_KEYS.owner, { name: 'OpenSession', zAppId: ownerOnlyZApp, provider: ADDR.provider, user: ADDR.user, ...session }))!;
    const receipt = new FakeRunner(new World(node.genesis), sessionId).run(16, { callGasLimit: 100_000n });
    await node.ok(freshKey(), { name: 'Settle', receipts: [receipt] });
    expect(await node.get(`/v1/sessions/${sessionId}`)).toMatchObject({ lastSeq: '1', settledGas: receipt.cumulativeGas.toString() });
  });
});

describe('RegisterZApp', () => {
  it('is refused for a module never uploaded, from any sender, and nothing is stored', async () => {
    const missing = sha3(new TextEncoder().encode('a module nobody uploaded'));
    const policy = { name: 'RegisterZApp', moduleHash: missing, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 1n as Gas, openToAll: true, openGasPerDay: 1n as Gas } as const;
    const ownerCalls = await callRows([ADDR.owner]);
    const funded = await node.send(TEST_KEYS.owner, policy);
    expect([funded.statusCode, funded.json()]).toMatchObject([409, { code: 'ModuleNotUploaded', details: { moduleHash: missing } }]);
    const key = freshKey();
    const unfunded = await node.send(key, policy);
    expect([unfunded.statusCode, unfunded.json().code]).toEqual([409, 'ModuleNotUploaded']);
    expect(await callRows([addressOf(key) as Address])).toBe(0);
    expect(await callRows([ADDR.owner])).toBe(ownerCalls);
    const { rows } = await node.db.query<{ n: number }>('SELECT count(*)::int AS n FROM zapps WHERE module_hash = $1', [missing]);
    expect(rows[0]!.n).toBe(0);
    // Uploaded, the same registration goes through — even from a key with nothing (it is free).
    const bytes = new Uint8Array([...FAKE_MODULE, 0x00, 0x02, 0x01, 0x7a]);
    const put = await node.api.inject({ method: 'PUT', url: '/v1/modules', payload: Buffer.from(bytes), headers: { 'content-type': 'application/wasm' } });
    expect(put.statusCode).toBe(200);
    await node.ok(key, { ...policy, moduleHash: sha3(bytes) });
  });
});
