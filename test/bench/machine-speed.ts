/**
 * How fast the machine runs at one moment: wall µs per native signature recovery on one core. The
 * development machine is shared hardware whose speed drifts by tens of percent within minutes and
 * by up to 2.5× between days; read beside each row of a long benchmark, the probe tells a change in
 * the code from a change in the machine.
 */
import { nativeBackend, nobleBackend } from '../../contracts/eip712/index.ts';
import { sha3 } from '../../contracts/hash.ts';
import { hexToBytes, u64be } from '../../contracts/hex.ts';
import type { Hex } from '../../contracts/types.ts';

/** Distinct signatures, cycled: the native library caches nothing between them. */
const PROBE_SIGNATURES = 32;
/** Recoveries per burst (about 5 ms of one core) and bursts per probe; the median burst counts. */
const RECOVERIES_PER_BURST = 100;
const BURSTS = 5;

const backend = nativeBackend ?? nobleBackend;

let signed: { digest: Uint8Array; signature: Hex }[] | null = null;

function probeSignatures(): { digest: Uint8Array; signature: Hex }[] {
  signed ??= Array.from({ length: PROBE_SIGNATURES }, (_, i) => {
    const digest = hexToBytes(sha3(u64be(BigInt(i) + 7_000_000n)));
    return { digest, signature: backend.sign(digest, hexToBytes(sha3(u64be(BigInt(i) + 9_000_000n)))) };
  });
  return signed;
}

/**
 * Wall µs per recovery, the median of BURSTS bursts: a burst that another process interrupted is
 * left out, a machine that runs slower throughout is not. Synchronous (about 25 ms): call it while
 * the system under test is idle.
 */
export function recoveryProbeUs(): number {
  const data = probeSignatures();
  const bursts: number[] = [];
  for (let b = 0; b < BURSTS; b++) {
    const started = performance.now();
    for (let i = 0; i < RECOVERIES_PER_BURST; i++) {
      const s = data[i % data.length]!;
      backend.recover(s.digest, s.signature);
    }
    bursts.push(((performance.now() - started) * 1_000) / RECOVERIES_PER_BURST);
  }
  bursts.sort((x, y) => x - y);
  return bursts[Math.floor(BURSTS / 2)]!;
}

/** Runs `body` between two probes; `probeUs` is their mean (the machine's speed over the run). */
export async function probed<T>(body: () => Promise<T>): Promise<{ result: T; probeUs: number }> {
  const before = recoveryProbeUs();
  const result = await body();
  const after = recoveryProbeUs();
  return { result, probeUs: (before + after) / 2 };
}
