/// <reference lib="dom" />
// Metering overhead: metered ÷ unmetered time of the same module in the same run (WAT kernels,
// hash-wasm's sha256 and the clang-built C corpus), instrumentation speed in MB/s of code section,
// and code growth of every shipped module. Every timed operation runs at least ~50 ms unmetered, so
// a round is long against the scheduler's noise; the ratio is the median of per-round ratios of
// back-to-back runs (the machine is shared: a neighbour's burst hits both sides of a round).
import os from 'node:os';
import { instrument } from '../../unikernel-runner/metering/instrument.ts';
import type { InstrumentedModule } from '../../unikernel-runner/metering/instrument.ts';
import { createMeter } from '../../unikernel-runner/metering/meter.ts';
import type { Meter } from '../../unikernel-runner/metering/meter.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import type { GasTable } from '../../unikernel-runner/metering/table.ts';
import { CORPUS, loadCorpusModule } from '../../unikernel-runner/zapps/corpus/corpus.ts';
import type { CorpusName } from '../../unikernel-runner/zapps/corpus/corpus.ts';
import { loadZApp, ZAPPS } from '../../unikernel-runner/zapps/load.ts';
import { hashWasmModules, SIGN_EXTENSION_MODULES } from '../support/hash-wasm.ts';
import { wat } from '../support/metering.ts';
import { fmt, printTable, writeResults } from './harness.ts';
import type { BenchTable } from './harness.ts';

const RAW = { raw: true } as const;
const GAS_LIMIT = 1n << 62n;

const LOOP = `(module (func (export "run") (param $n i32) (result i32) (local $acc i32)
  loop
    local.get $acc local.get $n i32.xor i32.const 3 i32.add local.set $acc
    local.get $n i32.const 1 i32.sub local.tee $n
    br_if 0
  end
  local.get $acc))`;

const FIB = `(module (func $fib (export "run") (param $n i32) (result i32)
  local.get $n i32.const 2 i32.lt_u
  if (result i32) local.get $n
  else local.get $n i32.const 1 i32.sub call $fib local.get $n i32.const 2 i32.sub call $fib i32.add end))`;

const MEMSUM = `(module (memory (export "memory") 64)
  (func (export "run") (param $words i32) (result i64) (local $p i32) (local $end i32) (local $sum i64)
    local.get $words i32.const 2 i32.shl local.set $end
    block
      loop
        local.get $p local.get $end i32.ge_u br_if 1
        local.get $sum local.get $p i64.load32_u i64.add local.set $sum
        local.get $p i32.const 4 i32.add local.set $p
        br 0
      end
    end
    local.get $sum))`;

// Insertion sort of n i32 at address 0.
const SORT = `(module (memory (export "memory") 2)
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $key i32) (local $prev i32)
    i32.const 1 local.set $i
    block
      loop
        local.get $i local.get $n i32.ge_u br_if 1
        local.get $i i32.const 2 i32.shl i32.load local.set $key
        local.get $i local.set $j
        block
          loop
            local.get $j i32.eqz br_if 1
            local.get $j i32.const 2 i32.shl i32.const 4 i32.sub i32.load local.tee $prev
            local.get $key i32.le_s br_if 1
            local.get $j i32.const 2 i32.shl local.get $prev i32.store
            local.get $j i32.const 1 i32.sub local.set $j
            br 0
          end
        end
        local.get $j i32.const 2 i32.shl local.get $key i32.store
        local.get $i i32.const 1 i32.add local.set $i
        br 0
      end
    end
    i32.const 0 i32.load))`;

function hashWasmSha256(): Uint8Array {
  const sha = hashWasmModules().find((m) => m.name === 'sha256');
  if (sha === undefined) throw new Error('hash-wasm sha256 module not found');
  return sha.bytes;
}

export interface Case {
  name: string;
  bytes: Uint8Array;
  table: GasTable;
  /** Prepares an instance (memory contents); returns the timed operation. */
  setup: (exports: WebAssembly.Exports) => () => unknown;
  /** Each operation runs on a fresh instance (zApps allocate from a heap that only grows), as the runner does. */
  instancePerOp?: boolean;
}

interface Prepared {
  op: () => unknown;
  /** Gas the last operation used (metered only). */
  lastGas?: () => bigint;
}

export function prepare(module: WebAssembly.Module, c: Case, metered: boolean): Prepared {
  if (c.instancePerOp === true) {
    if (!metered) return { op: () => c.setup(new WebAssembly.Instance(module, {}).exports)() };
    let last = 0n;
    return {
      op: () => {
        const meter = createMeter({ gasLimit: GAS_LIMIT });
        const instance = new WebAssembly.Instance(module, { ...meter.imports });
        meter.bind(instance);
        c.setup(instance.exports)();
        last = meter.used();
      },
      lastGas: () => last,
    };
  }
  if (!metered) return { op: c.setup(new WebAssembly.Instance(module, {}).exports) };
  const meter: Meter = createMeter({ gasLimit: GAS_LIMIT });
  const instance = new WebAssembly.Instance(module, { ...meter.imports });
  meter.bind(instance);
  const op = c.setup(instance.exports);
  let last = 0n;
  return {
    op: () => {
      const before = meter.used();
      op();
      last = meter.used() - before;
    },
    lastGas: () => last,
  };
}

/** A corpus zApp's handle on a decimal input, as the runner calls it: alloc, copy the input, handle. */
function zAppCall(input: string): (exports: WebAssembly.Exports) => () => unknown {
  const bytes = new TextEncoder().encode(input);
  return (e) => () => {
    const ptr = (e.alloc as (len: number) => number)(bytes.length);
    new Uint8Array((e.memory as WebAssembly.Memory).buffer, ptr, bytes.length).set(bytes);
    return (e.handle as (ptr: number, len: number) => bigint)(ptr, bytes.length);
  };
}

/** Inputs that make each corpus kernel run at least 50 ms unmetered on the reference machine. */
const CORPUS_INPUTS: Record<CorpusName, string> = {
  sort: '700000',
  sieve: '16000000',
  lz: '3000000',
  bignum: '8000',
  interp: '5000',
  coremark: '800',
};

/** CPU time of the process (the machine is shared: wall time would measure the neighbours). */
function timeMs(op: () => unknown): number {
  const start = process.cpuUsage();
  op();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const ROUNDS = 11;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Measured {
  plainMs: number;
  meteredMs: number;
  /** Median of the per-round ratios metered ÷ unmetered. */
  ratio: number;
  /** Lowest and highest per-round ratio. */
  ratioLow: number;
  ratioHigh: number;
  gasPerOp: bigint;
  mgasPerSecond: number;
  growth: number;
}

/** Metered and unmetered runs back to back (which goes first alternates), ROUNDS rounds after warm-up. */
export function measure(c: Case, rounds = ROUNDS): Measured {
  const instrumented = instrument(c.bytes, c.table, RAW);
  const plainModule = new WebAssembly.Module(c.bytes as BufferSource);
  const meteredModule = new WebAssembly.Module(instrumented.bytes as BufferSource);
  const plain = prepare(plainModule, c, false);
  const metered = prepare(meteredModule, c, true);
  // warm up both (tier-up), then alternate timed rounds
  for (let i = 0; i < 3; i++) {
    plain.op();
    metered.op();
  }
  metered.op();
  const gasPerOp = metered.lastGas!();
  const plainTimes: number[] = [];
  const meteredTimes: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let p: number;
    let m: number;
    if (i % 2 === 0) {
      p = timeMs(plain.op);
      m = timeMs(metered.op);
    } else {
      m = timeMs(metered.op);
      p = timeMs(plain.op);
    }
    plainTimes.push(p);
    meteredTimes.push(m);
    ratios.push(m / p);
  }
  const plainMs = median(plainTimes);
  const meteredMs = median(meteredTimes);
  return {
    plainMs, meteredMs, ratio: median(ratios), ratioLow: Math.min(...ratios), ratioHigh: Math.max(...ratios),
    gasPerOp, mgasPerSecond: Number(gasPerOp) / meteredMs / 1000, growth: instrumented.bytes.length / c.bytes.length,
  };
}

/** A module of many functions with mixed control flow, for instrumentation speed. */
function bigModuleText(functions: number): string {
  const parts: string[] = ['(module (memory 1) (table 16 funcref) (type $t (func (param i32) (result i32)))'];
  for (let f = 0; f < functions; f++) {
    parts.push(`(func $f${f} (param $x i32) (result i32) (local $i i32) (local $acc i32)
      block
        loop
          local.get $i local.get $x i32.ge_u br_if 1
          local.get $acc local.get $i i32.const ${f} i32.mul i32.add local.set $acc
          local.get $i i32.const 7 i32.and
          if
            local.get $acc i32.const 3 i32.shl i32.const ${f * 4} i32.load i32.xor local.set $acc
          else
            local.get $acc i32.const 1 i32.rotl local.set $acc
          end
          block block block local.get $i i32.const 3 i32.rem_u br_table 0 1 2 end end end
          local.get $i i32.const 1 i32.add local.set $i
          br 0
        end
      end
      local.get $acc ${f > 0 ? `call $f${f - 1}` : ''}
      i32.const 0 call_indirect (type $t) drop
      local.get $acc)`);
  }
  parts.push(')');
  return parts.join('\n');
}

function codeSectionBytes(bytes: Uint8Array): number {
  let pos = 8;
  const u32 = (): number => {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = bytes[pos++]!;
      r |= (b & 0x7f) << s;
      if (b < 0x80) return r >>> 0;
      s += 7;
    }
  };
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    if (id === 10) return size;
    pos += size;
  }
  return 0;
}

function instrumentSpeed(name: string, bytes: Uint8Array, table: GasTable): Record<string, string | number> {
  const code = codeSectionBytes(bytes);
  let last: InstrumentedModule | undefined;
  for (let i = 0; i < 3; i++) last = instrument(bytes, table, RAW);
  const reps = Math.max(5, Math.ceil(4_000_000 / bytes.length));
  // Process CPU time, fastest of a few batches: the machine is shared.
  let ms = Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < 3; batch++) {
    ms = Math.min(ms, timeMs(() => {
      for (let i = 0; i < reps; i++) last = instrument(bytes, table, RAW);
    }) / reps);
  }
  return { module: name, 'code bytes': fmt(code), 'out bytes': fmt(last!.bytes.length), 'ms/module': fmt(ms, 3), 'MB/s': fmt(code / 1e6 / (ms / 1000), 1) };
}

/** Instrumented size ÷ original size of every shipped module: whole module and code section. */
function codeGrowth(table: GasTable): BenchTable {
  const extended = gasTableByName('zgas-wasm-extended-v1');
  const modules: Array<{ name: string; bytes: Uint8Array; table: GasTable; raw: boolean }> = [
    ...ZAPPS.map((name) => ({ name: `zApp ${name}`, bytes: loadZApp(name), table, raw: false })),
    ...CORPUS.map((name) => ({ name: `corpus ${name}`, bytes: loadCorpusModule(name), table, raw: false })),
    ...hashWasmModules().map((m) => ({ name: `hash-wasm ${m.name}`, bytes: m.bytes, table: SIGN_EXTENSION_MODULES.has(m.name) ? extended : table, raw: true })),
  ];
  const rows: Record<string, string | number>[] = [];
  const data: Record<string, unknown>[] = [];
  let logModule = 0;
  let logCode = 0;
  let worstCode = 0;
  let worstCorpus = 0;
  for (const m of modules) {
    const out = instrument(m.bytes, m.table, { raw: m.raw }).bytes;
    const module = out.length / m.bytes.length;
    const code = codeSectionBytes(out) / codeSectionBytes(m.bytes);
    logModule += Math.log(module);
    logCode += Math.log(code);
    worstCode = Math.max(worstCode, code);
    if (m.name.startsWith('corpus ')) worstCorpus = Math.max(worstCorpus, module);
    rows.push({ module: m.name, 'in bytes': fmt(m.bytes.length), 'out bytes': fmt(out.length), growth: `${fmt(module, 2)}x`, 'code growth': `${fmt(code, 2)}x` });
    data.push({ module: m.name, inBytes: m.bytes.length, outBytes: out.length, growth: module, codeGrowth: code });
  }
  const geomean = { growth: Math.exp(logModule / modules.length), codeGrowth: Math.exp(logCode / modules.length) };
  rows.push({ module: 'geomean', growth: `${fmt(geomean.growth, 2)}x`, 'code growth': `${fmt(geomean.codeGrowth, 2)}x` });
  return {
    title: 'Code growth (instrumented ÷ original)',
    columns: ['module', 'in bytes', 'out bytes', 'growth', 'code growth'],
    rows,
    notes: [
      'growth: whole module (custom sections dropped); code growth: code section only',
      `worst growth of a corpus module ${fmt(worstCorpus, 2)}x (aim ≤ 2x)`,
      `worst code growth here ${fmt(worstCode, 2)}x; a body of empty loops grows about 14x, and no function may exceed maxInstrumentedFunctionBytes once metered`,
    ],
    data: { modules: data, geomean, worstCorpus },
  };
}

/** The timed cases: WAT kernels, hash-wasm's sha256 and the C corpus, each ≥ ~50 ms a run unmetered. */
export async function overheadCases(table: GasTable): Promise<Case[]> {
  const sha = hashWasmSha256(); // uses no sign-extension or bulk memory: the default profile accepts it
  const input = new Uint8Array(16 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
  return [
    { name: 'tight loop (100M iterations)', bytes: await wat(LOOP), table, setup: (e) => () => (e.run as (n: number) => number)(100_000_000) },
    { name: 'recursive fib(35)', bytes: await wat(FIB), table, setup: (e) => () => (e.run as (n: number) => number)(35) },
    {
      name: 'memory sum (1M i32 × 144)',
      bytes: await wat(MEMSUM),
      table,
      setup: (e) => {
        const words = new Uint32Array((e.memory as WebAssembly.Memory).buffer, 0, 1 << 20);
        for (let i = 0; i < words.length; i++) words[i] = i * 2654435761;
        return () => { for (let i = 0; i < 144; i++) (e.run as (n: number) => bigint)(1 << 20); };
      },
    },
    {
      name: 'sha256 hash-wasm (24 MiB)',
      bytes: sha,
      table,
      setup: (e) => {
        const ptr = (e.Hash_GetBuffer as () => number)();
        const memory = e.memory as WebAssembly.Memory;
        return () => {
          (e.Hash_Init as (bits: number) => void)(256);
          for (let i = 0; i < 24 * 64; i++) {
            new Uint8Array(memory.buffer, ptr, input.length).set(input);
            (e.Hash_Update as (n: number) => void)(input.length);
          }
          (e.Hash_Final as () => void)();
        };
      },
    },
    {
      name: `insertion sort (${fmt(SORT_N)} i32)`,
      bytes: await wat(SORT),
      table,
      setup: (e) => {
        const memory = e.memory as WebAssembly.Memory;
        return () => {
          const a = new Int32Array(memory.buffer, 0, SORT_N);
          let x = 12345;
          for (let i = 0; i < a.length; i++) { x = (x * 1103515245 + 12345) | 0; a[i] = x; }
          (e.run as (n: number) => number)(SORT_N);
        };
      },
    },
    ...CORPUS.map((name): Case => ({
      name: `corpus ${name} (${CORPUS_INPUTS[name]})`,
      bytes: loadCorpusModule(name),
      table,
      setup: zAppCall(CORPUS_INPUTS[name]),
      instancePerOp: true,
    })),
  ];
}

const SORT_N = 22_000;

export async function run(): Promise<void> {
  const table = gasTableByName('zeno-wasm-gas-v1');
  const sha = hashWasmSha256();
  const cases = await overheadCases(table);

  const rows: Record<string, string | number>[] = [];
  const data: Record<string, unknown>[] = [];
  let logSum = 0;
  let worst = { case: '', ratio: 0 };
  for (const c of cases) {
    const r = measure(c);
    logSum += Math.log(r.ratio);
    if (r.ratio > worst.ratio) worst = { case: c.name, ratio: r.ratio };
    rows.push({
      case: c.name, unmetered: `${fmt(r.plainMs, 2)} ms`, metered: `${fmt(r.meteredMs, 2)} ms`, ratio: `${fmt(r.ratio, 2)}x`,
      rounds: `${fmt(r.ratioLow, 2)}–${fmt(r.ratioHigh, 2)}`, gas: fmt(Number(r.gasPerOp)), 'Mgas/s': fmt(r.mgasPerSecond, 0), growth: `${fmt(r.growth, 2)}x`,
    });
    data.push({ case: c.name, ...r, gasPerOp: r.gasPerOp.toString() });
  }
  const geomean = Math.exp(logSum / cases.length);
  rows.push({ case: 'geomean', ratio: `${fmt(geomean, 2)}x` });
  rows.push({ case: `worst (${worst.case})`, ratio: `${fmt(worst.ratio, 2)}x` });
  const overhead: BenchTable = {
    title: 'Metering overhead (metered ÷ unmetered, same module, same run)',
    columns: ['case', 'unmetered', 'metered', 'ratio', 'rounds', 'gas', 'Mgas/s', 'growth'],
    rows,
    notes: [
      `ratio: median of ${ROUNDS} per-round ratios (metered and unmetered back to back, alternating which goes first) after warm-up; rounds: lowest–highest per-round ratio; times: medians, process CPU time`,
      `default chunk; table zeno-wasm-gas-v1 (sha256 from hash-wasm passes the default profile); load average ${os.loadavg().map((l) => fmt(l, 2)).join(' ')} at the end`,
      'corpus cases: C compiled by clang (unikernel-runner/zapps/corpus), a fresh instance per call as in the runner (instantiation included on both sides)',
      'growth: instrumented module bytes ÷ original bytes (custom sections dropped)',
      'aim: geomean ≤ 1.15x, none above 1.5x',
    ],
    data: { cases: data, geomean, worst, loadAverage: os.loadavg() },
  };
  printTable(overhead);

  const big = await wat(bigModuleText(4000));
  const speedRows = [
    ...await Promise.all([['loop', LOOP], ['fib', FIB], ['memsum', MEMSUM], ['sort', SORT]].map(async ([n, text]) => instrumentSpeed(n!, await wat(text!), table))),
    instrumentSpeed('sha256 (hash-wasm)', sha, table),
    instrumentSpeed('generated (4,000 functions)', big, table),
  ];
  const speed: BenchTable = {
    title: 'Instrumentation speed (code section MB/s, includes validation and hashing; process CPU time)',
    columns: ['module', 'code bytes', 'out bytes', 'ms/module', 'MB/s'],
    rows: speedRows,
    notes: ['aim ≥ 10 MB/s'],
  };
  printTable(speed);
  const growth = codeGrowth(table);
  printTable(growth);
  const file = writeResults('metering', [overhead, speed, growth]);
  console.log(`wrote ${file}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
