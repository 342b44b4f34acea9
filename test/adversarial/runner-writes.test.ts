// A runner answers each call with its state writes, so the user holds every state it acknowledges
// (docs/protocol.md §What the user's client checks): applying the writes must give exactly the
// receipt's postStateHash, and a runner that drops or changes a write is caught before the next
// invocation is signed. v1 returned no writes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8Bytes } from '../../contracts/hex.ts';
import type { Hash } from '../../contracts/types.ts';
import { CallStatus } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import { applyWrites } from '../../unikernel-runner/runtime/sessions.ts';
import { hashState } from '../../unikernel-runner/runtime/state.ts';
import { keys, TEST_SESSION_EXPIRES_AT, TestClient, testRunner } from '../support/runner-kit.ts';
import type { TestRunner } from '../support/runner-kit.ts';
import { compileWat } from '../../unikernel-runner/zapps/load.ts';
import { sha3 } from '../../contracts/hash.ts';
import type { Address } from '../../contracts/types.ts';

// A key-value zApp: the input is a list of operations, each `s klen key vlen value` (set) or
// `d klen key` (delete), applied in order — so one call may set, overwrite and delete one key.
const KV_WAT = `
(module
  (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "env" "storage_delete" (func $delete (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (local.get $ptr) (local.get $len)))
    (local.get $ptr))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (local $end i32) (local $op i32) (local $klen i32) (local $vlen i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $op (i32.load8_u (local.get $ptr)))
        (local.set $klen (i32.load8_u offset=1 (local.get $ptr)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 2)))
        (if (i32.eq (local.get $op) (i32.const 115))
          (then
            (local.set $vlen (i32.load8_u (i32.add (local.get $ptr) (local.get $klen))))
            (call $write (local.get $ptr) (local.get $klen) (i32.add (i32.add (local.get $ptr) (local.get $klen)) (i32.const 1)) (local.get $vlen))
            (local.set $ptr (i32.add (local.get $ptr) (i32.add (i32.add (local.get $klen) (i32.const 1)) (local.get $vlen)))))
          (else
            (call $delete (local.get $ptr) (local.get $klen))
            (local.set $ptr (i32.add (local.get $ptr) (local.get $klen)))))
        (br $next)))
    (i64.const 0)))
`;

type Op = { set: true; key: string; value: string } | { set: false; key: string };

function encode(ops: readonly Op[]): Uint8Array {
  const out: number[] = [];
  for (const op of ops) {
    const key = utf8Bytes(op.key);
    out.push(op.set ? 115 : 100, key.length, ...key);
    if (op.set) {
      const value = utf8Bytes(op.value);
      out.push(value.length, ...value);
    }
  }
  return Uint8Array.from(out);
}

let runner: TestRunner;
let moduleHash: Hash;
let sessions = 0;

beforeAll(async () => {
  runner = await testRunner();
  moduleHash = runner.ledger.putModule(compileWat(KV_WAT, 'kv.wat'));
});
afterAll(async () => {
  await runner.close();
});

function openKvSession(): TestClient {
  const id = sha3(utf8Bytes(`kv session ${sessions++}`));
  runner.ledger.putSession({
    id, status: 'open', stopCall: false, user: keys.user.address as Address, provider: keys.provider.address as Address,
    zAppId: sha3(utf8Bytes('kv')), zAppOwner: keys.owner.address as Address, moduleHash, gasLimit: gas(10n ** 12n),
    settledGas: gas(0n), lastSeq: 0n, receiptSigner: keys.receiptSigner.address as Address, expiresAt: TEST_SESSION_EXPIRES_AT,
  });
  return new TestClient(runner.app, id);
}

const op = fc.oneof(
  fc.record({ set: fc.constant(true as const), key: fc.constantFrom('a', 'b', 'cc', 'key'), value: fc.string({ maxLength: 6 }) }),
  fc.record({ set: fc.constant(false as const), key: fc.constantFrom('a', 'b', 'cc', 'key') }),
);

describe('the writes a runner returns', () => {
  it('rebuild exactly the postStateHash of every receipt, whatever the sets, overwrites and deletes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), async (calls) => {
        const user = openKvSession();
        for (const ops of calls) {
          const res = await user.call(encode(ops));
          expect(res.status).toBe(200);
          expect(res.receipt!.status).toBe(CallStatus.Ok);
          expect(user.stateHash()).toBe(res.receipt!.postStateHash);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('come in call order, one per changed key, deletes as null; dropping or changing any of them is caught', async () => {
    const user = openKvSession();
    await user.call(encode([{ set: true, key: 'a', value: '1' }, { set: true, key: 'b', value: '2' }]));
    const before = user.state;
    const res = await user.call(encode([{ set: true, key: 'cc', value: 'x' }, { set: false, key: 'a' }, { set: true, key: 'b', value: '2' }, { set: true, key: 'cc', value: 'y' }]));
    const writes = res.writes!;
    expect(writes).toEqual([
      { key: bytesToHex(utf8Bytes('cc')), value: bytesToHex(utf8Bytes('y')) },
      { key: bytesToHex(utf8Bytes('a')), value: null },
    ]);
    const signed = res.receipt!.postStateHash;
    expect(hashState(applyWrites(before, writes))).toBe(signed);
    for (let i = 0; i < writes.length; i++) {
      const dropped = writes.filter((_, j) => j !== i);
      expect(hashState(applyWrites(before, dropped))).not.toBe(signed);
      const changed = writes.map((w, j) => (j === i ? { ...w, value: bytesToHex(utf8Bytes('forged')) } : w));
      expect(hashState(applyWrites(before, changed))).not.toBe(signed);
    }
    expect(hexToBytes(writes[0]!.value!)).toEqual(utf8Bytes('y'));
  });

  it('are empty for a call that changes no state: trapped or out of gas', async () => {
    const user = openKvSession();
    await user.call(encode([{ set: true, key: 'a', value: '1' }]));
    const outOfGas = await user.call(encode([{ set: true, key: 'b', value: '2' }]), gas(10n));
    expect(outOfGas.receipt).toMatchObject({ status: CallStatus.OutOfGas });
    expect(outOfGas.writes).toEqual([]);
    expect(user.stateHash()).toBe(outOfGas.receipt!.postStateHash);
    const trapped = await user.call(Uint8Array.from([115, 40]));
    expect(trapped.receipt).toMatchObject({ status: CallStatus.Trapped });
    expect(trapped.writes).toEqual([]);
    expect(user.stateHash()).toBe(trapped.receipt!.postStateHash);
  });
});
