/**
 * The built-in demo genesis of `npm start`: the demo's actors with their keys and balances, and
 * short windows so the whole flow (settle, challenge, claim) fits in well under a minute.
 */
import { addressOf } from '../../contracts/eip712/index.ts';
import { parseGenesis } from '../../contracts/gas/genesis.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { SETTLEMENT_BUCKET_SECONDS } from '../../contracts/gas/limits.ts';
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import type { Address, Hex } from '../../contracts/types.ts';
import { formatUnits, wholeQsr } from '../../contracts/units.ts';
import type { Qsr } from '../../contracts/units.ts';
import { systemClock } from '../../unikernel-runner/clock.ts';

export const DEMO_CHAIN_ID = 73405n;
export const DEMO_CONTRACT = '0x00000000000000000000000000000000007a6761';

/**
 * The demo's actors. Their keys are public (derived from their names): never hold value with them.
 * `mallory` is a provider that slashes itself through its second account `accomplice`.
 */
export const DEMO_ACTORS = [
  'owner', 'provider', 'providerSigner', 'dishonest', 'dishonestSigner', 'mallory', 'mallorySigner', 'accomplice',
  'alice', 'bob', 'carol', 'dave', 'erin',
] as const;
export type DemoActor = (typeof DEMO_ACTORS)[number];

export interface DemoKey {
  name: DemoActor;
  privateKey: Hex;
  address: Address;
}

/** secp256k1 keys derived as SHA3-256("zgas demo key: <name>"); deterministic, so the genesis hash is stable. */
export const DEMO_KEYS: Readonly<Record<DemoActor, DemoKey>> = Object.freeze(
  Object.fromEntries(
    DEMO_ACTORS.map((name) => {
      const privateKey = sha3(utf8Bytes(`zgas demo key: ${name}`));
      return [name, { name, privateKey, address: addressOf(privateKey) }];
    }),
  ) as Record<DemoActor, DemoKey>,
);

/** Genesis balances in whole QSR. The receipt signers hold nothing: they only sign. */
export const DEMO_BALANCES_QSR: Readonly<Partial<Record<DemoActor, number>>> = Object.freeze({
  owner: 10_000,
  provider: 5_000,
  dishonest: 5_000,
  mallory: 5_000,
  accomplice: 10,
  alice: 10,
  bob: 10,
  carol: 10,
  dave: 10,
  erin: 10,
});

/**
 * How many chain seconds pass per real second in the demo. The contract groups settlements in
 * buckets of SETTLEMENT_BUCKET_SECONDS before a challenge window starts, so at real speed a claim
 * could wait a minute or more; the demo's chain clock runs faster so one bucket lasts about 3 s.
 * Real deployments run the host on the system clock (speed 1).
 */
export const DEMO_CLOCK_SPEED = Math.max(1, Math.ceil(Number(SETTLEMENT_BUCKET_SECONDS) / 3));
/** The challenge window, about 3 real seconds at DEMO_CLOCK_SPEED. */
export const DEMO_CHALLENGE_WINDOW_SECONDS = BigInt(3 * DEMO_CLOCK_SPEED);
/** A closing session's grace before anyone may finalize it: about 3 real seconds. */
export const DEMO_CLOSE_GRACE_SECONDS = BigInt(3 * DEMO_CLOCK_SPEED);
/** What a challenger puts up; a failed challenge pays it to the provider. */
export const DEMO_CHALLENGE_BOND = wholeQsr(1);

/**
 * The demo genesis. `timestamp` (unix seconds) defaults to now rounded down to a settlement
 * bucket, so the chain clock starts on a bucket boundary.
 */
export function demoGenesis(opts: { timestamp?: bigint } = {}): Genesis {
  const bucket = SETTLEMENT_BUCKET_SECONDS;
  const timestamp = opts.timestamp ?? (systemClock() / bucket) * bucket;
  const accounts = DEMO_ACTORS.flatMap((name) => {
    const whole = DEMO_BALANCES_QSR[name];
    return whole === undefined ? [] : [{ address: DEMO_KEYS[name].address, balance: formatUnits(wholeQsr(whole)) }];
  });
  return parseGenesis({
    chainId: formatUnits(DEMO_CHAIN_ID),
    contract: DEMO_CONTRACT,
    timestamp: formatUnits(timestamp),
    params: {
      minProviderStake: formatUnits(wholeQsr(1_000)),
      challengeWindowSeconds: formatUnits(DEMO_CHALLENGE_WINDOW_SECONDS),
      unbondingPeriodSeconds: formatUnits(DEMO_CHALLENGE_WINDOW_SECONDS * 4n),
      abortGraceGas: '1000000',
      closeGracePeriodSeconds: formatUnits(DEMO_CLOSE_GRACE_SECONDS),
      slashFractionBps: '5000',
      challengerRewardBps: '2000',
      challengeBond: formatUnits(DEMO_CHALLENGE_BOND),
      maxSessionDurationSeconds: '86400',
      maxStateBytes: formatUnits(4n * 1024n * 1024n),
      maxInputBytes: formatUnits(64n * 1024n),
    },
    accounts,
  });
}

/** A chain clock (unix seconds): call it for the time; `toRealTime()` makes it run at real speed from then on. */
export interface DemoClock {
  (): bigint;
  /** From now on the clock advances one second per real second, from where it stands (it never goes back). */
  toRealTime(): void;
  readonly speed: number;
}

/**
 * A chain clock (unix seconds) starting at `start` and running `speed` times faster than real time,
 * until `toRealTime()`: the demo's windows pass in seconds, and the chain it leaves behind then
 * runs on real time, so what a visitor does afterwards ages as it would on a real chain.
 */
export function acceleratedClock(start: bigint, speed: number, nowMs: () => number = Date.now): DemoClock {
  let baseMs = nowMs();
  let baseChainMs = Number(start) * 1000;
  let rate = speed;
  const chainMs = (): number => baseChainMs + (nowMs() - baseMs) * rate;
  const clock = (() => BigInt(Math.floor(chainMs() / 1000))) as DemoClock;
  Object.defineProperty(clock, 'speed', { get: () => rate });
  clock.toRealTime = () => {
    baseChainMs = chainMs();
    baseMs = nowMs();
    rate = 1;
  };
  return clock;
}

export const demoSupply = (genesis: Genesis): Qsr => genesis.accounts.reduce((sum, a) => (sum + a.balance) as Qsr, 0n as Qsr);
