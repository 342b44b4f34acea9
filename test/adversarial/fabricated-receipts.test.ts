// A provider tries to bill calls the user never asked for: v2 bills only settlement receipts whose
// invocation the session's user signed, so a made-up call, input or pre-state settles nothing.
import { describe, expect, it } from 'vitest';
import { signInvocation, signReceipt, settlementReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import { checkInvariants } from '../../contracts/gas/invariants.ts';
import { stateDigest } from '../../contracts/gas/state.ts';
import { sha3 } from '../../contracts/hash.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import type { GasReceipt, SettlementReceipt } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { FakeRunner, TEST_KEYS, World } from '../support/contract-kit.ts';

function session() {
  const w = new World();
  const zAppId = w.setup({ price: 1_000_000n, upfrontGas: 0n });
  const id = w.open(zAppId, 10_000_000n);
  return { w, zAppId, id, runner: new FakeRunner(w, id) };
}

/** A receipt the provider signs alone, with an invocation signature by `invocationKey`. */
function providerMade(w: World, fields: GasReceipt, invocationKey: string): SettlementReceipt {
  return settlementReceipt(signReceipt(w.domain, fields, TEST_KEYS.receiptSigner), signInvocation(w.domain, invocationOf(fields), invocationKey));
}

function expectNothingBilled(w: World, receipts: SettlementReceipt[], code: string): void {
  const before = stateDigest(w.state);
  const out = w.settle(receipts);
  expect(out.result.ok && out.result.outcomes!.every((o) => o.outcome === 'Rejected' && o.code === code)).toBe(true);
  expect(stateDigest(w.state)).toBe(before);
  checkInvariants(w.state);
}

describe('a provider fabricating receipts bills nothing', () => {
  it('a receipt without the user invocation signature does not even verify', () => {
    const { w, runner } = session();
    const r = runner.run();
    const unsigned = { ...r, invocationSignature: `0x${'00'.repeat(65)}` as const };
    expect(() => verifyReceipt(w.domain, unsigned)).toThrowError(expect.objectContaining({ code: 'InvalidSignature' }));
  });

  it('an invocation signed by the provider (or its receipt key) instead of the user is InvalidInvocation', () => {
    const { w, runner } = session();
    const honest = runner.run();
    expectNothingBilled(w, [providerMade(w, honest, TEST_KEYS.provider), providerMade(w, honest, TEST_KEYS.receiptSigner)], 'InvalidInvocation');
  });

  it('a made-up input hash for a call the user did ask for is InvalidInvocation', () => {
    const { w, runner } = session();
    const r = runner.run(8, { tamper: (x) => ({ ...x, inputHash: sha3(new Uint8Array([1, 2, 3])) }) });
    expectNothingBilled(w, [r], 'InvalidInvocation');
  });

  it('a gap receipt with a made-up pre-state and acknowledged gas is InvalidInvocation', () => {
    const { w, runner } = session();
    const first = runner.run();
    expect(w.settle([first]).result).toMatchObject({ ok: true, outcomes: [{ outcome: 'Settled' }] });
    // seq 9 on a pre-state nobody holds, claiming 5,000,000 gas already acknowledged
    const madeUp: GasReceipt = {
      ...first, seq: 9n, callGasLimit: 1_000_000n as Gas, callGas: 1_000_000n as Gas, cumulativeGas: 6_000_000n as Gas,
      preStateHash: sha3(new Uint8Array([9])), postStateHash: sha3(new Uint8Array([10])), outputHash: sha3(new Uint8Array([11])),
    };
    const withUserSignatureOfAnotherCall = settlementReceipt(signReceipt(w.domain, madeUp, TEST_KEYS.receiptSigner), first.invocationSignature);
    expectNothingBilled(w, [withUserSignatureOfAnotherCall, providerMade(w, madeUp, TEST_KEYS.provider)], 'InvalidInvocation');
    expect(w.session(first.sessionId).billedGas).toBe(first.cumulativeGas);
  });

  it('the user signature of one call cannot be moved to another seq or session', () => {
    const { w, zAppId, runner } = session();
    const r1 = runner.run();
    const asSeq2 = settlementReceipt(signReceipt(w.domain, { ...r1, seq: 2n }, TEST_KEYS.receiptSigner), r1.invocationSignature);
    const other = w.open(zAppId);
    const elsewhere = settlementReceipt(signReceipt(w.domain, { ...r1, sessionId: other }, TEST_KEYS.receiptSigner), r1.invocationSignature);
    expectNothingBilled(w, [asSeq2, elsewhere], 'InvalidInvocation');
  });
});
