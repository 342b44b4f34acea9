/* coremark: kernels in the manner of CoreMark, all integer — a linked list (find, reverse, merge
 * sort by two keys), a matrix (multiply by a constant, by a vector, by a matrix, bit extraction),
 * a state machine that classifies numeric strings — each result folded into a CRC-16, for n
 * iterations; answers the final CRCs. */
#include "zapp.h"

static u16 crc16_byte(u8 data, u16 crc) {
  for (u32 i = 0; i < 8; i++) {
    u32 x = (data & 1u) ^ (crc & 1u);
    data >>= 1;
    crc = x ? (u16)((crc ^ 0x4002u) >> 1 | 0x8000u) : (u16)(crc >> 1);
  }
  return crc;
}

static u16 crc16(u32 v, u16 crc) {
  crc = crc16_byte((u8)v, crc);
  crc = crc16_byte((u8)(v >> 8), crc);
  crc = crc16_byte((u8)(v >> 16), crc);
  return crc16_byte((u8)(v >> 24), crc);
}

/* ── list ── */
typedef struct node {
  struct node *next;
  i32 key;
  i32 value;
} node;

static node *list_build(node *pool, u32 n, u32 *seed) {
  node *head = 0;
  for (u32 i = 0; i < n; i++) {
    pool[i].key = (i32)(i ^ 0x55u);
    pool[i].value = (i32)(xorshift(seed) & 0xffffu);
    pool[i].next = head;
    head = &pool[i];
  }
  return head;
}

static node *list_reverse(node *head) {
  node *prev = 0;
  while (head) {
    node *next = head->next;
    head->next = prev;
    prev = head;
    head = next;
  }
  return prev;
}

static node *list_find(node *head, i32 key) {
  while (head && head->key != key) head = head->next;
  return head;
}

static i32 compare(const node *a, const node *b, u32 by_value) { return by_value ? a->value - b->value : a->key - b->key; }

/* Bottom-up merge sort of a singly linked list. */
static node *list_sort(node *list, u32 by_value) {
  u32 width = 1;
  for (;;) {
    node *p = list, *tail = 0;
    list = 0;
    u32 merges = 0;
    while (p) {
      merges++;
      node *q = p;
      u32 psize = 0;
      for (u32 i = 0; i < width && q; i++) {
        psize++;
        q = q->next;
      }
      u32 qsize = width;
      while (psize > 0 || (qsize > 0 && q)) {
        node *e;
        if (psize == 0) { e = q; q = q->next; qsize--; }
        else if (qsize == 0 || !q) { e = p; p = p->next; psize--; }
        else if (compare(p, q, by_value) <= 0) { e = p; p = p->next; psize--; }
        else { e = q; q = q->next; qsize--; }
        if (tail) tail->next = e; else list = e;
        tail = e;
      }
      p = q;
    }
    tail->next = 0;
    if (merges <= 1) return list;
    width *= 2;
  }
}

static u16 bench_list(node *pool, u32 n, u32 *seed, u16 crc) {
  node *list = list_build(pool, n, seed);
  for (u32 i = 0; i < 8; i++) {
    node *found = list_find(list, (i32)(i * 7u));
    crc = crc16(found ? (u32)found->value : 0xffffu, crc);
    list = list_reverse(list);
  }
  list = list_sort(list, 1);
  for (node *p = list; p; p = p->next) crc = crc16((u32)p->value, crc);
  list = list_sort(list, 0);
  crc = crc16((u32)list->key, crc);
  return crc;
}

/* ── matrix ── */
#define DIM 24

static u16 bench_matrix(i32 *a, i32 *b, i32 *c, u32 *seed, u16 crc) {
  for (u32 i = 0; i < DIM * DIM; i++) {
    a[i] = (i32)(xorshift(seed) & 0xffu) - 128;
    b[i] = (i32)(xorshift(seed) & 0xffu) - 128;
  }
  for (u32 i = 0; i < DIM * DIM; i++) c[i] = a[i] * 7;
  for (u32 i = 0; i < DIM; i++) {
    i32 sum = 0;
    for (u32 j = 0; j < DIM; j++) sum += a[i * DIM + j] * b[j];
    crc = crc16((u32)sum, crc);
  }
  for (u32 i = 0; i < DIM; i++) {
    for (u32 j = 0; j < DIM; j++) {
      i32 sum = 0;
      for (u32 k = 0; k < DIM; k++) sum += a[i * DIM + k] * b[k * DIM + j];
      c[i * DIM + j] = sum;
    }
  }
  for (u32 i = 0; i < DIM * DIM; i++) crc = crc16((u32)(c[i] >> 2) & 0xf0fu, crc);
  return crc;
}

/* ── state machine ── */
enum { START, INVALID, S1, S2, INT, FLOAT, EXPONENT, SCIENTIFIC, STATES };

static u32 classify(const u8 *s, u32 len, u32 *transitions) {
  u32 state = START;
  for (u32 i = 0; i < len && state != INVALID; i++) {
    u8 ch = s[i];
    u32 digit = ch >= '0' && ch <= '9';
    switch (state) {
      case START: state = digit ? INT : (ch == '+' || ch == '-') ? S1 : ch == '.' ? FLOAT : INVALID; break;
      case S1: state = digit ? INT : ch == '.' ? FLOAT : INVALID; break;
      case INT: state = digit ? INT : ch == '.' ? FLOAT : (ch == 'E' || ch == 'e') ? S2 : INVALID; break;
      case FLOAT: state = digit ? FLOAT : (ch == 'E' || ch == 'e') ? S2 : INVALID; break;
      case S2: state = (ch == '+' || ch == '-') ? EXPONENT : digit ? SCIENTIFIC : INVALID; break;
      case EXPONENT: state = digit ? SCIENTIFIC : INVALID; break;
      case SCIENTIFIC: state = digit ? SCIENTIFIC : INVALID; break;
      default: state = INVALID; break;
    }
    transitions[state]++;
  }
  return state;
}

static const char *const SAMPLES[] = {"5012", "1234", "-874", "+122", "35.54", ".1234", "-110.7", "+0.64", "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^"};

static u16 bench_state(u8 *buf, u32 *seed, u16 crc) {
  u32 len = 0;
  for (u32 i = 0; i < 64; i++) {
    const char *s = SAMPLES[xorshift(seed) & 15u];
    while (*s) buf[len++] = (u8)*s++;
    buf[len++] = ',';
  }
  u32 transitions[STATES] = {0};
  u32 finals[STATES] = {0};
  u32 start = 0;
  for (u32 i = 0; i < len; i++) {
    if (buf[i] == ',') {
      finals[classify(buf + start, i - start, transitions)]++;
      start = i + 1;
    }
  }
  for (u32 s = 0; s < STATES; s++) {
    crc = crc16(finals[s], crc);
    crc = crc16(transitions[s], crc);
  }
  return crc;
}

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 iterations = input_count(in, len, 10, 1000000);
  node *pool = zalloc(256 * sizeof(node));
  i32 *a = zalloc(DIM * DIM * 4), *b = zalloc(DIM * DIM * 4), *c = zalloc(DIM * DIM * 4);
  u8 *buf = zalloc(1024);
  u32 seed = 0x66u;
  u16 list_crc = 0, matrix_crc = 0, state_crc = 0;
  for (u32 i = 0; i < iterations; i++) {
    list_crc = bench_list(pool, 256, &seed, list_crc);
    matrix_crc = bench_matrix(a, b, c, &seed, matrix_crc);
    state_crc = bench_state(buf, &seed, state_crc);
  }
  text t = new_text(128);
  put_field(&t, "iterations", iterations);
  put_field(&t, "list", list_crc);
  put_field(&t, "matrix", matrix_crc);
  put_field(&t, "state", state_crc);
  return output(t.buf, t.len);
}
