/// <reference lib="dom" />
// Conformance of the instrumented gas to the table: every priced opcode, every surcharge, and the
// independence of the totals from the chunk size and from engine tiering.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNK_GAS } from './meter.ts';
import { gasTableByName } from './registry.ts';
import type { InstrumentedModule } from './instrument.ts';
import type { GasTable } from './table.ts';
import { rawModule, runExport } from '../../test/support/metering.ts';
import type { WatFeatures } from '../../test/support/metering.ts';

const table = gasTableByName('zeno-wasm-gas-v1');
const extended = gasTableByName('zgas-wasm-extended-v1');
const CHUNKS = [1n, 7n, 1000n, DEFAULT_CHUNK_GAS];

interface Case {
  /** Table key of the opcode under test. */
  opcode: string;
  /** Module text; the export "f" is called. */
  wat: string;
  args?: number[];
  /** Instruction names executed, in any order (each costs its table figure). */
  executed: string[];
  /** Surcharge gas on top of the figures. */
  surcharge?: number;
  traps?: boolean;
  features?: WatFeatures;
}

function costOf(t: GasTable, names: string[]): number {
  const byName = new Map(Object.values(t.opcodes).map((o) => [o.name, o.cost]));
  return names.reduce((sum, n) => {
    const c = byName.get(n);
    if (c === undefined) throw new Error(`no figure for ${n}`);
    return sum + c;
  }, 0);
}

const fn = (result: string, body: string, extra = ''): string => `(module ${extra} (func (export "f") ${result} ${body}))`;
const MEM = '(memory 1)';

// One case per opcode family member: the instructions in the body plus the function's `end`.
function opcodeCases(): Case[] {
  const cases: Case[] = [];
  const simple = (opcode: string, result: string, setup: string[], op: string, extra = '') => {
    cases.push({ opcode, wat: fn(result, [...setup, op].join(' '), extra), executed: [...setup.map((s) => s.split(' ')[0]!), op.split(' ')[0]!, 'end'] });
  };
  for (const op of ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr']) {
    simple(key('i32', op), '(result i32)', ['i32.const 77', 'i32.const 5'], `i32.${op}`);
    simple(key('i64', op), '(result i64)', ['i64.const 77', 'i64.const 5'], `i64.${op}`);
  }
  for (const op of ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u']) {
    simple(key('i32', op), '(result i32)', ['i32.const 77', 'i32.const 5'], `i32.${op}`);
    simple(key('i64', op), '(result i32)', ['i64.const 77', 'i64.const 5'], `i64.${op}`);
  }
  simple(key('i32', 'eqz'), '(result i32)', ['i32.const 7'], 'i32.eqz');
  simple(key('i64', 'eqz'), '(result i32)', ['i64.const 7'], 'i64.eqz');
  for (const op of ['clz', 'ctz', 'popcnt']) {
    simple(key('i32', op), '(result i32)', ['i32.const 7'], `i32.${op}`);
    simple(key('i64', op), '(result i64)', ['i64.const 7'], `i64.${op}`);
  }
  simple(key('i32', 'wrap_i64'), '(result i32)', ['i64.const 7'], 'i32.wrap_i64');
  simple(key('i64', 'extend_i32_s'), '(result i64)', ['i32.const -7'], 'i64.extend_i32_s');
  simple(key('i64', 'extend_i32_u'), '(result i64)', ['i32.const 7'], 'i64.extend_i32_u');
  for (const op of ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u']) simple(byName(op), '(result i32)', ['i32.const 8'], op, MEM);
  for (const op of ['i64.load', 'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u']) simple(byName(op), '(result i64)', ['i32.const 8'], op, MEM);
  for (const op of ['i32.store', 'i32.store8', 'i32.store16']) simple(byName(op), '', ['i32.const 8', 'i32.const 5'], op, MEM);
  for (const op of ['i64.store', 'i64.store8', 'i64.store16', 'i64.store32']) simple(byName(op), '', ['i32.const 8', 'i64.const 5'], op, MEM);
  simple(byName('memory.size'), '(result i32)', [], 'memory.size', MEM);
  simple(byName('memory.grow'), '(result i32)', ['i32.const 0'], 'memory.grow', MEM);
  simple(byName('i32.const'), '(result i32)', [], 'i32.const 1');
  simple(byName('i64.const'), '(result i64)', [], 'i64.const 1');
  simple(byName('nop'), '', [], 'nop');
  simple(byName('drop'), '', ['i32.const 1'], 'drop');
  simple(byName('select'), '(result i32)', ['i32.const 1', 'i32.const 2', 'i32.const 0'], 'select');
  cases.push({ opcode: byName('local.get'), wat: fn('(param i32) (result i32)', 'local.get 0'), args: [3], executed: ['local.get', 'end'] });
  cases.push({ opcode: byName('local.set'), wat: fn('(param i32)', 'i32.const 1 local.set 0'), args: [3], executed: ['i32.const', 'local.set', 'end'] });
  cases.push({ opcode: byName('local.tee'), wat: fn('(param i32) (result i32)', 'i32.const 1 local.tee 0'), args: [3], executed: ['i32.const', 'local.tee', 'end'] });
  const G = '(global $g (mut i32) (i32.const 4))';
  cases.push({ opcode: byName('global.get'), wat: fn('(result i32)', 'global.get $g', G), executed: ['global.get', 'end'] });
  cases.push({ opcode: byName('global.set'), wat: fn('', 'i32.const 1 global.set $g', G), executed: ['i32.const', 'global.set', 'end'] });
  // control
  cases.push({ opcode: byName('unreachable'), wat: fn('', 'unreachable'), executed: ['unreachable'], traps: true });
  cases.push({ opcode: byName('block'), wat: fn('', 'block end'), executed: ['block', 'end', 'end'] });
  cases.push({ opcode: byName('loop'), wat: fn('', 'loop end'), executed: ['loop', 'end', 'end'] });
  cases.push({ opcode: byName('if'), wat: fn('', 'i32.const 1 if nop end'), executed: ['i32.const', 'if', 'nop', 'end', 'end'] });
  cases.push({ opcode: byName('if'), wat: fn('', 'i32.const 0 if nop end'), executed: ['i32.const', 'if', 'end'] });
  cases.push({ opcode: byName('else'), wat: fn('', 'i32.const 1 if nop else nop nop end'), executed: ['i32.const', 'if', 'nop', 'else', 'end'] });
  cases.push({ opcode: byName('else'), wat: fn('', 'i32.const 0 if nop else nop nop end'), executed: ['i32.const', 'if', 'nop', 'nop', 'end', 'end'] });
  cases.push({ opcode: byName('end'), wat: fn('', ''), executed: ['end'] });
  cases.push({ opcode: byName('br'), wat: fn('', 'block br 0 nop end'), executed: ['block', 'br', 'end'] });
  cases.push({ opcode: byName('br_if'), wat: fn('', 'block i32.const 1 br_if 0 nop end'), executed: ['block', 'i32.const', 'br_if', 'end'] });
  cases.push({ opcode: byName('br_if'), wat: fn('', 'block i32.const 0 br_if 0 nop end'), executed: ['block', 'i32.const', 'br_if', 'nop', 'end', 'end'] });
  cases.push({ opcode: byName('return'), wat: fn('(result i32)', 'i32.const 3 return'), executed: ['i32.const', 'return'] });
  cases.push({ opcode: byName('return'), wat: fn('(result i32)', 'block (result i32) i32.const 3 return end'), executed: ['block', 'i32.const', 'return'] });
  // br_table: 3 targets including the default
  const surcharge = table.surcharges.br_table_per_target_including_default;
  for (const [index, executed] of [
    [0, ['block', 'block', 'i32.const', 'br_table', 'nop', 'end', 'end']],
    [1, ['block', 'block', 'i32.const', 'br_table', 'end']],
    [9, ['block', 'block', 'i32.const', 'br_table', 'end']],
  ] as const) {
    cases.push({ opcode: byName('br_table'), wat: fn('', `block block i32.const ${index} br_table 0 1 1 end nop end`), executed: [...executed], surcharge: 3 * surcharge });
  }
  cases.push({ opcode: byName('call'), wat: `(module (func $g nop) (func (export "f") call $g))`, executed: ['call', 'end', 'nop', 'end'] });
  cases.push({
    opcode: byName('call_indirect'),
    wat: `(module (type $t (func (result i32))) (table 1 funcref) (elem (i32.const 0) $g) (func $g (result i32) i32.const 5)
          (func (export "f") (result i32) i32.const 0 call_indirect (type $t)))`,
    executed: ['i32.const', 'call_indirect', 'end', 'i32.const', 'end'],
  });
  return cases;
}

function byName(name: string, t: GasTable = table): string {
  const entry = Object.entries(t.opcodes).find(([, o]) => o.name === name);
  if (entry === undefined) throw new Error(`no opcode ${name}`);
  return entry[0];
}
const key = (type: string, op: string): string => byName(`${type}.${op}`);

/**
 * A trap is charged before it happens, its whole segment included: under a limit of exactly
 * `expected` the call traps, under one less it runs out of gas first, whatever the chunk. (The
 * runtime reports a trap as the whole limit, so the gas global is not kept exact at a trap.)
 */
function expectPaidBeforeTrap(m: InstrumentedModule, args: number[], expected: bigint, label: unknown): void {
  for (const chunk of CHUNKS) {
    const trapped = runExport(m, 'f', args, { chunk, gasLimit: expected });
    expect({ label, chunk, error: trapped.error }).toEqual({ label, chunk, error: expect.any(WebAssembly.RuntimeError) });
    if (expected === 0n) continue;
    const short = runExport(m, 'f', args, { chunk, gasLimit: expected - 1n });
    expect({ label, chunk, error: short.error?.constructor.name }).toEqual({ label, chunk, error: 'OutOfGasTrap' });
  }
}

async function check(c: Case, t: GasTable): Promise<void> {
  const m = await rawModule(c.wat, t, {}, c.features ?? {});
  const expected = BigInt(costOf(t, c.executed) + (c.surcharge ?? 0));
  if (c.traps === true) {
    expectPaidBeforeTrap(m, c.args ?? [], expected, c.opcode);
    return;
  }
  for (const chunk of CHUNKS) {
    const r = runExport(m, 'f', c.args ?? [], { chunk });
    expect(r.error).toBeUndefined();
    expect({ opcode: c.opcode, chunk, gas: r.gasUsed }).toEqual({ opcode: c.opcode, chunk, gas: expected });
  }
}

describe('every opcode of the default table', () => {
  const cases = opcodeCases();
  it('has a case for every priced opcode', () => {
    const covered = new Set(cases.map((c) => c.opcode));
    expect(Object.keys(table.opcodes).filter((k) => !covered.has(k))).toEqual([]);
    expect(Object.keys(table.opcodes)).toHaveLength(104);
  });
  for (const c of cases) {
    it(`${c.opcode} ${table.opcodes[c.opcode]?.name} costs the table figure`, async () => {
      await check(c, table);
    });
  }
});

describe('extended profile', () => {
  for (const op of ['i32.extend8_s', 'i32.extend16_s']) {
    it(`${op}`, async () => {
      await check({ opcode: byName(op, extended), wat: fn('(result i32)', `i32.const 200 ${op}`), executed: ['i32.const', op, 'end'], features: { sign_extension: true } }, extended);
    });
  }
  for (const op of ['i64.extend8_s', 'i64.extend16_s', 'i64.extend32_s']) {
    it(`${op}`, async () => {
      await check({ opcode: byName(op, extended), wat: fn('(result i64)', `i64.const 200 ${op}`), executed: ['i64.const', op, 'end'], features: { sign_extension: true } }, extended);
    });
  }
  const per32 = extended.surcharges.bulk_memory_per_32_bytes!;
  for (const n of [0, 1, 32, 33, 1000]) {
    const chunks = Math.ceil(n / 32);
    it(`memory.fill and memory.copy of ${n} bytes cost base + ${chunks} × per-32`, async () => {
      await check({ opcode: byName('memory.fill', extended), wat: fn('', `i32.const 0 i32.const 7 i32.const ${n} memory.fill`, MEM), executed: ['i32.const', 'i32.const', 'i32.const', 'memory.fill', 'end'], surcharge: chunks * per32, features: { bulk_memory: true } }, extended);
      await check({ opcode: byName('memory.copy', extended), wat: fn('', `i32.const 100 i32.const 0 i32.const ${n} memory.copy`, `(memory 2)`), executed: ['i32.const', 'i32.const', 'i32.const', 'memory.copy', 'end'], surcharge: chunks * per32, features: { bulk_memory: true } }, extended);
    });
  }
  it('memory.init and data.drop', async () => {
    const wat = `(module (memory 1) (data $d "hello world") (func (export "f") i32.const 0 i32.const 0 i32.const 11 memory.init $d data.drop $d))`;
    await check({ opcode: byName('memory.init', extended), wat, executed: ['i32.const', 'i32.const', 'i32.const', 'memory.init', 'data.drop', 'end'], surcharge: per32, features: { bulk_memory: true } }, extended);
  });
  // A segment is charged whole at its entry: a trap inside it has paid for the segment's rest too.
  it('a bulk fill out of bounds still charges before it traps', async () => {
    await check({ opcode: byName('memory.fill', extended), wat: fn('', 'i32.const 65000 i32.const 7 i32.const 1000 memory.fill', MEM), executed: ['i32.const', 'i32.const', 'i32.const', 'memory.fill', 'end'], surcharge: 32 * per32, traps: true, features: { bulk_memory: true } }, extended);
  });
});

describe('surcharges', () => {
  const perPage = table.surcharges.memory_grow_per_page;
  it('memory.grow charges per page grown', async () => {
    const m = await rawModule(fn('(param i32) (result i32)', 'local.get 0 memory.grow', MEM), table);
    for (const pages of [0, 1, 3, 200]) {
      for (const chunk of CHUNKS) {
        const r = runExport(m, 'f', [pages], { chunk });
        expect(r.result).toBe(1);
        expect(r.gasUsed).toBe(BigInt(costOf(table, ['local.get', 'memory.grow', 'end']) + pages * perPage));
      }
    }
  });
  it('memory.grow beyond the cap returns -1 and charges no surcharge', async () => {
    const m = await rawModule(fn('(param i32) (result i32)', 'local.get 0 memory.grow', MEM), table, { maxMemoryPages: 4 });
    expect(runExport(m, 'f', [3]).result).toBe(1);
    const refused = runExport(m, 'f', [4]);
    expect(refused.result).toBe(-1);
    expect(refused.gasUsed).toBe(BigInt(costOf(table, ['local.get', 'memory.grow', 'end'])));
    expect(runExport(m, 'f', [-1]).result).toBe(-1); // 2^32-1 pages, unsigned
  });
  it('memory.grow respects the module own maximum below the cap', async () => {
    const m = await rawModule(fn('(param i32) (result i32)', 'local.get 0 memory.grow', '(memory 1 2)'), table);
    expect(runExport(m, 'f', [1]).result).toBe(1);
    expect(runExport(m, 'f', [2]).result).toBe(-1);
  });
  it('a second grow sees the grown size', async () => {
    const m = await rawModule(fn('(result i32)', 'i32.const 2 memory.grow drop i32.const 2 memory.grow', MEM), table, { maxMemoryPages: 4 });
    const r = runExport(m, 'f', []);
    expect(r.result).toBe(-1);
    expect(r.gasUsed).toBe(BigInt(costOf(table, ['i32.const', 'memory.grow', 'drop', 'i32.const', 'memory.grow', 'end']) + 2 * perPage));
  });
  it('initial memory is reported as initialGas, per page', async () => {
    const m = await rawModule(fn('', '', '(memory 3)'), table);
    expect(m.initialMemoryPages).toBe(3);
    expect(m.initialGas).toBe(3n * BigInt(table.surcharges.memory_initial_per_page));
    const r = runExport(m, 'f', [], { chargeInitial: true });
    expect(r.gasUsed).toBe(m.initialGas + 1n);
    expect((await rawModule(fn('', ''), table)).initialGas).toBe(0n);
  });
});

describe('totals independent of chunk size and tiering', () => {
  const SUM_LOOP = fn('(param i32) (result i32)', `
    (local i32)
    block
      loop
        local.get 1 local.get 0 i32.add local.set 1
        local.get 0 i32.const 1 i32.sub local.tee 0
        i32.eqz br_if 1
        br 0
      end
    end
    local.get 1`);
  // entry: block, loop; per iteration: 11; per repeated iteration: br; exit: local.get, end
  const loopGas = (n: number): bigint => BigInt(2 + 11 * n + 2 * (n - 1) + 2);

  it('a loop costs its formula with any chunk', async () => {
    const m = await rawModule(SUM_LOOP, table);
    for (const n of [1, 2, 10, 1000]) {
      for (const chunk of CHUNKS) expect(runExport(m, 'f', [n], { chunk }).gasUsed).toBe(loopGas(n));
    }
  });

  it('a hot loop reports the same gas on every run, before and after the engine optimises it', async () => {
    const m = await rawModule(SUM_LOOP, table);
    const compiled = new WebAssembly.Module(m.bytes as BufferSource);
    const seen = new Set<bigint>();
    for (let run = 0; run < 200; run++) {
      const r = runExport(compiled, 'f', [10_000]);
      expect(r.result).toBe((10_000 * 10_001) / 2);
      seen.add(r.gasUsed);
    }
    expect([...seen]).toEqual([loopGas(10_000)]);
  });

  it('out of gas happens at the same charge for every chunk; the call reports its whole limit', async () => {
    const m = await rawModule(SUM_LOOP, table);
    const total = loopGas(50);
    for (const limit of [0n, 1n, 2n, 3n, total / 2n, total - 2n, total - 1n]) {
      for (const chunk of CHUNKS) {
        const r = runExport(m, 'f', [50], { gasLimit: limit, chunk });
        expect(r.error?.constructor.name).toBe('OutOfGasTrap');
        expect(r.gasUsed).toBe(limit);
      }
    }
    for (const chunk of CHUNKS) {
      const r = runExport(m, 'f', [50], { gasLimit: total, chunk });
      expect(r.error).toBeUndefined();
      expect(r.gasUsed).toBe(total);
    }
  });

  it('a trap has paid for its segment before it happens, whatever the chunk', async () => {
    const m = await rawModule(fn('(param i32) (result i32)', 'i32.const 10 local.get 0 i32.div_u', ''), table);
    expectPaidBeforeTrap(m, [0], BigInt(costOf(table, ['i32.const', 'local.get', 'i32.div_u', 'end'])), 'div_u by zero');
  });
});

// The counter is stored to the global only before what can observe it (a call, leaving the
// function): each case runs a loop whose charges store nothing, then ends in one such point. A trap
// is not such a point (the runtime charges it the whole limit): there the case checks that the trap
// had been paid for, by running out of gas under a limit one less.
describe('the gas global at every point the host can read it', () => {
  const byName = new Map(Object.values(table.opcodes).map((o) => [o.name, o.cost]));
  const cost = (names: string[]): number => names.reduce((sum, n) => sum + byName.get(n)!, 0);
  const ITERATIONS = 5;
  // one iteration up to and including the back-edge br_if
  const LOOP_BODY = ['local.get', 'i32.const', 'i32.add', 'local.set', 'local.get', 'local.get', 'i32.lt_u', 'br_if'];
  const loop = 'loop local.get 1 i32.const 1 i32.add local.set 1 local.get 1 local.get 0 i32.lt_u br_if 0 end';
  interface ExitCase {
    name: string;
    result?: string;
    tail: string;
    /** Instructions paid after the loop's end in the loop's segment (and any segment after it). */
    paid: string[];
    surcharge?: number;
    traps?: boolean;
  }
  const cases: ExitCase[] = [
    { name: 'division by zero', tail: 'i32.const 1 i32.const 0 i32.div_u drop', paid: ['i32.const', 'i32.const', 'i32.div_u', 'drop', 'end'], traps: true },
    { name: 'i64 remainder by zero', tail: 'i64.const 1 i64.const 0 i64.rem_s drop', paid: ['i64.const', 'i64.const', 'i64.rem_s', 'drop', 'end'], traps: true },
    { name: 'unreachable', tail: 'unreachable', paid: ['unreachable'], traps: true },
    { name: 'load out of bounds', tail: 'i32.const 70000 i32.load drop', paid: ['i32.const', 'i32.load', 'drop', 'end'], traps: true },
    { name: 'store out of bounds', tail: 'i32.const 70000 i64.const 1 i64.store', paid: ['i32.const', 'i64.const', 'i64.store', 'end'], traps: true },
    { name: 'call_indirect of an empty slot', tail: 'i32.const 0 call_indirect (type $v)', paid: ['i32.const', 'call_indirect', 'end'], traps: true },
    { name: 'a call to a trapping function', tail: 'call $boom', paid: ['call', 'end', 'unreachable'], traps: true },
    { name: 'fallthrough to the end', tail: 'nop', paid: ['nop', 'end'] },
    // The segment runs through a block whose only branch is its own br_if: taken, it gives back
    // what it skips (nop, nop, end), after the charge stored the counter; the call must see that.
    { name: 'a call after a block a taken br_if left', tail: 'block i32.const 1 br_if 0 nop nop end call $nop', paid: ['block', 'i32.const', 'br_if', 'call', 'end', 'end'] },
    { name: 'the end after a block a taken br_if left', tail: 'block i32.const 1 br_if 0 nop nop end', paid: ['block', 'i32.const', 'br_if', 'end'] },
    { name: 'a call after a block no branch left', tail: 'block i32.const 0 br_if 0 nop nop end call $nop', paid: ['block', 'i32.const', 'br_if', 'nop', 'nop', 'end', 'call', 'end', 'end'] },
    { name: 'return', tail: 'return', paid: ['return'] },
    { name: 'br to the function label', tail: 'br 0', paid: ['br'] },
    { name: 'br_if to the function label', tail: 'i32.const 1 br_if 0 nop', paid: ['i32.const', 'br_if'] },
    { name: 'br_if with a value to the function label', result: '(result i32)', tail: 'i32.const 9 i32.const 1 br_if 0', paid: ['i32.const', 'i32.const', 'br_if'] },
    { name: 'br_table to the function label', tail: 'i32.const 0 br_table 0', paid: ['i32.const', 'br_table'], surcharge: table.surcharges.br_table_per_target_including_default },
  ];
  for (const c of cases) {
    it(`is exact at ${c.name}, whatever the chunk`, async () => {
      const module = await rawModule(`(module (memory 1) (table 1 funcref) (type $v (func))
        (func $boom unreachable)
        (func $nop)
        (func (export "f") (param i32) ${c.result ?? ''} (local i32) ${loop} ${c.tail}))`, table);
      const expected = BigInt(cost(['loop']) + (ITERATIONS - 1) * cost(LOOP_BODY) + cost([...LOOP_BODY, 'end', ...c.paid]) + (c.surcharge ?? 0));
      if (c.traps === true) {
        expectPaidBeforeTrap(module, [ITERATIONS], expected, c.name);
        return;
      }
      for (const chunk of CHUNKS) {
        const run = runExport(module, 'f', [ITERATIONS], { chunk });
        expect(run.error, String(run.error)).toBeUndefined();
        expect(run.gasUsed).toBe(expected);
      }
    });
  }

  it('has paid for a bulk memory operation out of bounds before it traps', async () => {
    const xCost = (names: string[]): number => names.reduce((sum, n) => sum + Object.values(extended.opcodes).find((o) => o.name === n)!.cost, 0);
    const module = await rawModule(`(module (memory 1)
      (func (export "f") (param i32) (local i32) ${loop} i32.const 70000 i32.const 0 i32.const 40 memory.fill))`, extended, {}, { bulk_memory: true });
    const body = LOOP_BODY;
    const tail = ['i32.const', 'i32.const', 'i32.const', 'memory.fill', 'end'];
    const expected = BigInt(xCost(['loop']) + (ITERATIONS - 1) * xCost(body) + xCost([...body, 'end', ...tail]) + 2 * extended.surcharges.bulk_memory_per_32_bytes!);
    expectPaidBeforeTrap(module, [ITERATIONS], expected, 'memory.fill out of bounds');
  });
});

// Loops take their refill path outside the loop body, which adds labels around every loop: branches
// that leave loops (br, br_if with and without a value, br_table, return) are relabelled.
describe('branches out of nested loops', () => {
  const NESTED = `(module (memory 1) (table 2 funcref) (type $v (func (param i32) (result i32)))
 (func $a (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
   block $out
     loop $outer
       local.get $i i32.const 1 i32.add local.set $i
       i32.const 0 local.set $j
       block $inner_out
         loop $inner
           local.get $j i32.const 1 i32.add local.tee $j
           local.get $s i32.add local.set $s
           local.get $j i32.const 7 i32.rem_u
           br_table $inner $inner_out $out $inner
         end
       end
       local.get $i local.get $n i32.lt_u br_if $outer
     end
   end
   local.get $s)
 (func $b (param $n i32) (result i32) (local $i i32)
   loop $l (result i32)
     local.get $i i32.const 1 i32.add local.tee $i
     local.get $i local.get $n i32.ge_u br_if $l
     drop
     local.get $i i32.const 100 i32.gt_u
     if local.get $i return end
     local.get $i i32.const 3 i32.and i32.eqz
     if (result i32) i32.const 5 local.get $i i32.add else local.get $i end
     local.get $i local.get $n i32.gt_u br_if 1
     drop
     br $l
   end
   i32.const 1000 i32.add)
 (func $c (param $n i32) (result i32) (local $i i32)
   block $x (result i32)
     loop $l
       loop $m
         local.get $i i32.const 1 i32.add local.tee $i
         local.get $n i32.ge_u
         if i32.const 77 br $x end
         local.get $i i32.const 1 i32.and br_if $m
         local.get $i i32.const 5 i32.rem_u br_if $l
         local.get $i i32.const 3 i32.mul i32.const 1 i32.sub local.get $i i32.const 50 i32.gt_u br_if $x drop
         local.get $i i32.const 400 i32.store
       end
       local.get $i call $a drop
       br $l
     end
     i32.const 0
   end)
 (export "a" (func $a)) (export "b" (func $b)) (export "c" (func $c)))`;
  // [export, argument, result, gas]: the figures of the rewrite that refilled inside the loop body
  const expected: Array<[string, number, number | undefined, bigint]> = [
    ['a', 1, 1, 39n],
    ['a', 10, 10, 336n],
    ['a', 200, 200, 6606n],
    ['b', 10, undefined, 100_000n], // never ends: runs out of gas
    ['b', 200, 101, 2968n],
    ['c', 1, 77, 14n],
    ['c', 10, 77, 162n],
    ['c', 200, 179, 6144n],
  ];
  it('keeps the results and the gas, whatever the chunk', async () => {
    const module = await rawModule(NESTED, table);
    for (const [name, n, result, gas] of expected) {
      for (const chunk of CHUNKS) {
        const run = runExport(module, name, [n], { chunk, gasLimit: 100_000n });
        expect(run.result, `${name}(${n}) chunk ${chunk}`).toBe(result);
        expect(run.gasUsed, `${name}(${n}) chunk ${chunk}`).toBe(gas);
      }
    }
  });
});

// A segment that holds no trap, call, exit or branch and falls through into a segment whose charge
// checks is charged without a check of its own (the then-branch below, and the entry before the
// loop); a br_if back to a loop stays a plain branch and the fall-through after it is a segment.
describe('unchecked charges and loop back-edges', () => {
  const SHAPES = `(module (import "env" "tick" (func $tick (param i32)))
   (func (export "f") (param $n i32) (result i32) (local $i i32)
     local.get $n
     if
       i32.const -1 call $tick
       local.get $n i32.const 3 i32.mul local.set $i
     end
     local.get $i i32.const 7 i32.add local.set $i
     block
       loop
         local.get $i call $tick
         local.get $i i32.const 1 i32.sub local.tee $i
         i32.const 0 i32.gt_s br_if 0
       end
       local.get $i i32.const 5 i32.add local.set $i
     end
     local.get $i))`;

  it('runs out of gas at exactly every limit below the total, whatever the chunk, and never runs past it', async () => {
    const module = await rawModule(SHAPES, table);
    const compiled = new WebAssembly.Module(module.bytes as BufferSource);
    const full = runExport(compiled, 'f', [2], { env: { tick: () => undefined } });
    expect(full.result).toBe(5);
    const total = full.gasUsed;
    const iteration = costOf(table, ['local.get', 'call', 'local.get', 'i32.const', 'i32.sub', 'local.tee', 'i32.const', 'i32.gt_s', 'br_if']);
    const entry = BigInt(costOf(table, ['local.get', 'if']));
    const then = BigInt(costOf(table, ['i32.const', 'call', 'local.get', 'i32.const', 'i32.mul', 'local.set', 'end']));
    const once = costOf(table, [
      'local.get', 'if', 'i32.const', 'call', 'local.get', 'i32.const', 'i32.mul', 'local.set', 'end', 'local.get', 'i32.const', 'i32.add', 'local.set', 'block', 'loop',
      'end', 'local.get', 'i32.const', 'i32.add', 'local.set', 'end', 'local.get', 'end',
    ]);
    expect(total).toBe(BigInt(once + 13 * iteration));
    const before = entry + then + BigInt(costOf(table, ['local.get', 'i32.const', 'i32.add', 'local.set', 'block', 'loop']));
    for (let limit = 0n; limit <= total; limit++) {
      for (const chunk of CHUNKS) {
        let ticks = 0;
        let thenTicks = 0;
        const r = runExport(compiled, 'f', [2], { gasLimit: limit, chunk, env: { tick: (i) => { if (i < 0) thenTicks++; else ticks++; } } });
        // a segment that calls out checks its charge, even when it falls through into another
        expect(thenTicks, `limit ${limit}`).toBe(limit >= entry + then ? 1 : 0);
        expect(r.gasUsed, `limit ${limit} chunk ${chunk}`).toBe(limit < total ? limit : total);
        expect(r.error?.constructor.name, `limit ${limit}`).toBe(limit < total ? 'OutOfGasTrap' : undefined);
        // the k-th tick is reached exactly when the gas up to the end of its iteration fits the limit
        const fit = limit < before ? 0 : Math.min(13, Number((limit - before) / BigInt(iteration)));
        expect(ticks, `limit ${limit}`).toBe(fit);
      }
    }
  });
});
