import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One table of a benchmark run: rows of named cells, printed aligned and written as JSON. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Record<string, string | number>[];
  /** What the figures mean and the aims they are read against. */
  notes?: string[];
  /** Raw numbers for the JSON file (not printed). */
  data?: unknown;
}

export function printTable(table: BenchTable): string {
  const widths = table.columns.map((c) => Math.max(c.length, ...table.rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`## ${table.title}`, line(table.columns), ...table.rows.map((r) => line(table.columns.map((c) => String(r[c] ?? ''))))];
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  const text = out.join('\n');
  console.log(`${text}\n`);
  return text;
}

export function machine(): Record<string, unknown> {
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  return { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryBytes: os.totalmem(), platform: `${os.platform()}-${os.arch()}`, commit };
}

/** Writes test/bench/results/<name>.json with the tables, the machine and the commit. */
export function writeResults(name: string, tables: BenchTable[]): string {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const json = JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), tables }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  writeFileSync(file, `${json}\n`);
  return file;
}

/** Runs `fn` repeatedly for at least `minMs` after a warm-up; returns operations per second. */
export function opsPerSecond(fn: () => void, opsPerCall = 1, minMs = 1_000): number {
  const warmUntil = performance.now() + Math.min(200, minMs / 5);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) { fn(); calls++; now = performance.now(); }
  return (calls * opsPerCall * 1000) / (now - start);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
