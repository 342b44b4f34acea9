/**
 * The dashboard in a real browser (Chromium) against a real local system on Postgres and Redis:
 * the page loads; a user meets a Fuddor (a session opened and called from the page, signed in the
 * page with a demo key), watches it settle live and aborts it; the provider claims once its
 * earnings mature; the owner, signed in through an EIP-1193 wallet, tops a zApp up; at phone width
 * (390 px) nothing scrolls sideways, and a key generated in the browser, holding nothing, meets a
 * Fuddor too. No console error anywhere. Screenshots go to test/browser/artifacts/. Every wait is
 * for a condition, never a fixed time.
 */
import { Wallet } from 'ethers';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoContext } from '../../services/demo/context.ts';
import { acceleratedClock, DEMO_CLOCK_SPEED, DEMO_KEYS, demoGenesis } from '../../services/demo/genesis.ts';
import { demoLocalOffer } from '../../services/demo/local-offer.ts';
import { registerProviders, registerZApps } from '../../services/demo/setup.ts';
import type { ZAppsStep } from '../../services/demo/setup.ts';
import { demoContext, demoRunners } from '../../services/demo/start.ts';
import type { DemoActors } from '../../services/demo/start.ts';
import { startLocalSystem } from '../../services/demo/system.ts';
import type { LocalSystem } from '../../services/demo/system.ts';
import type { DashboardLocal } from '../../services/dashboard/plugin.ts';
import { silentLogger } from '../../services/log.ts';
import { launchBrowser, screenshot, watchErrors } from '../support/browser.ts';
import { testServers } from '../support/local-system.ts';
import { WAIT_BOUND_MS } from '../support/wait.ts';

const servers = testServers('browser', 'browser');
const genesis = demoGenesis();
const clock = acceleratedClock(genesis.timestamp, DEMO_CLOCK_SPEED);
const WAIT = { timeout: WAIT_BOUND_MS };

let system: LocalSystem;
let actors: DemoActors;
let ctx: DemoContext;
let zApps: ZAppsStep;
let browser: Browser;
let offer: DashboardLocal | null = null;
const contexts: BrowserContext[] = [];
const pageErrors = new WeakMap<Page, string[]>();

async function open(opts: { width?: number; height?: number; hash?: string; init?: (c: BrowserContext) => Promise<void> } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  contexts.push(context);
  await opts.init?.(context);
  const page = await context.newPage();
  pageErrors.set(page, watchErrors(page));
  await page.goto(`${system.apiUrl}/${opts.hash ?? ''}`);
  await page.locator('#height').filter({ hasText: /[0-9]/ }).waitFor(WAIT);
  return page;
}
const errorsOf = (page: Page): string[] => pageErrors.get(page) ?? [];

beforeAll(async () => {
  system = await startLocalSystem({
    genesis,
    log: silentLogger,
    ...servers.options,
    verifyConcurrency: 2,
    clock,
    runners: demoRunners(0),
    dashboard: true,
    dashboardLocal: () => offer,
  });
  offer = demoLocalOffer(system);
  actors = await demoContext(system, genesis);
  ctx = actors.ctx;
  zApps = await registerZApps(ctx);
  await registerProviders(ctx);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await actors?.close();
  await system?.close();
  await servers.drop();
});

describe('the dashboard in Chromium', { timeout: 300_000 }, () => {
  let page: Page;
  let sessionId: string;

  it('loads with live data and offers the demo keys', async () => {
    page = await open();
    await expect.poll(() => page.locator('#conn-label').textContent(), WAIT).toBe('live');
    await expect.poll(() => page.locator('#zapps tr').count(), WAIT).toBe(3);
    await page.locator('#demo-keys').waitFor({ state: 'visible', ...WAIT });
    await screenshot(page, 'load');
    expect(errorsOf(page)).toEqual([]);
  });

  it('meets a Fuddor and gets a meme: each click a call on the runner, paid from the escrow, the user\'s balance untouched', async () => {
    const fuddor = zApps.zApps['fuddor-meme'].id;
    const dave = DEMO_KEYS.dave.address;
    const balanceBefore = await ctx.api.balance(dave);
    const escrowBefore = await ctx.api.zApp(fuddor);
    await page.locator('#demo-keys').selectOption('dave');
    await page.locator('#signer').filter({ hasText: 'demo key dave' }).waitFor(WAIT);
    await page.locator('#fuddor-view').waitFor({ state: 'visible', ...WAIT });
    await page.locator('#fuddor-meet').click();
    const name = page.locator('#fuddor-name');
    await name.waitFor(WAIT);
    expect(await name.textContent()).toMatch(/^Fuddor /);
    await name.click();
    const meme = page.locator('#fuddor-meme');
    await meme.waitFor(WAIT);
    expect(await meme.textContent()).toMatch(/^Fuddor [^:]+: ./);
    expect(await page.locator('#fuddor-costs li').count()).toBe(2);
    // The session the page opened: dave's, on fuddor-meme.
    const tile = page.locator('#user-sessions .tile');
    await tile.first().waitFor(WAIT);
    sessionId = (await tile.first().getAttribute('data-session')) ?? '';
    const session = await ctx.api.waitForSettled(sessionId as `0x${string}`, 2n);
    expect(session.user).toBe(dave);
    // Settled live: the page's meter shows the settled gas of both calls.
    await expect.poll(() => tile.first().locator('.gas-text').textContent(), WAIT).toContain(`${BigInt(session.settledGas).toLocaleString('en-US')} /`);
    const escrowAfter = await ctx.api.zApp(fuddor);
    expect(BigInt(escrowAfter.available) + BigInt(escrowAfter.held)).toBeLessThan(BigInt(escrowBefore.available) + BigInt(escrowBefore.held));
    expect(await ctx.api.balance(dave)).toBe(balanceBefore);
    await screenshot(page, 'fuddor');
    expect(errorsOf(page)).toEqual([]);
  });

  it('aborts the session from its tile', async () => {
    const tile = page.locator(`#user-sessions .tile[data-session="${sessionId}"]`);
    await tile.locator('button[data-act="abort"]').click();
    await expect.poll(() => tile.locator('.badge').textContent(), WAIT).toBe('closing · aborted');
    const session = await ctx.api.session(sessionId as `0x${string}`);
    expect(session.status).toBe('closing');
    await expect.poll(() => tile.locator('button[data-act="abort"]').isDisabled(), WAIT).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  });

  it('lets the provider claim once the countdown has passed', async () => {
    const provider = DEMO_KEYS.provider.address;
    await page.locator('#demo-keys').selectOption('provider');
    await page.locator('#provider-view').waitFor({ state: 'visible', ...WAIT });
    const claim = page.locator('#provider-earnings button[data-act="claim"]');
    await expect.poll(() => claim.isEnabled(), WAIT).toBe(true);
    const balanceBefore = await ctx.api.balance(provider);
    await claim.click();
    await page.locator('#act-status').filter({ hasText: /Claim: claimed in momentum #[0-9]+/ }).waitFor(WAIT);
    expect(await ctx.api.balance(provider)).toBeGreaterThan(balanceBefore);
    await screenshot(page, 'provider');
    expect(errorsOf(page)).toEqual([]);
  });

  it('lets the owner top a zApp up through a browser wallet (EIP-1193, eth_signTypedData_v4)', async () => {
    const owner = new Wallet(DEMO_KEYS.owner.privateKey);
    const asked: string[] = [];
    const walletPage = await open({
      init: async (c) => {
        // What a wallet extension does: hand out its account, sign the typed data it is shown.
        await c.exposeBinding('zgasWalletSign', async (_source, method: string, json: string) => {
          asked.push(method);
          const payload = JSON.parse(json) as { domain: Record<string, unknown>; types: Record<string, { name: string; type: string }[]>; message: Record<string, unknown> };
          delete payload.types['EIP712Domain'];
          return owner.signTypedData(payload.domain, payload.types, payload.message);
        });
        await c.addInitScript(`window.ethereum = { request: async ({ method, params }) => {
          if (method === 'eth_requestAccounts') return ['${owner.address}'];
          if (method === 'eth_signTypedData_v4') return window.zgasWalletSign(method, params[1]);
          throw new Error('unsupported ' + method);
        } };`);
      },
    });
    await walletPage.locator('#connect-wallet').click();
    await walletPage.locator('#signer').filter({ hasText: 'browser wallet' }).waitFor(WAIT);
    await expect.poll(() => walletPage.locator('#owner-zapps .tile').count(), WAIT).toBe(3);
    const counter = zApps.zApps.counter.id;
    const tile = walletPage.locator(`#owner-zapps .tile[data-zapp="${counter}"]`);
    // The burn-down has points once two overviews came in.
    await expect.poll(async () => ((await tile.locator('polyline').getAttribute('points')) ?? '').split(' ').length, WAIT).toBeGreaterThan(1);
    const before = BigInt((await ctx.api.zApp(counter)).available);
    await tile.locator('input.top-up-amount').fill('1.5');
    await tile.locator('button[data-act="top-up"]').click();
    await walletPage.locator('#act-status').filter({ hasText: /Top-up: in momentum #[0-9]+/ }).waitFor(WAIT);
    expect(BigInt((await ctx.api.zApp(counter)).available) - before).toBe(150_000_000n);
    expect(asked).toEqual(['eth_signTypedData_v4']);
    await expect.poll(() => tile.locator('.runway').textContent(), WAIT).toMatch(/^Runway/);
    await screenshot(walletPage, 'owner');
    expect(errorsOf(walletPage)).toEqual([]);
  });

  it('fits a 390 px wide phone: no sideways scrolling, a small header', async () => {
    const phone = await open({ width: 390, height: 844, hash: `#as=${DEMO_KEYS.provider.address}` });
    await phone.locator('#provider-view').waitFor({ state: 'visible', ...WAIT });
    const widths = await phone.evaluate(() => ({ page: document.documentElement.scrollWidth, header: document.querySelector('header.top')?.getBoundingClientRect().height ?? 0 }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.header).toBeLessThan(844 * 0.1);
    // Table rows stack as labelled lines.
    const label = await phone.locator('#sessions tr:not(.empty) td').first().getAttribute('data-label');
    expect(label).toBe('Session · seq');
    await screenshot(phone, 'phone');
    await phone.evaluate(() => window.scrollTo(0, document.querySelector('#h-sessions')?.getBoundingClientRect().top ?? 0));
    await screenshot(phone, 'phone-sessions');
    // A key generated in this browser, holding nothing, meets a Fuddor: the zApp pays.
    await phone.locator('#new-key').click();
    await phone.locator('#signer').filter({ hasText: 'key in this browser' }).waitFor(WAIT);
    const address = await phone.locator('#view-address').inputValue();
    expect(address).not.toBe(DEMO_KEYS.provider.address);
    await phone.locator('#fuddor-meet').click();
    await phone.locator('#fuddor-name').waitFor(WAIT);
    expect(await ctx.api.balance(address)).toBe(0n);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.locator('#fuddor-view').scrollIntoViewIfNeeded();
    await screenshot(phone, 'phone-fuddor');
    expect(errorsOf(phone)).toEqual([]);
  });
});
