/* lz: an LZ77 compressor in the style of LZ4 (4-byte hash of the next bytes, greedy matches,
 * tokens of literal-run and match lengths) over n bytes of generated text, then the decompressor;
 * answers the sizes, whether the round trip is exact, and a checksum of the compressed stream. */
#include "zapp.h"

#define HASH_BITS 14
#define MIN_MATCH 4
#define MAX_OFFSET 65535u

static const char *const WORDS[] = {
    "the ", "gas ", "meter ", "charges ", "every ", "block ", "of ", "a ", "zApp ", "call ",
    "runner ", "signs ", "receipt ", "settles ", "in ", "QSR ", "state ", "hash ", "and ", "input ",
};

static u32 read32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

static u32 hash4(const u8 *p) { return (read32(p) * 2654435761u) >> (32 - HASH_BITS); }

static u8 *put_length(u8 *out, u32 n) {
  while (n >= 255) {
    *out++ = 255;
    n -= 255;
  }
  *out++ = (u8)n;
  return out;
}

static u32 compress(const u8 *src, u32 n, u8 *dst, u32 *table) {
  for (u32 i = 0; i < (1u << HASH_BITS); i++) table[i] = 0xffffffffu;
  u8 *out = dst;
  u32 anchor = 0, pos = 0;
  while (pos + MIN_MATCH <= n) {
    u32 h = hash4(src + pos);
    u32 candidate = table[h];
    table[h] = pos;
    if (candidate != 0xffffffffu && pos - candidate <= MAX_OFFSET && read32(src + candidate) == read32(src + pos)) {
      u32 length = MIN_MATCH;
      while (pos + length < n && src[candidate + length] == src[pos + length]) length++;
      u32 literals = pos - anchor;
      u8 *token = out++;
      *token = (u8)((literals < 15 ? literals : 15) << 4 | (length - MIN_MATCH < 15 ? length - MIN_MATCH : 15));
      if (literals >= 15) out = put_length(out, literals - 15);
      for (u32 i = 0; i < literals; i++) *out++ = src[anchor + i];
      u32 offset = pos - candidate;
      *out++ = (u8)offset;
      *out++ = (u8)(offset >> 8);
      if (length - MIN_MATCH >= 15) out = put_length(out, length - MIN_MATCH - 15);
      pos += length;
      anchor = pos;
    } else {
      pos++;
    }
  }
  u32 literals = n - anchor;
  *out++ = (u8)((literals < 15 ? literals : 15) << 4);
  if (literals >= 15) out = put_length(out, literals - 15);
  for (u32 i = 0; i < literals; i++) *out++ = src[anchor + i];
  return (u32)(out - dst);
}

static u32 get_length(const u8 **in, u32 n) {
  if (n != 15) return n;
  u8 b;
  do {
    b = *(*in)++;
    n += b;
  } while (b == 255);
  return n;
}

static u32 decompress(const u8 *src, u32 n, u8 *dst) {
  const u8 *in = src, *end = src + n;
  u8 *out = dst;
  while (in < end) {
    u8 token = *in++;
    u32 literals = get_length(&in, token >> 4);
    for (u32 i = 0; i < literals; i++) *out++ = *in++;
    if (in >= end) break;
    u32 offset = (u32)in[0] | (u32)in[1] << 8;
    in += 2;
    u32 length = get_length(&in, token & 15u) + MIN_MATCH;
    const u8 *from = out - offset;
    for (u32 i = 0; i < length; i++) *out++ = from[i];
  }
  return (u32)(out - dst);
}

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 n = input_count(in, len, 20000, 4u << 20);
  u8 *src = zalloc(n + 16u);
  u32 seed = 12345u, filled = 0;
  while (filled < n) {
    const char *w = WORDS[xorshift(&seed) % 20u];
    while (*w && filled < n) src[filled++] = (u8)*w++;
  }
  u8 *packed = zalloc(n + n / 255u + 64u);
  u32 *table = zalloc((1u << HASH_BITS) * 4u);
  u32 packed_size = compress(src, n, packed, table);
  u8 *back = zalloc(n + 16u);
  u32 back_size = decompress(packed, packed_size, back);
  u32 exact = back_size == n;
  for (u32 i = 0; exact && i < n; i++) exact = back[i] == src[i];
  u32 crc = 0xffffffffu;
  for (u32 i = 0; i < packed_size; i++) {
    crc ^= packed[i];
    for (u32 k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  text t = new_text(128);
  put_field(&t, "bytes", n);
  put_field(&t, "packed", packed_size);
  put_field(&t, "exact", exact);
  put_field(&t, "crc32", crc ^ 0xffffffffu);
  return output(t.buf, t.len);
}
