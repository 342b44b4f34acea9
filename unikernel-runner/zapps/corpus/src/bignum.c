/* bignum: schoolbook multiplication of two n-limb numbers (32-bit limbs, 64-bit products), then
 * the decimal digits of a smaller product by repeated division; answers checksums of both. */
#include "zapp.h"

static void multiply(const u32 *a, const u32 *b, u32 n, u32 *c) {
  for (u32 i = 0; i < 2 * n; i++) c[i] = 0;
  for (u32 i = 0; i < n; i++) {
    u64 carry = 0;
    u64 ai = a[i];
    for (u32 j = 0; j < n; j++) {
      u64 t = ai * b[j] + c[i + j] + carry;
      c[i + j] = (u32)t;
      carry = t >> 32;
    }
    c[i + n] = (u32)carry;
  }
}

/* Divides the number in place by d (< 2^32); returns the remainder. */
static u32 divide_small(u32 *x, u32 n, u32 d) {
  u64 rem = 0;
  for (u32 i = n; i-- > 0;) {
    u64 cur = rem << 32 | x[i];
    x[i] = (u32)(cur / d);
    rem = cur % d;
  }
  return (u32)rem;
}

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 n = input_count(in, len, 64, 8192);
  u32 *a = zalloc(n * 4u), *b = zalloc(n * 4u), *c = zalloc(n * 8u);
  u32 seed = 0xdeadbeefu;
  for (u32 i = 0; i < n; i++) a[i] = xorshift(&seed);
  for (u32 i = 0; i < n; i++) b[i] = xorshift(&seed);
  multiply(a, b, n, c);
  u64 limb_sum = 0;
  for (u32 i = 0; i < 2 * n; i++) limb_sum = limb_sum * 31u + c[i];
  /* decimal digits of the low 8 limbs of the product, nine at a time */
  u32 x[8];
  u32 m = n < 4 ? 2 * n : 8;
  for (u32 i = 0; i < m; i++) x[i] = c[i];
  u64 digit_sum = 0, digits = 0;
  for (;;) {
    u32 top = 0;
    for (u32 i = 0; i < m; i++) top |= x[i];
    if (top == 0) break;
    u32 chunk = divide_small(x, m, 1000000000u);
    for (u32 k = 0; k < 9; k++) {
      digit_sum += chunk % 10u;
      chunk /= 10u;
      digits++;
    }
  }
  text t = new_text(128);
  put_field(&t, "limbs", n);
  put_field(&t, "product", limb_sum);
  put_field(&t, "digits", digits);
  put_field(&t, "digitsum", digit_sum);
  return output(t.buf, t.len);
}
