import { describe, expect, it } from 'vitest';
import { ADDR } from '../../test/support/contract-kit.ts';
import type { Hash } from '../types.ts';
import { MAX_UINT256, MAX_UINT64 } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { MAX_COVERAGE_ENTRIES, MAX_JUDGED_SEQS_PER_SESSION, MAX_LIVE_SESSIONS_PER_PROVIDER, MAX_UNBONDING_ENTRIES } from './limits.ts';
import {
  accountFromJson, accountJson, paramsFromJson, paramsJson, providerFromJson, providerJson, sessionFromJson, sessionJson, zAppFromJson, zAppJson,
} from './state.ts';
import type { Account, GenesisParams, Provider, Session, ZApp } from './state.ts';

const Q = MAX_UINT256 as Qsr;
const G = MAX_UINT64 as Gas;
const U = MAX_UINT64;
const H = `0x${'ff'.repeat(32)}` as Hash;
const roundTrip = <T>(json: T): T => JSON.parse(JSON.stringify(json)) as T;

describe('every entity reads back at its maximum values', () => {
  it('account', () => {
    const a: Account = { balance: Q, nonce: U };
    expect(accountFromJson(roundTrip(accountJson(ADDR.owner, a)))).toEqual([ADDR.owner, a]);
  });

  it('zApp', () => {
    const z: ZApp = {
      owner: ADDR.owner, moduleHash: H, available: Q, held: Q,
      policy: { maxPricePerMgas: Q, maxGasPerSession: G, openToAll: true, openGasPerDay: G },
      autoTopUp: { minAvailable: Q, refill: Q }, openGasToday: G, openGasDay: U,
    };
    expect(zAppFromJson(roundTrip(zAppJson(H, z)))).toEqual([H, z]);
  });

  it('provider, with full unbonding and pending lists', () => {
    const p: Provider = {
      receiptSigner: ADDR.receiptSigner, pricePerMgas: Q, upfrontGas: G, stake: Q,
      unbonding: Array.from({ length: MAX_UNBONDING_ENTRIES }, () => ({ amount: Q, releaseAt: U })),
      pendingEarnings: [{ sessionId: H, amount: Q, claimableAt: U }], pendingTotal: Q, claimable: Q,
      accepting: true, liveSessions: MAX_LIVE_SESSIONS_PER_PROVIDER, challengeableUntil: U,
    };
    expect(providerFromJson(roundTrip(providerJson(ADDR.provider, p)))).toEqual([ADDR.provider, p]);
    const tooMany = roundTrip(providerJson(ADDR.provider, { ...p, unbonding: [...p.unbonding, { amount: Q, releaseAt: U }] }));
    expect(() => providerFromJson(tooMany)).toThrowError(expect.objectContaining({ code: 'InvalidField' }));
  });

  it('session, with full coverage and judged lists', () => {
    const s: Session = {
      zAppId: H, provider: ADDR.provider, user: ADDR.user, openedByOwner: true, price: Q, receiptSigner: ADDR.receiptSigner,
      gasLimit: G, hold: Q, upfrontGas: G, settledGas: G, billedGas: G, lastSeq: U, lastReceiptHash: H, lastPostStateHash: H,
      lastInvocation: { callGasLimit: G, inputHash: H, preStateHash: H, ackedGas: G }, coverageFloorSeq: U,
      coverage: Array.from({ length: MAX_COVERAGE_ENTRIES }, () => ({ upToSeq: U, challengeDeadline: U })),
      judgedSeqs: Array.from({ length: MAX_JUDGED_SEQS_PER_SESSION }, () => U),
      status: 'closed', stopCall: true, slashed: true, openedAt: U, expiresAt: U, closesAt: U, finalizedAt: U, removeAt: U,
    };
    expect(sessionFromJson(roundTrip(sessionJson(H, s)))).toEqual([H, s]);
    const fresh: Session = { ...s, status: 'open', lastReceiptHash: null, lastInvocation: null, closesAt: null, finalizedAt: null, removeAt: null, coverage: [], judgedSeqs: [] };
    expect(sessionFromJson(roundTrip(sessionJson(H, fresh)))).toEqual([H, fresh]);
    for (const bad of [{ ...s, removeAt: null }, { ...fresh, removeAt: U }]) {
      expect(() => sessionFromJson(roundTrip(sessionJson(H, bad)))).toThrowError(expect.objectContaining({ code: 'InvalidField', details: expect.objectContaining({ path: 'session.removeAt' }) }));
    }
    const over = roundTrip(sessionJson(H, { ...s, settledGas: 0n as Gas }));
    over.settledGas = (MAX_UINT64 + 1n).toString();
    expect(() => sessionFromJson(over)).toThrowError(expect.objectContaining({ code: 'InvalidField', details: expect.objectContaining({ path: 'session.settledGas' }) }));
  });

  it('genesis params', () => {
    const p: GenesisParams = {
      minProviderStake: Q, unbondingPeriodSeconds: U, challengeWindowSeconds: U, abortGraceGas: G, closeGracePeriodSeconds: U,
      slashFractionBps: U, challengerRewardBps: U, challengeBond: Q, maxSessionDurationSeconds: U, maxStateBytes: U, maxInputBytes: U,
    };
    expect(paramsFromJson(roundTrip(paramsJson(p)))).toEqual(p);
  });
});
