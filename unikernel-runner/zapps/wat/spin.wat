;; spin: burns gas on purpose. The input is an iteration count in decimal text; the call loops that
;; many times and answers the input. With a huge count it runs until its gas ends or it is aborted.
(module
  (import "env" "abort" (func $abort (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))

  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.lt_s
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const 0))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $c i32) (local $count i64) (local $acc i64)
    ;; parse the decimal count; any other byte aborts the call
    (block $parsed
      (loop $next
        (br_if $parsed (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.sub (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 48)))
        (if (i32.gt_u (local.get $c) (i32.const 9)) (then (call $abort (i32.const 1))))
        (local.set $count (i64.add (i64.mul (local.get $count) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; the work: a xorshift step per iteration
    (local.set $acc (i64.const 88172645463325252))
    (block $done
      (loop $spin
        (br_if $done (i64.eqz (local.get $count)))
        (local.set $acc (i64.xor (local.get $acc) (i64.shl (local.get $acc) (i64.const 13))))
        (local.set $acc (i64.xor (local.get $acc) (i64.shr_u (local.get $acc) (i64.const 7))))
        (local.set $count (i64.sub (local.get $count) (i64.const 1)))
        (br $spin)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))
)
