/**
 * A test zApp that does to its state exactly what its input says, so tests can drive any sequence
 * of writes and deletes (and fill a state to near the cap in one call) through the real runtime.
 *
 * Input: a sequence of operations, each
 * - `0x00 keyLen key u16be(valueLen) value`: storage_write(key, value)
 * - `0x01 keyLen key`: storage_delete(key)
 * - `0x02 tag count u16be(valueLen)`: storage_write([tag, i], valueLen zero bytes) for i < count
 */
import { compileWat } from '../../unikernel-runner/zapps/load.ts';

export const STATE_OPS_WASM: Uint8Array = compileWat(`(module
  (import "env" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "env" "storage_delete" (func $delete (param i32 i32)))
  ;; 0..1023: scratch for fill keys; 1024..: the input; 131072..: zeros for fill values
  (memory (export "memory") 3)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func $u16 (param $at i32) (result i32)
    (i32.or (i32.shl (i32.load8_u (local.get $at)) (i32.const 8)) (i32.load8_u offset=1 (local.get $at))))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (local $p i32) (local $end i32) (local $op i32) (local $klen i32) (local $vlen i32) (local $i i32) (local $n i32)
    (local.set $p (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $op (i32.load8_u (local.get $p)))
        (local.set $klen (i32.load8_u offset=1 (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (if (i32.eqz (local.get $op))
          (then
            (local.set $vlen (call $u16 (i32.add (local.get $p) (local.get $klen))))
            (call $write (local.get $p) (local.get $klen) (i32.add (i32.add (local.get $p) (local.get $klen)) (i32.const 2)) (local.get $vlen))
            (local.set $p (i32.add (local.get $p) (i32.add (local.get $klen) (i32.add (i32.const 2) (local.get $vlen))))))
          (else
            (if (i32.eq (local.get $op) (i32.const 1))
              (then
                (call $delete (local.get $p) (local.get $klen))
                (local.set $p (i32.add (local.get $p) (local.get $klen))))
              (else
                ;; fill: $klen is the tag, the next byte the count, then u16be(valueLen)
                (local.set $n (i32.load8_u (local.get $p)))
                (local.set $vlen (call $u16 (i32.add (local.get $p) (i32.const 1))))
                (local.set $p (i32.add (local.get $p) (i32.const 3)))
                (i32.store8 (i32.const 0) (local.get $klen))
                (local.set $i (i32.const 0))
                (block $filled
                  (loop $each
                    (br_if $filled (i32.ge_u (local.get $i) (local.get $n)))
                    (i32.store8 (i32.const 1) (local.get $i))
                    (call $write (i32.const 0) (i32.const 2) (i32.const 131072) (local.get $vlen))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $each)))))))
        (br $next)))
    (i64.const 0)))`, 'state-ops.wat');

export type StateOp = { op: 'write'; key: Uint8Array; value: Uint8Array } | { op: 'delete'; key: Uint8Array } | { op: 'fill'; tag: number; count: number; valueBytes: number };

/** The input that makes STATE_OPS_WASM perform the operations in order. */
export function stateOpsInput(ops: readonly StateOp[]): Uint8Array {
  const parts: number[] = [];
  for (const o of ops) {
    if (o.op === 'write') parts.push(0, o.key.length, ...o.key, o.value.length >> 8, o.value.length & 0xff, ...o.value);
    else if (o.op === 'delete') parts.push(1, o.key.length, ...o.key);
    else parts.push(2, o.tag, o.count, o.valueBytes >> 8, o.valueBytes & 0xff);
  }
  return new Uint8Array(parts);
}
