/**
 * The demo's flow end to end against the real Postgres (own schema) and Redis (own queue and key
 * prefix): every step through the settlement API and the runner, balances checked to the base unit.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cost } from '../../contracts/units.ts';
import { CallStatus } from '../../contracts/types.ts';
import { demoContext } from '../../services/demo/start.ts';
import { acceleratedClock, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import {
  abortLongCall, challengeInflatedReceipt, claimEarnings, expectedSlash, openSessions, PROVIDER_STAKE, registerProviders, registerZApps,
  runCalls, summarize, ZAPP_SETUP,
} from '../../services/demo/steps.ts';
import type { CallsStep, DemoContext, ProvidersStep, SessionsStep, ZAppsStep } from '../../services/demo/steps.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import { silentLogger } from '../../services/log.ts';
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from '../support/db.ts';

const REDIS_URL = process.env['ZGAS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(4).toString('hex');
const schema = uniqueSchemaName('e2e_demo');
const prefix = `zgas-test-e2e-${tag}`;
const genesis = demoGenesis();

let system: LocalSystem;
let ctx: DemoContext;
let zApps: ZAppsStep;
let providers: ProvidersStep;
let sessions: SessionsStep;
let calls: CallsStep;

beforeAll(async () => {
  system = await startLocalSystem({
    genesis,
    log: silentLogger,
    databaseUrl: TEST_DATABASE_URL,
    schema,
    redisUrl: REDIS_URL,
    queueName: `e2e-${tag}`,
    redisPrefix: prefix,
    apiHost: '127.0.0.1',
    apiPort: 0,
    momentumIntervalMs: 50,
    verifyConcurrency: 2,
    clock: acceleratedClock(genesis.timestamp, DEMO_CLOCK_SPEED),
    runners: [{ provider: DEMO_KEYS.provider.address, receiptKey: DEMO_KEYS.providerSigner.privateKey, port: 0 }],
  });
  ctx = demoContext(system, genesis);
}, 300_000);

afterAll(async () => {
  await system?.close();
  await dropSchema(schema);
  const redis = new Redis(REDIS_URL);
  const stale = await redis.keys(`${prefix}*`);
  if (stale.length > 0) await redis.del(...stale);
  redis.disconnect();
});

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
      expect(z.ownerBalanceBefore - z.ownerBalanceAfter).toBe(z.topUp);
      spent += z.topUp;
    }
    expect(await ctx.api.balance(DEMO_KEYS.owner.address)).toBe(genesis.accounts.find((a) => a.address === DEMO_KEYS.owner.address)!.balance - spent);
  });

  it('2. registers both providers: the stake leaves the balance', async () => {
    providers = await registerProviders(ctx);
    for (const p of [providers.honest, providers.dishonest]) {
      expect(BigInt(p.provider.stake)).toBe(PROVIDER_STAKE);
      expect(p.balanceBefore - p.balanceAfter).toBe(PROVIDER_STAKE);
      expect(p.provider.receiptSigner).toBe(p.receiptSigner);
    }
  });

  it('3. opens sessions the users do not pay for; the escrow holds cost(gasLimit)', async () => {
    sessions = await openSessions(ctx, zApps, providers);
    for (const s of [sessions.counter, sessions.fuddor, sessions.spin, sessions.dishonest]) {
      expect(s.hold).toBe(cost(s.gasLimit, s.price));
      expect(s.userBalanceAfter).toBe(s.userBalanceBefore);
      expect(s.escrowAfter.available).toBe(s.escrowBefore.available - s.hold + s.autoToppedUp);
      expect(s.escrowAfter.held).toBe(s.escrowBefore.held + s.hold - cost(s.upfrontGas, s.price));
      expect(s.session.status).toBe('open');
      expect(BigInt(s.session.billedGas)).toBe(s.upfrontGas);
    }
    expect(sessions.fuddor.session.openedByUser).toBe(true);
    expect(sessions.counter.session.openedByUser).toBe(false);
    // spin's hold takes its escrow below minAvailable: the contract refilled it from the owner.
    expect(sessions.spin.autoToppedUp).toBe(ZAPP_SETUP.spin.refill);
  });

  it('4. runs signed calls on the runner; receipts settle and charge cost(billedGas) exactly', async () => {
    calls = await runCalls(ctx, sessions);
    expect(calls.counter.calls.map((c) => c.output)).toEqual(['1', '2', '3']);
    const [name, meme] = calls.fuddor.calls.map((c) => c.output);
    expect(meme?.startsWith(`${name}: `)).toBe(true);
    for (const [s, opened] of [[calls.counter, sessions.counter], [calls.fuddor, sessions.fuddor]] as const) {
      const last = s.calls.at(-1)!.receipt;
      expect(s.settledGas).toBe(last.cumulativeGas);
      expect(s.meteredGas).toBe(last.cumulativeGas);
      expect(s.billedGas).toBe(last.cumulativeGas > opened.upfrontGas ? last.cumulativeGas : opened.upfrontGas);
      expect(s.billedQsr).toBe(cost(s.billedGas, opened.price));
      const charge = s.billedQsr - cost(opened.upfrontGas, opened.price);
      expect(s.escrowBefore.held - s.escrowAfter.held).toBe(charge);
      expect(s.escrowAfter.available).toBe(s.escrowBefore.available);
      expect(s.providerEarningsAfter - s.providerEarningsBefore).toBe(charge);
      for (const c of s.calls) expect(c.receipt.status).toBe(CallStatus.Ok);
    }
  });

  it('5. stops an aborted call; the bill stays within cost(abortCap)', async () => {
    const a = await abortLongCall(ctx, sessions);
    const opened = sessions.spin;
    expect(a.abortedReceipt.status).toBe(CallStatus.Aborted);
    expect(a.abortCap).toBe(a.lastReceipt.cumulativeGas + genesis.params.abortGraceGas);
    expect(a.capQsr).toBe(cost(a.abortCap, opened.price));
    const billable = a.abortedReceipt.cumulativeGas < a.abortCap ? a.abortedReceipt.cumulativeGas : a.abortCap;
    expect(a.billedGas).toBe(billable > a.lastReceipt.cumulativeGas ? billable : a.lastReceipt.cumulativeGas);
    expect(a.billedQsr).toBe(cost(a.billedGas, opened.price));
    expect(a.billedQsr <= a.capQsr).toBe(true);
    expect(a.released).toBe(opened.hold - a.billedQsr);
    expect(a.escrowAfterClose.available - a.escrowBeforeClose.available).toBe(a.released);
    expect(a.escrowBeforeClose.held - a.escrowAfterClose.held).toBe(a.released);
    expect(a.session.status).toBe('closed');
  });

  it('6. slashes the provider of an inflated receipt: stake × bps / 10000, half to the challenger, half to the zApp', async () => {
    const c = await challengeInflatedReceipt(ctx, zApps, sessions);
    const opened = sessions.dishonest;
    expect(c.inflatedReceipt.callGas > c.honestGas).toBe(true);
    expect(c.billedGasBeforeChallenge).toBe(c.inflatedReceipt.cumulativeGas);
    expect(c.chargedQsr).toBe(cost(c.inflatedReceipt.cumulativeGas, opened.price) - cost(opened.upfrontGas, opened.price));
    expect(c.slashed).toBe(expectedSlash(c.stakeBefore, genesis.params.slashFractionBps));
    expect(c.slashed > 0n).toBe(true);
    expect(c.toChallenger).toBe(c.slashed / 2n);
    expect(c.toZApp).toBe(c.slashed - c.toChallenger);
    expect(c.stakeBefore - c.stakeAfter).toBe(c.slashed);
    expect(c.challengerBalanceAfter - c.challengerBalanceBefore).toBe(c.toChallenger);
    // The inflated charge is among the session's voided earnings.
    expect(c.voided >= c.chargedQsr).toBe(true);
    expect(c.escrowAfter.available - c.escrowBefore.available).toBe(c.toZApp + c.voided + c.released);
    expect(c.escrowBefore.held - c.escrowAfter.held).toBe(c.released);
    expect(c.session.slashed).toBe(true);
    expect(c.session.status).toBe('closed');
  });

  it('7. claims exactly the matured earnings after the challenge window', async () => {
    const c = await claimEarnings(ctx, providers);
    expect(c.claimed).toBe(c.matured);
    expect(c.claimed > 0n).toBe(true);
    expect(c.balanceAfter - c.balanceBefore).toBe(c.claimed);
    expect(BigInt(c.after.claimable)).toBe(0n);
    const earningsBefore = BigInt(c.before.pendingTotal) + BigInt(c.before.claimable);
    expect(earningsBefore - BigInt(c.after.pendingTotal)).toBe(c.claimed);
  });

  it('8. conserves the total supply to the base unit', async () => {
    const s = await summarize(ctx, zApps, providers);
    expect(s.totals.total).toBe(s.genesisSupply);
    expect(s.conserved).toBe(true);
    expect(s.momentumHeight > 0n).toBe(true);
    expect(s.latestHash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('serves the dashboard on the API: the page and its overview of the same state', async () => {
    const page = await fetch(`${system.apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const overview = (await (await fetch(`${system.apiUrl}/v1/overview`)).json()) as { counts: Record<string, string>; latest: { height: string } | null };
    expect(overview.counts['zApps']).toBe('3');
    expect(overview.counts['providers']).toBe('2');
    expect(overview.counts['sessions']).toBe('4');
    expect(overview.latest).not.toBeNull();
  });
});
