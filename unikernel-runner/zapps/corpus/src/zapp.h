/*
 * The zApp interface (docs/first-zapp.md §The module interface) for integer-only C programs built
 * with clang --target=wasm32 -nostdlib -mcpu=mvp: a bump allocator exported as alloc(len), the
 * input and output conventions of handle(ptr, len), and the few libc routines the compiler may
 * call. Each program is one translation unit that includes this header once.
 */
#ifndef ZAPP_H
#define ZAPP_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef long long i64;
typedef unsigned long usize;

#define ZAPP_EXPORT(name) __attribute__((export_name(name)))

extern u8 __heap_base;
static u32 heap_top;

/* Bump allocation in linear memory, growing it as needed; traps when memory cannot grow. */
static inline void *zalloc(u32 len) {
  if (heap_top == 0) heap_top = (u32)(usize)&__heap_base;
  u32 start = (heap_top + 7u) & ~7u;
  u32 end = start + len;
  if (end < start) __builtin_trap();
  u32 have = (u32)__builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    u32 pages = (end - have + 65535u) >> 16;
    if (__builtin_wasm_memory_grow(0, pages) == (usize)-1) __builtin_trap();
  }
  heap_top = end;
  return (void *)(usize)start;
}

ZAPP_EXPORT("alloc") u32 alloc(u32 len) { return (u32)(usize)zalloc(len); }

/* handle's result: output pointer << 32 | output length. */
static inline u64 output(const void *ptr, u32 len) { return ((u64)(u32)(usize)ptr << 32) | len; }

void *memcpy(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int value, usize n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)value;
  return dst;
}

/* The input as a decimal count (digits only; anything else ends it), or `fallback` when empty. */
static inline u32 input_count(const u8 *in, u32 len, u32 fallback, u32 max) {
  if (len == 0) return fallback;
  u32 n = 0;
  for (u32 i = 0; i < len && in[i] >= '0' && in[i] <= '9'; i++) {
    n = n * 10u + (u32)(in[i] - '0');
    if (n > max) return max;
  }
  return n;
}

/* Writes "key=value " pairs of unsigned decimals into an output buffer. */
typedef struct {
  u8 *buf;
  u32 len;
} text;

static inline void put_char(text *t, u8 c) { t->buf[t->len++] = c; }

static inline void put_str(text *t, const char *s) {
  while (*s) put_char(t, (u8)*s++);
}

static inline void put_u64(text *t, u64 v) {
  u8 digits[20];
  u32 n = 0;
  do {
    digits[n++] = (u8)('0' + v % 10u);
    v /= 10u;
  } while (v != 0);
  while (n) put_char(t, digits[--n]);
}

static inline void put_field(text *t, const char *key, u64 v) {
  if (t->len) put_char(t, ' ');
  put_str(t, key);
  put_char(t, '=');
  put_u64(t, v);
}

static inline text new_text(u32 cap) {
  text t = {zalloc(cap), 0};
  return t;
}

/* xorshift32: the programs' only source of data, so every run is reproducible. */
static inline u32 xorshift(u32 *state) {
  u32 x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

#endif
