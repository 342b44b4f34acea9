;; counter: keeps a u64 under the key "count" (8 bytes big-endian), adds one per call and answers
;; the new value in decimal text.
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (import "env" "abort" (func $abort (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  ;; 16..23: the value buffer; 32..63: the decimal text, written backwards from 63
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
    (local $n i32) (local $i i32) (local $value i64) (local $pos i32)
    (local.set $n (call $storage_read (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8)))
    (if (i32.ge_s (local.get $n) (i32.const 0))
      (then
        ;; a stored counter is exactly 8 bytes; anything else is a corrupt state
        (if (i32.ne (local.get $n) (i32.const 8)) (then (call $abort (i32.const 1))))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.const 8)))
            (local.set $value
              (i64.or (i64.shl (local.get $value) (i64.const 8))
                      (i64.load8_u (i32.add (i32.const 16) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))))
    (local.set $value (i64.add (local.get $value) (i64.const 1)))
    ;; store big-endian: byte i holds bits 56-8i..63-8i
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 8)))
        (i64.store8 (i32.add (i32.const 16) (local.get $i))
          (i64.shr_u (local.get $value) (i64.extend_i32_u (i32.sub (i32.const 56) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $storage_write (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8))
    ;; decimal text, least significant digit last
    (local.set $pos (i32.const 64))
    (loop $digit
      (local.set $pos (i32.sub (local.get $pos) (i32.const 1)))
      (i32.store8 (local.get $pos) (i32.wrap_i64 (i64.add (i64.rem_u (local.get $value) (i64.const 10)) (i64.const 48))))
      (local.set $value (i64.div_u (local.get $value) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $value) (i64.const 0))))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $pos)) (i64.const 32))
      (i64.extend_i32_u (i32.sub (i32.const 64) (local.get $pos)))))
)
