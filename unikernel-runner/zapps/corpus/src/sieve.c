/* sieve: the primes below n by the sieve of Eratosthenes over a bit array; answers their count,
 * their sum and the largest. */
#include "zapp.h"

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 n = input_count(in, len, 100000, 64u << 20);
  u32 words = (n >> 5) + 1u;
  u32 *composite = zalloc(words * 4u);
  for (u32 i = 0; i < words; i++) composite[i] = 0;
  for (u32 p = 2; (u64)p * p < n; p++) {
    if (composite[p >> 5] & (1u << (p & 31))) continue;
    for (u32 m = p * p; m < n; m += p) composite[m >> 5] |= 1u << (m & 31);
  }
  u64 count = 0, sum = 0, largest = 0;
  for (u32 p = 2; p < n; p++) {
    if (!(composite[p >> 5] & (1u << (p & 31)))) {
      count++;
      sum += p;
      largest = p;
    }
  }
  text t = new_text(96);
  put_field(&t, "below", n);
  put_field(&t, "primes", count);
  put_field(&t, "sum", sum);
  put_field(&t, "largest", largest);
  return output(t.buf, t.len);
}
