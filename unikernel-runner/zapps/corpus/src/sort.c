/* sort: n pseudo-random u32 sorted by an in-place quicksort (insertion sort below 16 elements);
 * answers a position-weighted checksum and whether the result is ordered. */
#include "zapp.h"

static void insertion(u32 *a, i32 lo, i32 hi) {
  for (i32 i = lo + 1; i <= hi; i++) {
    u32 key = a[i];
    i32 j = i - 1;
    while (j >= lo && a[j] > key) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = key;
  }
}

static void quicksort(u32 *a, i32 lo, i32 hi) {
  while (hi - lo > 16) {
    u32 x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
    u32 pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    i32 i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        u32 t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    /* recurse into the smaller side: the depth stays logarithmic */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion(a, lo, hi);
}

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 n = input_count(in, len, 1000, 1u << 20);
  u32 *a = zalloc(n * 4u + 4u);
  u32 seed = 0x9e3779b9u;
  for (u32 i = 0; i < n; i++) a[i] = xorshift(&seed);
  if (n > 1) quicksort(a, 0, (i32)n - 1);
  u64 sum = 0;
  u32 ordered = 1;
  for (u32 i = 0; i < n; i++) {
    sum += (u64)a[i] * (i + 1u);
    if (i > 0 && a[i - 1] > a[i]) ordered = 0;
  }
  text t = new_text(96);
  put_field(&t, "n", n);
  put_field(&t, "ordered", ordered);
  put_field(&t, "checksum", sum);
  return output(t.buf, t.len);
}
