// A user re-signs an invocation (ECDSA signatures are not unique) or signs a second request for a
// settled seq, hoping to frame the provider for equivocation. v2: a receipt's identity is its
// EIP-712 digest, which excludes signatures; a second request for a seq is ConflictingInvocation.
import * as noble from '@noble/secp256k1';
import { describe, expect, it } from 'vitest';
import { invocationDigestBytes, privateKeyBytes, signInvocation, signReceipt, settlementReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { sha3 } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import type { Hex, SettlementReceipt } from '../../contracts/types.ts';
import { ADDR, FakeRunner, TEST_KEYS, World } from '../support/contract-kit.ts';

/** Another valid low-s signature of the same invocation (fresh nonce entropy). */
function resign(w: World, r: SettlementReceipt): Hex {
  const sig = noble.sign(invocationDigestBytes(w.domain, invocationOf(r)), privateKeyBytes(TEST_KEYS.user), { prehash: false, lowS: true, format: 'recovered', extraEntropy: new Uint8Array(32).fill(9) });
  const out = new Uint8Array(65);
  out.set(sig.subarray(1), 0);
  out[64] = 27 + sig[0]!;
  return bytesToHex(out);
}

describe('a user cannot frame an equivocation', () => {
  it('a re-signed copy of a settled receipt is a Duplicate', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    const r = runner.run();
    w.settle([r]);
    const copy = { ...r, invocationSignature: resign(w, r) };
    expect(copy.invocationSignature).not.toBe(r.invocationSignature);
    expect(verifyReceipt(w.domain, copy)).toMatchObject({ invocationSigner: ADDR.user, digest: verifyReceipt(w.domain, r).digest });
    const stake = w.state.providers.get(ADDR.provider)!.stake;
    const out = w.call('user', { name: 'Settle', receipts: [copy] });
    expect(out.result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Duplicate' }] });
    expect(out.changed).toMatchObject({ sessions: new Set(), providers: new Set(), zApps: new Set(), accounts: new Set([ADDR.user]) }); // the sender's nonce only
    expect(w.state.providers.get(ADDR.provider)!.stake).toBe(stake);
    expect(w.session(r.sessionId).slashed).toBe(false);
  });

  it('a second request the user signed for a settled seq is ConflictingInvocation, not fraud', () => {
    const w = new World();
    const zAppId = w.setup({ upfrontGas: 0n });
    const runner = new FakeRunner(w, w.open(zAppId));
    const r = runner.run();
    w.settle([r]);
    const other = { ...r, inputHash: sha3(new Uint8Array([42])) };
    const framed = settlementReceipt(signReceipt(w.domain, other, TEST_KEYS.receiptSigner), signInvocation(w.domain, invocationOf(other), TEST_KEYS.user));
    const before = stateDigest(w.state);
    expect(w.settle([framed]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Rejected', code: 'ConflictingInvocation' }] });
    expect(stateDigest(w.state)).toBe(before);
  });
});
