/**
 * The demo's flow end to end against the real Postgres (own schema) and Redis (own queue and key
 * prefix): every step through the typed client, the runners and the settlement API, every amount
 * checked to the base unit. Waits are for conditions (settled seqs, chain time), never fixed sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BPS_DENOMINATOR } from '../../contracts/gas/genesis.ts';
import { CallStatus } from '../../contracts/types.ts';
import { cost } from '../../contracts/units.ts';
import { abortLongCall, closeWithReceiptsInFlight, runCalls } from '../../services/demo/calls.ts';
import type { CallsStep } from '../../services/demo/calls.ts';
import { totalFunds } from '../../services/demo/context.ts';
import type { DemoContext } from '../../services/demo/context.ts';
import { claimEarnings, finalizeSessions, summarize } from '../../services/demo/finish.ts';
import { challengeDishonestProvider, expectedSlash, INFLATED_EXTRA_GAS, selfSlashAttempt } from '../../services/demo/fraud.ts';
import { acceleratedClock, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import { openSessions, PROVIDER_STAKE, registerProviders, registerZApps, ZAPP_SETUP } from '../../services/demo/setup.ts';
import type { ProvidersStep, SessionsStep, ZAppsStep } from '../../services/demo/setup.ts';
import { demoContext, demoRunners } from '../../services/demo/start.ts';
import type { DemoActors } from '../../services/demo/start.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import { silentLogger } from '../../services/log.ts';
import { testServers } from '../support/local-system.ts';

const servers = testServers('e2e', 'e2e_demo');
const genesis = demoGenesis();
const params = genesis.params;
const clock = acceleratedClock(genesis.timestamp, DEMO_CLOCK_SPEED);

let system: LocalSystem;
let actors: DemoActors;
let ctx: DemoContext;
let zApps: ZAppsStep;
let providers: ProvidersStep;
let sessions: SessionsStep;
let calls: CallsStep;

beforeAll(async () => {
  system = await startLocalSystem({
    genesis,
    log: silentLogger,
    ...servers.options,
    verifyConcurrency: 2,
    clock,
    runners: demoRunners(0),
    dashboard: true,
  });
  actors = await demoContext(system, genesis);
  ctx = actors.ctx;
}, 300_000);

afterAll(async () => {
  await actors?.close();
  await system?.close();
  await servers.drop();
});

const ownerGenesisBalance = genesis.accounts.find((a) => a.address === DEMO_KEYS.owner.address)!.balance;

describe('the demo flow on Postgres and Redis', { timeout: 300_000 }, () => {
  it('runs on the real servers', () => {
    expect(system.db.kind).toBe('pg');
    expect(system.queue.kind).toBe('bullmq');
    expect(system.bus.kind).toBe('redis');
  });

  it('1. registers and funds the zApps: the owner pays exactly the top-ups', async () => {
    zApps = await registerZApps(ctx);
    let spent = 0n;
    for (const z of Object.values(zApps.zApps)) {
      expect(BigInt(z.zApp.available)).toBe(ZAPP_SETUP[z.name].topUp);
      expect(BigInt(z.zApp.held)).toBe(0n);
      expect(z.zApp.autoTopUp).toEqual({ minAvailable: z.autoTopUp.minAvailable.toString(), refill: z.autoTopUp.refill.toString() });
      expect(z.zApp.policy.openToAll).toBe(ZAPP_SETUP[z.name].openToAll);
      spent += z.topUp;
    }
    expect(zApps.ownerBalanceBefore).toBe(ownerGenesisBalance);
    expect(zApps.ownerBalanceAfter).toBe(ownerGenesisBalance - spent);
  });

  it('2. registers three providers: the stake leaves the balance', async () => {
    providers = await registerProviders(ctx);
    for (const p of [providers.honest, providers.dishonest, providers.mallory]) {
      expect(BigInt(p.provider.stake)).toBe(PROVIDER_STAKE);
      expect(p.balanceBefore - p.balanceAfter).toBe(PROVIDER_STAKE);
      expect(p.provider.receiptSigner).toBe(p.receiptSigner);
      expect(p.provider.accepting).toBe(true);
    }
  });

  it('3. opens sessions the users do not pay for: hold cost(gasLimit), upfront only when the owner opens', async () => {
    sessions = await openSessions(ctx, zApps, providers);
    for (const s of [sessions.counter, sessions.fuddor, sessions.closing, sessions.spin, sessions.dishonest]) {
      expect(s.hold).toBe(cost(s.gasLimit, s.price));
      expect(s.userBalanceAfter).toBe(s.userBalanceBefore);
      expect(s.escrowAfter.available).toBe(s.escrowBefore.available - s.hold + s.autoToppedUp);
      expect(s.escrowAfter.held).toBe(s.escrowBefore.held + s.hold - s.upfrontQsr);
      expect(s.session.status).toBe('open');
      expect(BigInt(s.session.billedGas)).toBe(s.upfrontGas);
      expect(s.session.openedByOwner).toBe(s.openedBy === 'owner');
      expect(s.upfrontGas).toBe(s.openedBy === 'owner' ? providers.honest.upfrontGas : 0n);
    }
    // spin's hold takes its escrow below minAvailable: the contract refilled it from the owner.
    expect(sessions.spin.autoToppedUp).toBe(ZAPP_SETUP.spin.refill);
  });

  it('4. runs calls whose receipts the client checked and re-executed; they settle and charge cost(billedGas) exactly', async () => {
    calls = await runCalls(ctx, sessions);
    expect(calls.counter.calls.map((c) => c.output)).toEqual(['1', '2', '3']);
    const [name, meme] = calls.fuddor.calls.map((c) => c.output);
    expect(meme?.startsWith(`${name}: `)).toBe(true);
    for (const [s, opened] of [[calls.counter, sessions.counter], [calls.fuddor, sessions.fuddor]] as const) {
      const last = s.calls.at(-1)!.receipt;
      expect(s.verifications.map((v) => v.disproved)).toEqual(s.calls.map(() => []));
      expect(s.settledGas).toBe(last.cumulativeGas);
      expect(s.calls.reduce((sum, c) => sum + c.receipt.callGas, 0n)).toBe(last.cumulativeGas);
      expect(s.billedGas).toBe(last.cumulativeGas > opened.upfrontGas ? last.cumulativeGas : opened.upfrontGas);
      expect(s.billedQsr).toBe(cost(s.billedGas, opened.price));
      const charge = s.billedQsr - opened.upfrontQsr;
      expect(s.escrowBefore.held - s.escrowAfter.held).toBe(charge);
      expect(s.escrowAfter.available).toBe(s.escrowBefore.available);
      expect(s.providerEarningsAfter - s.providerEarningsBefore).toBe(charge);
      for (const c of s.calls) expect(c.receipt.status).toBe(CallStatus.Ok);
    }
  });

  it('5. a closed session still settles the receipts of the calls its user asked for', async () => {
    const c = await closeWithReceiptsInFlight(ctx, sessions);
    expect(c.atClose.status).toBe('closing');
    // The runner serving erin held her receipts back until the close: they settled after it.
    expect(c.settledHeight).toBeGreaterThan(c.closeHeight);
    expect(c.settled.status).toBe('closing');
    expect(BigInt(c.settled.lastSeq)).toBe(3n);
    const last = c.calls.at(-1)!.receipt;
    expect(BigInt(c.settled.settledGas)).toBe(last.cumulativeGas);
    expect(BigInt(c.settled.billedGas)).toBe(last.cumulativeGas > sessions.closing.upfrontGas ? last.cumulativeGas : sessions.closing.upfrontGas);
    expect(c.closesAt).toBeGreaterThan(0n);
  });

  it('6. stops an aborted call and bills it at most abortGraceGas', async () => {
    const a = await abortLongCall(ctx, sessions);
    expect(a.abortedReceipt.status).toBe(CallStatus.Aborted);
    expect(a.runnerStopped).toBe(true);
    expect(a.abortedReceipt.callGas).toBeGreaterThan(params.abortGraceGas);
    expect(a.billedGas).toBe(a.expectedBilledGas);
    expect(a.billedGas).toBe(a.warmup.receipt.cumulativeGas + params.abortGraceGas);
    expect(a.settledGas).toBe(a.abortedReceipt.cumulativeGas);
    expect(a.billedQsr).toBe(cost(a.billedGas, sessions.spin.price));
    expect(a.unbilledGas).toBe(a.abortedReceipt.cumulativeGas - a.billedGas);
    expect(a.session.status).toBe('closing');
    expect(a.session.stopCall).toBe(true);
  });

  it("7. catches the dishonest provider by re-execution: slash, challengerRewardBps to the challenger, voided earnings to the zApp, the rest burned", async () => {
    const c = await challengeDishonestProvider(ctx, sessions);
    const opened = sessions.dishonest;
    expect(c.verification.disproved).toContain('callGas');
    expect(c.inflatedReceipt.callGas - c.verification.rerun.callGas).toBe(INFLATED_EXTRA_GAS);
    expect(c.billedGasBeforeChallenge).toBe(c.inflatedReceipt.cumulativeGas);
    expect(c.chargedQsr).toBe(cost(c.inflatedReceipt.cumulativeGas, opened.price) - opened.upfrontQsr);
    const slashed = expectedSlash(c.providerBefore.stake + c.providerBefore.unbonding, params.slashFractionBps);
    expect(c.fraud.slashed).toBe(slashed);
    expect(c.fraud.reward).toBe((slashed * params.challengerRewardBps) / BPS_DENOMINATOR);
    expect(c.fraud.burned).toBe(slashed - c.fraud.reward);
    expect(c.providerBefore.stake - c.providerAfter.stake).toBe(slashed);
    // The challenger keeps its bond and gets the reward.
    expect(c.challengerBalanceAfter - c.challengerBalanceBefore).toBe(c.fraud.reward);
    // The session's earnings still pending go back to the zApp: the inflated charge, and the upfront unless it matured already.
    expect([c.chargedQsr, c.chargedQsr + opened.upfrontQsr]).toContain(c.fraud.voided);
    expect(totalFunds(c.providerBefore) - totalFunds(c.providerAfter)).toBe(slashed + c.fraud.voided);
    expect(c.released).toBe(opened.hold - opened.upfrontQsr - c.chargedQsr);
    expect(c.escrowAfter.available - c.escrowBefore.available).toBe(c.fraud.voided + c.released);
    expect(c.escrowAfter.held).toBe(c.escrowBefore.held - c.released);
    expect(c.session.slashed).toBe(true);
    expect(c.session.status).toBe('closed');
  });

  it('8. a provider slashing itself through a second account loses what is burned', async () => {
    const s = await selfSlashAttempt(ctx, zApps, providers);
    const slashed = expectedSlash(s.providerBefore.stake + s.providerBefore.unbonding, params.slashFractionBps);
    expect(s.fraud.slashed).toBe(slashed);
    expect(s.fraud.burned).toBe(slashed - (slashed * params.challengerRewardBps) / BPS_DENOMINATOR);
    expect(s.pairBefore - s.pairAfter).toBe(s.fraud.burned);
    expect(s.pairAfter).toBeLessThan(s.pairBefore);
  });

  it('9. finalizes the closing sessions after closesAt: hold − cost(billedGas) returns to the escrow', async () => {
    const f = await finalizeSessions(ctx, [sessions.closing, sessions.spin]);
    for (const s of f.sessions) {
      expect(s.released).toBe(s.expectedReleased);
      expect(s.escrowAfter.available - s.escrowBefore.available).toBe(s.released);
      expect(s.escrowBefore.held - s.escrowAfter.held).toBe(s.released);
      expect(s.status).toBe('closed');
    }
  });

  it('10. claims exactly the matured earnings after the challenge window', async () => {
    const c = await claimEarnings(ctx, providers);
    expect(c.claimed).toBe(c.matured);
    expect(c.claimed).toBeGreaterThan(0n);
    expect(c.balanceAfter - c.balanceBefore).toBe(c.claimed);
    expect(c.after.claimable).toBe(0n);
    expect(c.before.pending + c.before.claimable - c.after.pending).toBe(c.claimed);
  });

  it('11. conserves the total supply, burned included, to the base unit', async () => {
    const s = await summarize(ctx, zApps, providers);
    expect(s.totals.burned).toBeGreaterThan(0n);
    expect(s.totals.total).toBe(s.genesisSupply);
    expect(s.conserved).toBe(true);
    expect(s.latestHash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('serves the dashboard on the API: the page and its overview of the same state', async () => {
    const page = await fetch(`${system.apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    type Overview = { counts: Record<string, string>; latest: { height: string } | null };
    const storedSessions = async (): Promise<string> => (await system.db.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions')).rows[0]!.n;
    // The demo opened six sessions; finalized ones leave the state once their windows have passed (the
    // chain clock decides when), so the overview must show what the store holds at the time.
    let overview: Overview | undefined;
    for (const end = Date.now() + 60_000; ; ) {
      const before = await storedSessions();
      overview = (await (await fetch(`${system.apiUrl}/v1/overview`)).json()) as Overview;
      if (overview.counts['sessions'] === before && (await storedSessions()) === before) break;
      if (Date.now() > end) throw new Error(`the overview shows ${overview.counts['sessions']} sessions, the store ${before}`);
    }
    expect(overview.counts['zApps']).toBe('3');
    expect(overview.counts['providers']).toBe('3');
    expect(Number(overview.counts['sessions'])).toBeLessThanOrEqual(6);
    expect(overview.latest).not.toBeNull();
  });

  it('returns the chain clock to real time after the demo', () => {
    clock.toRealTime();
    expect(clock.speed).toBe(1);
  });
});
