;; fuddor-meme: meet a Fuddor, then ask it for a meme.
;; Input "name" (or nothing): answers a Fuddor name picked with context_seed.
;; Input one of those names: answers "<name>: <meme>", the meme also picked with context_seed.
;; Anything else: a short hint. Names and memes ship as NUL-separated lists in data segments.
(module
  (import "env" "context_seed" (func $context_seed (param i32)))
  (memory (export "memory") 1)
  ;; 0..3: "name"; 8..9: ": "; 32..63: the seed
  (data (i32.const 0) "name")
  (data (i32.const 8) ": ")
  (data (i32.const 64) "Unknown Fuddor. Send \"name\" to meet one.")
  (data (i32.const 256)
    "Fuddor the Patient\00"
    "Fuddor Gasglow\00"
    "Fuddor of the Quiet Block\00"
    "Fuddor Refillwhisker\00"
    "Fuddor Lowgas\00"
    "Fuddor Merkleberry\00"
    "Fuddor Stackhopper\00"
    "Fuddor the Unaborted\00")
  (data (i32.const 1024)
    "When the meter says 1,000 gas and you only wanted to say hi.\00"
    "Count every instruction, pay for none: the zApp has you covered.\00"
    "My receipts have receipts.\00"
    "Trust nobody, verify everything, still share snacks.\00"
    "Deterministic on the outside, deterministic on the inside.\00"
    "I wrote an infinite loop. The gas limit wrote the ending.\00"
    "Abort pressed. Checkpoint reached. Feelings intact.\00"
    "Same input, same state, same gas. Every single time.\00"
    "Floats? Not in my integer profile, friend.\00"
    "Low-s signatures only. I like to stay humble.\00"
    "The unikernel is small, but its heart is full.\00"
    "Re-execute me if you like. I will say the same thing.\00")
  (global $nameCount i32 (i32.const 8))
  (global $memeCount i32 (i32.const 12))
  (global $heap (mut i32) (i32.const 4096))

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

  ;; the k-th entry of the NUL-separated list starting at base
  (func $nth (param $base i32) (param $k i32) (result i32)
    (local $p i32)
    (local.set $p (local.get $base))
    (block $found
      (loop $skip
        (br_if $found (i32.eqz (local.get $k)))
        (block $end
          (loop $scan
            (br_if $end (i32.eqz (i32.load8_u (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $scan)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $skip)))
    (local.get $p))

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $end
      (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (local.get $n))

  (func $equal (param $a i32) (param $b i32) (param $len i32) (result i32)
    (local $i i32)
    (block $differ
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                               (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (func $copy (param $dst i32) (param $src i32) (param $len i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $dst) (local.get $i)) (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $result (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (local $roll i32) (local $k i32) (local $name i32) (local $nameLen i32)
    (local $meme i32) (local $memeLen i32) (local $out i32)
    (call $context_seed (i32.const 32))
    (local.set $roll (i32.load (i32.const 32)))
    ;; "name" or nothing: introduce a Fuddor
    (if (i32.or (i32.eqz (local.get $len))
                (i32.and (i32.eq (local.get $len) (i32.const 4))
                         (call $equal (local.get $ptr) (i32.const 0) (i32.const 4))))
      (then
        (local.set $name (call $nth (i32.const 256) (i32.rem_u (local.get $roll) (global.get $nameCount))))
        (return (call $result (local.get $name) (call $strlen (local.get $name))))))
    ;; one of the names: that Fuddor tells a meme
    (block $unknown
      (loop $next
        (br_if $unknown (i32.ge_u (local.get $k) (global.get $nameCount)))
        (local.set $name (call $nth (i32.const 256) (local.get $k)))
        (local.set $nameLen (call $strlen (local.get $name)))
        (if (i32.and (i32.eq (local.get $nameLen) (local.get $len))
                     (call $equal (local.get $name) (local.get $ptr) (local.get $len)))
          (then
            (local.set $meme (call $nth (i32.const 1024) (i32.rem_u (local.get $roll) (global.get $memeCount))))
            (local.set $memeLen (call $strlen (local.get $meme)))
            (local.set $out (call $alloc (i32.add (i32.add (local.get $nameLen) (i32.const 2)) (local.get $memeLen))))
            (call $copy (local.get $out) (local.get $name) (local.get $nameLen))
            (call $copy (i32.add (local.get $out) (local.get $nameLen)) (i32.const 8) (i32.const 2))
            (call $copy (i32.add (i32.add (local.get $out) (local.get $nameLen)) (i32.const 2)) (local.get $meme) (local.get $memeLen))
            (return (call $result (local.get $out) (i32.add (i32.add (local.get $nameLen) (i32.const 2)) (local.get $memeLen))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (call $result (i32.const 64) (i32.const 40)))
)
