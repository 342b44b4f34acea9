import { createHash } from 'node:crypto';
import { getAddress } from 'ethers';
import type { MomentumSummary, PipelineCountersInput, SessionJson, OverviewState } from './overview.ts';

/** A deterministic, realistic chain state for the preview server and the tests. Not used in production. */

const hex = (label: string, bytes: number): `0x${string}` => `0x${createHash('sha256').update(label).digest('hex').slice(0, bytes * 2)}`;
const address = (label: string): string => getAddress(hex(label, 20));
const QSR = 100_000_000n;
const q = (whole: bigint, frac = 0n): string => (whole * QSR + frac).toString(10);

export const sampleAddresses = {
  owners: [address('owner-a'), address('owner-b')],
  providers: [address('provider-1'), address('provider-2'), address('provider-3')],
  users: [address('user-1'), address('user-2'), address('user-3'), address('user-4')],
} as const;

export function sampleState(): OverviewState {
  const { owners, providers, users } = sampleAddresses;
  const zAppIds = [hex('zapp-chess', 32), hex('zapp-oracle', 32), hex('zapp-kv', 32)];
  const price = ['1250', '900', '2000'];
  const session = (i: number, zApp: number, provider: number, user: number, status: string, gasLimit: bigint, settledGas: bigint, billedGas: bigint, lastSeq: number, closesAt?: bigint): SessionJson => ({
    id: hex(`session-${i}`, 32),
    zAppId: zAppIds[zApp] ?? '',
    provider: providers[provider] ?? '',
    user: users[user] ?? '',
    status,
    price: price[provider] ?? '0',
    gasLimit: gasLimit.toString(10),
    settledGas: settledGas.toString(10),
    billedGas: billedGas.toString(10),
    lastSeq: lastSeq.toString(10),
    stopCall: status === 'closing' && closesAt !== undefined,
    closesAt: closesAt === undefined ? null : closesAt.toString(10),
  });
  return {
    chainId: '73405',
    supply: '10595459162604',
    burned: '0',
    contract: address('gas-contract'),
    accounts: [
      { address: owners[0], balance: q(48_250n, 12_500_000n) },
      { address: owners[1], balance: q(9_100n) },
      ...providers.map((a, i) => ({ address: a, balance: q(BigInt(1_000 + i * 250), 3n) })),
      ...users.map((a) => ({ address: a, balance: '0' })),
    ],
    zApps: [
      { id: zAppIds[0], owner: owners[0], moduleHash: hex('module-chess', 32), available: q(1_840n, 55_000_001n), held: q(160n, 4_999_999n), autoTopUp: { minAvailable: q(500n), refill: q(2_000n) } },
      { id: zAppIds[1], owner: owners[0], moduleHash: hex('module-oracle', 32), available: q(312n, 7n), held: q(25n), autoTopUp: null },
      { id: zAppIds[2], owner: owners[1], moduleHash: hex('module-kv', 32), available: '0', held: q(3n, 50_000_000n) },
    ] as OverviewState['zApps'],
    providers: [
      { address: providers[0], pricePerMgas: price[0], stake: q(25_000n), unbonding: [], pendingEarnings: [{ amount: '412500', claimableAt: '1767225960' }, { amount: '87', claimableAt: '1767226020' }], claimable: q(12n, 34_000_000n) },
      { address: providers[1], pricePerMgas: price[1], stake: q(10_000n), unbonding: [{ amount: q(2_500n) }], pendingEarnings: [{ amount: '2250000', claimableAt: '1767225960' }], claimable: '0' },
      { address: providers[2], pricePerMgas: price[2], stake: q(5_000n, 1n), unbonding: [], pendingEarnings: [], claimable: q(1n) },
    ] as OverviewState['providers'],
    sessions: [
      session(1, 0, 0, 0, 'open', 2_000_000n, 1_337_420n, 1_337_420n, 57),
      session(2, 0, 0, 1, 'open', 5_000_000n, 412_000n, 500_000n, 9),
      session(3, 1, 1, 2, 'closing', 1_000_000n, 640_118n, 650_118n, 31, 1_767_225_660n),
      session(4, 2, 2, 3, 'open', 10_000_000n, 9_870_002n, 9_870_002n, 412),
      session(5, 1, 1, 0, 'closed', 1_000_000n, 1_000_000n, 1_000_000n, 44),
      session(6, 0, 0, 2, 'closed', 3_000_000n, 120_000n, 250_000n, 3),
      session(7, 2, 2, 1, 'open', 750_000n, 0n, 50_000n, 0),
    ] as OverviewState['sessions'],
  } as OverviewState;
}

export function sampleMomentums(latestHeight: bigint, nowSeconds: bigint, count = 24): MomentumSummary[] {
  const out: MomentumSummary[] = [];
  for (let i = 0n; i < BigInt(count) && i <= latestHeight; i++) {
    const height = latestHeight - i;
    out.push({ height, hash: hex(`momentum-${height}`, 32), timestamp: nowSeconds - i * 2n, inputs: Number((height * 7n) % 13n) });
  }
  return out;
}

export const sampleCounters: PipelineCountersInput = { receiptsStored: 18_342, verified: 18_330, applied: 18_301, rejected: 12 };
