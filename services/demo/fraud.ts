/**
 * Fraud and its price. Bob's client runs in verify mode: the dishonest runner's receipt passes
 * every check a client makes without re-executing, settles, and is then caught by re-execution
 * and challenged by the client itself — the provider is slashed, the challenger rewarded, the
 * voided earnings return to the zApp and the rest of the slash is burned. Then a provider tries to
 * slash itself through a second account to get its stake back at once: it ends with less.
 */
import { signInvocation, signReceipt, settlementReceipt } from '../../contracts/eip712/index.ts';
import { BPS_DENOMINATOR } from '../../contracts/gas/genesis.ts';
import { EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import { invocationOf } from '../../contracts/invocation.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, GasReceipt, Hash, SettlementReceipt } from '../../contracts/types.ts';
import { cost, gas } from '../../contracts/units.ts';
import type { Qsr } from '../../contracts/units.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { Verifier } from '../client/index.ts';
import type { SessionView, Verification } from '../client/index.ts';
import { attachSession } from './calls.ts';
import { big, escrow, eventsOf, providerFunds, totalFunds, wallet } from './context.ts';
import type { DemoContext, Escrow, ProviderFunds } from './context.ts';
import type { ProvidersStep, SessionsStep, ZAppsStep } from './setup.ts';
import { openSession, SMALL_SESSION_GAS } from './setup.ts';

/** Gas the dishonest runner adds to what each call really used. */
export const INFLATED_EXTRA_GAS = 100_000n;

/** What a FraudProven event reported, as amounts. */
export interface FraudAmounts {
  slashed: bigint;
  reward: bigint;
  burned: bigint;
  voided: bigint;
}
function fraudOf(events: Array<Record<string, unknown>>): FraudAmounts {
  const e = events[0] ?? {};
  return { slashed: big(e['slashed'] as string), reward: big(e['reward'] as string), burned: big(e['burned'] as string), voided: big(e['voided'] as string) };
}

/** stake × slashFractionBps / 10 000 (stake plus unbonding), as the contract computes it. */
export const expectedSlash = (stake: bigint, bps: bigint): bigint => (stake * bps) / BPS_DENOMINATOR;
/** slash × challengerRewardBps / 10 000. */
export const expectedReward = (slashed: bigint, bps: bigint): bigint => (slashed * bps) / BPS_DENOMINATOR;

// ── 7. the dishonest provider ────────────────────────────────────────────────────────────
export interface ChallengeStep {
  sessionId: Hash;
  /** The receipt the dishonest runner signed and the client acknowledged (its checks cannot see gas). */
  inflatedReceipt: SettlementReceipt;
  /** The client's re-execution of the call. */
  verification: Verification;
  /** What the inflated receipt billed when it settled, and the charge it moved. */
  billedGasBeforeChallenge: bigint;
  chargedQsr: Qsr;
  fraud: FraudAmounts;
  challengeBond: bigint;
  slashFractionBps: bigint;
  challengerRewardBps: bigint;
  providerBefore: ProviderFunds;
  providerAfter: ProviderFunds;
  challengerBalanceBefore: bigint;
  challengerBalanceAfter: bigint;
  escrowBefore: Escrow;
  escrowAfter: Escrow;
  /** The rest of the session's hold, returned when the fraud made the session final. */
  released: bigint;
  session: SessionView;
}

export async function challengeDishonestProvider(ctx: DemoContext, sessions: SessionsStep): Promise<ChallengeStep> {
  const opened = sessions.dishonest;
  const session = await attachSession(ctx, opened, ctx.dishonestRunnerUrl);
  // Verify mode with no call verified at once: the rest is verified before the challenge deadline.
  const verifier = new Verifier({ api: ctx.api, challenger: wallet(ctx, opened.user), module: loadZApp(opened.zApp), sampleAtOncePpm: 0 });
  verifier.watch(session);
  const escrowBeforeSettle = await escrow(ctx, opened.zAppId);
  const call = await session.call(utf8Bytes('increment'));
  const settled = await ctx.api.waitForSettled(opened.id, call.seq);
  const escrowBefore = await escrow(ctx, opened.zAppId);

  const providerBefore = await providerFunds(ctx, opened.provider);
  const challenger = ctx.keys[opened.user].address;
  const challengerBalanceBefore = await ctx.api.balance(challenger);
  const [verification] = await verifier.verifyPending();
  if (verification?.challenge === undefined) throw verification?.challengeError ?? new Error('the verifier found nothing to challenge');
  const fraud = fraudOf(eventsOf(verification.challenge, 'FraudProven'));
  const after = await ctx.api.session(opened.id);
  const escrowAfter = await escrow(ctx, opened.zAppId);
  return {
    sessionId: opened.id, inflatedReceipt: call.receipt, verification, billedGasBeforeChallenge: big(settled.billedGas),
    chargedQsr: (escrowBeforeSettle.held - escrowBefore.held) as Qsr, fraud, challengeBond: ctx.genesis.params.challengeBond,
    slashFractionBps: ctx.genesis.params.slashFractionBps, challengerRewardBps: ctx.genesis.params.challengerRewardBps,
    providerBefore, providerAfter: await providerFunds(ctx, opened.provider),
    challengerBalanceBefore, challengerBalanceAfter: await ctx.api.balance(challenger),
    escrowBefore, escrowAfter, released: escrowBefore.held - escrowAfter.held, session: after,
  };
}

// ── 8. a self-slash attempt ───────────────────────────────────────────────────────────────
export interface SelfSlashStep {
  provider: Address;
  accomplice: Address;
  sessionId: Hash;
  fraud: FraudAmounts;
  /** Everything the pair holds: the provider's balance and funds in the contract, and the accomplice's balance. */
  pairBefore: bigint;
  pairAfter: bigint;
  providerBefore: ProviderFunds;
  providerAfter: ProviderFunds;
  challengerRewardBps: bigint;
}

/**
 * Mallory wants its stake back without waiting for unbonding: its accomplice opens a session on the
 * open zApp with Mallory as provider, signs an invocation, Mallory signs a receipt that re-execution
 * disproves, and the accomplice challenges it. The slash goes to the accomplice only in part
 * (challengerRewardBps ≤ 50 %); the rest is burned.
 */
export async function selfSlashAttempt(ctx: DemoContext, zApps: ZAppsStep, providers: ProvidersStep): Promise<SelfSlashStep> {
  const mallory = providers.mallory;
  const accomplice = ctx.keys.accomplice;
  const pair = async (): Promise<bigint> =>
    (await ctx.api.balance(mallory.address)) + totalFunds(await providerFunds(ctx, mallory.address)) + (await ctx.api.balance(accomplice.address));
  const pairBefore = await pair();
  const providerBefore = await providerFunds(ctx, mallory.address);
  const opened = await openSession(ctx, 'accomplice on fuddor-meme with mallory', zApps.zApps['fuddor-meme'], mallory, 'accomplice', 'accomplice', SMALL_SESSION_GAS);

  const input = utf8Bytes('name');
  const made: GasReceipt = {
    sessionId: opened.id, seq: 1n, callGasLimit: gas(200_000), callGas: gas(1_000), cumulativeGas: gas(1_000), inputHash: sha3(input),
    preStateHash: EMPTY_STATE_HASH, postStateHash: EMPTY_STATE_HASH, outputHash: sha3(utf8Bytes('a made-up output')), status: CallStatus.Ok,
  };
  const signed = signReceipt(ctx.domain, made, ctx.keys.mallorySigner.privateKey);
  const receipt = settlementReceipt(signed, signInvocation(ctx.domain, invocationOf(made), accomplice.privateKey));
  const challenge = await ctx.api.execute(wallet(ctx, 'accomplice'), { name: 'Challenge', receipt, input: bytesToHex(input), preState: '0x' });
  return {
    provider: mallory.address, accomplice: accomplice.address, sessionId: opened.id, fraud: fraudOf(eventsOf(challenge, 'FraudProven')),
    pairBefore, pairAfter: await pair(), providerBefore, providerAfter: await providerFunds(ctx, mallory.address),
    challengerRewardBps: ctx.genesis.params.challengerRewardBps,
  };
}

/** The charge of an inflated receipt over the upfront gas already billed. */
export const inflatedCharge = (billedGas: bigint, upfrontGas: bigint, price: bigint): bigint => cost(billedGas, price) - cost(upfrontGas, price);
