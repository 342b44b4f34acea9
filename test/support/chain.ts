import { readFileSync } from 'node:fs';
import { encodeMethod } from '../../contracts/abi/index.ts';
import { callHash, makeDomain, settlementReceipt, signCall, signInvocation, signReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import type { Domain } from '../../contracts/eip712/index.ts';
import { parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Address, GasReceipt, Hash, Method, SettlementReceipt, SignedCall, VerifiedReceipt } from '../../contracts/types.ts';

interface TestKey {
  privateKey: string;
  address: Address;
}

const vectors = JSON.parse(readFileSync(new URL('../vectors/vectors.json', import.meta.url), 'utf8')) as {
  keys: Record<'owner' | 'provider' | 'receiptSigner' | 'user', TestKey>;
  domain: { chainId: number; verifyingContract: string };
};

/** The public test keys of the golden vectors. */
export const KEYS = vectors.keys;
export const TEST_CHAIN_ID = BigInt(vectors.domain.chainId);
export const TEST_CONTRACT = vectors.domain.verifyingContract as Address;
export const TEST_DOMAIN: Domain = makeDomain(TEST_CHAIN_ID, TEST_CONTRACT);
/** Unix seconds of the test genesis. */
export const TEST_GENESIS_TIMESTAMP = 1_800_000_000n;

/** A genesis on the vectors' domain; balances in base units as decimal strings. */
export function testGenesis(balances: Partial<Record<keyof typeof KEYS, string>>, params: Record<string, string> = {}): Genesis {
  return parseGenesis({
    chainId: TEST_CHAIN_ID.toString(),
    contract: TEST_CONTRACT,
    timestamp: TEST_GENESIS_TIMESTAMP.toString(),
    params,
    accounts: Object.entries(balances).map(([name, balance]) => ({ address: KEYS[name as keyof typeof KEYS].address, balance })),
  });
}

/** Signs calls for one account, counting its nonce. */
export class TestAccount {
  nonce = 0n;
  constructor(readonly key: TestKey, readonly domain: Domain = TEST_DOMAIN) {}
  get address(): Address {
    return this.key.address;
  }
  /** The next call of this account, signed; `hash` is its id (and the id of what it creates). */
  call(method: Method): { signed: SignedCall; hash: Hash } {
    const signed = signCall(this.domain, { from: this.key.address, nonce: this.nonce, data: encodeMethod(method) }, this.key.privateKey);
    this.nonce += 1n;
    return { signed, hash: callHash(this.domain, signed) };
  }
}

/**
 * A settlement receipt: the gas receipt signed with `key` (default the vectors' receipt signer)
 * and its invocation signed with `userKey` (default the vectors' user), verified (digest and both
 * recovered signers).
 */
export function testReceipt(fields: GasReceipt, key: TestKey = KEYS.receiptSigner, domain: Domain = TEST_DOMAIN, userKey: TestKey = KEYS.user): VerifiedReceipt {
  return verifyReceipt(domain, testSettlementReceipt(fields, key, domain, userKey));
}

/** A settlement receipt signed by `key` (the receipt) and `userKey` (its invocation), not verified. */
export function testSettlementReceipt(fields: GasReceipt, key: TestKey = KEYS.receiptSigner, domain: Domain = TEST_DOMAIN, userKey: TestKey = KEYS.user): SettlementReceipt {
  const signed = signReceipt(domain, fields, key.privateKey);
  return settlementReceipt(signed, signInvocation(domain, invocationOf(fields), userKey.privateKey));
}
