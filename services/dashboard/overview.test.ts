import { describe, expect, it } from 'vitest';
import { ZgasError } from '../../contracts/errors.ts';
import { DEFAULT_PARAMS, genesisState } from '../../contracts/gas/genesis.ts';
import type { Session } from '../../contracts/gas/state.ts';
import { stateToJson, totalSupply } from '../../contracts/gas/state.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { cost, MAX_UINT256 } from '../../contracts/units.ts';
import type { OverviewState, SessionJson } from './overview.ts';
import { buildOverview, emptyOverview, OVERVIEW_MAX_MOMENTUMS, OVERVIEW_MAX_ROWS } from './overview.ts';
import { sampleCounters, sampleMomentums, sampleState } from './sample.ts';

const h32 = (n: number): Hash => `0x${n.toString(16).padStart(64, '0')}`;
const a20 = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
// Far above 2^53: a float anywhere on the way would lose the low digits.
const BIG = 123_456_789_012_345_678_901_234_567n;

function session(id: number, status: string, over: Partial<SessionJson> = {}): SessionJson {
  return {
    id: h32(id), zAppId: h32(100), provider: a20(1), user: a20(2), status, price: '1250',
    gasLimit: '1000000', settledGas: '400000', billedGas: '500000', lastSeq: '4', stopCall: false, closesAt: null, ...over,
  };
}

function state(): OverviewState {
  return {
    chainId: '7',
    contract: a20(99),
    accounts: [
      { address: a20(1), balance: (BIG + 1n).toString() },
      { address: a20(2), balance: '99999999' },
    ],
    zApps: [
      { id: h32(100), owner: a20(2), moduleHash: h32(200), available: BIG.toString(), held: '1', autoTopUp: { minAvailable: '5', refill: '7' } },
      { id: h32(101), owner: a20(2), moduleHash: h32(201), available: '3', held: (BIG * 2n).toString(), autoTopUp: { minAvailable: '0', refill: '0' } },
    ],
    providers: [
      {
        address: a20(1), pricePerMgas: '1250', stake: BIG.toString(),
        unbonding: [{ amount: '10' }, { amount: '20' }],
        pendingEarnings: [{ amount: '100', claimableAt: '1000' }, { amount: '200', claimableAt: '1001' }],
        claimable: '5',
      },
      { address: a20(3), pricePerMgas: '900', stake: '1', unbonding: [], pendingEarnings: [], claimable: '0', accepting: false },
    ],
    burned: '7',
    sessions: [
      session(1, 'closed', { lastSeq: '9' }),
      session(2, 'open', { lastSeq: '2' }),
      session(3, 'closing', { stopCall: true, closesAt: '1060' }),
      session(4, 'open', { lastSeq: '10', billedGas: '999999', price: '3' }),
    ],
  };
}

const momentums = [
  { height: '9', hash: h32(9), timestamp: '1000', inputs: [{}, {}, {}] },
  { height: 10n, hash: h32(10), timestamp: 1000n, inputs: 2 },
  { height: 8, hash: h32(8), timestamp: '990', inputs: '0' },
];

describe('buildOverview', () => {
  it('sums every total exactly, on bigints far beyond float precision', () => {
    const o = buildOverview(state(), momentums, sampleCounters);
    const balances = BIG + 1n + 99_999_999n;
    const available = BIG + 3n;
    const held = 1n + BIG * 2n;
    const stake = BIG + 1n;
    const unbonding = 30n;
    // At the newest momentum (timestamp 1000) the first earning has matured, the second has not.
    const pending = 200n;
    const claimable = 5n + 100n;
    expect(o.totals).toEqual({
      supply: (balances + available + held + stake + unbonding + pending + claimable + 7n).toString(),
      genesisSupply: null,
      balances: balances.toString(),
      escrowAvailable: available.toString(),
      escrowHeld: held.toString(),
      stake: stake.toString(),
      unbonding: '30',
      pending: '200',
      claimable: '105',
      burned: '7',
    });
    expect(o.providers[0]).toEqual({
      address: a20(1), pricePerMgas: '1250', stake: BIG.toString(), unbonding: '30', pending: '200', claimable: '105', nextClaimableAt: '1001', accepting: true,
    });
    expect(o.providers[1]).toMatchObject({ nextClaimableAt: null, accepting: false });
  });

  it('keeps earnings pending when there is no momentum to date them', () => {
    const o = buildOverview(state(), [], sampleCounters);
    expect(o.totals.pending).toBe('300');
    expect(o.totals.claimable).toBe('5');
    expect(o.latest).toBeNull();
  });

  it('lists rows with decimal strings, billed QSR from cost(), and auto top-up off at refill 0', () => {
    const o = buildOverview(state(), momentums, sampleCounters);
    expect(o.chain).toEqual({ chainId: '7', contract: a20(99) });
    expect(o.zApps.map((z) => z.autoTopUp)).toEqual([{ minAvailable: '5', refill: '7' }, null]);
    expect(o.counts).toEqual({ accounts: '2', zApps: '2', providers: '2', sessions: '4', openSessions: '2', closingSessions: '1' });
    // Closing first, then open (newest seq first), then closed.
    expect(o.sessions.map((s) => s.id)).toEqual([h32(3), h32(4), h32(2), h32(1)]);
    const s4 = o.sessions[1];
    expect(s4?.billedQsr).toBe(cost(999_999n as Gas, 3n as Qsr).toString()); // ceil(2999.997) = 3
    expect(s4?.billedQsr).toBe('3');
    expect(o.sessions[0]).toMatchObject({ status: 'closing', stopCall: true, closesAt: '1060', billedQsr: '625', settledGas: '400000', gasLimit: '1000000', lastSeq: '4' });
    expect(o.sessions[1]).toMatchObject({ status: 'open', stopCall: false, closesAt: null, slashed: false });
  });

  it('orders momentums newest first, counts their inputs and takes the newest as latest', () => {
    const o = buildOverview(state(), momentums, sampleCounters);
    expect(o.momentums).toEqual([
      { height: '10', hash: h32(10), inputs: '2', timestamp: '1000' },
      { height: '9', hash: h32(9), inputs: '3', timestamp: '1000' },
      { height: '8', hash: h32(8), inputs: '0', timestamp: '990' },
    ]);
    expect(o.latest).toEqual({ height: '10', hash: h32(10), timestamp: '1000' });
    expect(o.pipeline).toEqual({ receiptsStored: '18342', verified: '18330', applied: '18301', rejected: '12' });
  });

  it('cuts long lists but keeps full counts', () => {
    const many = state();
    many.sessions = Array.from({ length: OVERVIEW_MAX_ROWS + 5 }, (_, i) => session(1000 + i, 'open'));
    const o = buildOverview(many, sampleMomentums(500n, 10_000n, OVERVIEW_MAX_MOMENTUMS + 10), sampleCounters);
    expect(o.sessions).toHaveLength(OVERVIEW_MAX_ROWS);
    expect(o.counts.sessions).toBe(String(OVERVIEW_MAX_ROWS + 5));
    expect(o.momentums).toHaveLength(OVERVIEW_MAX_MOMENTUMS);
    expect(o.momentums[0]?.height).toBe('500');
  });

  it('refuses malformed input with a typed error instead of a wrong figure', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof ZgasError ? err.code : 'not a ZgasError';
      }
      return undefined;
    };
    const badAmount = state();
    badAmount.accounts = [{ address: a20(1), balance: '1e3' }];
    expect(code(() => buildOverview(badAmount, [], sampleCounters))).toBe('InvalidAmount');
    const tooBig = state();
    tooBig.zApps = [{ id: h32(1), owner: a20(1), moduleHash: h32(2), available: MAX_UINT256.toString(), held: '1' }];
    expect(code(() => buildOverview(tooBig, [], sampleCounters))).toBe('AmountOverflow');
    const badStatus = state();
    badStatus.sessions = [session(1, 'paused')];
    expect(code(() => buildOverview(badStatus, [], sampleCounters))).toBe('InvalidField');
    expect(code(() => buildOverview(state(), [{ height: -1, hash: h32(1), timestamp: 1, inputs: 0 }], sampleCounters))).toBe('InvalidField');
    expect(code(() => buildOverview(state(), [], { ...sampleCounters, applied: '-1' }))).toBe('InvalidUint64');
  });

  it('reads the contract JSON state view and agrees with its supply', () => {
    const owner = '0x00000000000000000000000000000000000000A1' as Address;
    const provider = '0x00000000000000000000000000000000000000b2' as Address;
    const g = genesisState({
      chainId: 321n, contract: a20(0xc0), timestamp: 1_000n, gasTable: h32(0),
      params: {
        ...DEFAULT_PARAMS, minProviderStake: 1n as Qsr, unbondingPeriodSeconds: 20n, challengeWindowSeconds: 10n, abortGraceGas: 5n as Gas,
        closeGracePeriodSeconds: 5n, maxSessionDurationSeconds: 100n,
      },
      accounts: [{ address: owner, balance: (BIG * 3n) as Qsr }, { address: provider, balance: 1_000n as Qsr }],
    });
    // Move funds the way the contract would: owner → escrow, provider → stake and earnings.
    const ownerAccount = g.accounts.get(owner);
    const providerAccount = g.accounts.get(provider);
    if (ownerAccount === undefined || providerAccount === undefined) throw new Error('genesis accounts missing');
    ownerAccount.balance = (BIG * 3n - BIG - 600n) as Qsr;
    providerAccount.balance = 400n as Qsr;
    const zAppId = h32(0x2a);
    g.zApps.set(zAppId, {
      owner, moduleHash: h32(0x3b), available: BIG as Qsr, held: 500n as Qsr,
      policy: { maxPricePerMgas: 10_000n as Qsr, maxGasPerSession: 10_000_000n as Gas, openToAll: false, openGasPerDay: 0n as Gas },
      autoTopUp: { minAvailable: 0n as Qsr, refill: 0n as Qsr }, openGasToday: 0n as Gas, openGasDay: 0n,
    });
    g.providers.set(provider, {
      receiptSigner: provider, pricePerMgas: 1_000n as Qsr, upfrontGas: 0n as Gas, stake: 550n as Qsr,
      unbonding: [{ amount: 20n as Qsr, releaseAt: 2_000n }],
      pendingEarnings: [{ sessionId: h32(0x4c), amount: 100n as Qsr, claimableAt: 1_010n }],
      pendingTotal: 100n as Qsr, claimable: 30n as Qsr, accepting: true, liveSessions: 1, challengeableUntil: 1_010n,
    });
    const s: Session = {
      zAppId, provider, user: owner, openedByOwner: true, price: 1_000n as Qsr, receiptSigner: provider, gasLimit: 600_000n as Gas, hold: 600n as Qsr,
      upfrontGas: 0n as Gas, settledGas: 100_000n as Gas, billedGas: 100_000n as Gas, lastSeq: 3n, lastReceiptHash: null,
      lastPostStateHash: h32(0), lastInvocation: null, coverageFloorSeq: 0n, coverage: [], judgedSeqs: [], status: 'open', stopCall: false,
      slashed: false, openedAt: 1_000n, expiresAt: 1_100n, closesAt: null, finalizedAt: null, removeAt: null,
    };
    g.sessions.set(h32(0x4c), s);
    expect(totalSupply(g)).toBe(g.supply);

    const o = buildOverview(stateToJson(g), [{ height: 1n, hash: h32(1), timestamp: 1_005n, inputs: [] }], sampleCounters);
    expect(o.totals.supply).toBe(g.supply.toString());
    expect(o.totals.genesisSupply).toBe(g.supply.toString());
    expect(o.chain).toEqual({ chainId: '321', contract: a20(0xc0) });
    expect(o.zApps).toEqual([{ id: zAppId, owner, moduleHash: h32(0x3b), available: BIG.toString(), held: '500', autoTopUp: null }]);
    expect(o.providers).toEqual([{ address: provider, pricePerMgas: '1000', stake: '550', unbonding: '20', pending: '100', claimable: '30', nextClaimableAt: '1010', accepting: true }]);
    expect(o.sessions[0]).toMatchObject({ id: h32(0x4c), status: 'open', billedQsr: '100', closesAt: null, lastSeq: '3' });
  });

  it('builds the sample state the preview serves, and an empty overview', () => {
    expect(buildOverview(sampleState(), sampleMomentums(10n, 100n), sampleCounters).counts.sessions).toBe('7');
    expect(emptyOverview()).toMatchObject({ latest: null, zApps: [], sessions: [], totals: { supply: '0' } });
  });
});
