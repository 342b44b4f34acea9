/* interp: a small stack-machine bytecode interpreter whose handlers are reached through a table
 * of function pointers (call_indirect). The program it runs, assembled at start, sums the Collatz
 * step counts of 1..n; answers the sum, the instructions executed and the longest chain. */
#include "zapp.h"

enum { PUSH, LOAD, STORE, ADD, MUL, DIV, AND, LT, JZ, JMP, MAX, HALT, OP_COUNT };

typedef struct vm {
  const i32 *code;
  u32 pc;
  i64 stack[32];
  u32 sp;
  i64 reg[8];
  u64 steps;
  u32 halted;
} vm;

static i64 pop(vm *m) { return m->stack[--m->sp]; }
static void push(vm *m, i64 v) { m->stack[m->sp++] = v; }

static void op_push(vm *m) { push(m, m->code[m->pc++]); }
static void op_load(vm *m) { push(m, m->reg[m->code[m->pc++] & 7]); }
static void op_store(vm *m) { m->reg[m->code[m->pc++] & 7] = pop(m); }
static void op_add(vm *m) { i64 b = pop(m); push(m, pop(m) + b); }
static void op_mul(vm *m) { i64 b = pop(m); push(m, pop(m) * b); }
static void op_div(vm *m) { i64 b = pop(m); i64 a = pop(m); push(m, b == 0 ? 0 : a / b); }
static void op_and(vm *m) { i64 b = pop(m); push(m, pop(m) & b); }
static void op_lt(vm *m) { i64 b = pop(m); push(m, pop(m) < b); }
static void op_jz(vm *m) { i32 to = m->code[m->pc++]; if (pop(m) == 0) m->pc = (u32)to; }
static void op_jmp(vm *m) { m->pc = (u32)m->code[m->pc]; }
static void op_max(vm *m) { i64 b = pop(m); i64 a = pop(m); push(m, a > b ? a : b); }
static void op_halt(vm *m) { m->halted = 1; }

static void (*const HANDLERS[OP_COUNT])(vm *) = {
    op_push, op_load, op_store, op_add, op_mul, op_div, op_and, op_lt, op_jz, op_jmp, op_max, op_halt,
};

/* A tiny assembler: labels are code positions; forward jumps are patched. */
typedef struct {
  i32 *code;
  u32 len;
} assembler;

static void emit(assembler *a, i32 op) { a->code[a->len++] = op; }
static void emit2(assembler *a, i32 op, i32 arg) { emit(a, op); emit(a, arg); }
static u32 hole(assembler *a, i32 op) { emit2(a, op, -1); return a->len - 1; }
static void patch(assembler *a, u32 at) { a->code[at] = (i32)a->len; }

/* r0 = n, r1 = i, r2 = total steps, r3 = x, r4 = steps of x, r5 = longest */
static u32 assemble(i32 *code) {
  assembler a = {code, 0};
  emit2(&a, PUSH, 1); emit2(&a, STORE, 1);
  u32 loop = a.len;
  emit2(&a, LOAD, 0); emit2(&a, LOAD, 1); emit(&a, LT); emit2(&a, PUSH, 1); emit(&a, LT); /* i <= n: (n < i) < 1 */
  u32 done = hole(&a, JZ);
  emit2(&a, LOAD, 1); emit2(&a, STORE, 3); emit2(&a, PUSH, 0); emit2(&a, STORE, 4);
  u32 inner = a.len;
  emit2(&a, PUSH, 1); emit2(&a, LOAD, 3); emit(&a, LT); /* 1 < x */
  u32 inner_done = hole(&a, JZ);
  emit2(&a, LOAD, 3); emit2(&a, PUSH, 1); emit(&a, AND);
  u32 even = hole(&a, JZ);
  emit2(&a, LOAD, 3); emit2(&a, PUSH, 3); emit(&a, MUL); emit2(&a, PUSH, 1); emit(&a, ADD); emit2(&a, STORE, 3);
  u32 next = hole(&a, JMP);
  patch(&a, even);
  emit2(&a, LOAD, 3); emit2(&a, PUSH, 2); emit(&a, DIV); emit2(&a, STORE, 3);
  patch(&a, next);
  emit2(&a, LOAD, 4); emit2(&a, PUSH, 1); emit(&a, ADD); emit2(&a, STORE, 4);
  emit2(&a, JMP, (i32)inner);
  patch(&a, inner_done);
  emit2(&a, LOAD, 2); emit2(&a, LOAD, 4); emit(&a, ADD); emit2(&a, STORE, 2);
  emit2(&a, LOAD, 5); emit2(&a, LOAD, 4); emit(&a, MAX); emit2(&a, STORE, 5);
  emit2(&a, LOAD, 1); emit2(&a, PUSH, 1); emit(&a, ADD); emit2(&a, STORE, 1);
  emit2(&a, JMP, (i32)loop);
  patch(&a, done);
  emit(&a, HALT);
  return a.len;
}

ZAPP_EXPORT("handle") u64 handle(const u8 *in, u32 len) {
  u32 n = input_count(in, len, 1000, 10000000);
  i32 *code = zalloc(256 * 4);
  u32 size = assemble(code);
  vm *m = zalloc(sizeof(vm));
  memset(m, 0, sizeof(vm));
  m->code = code;
  m->reg[0] = n;
  while (!m->halted && m->pc < size) {
    u32 op = (u32)code[m->pc++];
    if (op >= OP_COUNT) __builtin_trap();
    HANDLERS[op](m);
    m->steps++;
  }
  text t = new_text(128);
  put_field(&t, "n", n);
  put_field(&t, "collatz", (u64)m->reg[2]);
  put_field(&t, "longest", (u64)m->reg[5]);
  put_field(&t, "executed", m->steps);
  return output(t.buf, t.len);
}
