// Signature throughput on one core: recoveries per second for each backend side by side (ratios
// against ethers measured in the same run), and what a verification worker does per receipt.
import os from 'node:os';
import { decodeMethod, encodeMethod } from '../../contracts/abi/index.ts';
import { ethersBackend, keccakReady, makeDomain, nativeBackend, nobleBackend, receiptDigestBytes, settlementReceipt, signInvocation, signReceipt, verifyReceipt } from '../../contracts/eip712/index.ts';
import type { SignatureBackend } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import { hexToBytes, u64be } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import type { GasReceipt, Hex, SettlementReceipt } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { fmt, printTable, writeResults } from './harness.ts';
import type { BenchTable } from './harness.ts';

const SAMPLES = 256;
const MIN_MS = 1_500;
const RECOVERY_AIM_PER_SECOND = 15_000;

interface Sample {
  digest: Uint8Array;
  signature: Hex;
  key: Uint8Array;
}

function samples(): Sample[] {
  return Array.from({ length: SAMPLES }, (_, i) => {
    const key = hexToBytes(sha3(u64be(BigInt(i) + 1n)));
    const digest = hexToBytes(sha3(u64be(BigInt(i) + 1_000_000n)));
    return { key, digest, signature: (nativeBackend ?? nobleBackend).sign(digest, key) };
  });
}

interface Rate {
  /** Operations per wall-clock second. */
  wall: number;
  /** Operations per second of CPU time used by this process: what one core does, whatever else runs on the machine. */
  cpu: number;
}

/** Like the harness's opsPerSecond, but also divides by the CPU time this process used, so a loaded machine does not hide the per-core rate. */
function rate(fn: () => void, opsPerCall = 1, minMs = MIN_MS): Rate {
  const warmUntil = performance.now() + Math.min(200, minMs / 5);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    fn();
    calls++;
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { wall: (calls * opsPerCall * 1000) / (now - start), cpu: (calls * opsPerCall * 1000) / cpuMs };
}

function cycle<T>(items: T[], fn: (item: T) => void): () => void {
  let i = 0;
  return () => {
    fn(items[i]!);
    i = (i + 1) % items.length;
  };
}

export async function run(): Promise<void> {
  const keccak = await keccakReady;
  const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const data = samples();
  const backends: SignatureBackend[] = [...(nativeBackend === null ? [] : [nativeBackend]), nobleBackend, ethersBackend];

  // Every backend must recover the same signers before anything is timed.
  for (const b of backends) {
    for (const s of data.slice(0, 8)) if (b.recover(s.digest, s.signature) !== ethersBackend.recover(s.digest, s.signature)) throw new Error(`${b.name} disagrees`);
  }

  const recover = new Map<string, Rate>();
  const sign = new Map<string, Rate>();
  for (const b of backends) {
    recover.set(b.name, rate(cycle(data, (s) => b.recover(s.digest, s.signature))));
    sign.set(b.name, rate(cycle(data, (s) => b.sign(s.digest, s.key)), 1, MIN_MS / 2));
  }
  const baseRecover = recover.get('ethers')!.cpu;
  const baseSign = sign.get('ethers')!.cpu;
  const backendTable: BenchTable = {
    title: 'secp256k1 backends, one core',
    columns: ['backend', 'recover/cpu-s', 'µs/recover', 'recover vs ethers', 'recover/wall-s', 'sign/cpu-s', 'sign vs ethers'],
    rows: backends.map((b) => ({
      backend: b.name,
      'recover/cpu-s': fmt(recover.get(b.name)!.cpu),
      'µs/recover': fmt(1e6 / recover.get(b.name)!.cpu, 1),
      'recover vs ethers': `${fmt(recover.get(b.name)!.cpu / baseRecover, 2)}x`,
      'recover/wall-s': fmt(recover.get(b.name)!.wall),
      'sign/cpu-s': fmt(sign.get(b.name)!.cpu),
      'sign vs ethers': `${fmt(sign.get(b.name)!.cpu / baseSign, 2)}x`,
    })),
    notes: [
      `recover = 65-byte hex signature → checks (length, v, r, s range, low s) → public key → keccak address → EIP-55; ${SAMPLES} distinct keys and digests, cycled.`,
      'per cpu-s: operations per second of CPU time this process used (one core, independent of other load); per wall-s: per elapsed second.',
      `aim: native ≥ ${fmt(RECOVERY_AIM_PER_SECOND)} recoveries per second on one core. Load average at start: ${loadAtStart} on ${os.cpus().length} cores.`,
    ],
    data: { recoverPerSecond: Object.fromEntries(recover), signPerSecond: Object.fromEntries(sign), nativeLoaded: nativeBackend !== null },
  };
  printTable(backendTable);

  // What a verification worker does per receipt: EIP-712 digest (two keccaks) + recover.
  const domain = makeDomain(73405n, '0x00000000000000000000000000000000007a6761');
  const receipts: SettlementReceipt[] = data.map((s, i) => {
    const fields: GasReceipt = {
      sessionId: sha3(u64be(BigInt(i))),
      seq: BigInt(i + 1),
      callGasLimit: 20_000n as Gas,
      callGas: 12_345n as Gas,
      cumulativeGas: BigInt(12_345 * (i + 1)) as Gas,
      inputHash: sha3(u64be(BigInt(i) + 7n)),
      preStateHash: sha3(new Uint8Array()),
      postStateHash: sha3(u64be(BigInt(i) + 9n)),
      outputHash: sha3(u64be(BigInt(i) + 11n)),
      status: 1,
    };
    // The user's invocation signature by the next sample's key: two distinct recoveries per receipt.
    const user = data[(i + 1) % data.length]!.key;
    return settlementReceipt(signReceipt(domain, fields, s.key), signInvocation(domain, invocationOf(fields), user));
  });
  const batch = encodeMethod({ name: 'Settle', receipts: [...receipts, ...receipts, ...receipts, ...receipts].slice(0, 1_000) });
  const rows: Record<string, string | number>[] = [];
  const raw: Record<string, Rate> = {};
  const measure = (name: string, fn: () => void, perCall = 1, ms = MIN_MS) => {
    const ops = rate(fn, perCall, ms);
    raw[name] = ops;
    rows.push({ operation: name, 'per cpu-s': fmt(ops.cpu), 'µs each': fmt(1e6 / ops.cpu, 1), 'per wall-s': fmt(ops.wall) });
  };
  measure('receipt digest (EIP-712)', cycle(receipts, (r) => receiptDigestBytes(domain, r)));
  for (const b of backends) measure(`verifyReceipt, ${b.name}`, cycle(receipts, (r) => verifyReceipt(domain, r, b)));
  measure('decode Settle of 1,000 (receipts/s)', () => decodeMethod(batch), 1_000, MIN_MS / 2);
  const native = nativeBackend ?? nobleBackend;
  measure(`decode Settle + verify all, ${native.name} (receipts/s)`, () => {
    const m = decodeMethod(batch);
    if (m.name === 'Settle') for (const r of m.receipts) verifyReceipt(domain, r, native);
  }, 1_000, MIN_MS);
  const receiptTable: BenchTable = {
    title: 'receipt verification, one core',
    columns: ['operation', 'per cpu-s', 'µs each', 'per wall-s'],
    rows,
    notes: [
      'verifyReceipt = receipt digest + invocation digest + two recoveries (receipt signer, invocation signer) + EIP-55; the full path of a verification worker per settlement receipt.',
      `keccak-256 implementation: ${keccak}.`,
    ],
    data: { ...raw, keccak },
  };
  printTable(receiptTable);
  const file = writeResults('signatures', [backendTable, receiptTable]);
  console.log(`wrote ${file}`);
}
