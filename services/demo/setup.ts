/**
 * The demo's first steps: a zApp owner uploads and registers three zApps and funds them with auto
 * top-up; three providers stake and publish offers; users get sessions — opened by the owner (the
 * provider's upfront gas paid at once) or, on a zApp open to all, by the user itself (no upfront).
 */
import type { Address, Hash } from '../../contracts/types.ts';
import { cost, gas, qsr, wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { ProviderView, SessionView, ZAppView } from '../client/index.ts';
import { big, escrow, eventSum, wallet } from './context.ts';
import type { DemoContext, Escrow } from './context.ts';
import type { DemoActor } from './genesis.ts';

// ── the demo's figures ────────────────────────────────────────────────────────────────────
export const HONEST_PRICE_PER_MGAS = qsr(200_000); // 0.002 QSR per million gas
export const DISHONEST_PRICE_PER_MGAS = qsr(150_000);
export const MALLORY_PRICE_PER_MGAS = qsr(100_000);
export const MAX_PRICE_PER_MGAS = qsr(5_000_000);
export const UPFRONT_GAS = gas(2_000);
export const PROVIDER_STAKE = wholeQsr(2_000);
export const SESSION_DURATION_SECONDS = 86_400n;
export const SMALL_SESSION_GAS = gas(1_000_000);
/** Room for the long call: it may run far longer than the abort lets it. */
export const SPIN_SESSION_GAS = gas(10_000_000_000);
export const DISHONEST_SESSION_GAS = gas(5_000_000);

export const ZAPP_SETUP = {
  counter: { topUp: wholeQsr(50), minAvailable: wholeQsr(10), refill: wholeQsr(20), maxGasPerSession: gas(10_000_000), openToAll: false, openGasPerDay: gas(0) },
  'fuddor-meme': { topUp: wholeQsr(20), minAvailable: wholeQsr(5), refill: wholeQsr(10), maxGasPerSession: gas(10_000_000), openToAll: true, openGasPerDay: gas(5_000_000) },
  spin: { topUp: wholeQsr(30), minAvailable: wholeQsr(20), refill: wholeQsr(40), maxGasPerSession: gas(10_000_000_000), openToAll: false, openGasPerDay: gas(0) },
} as const;
export type DemoZApp = keyof typeof ZAPP_SETUP;
export const DEMO_ZAPPS = Object.keys(ZAPP_SETUP) as DemoZApp[];

// ── 1. zApps ──────────────────────────────────────────────────────────────────────────────
export interface RegisteredZApp {
  name: DemoZApp;
  id: Hash;
  moduleHash: Hash;
  moduleBytes: number;
  topUp: Qsr;
  autoTopUp: { minAvailable: Qsr; refill: Qsr };
  zApp: ZAppView;
}
export interface ZAppsStep {
  zApps: Record<DemoZApp, RegisteredZApp>;
  ownerBalanceBefore: bigint;
  ownerBalanceAfter: bigint;
}

/**
 * Uploads the modules, registers the zApps, then funds them and sets auto top-up. The owner's calls
 * are signed one after another (consecutive nonces) and sent without waiting, so each group lands
 * in one momentum.
 */
export async function registerZApps(ctx: DemoContext): Promise<ZAppsStep> {
  const owner = wallet(ctx, 'owner');
  // The node writes the genesis state as momentum 0 when it first starts.
  await ctx.api.waitForMomentum(0n);
  const ownerBalanceBefore = await ctx.api.balance(owner.address);
  const modules = await Promise.all(DEMO_ZAPPS.map(async (name) => {
    const bytes = loadZApp(name);
    return { name, bytes: bytes.length, moduleHash: await ctx.api.uploadModule(bytes) };
  }));
  const registrations: Hash[] = [];
  for (const m of modules) {
    const setup = ZAPP_SETUP[m.name];
    registrations.push(await ctx.api.sendCall(owner, {
      name: 'RegisterZApp', moduleHash: m.moduleHash, maxPricePerMgas: MAX_PRICE_PER_MGAS, maxGasPerSession: setup.maxGasPerSession,
      openToAll: setup.openToAll, openGasPerDay: setup.openGasPerDay,
    }));
  }
  const ids = (await Promise.all(registrations.map((h) => ctx.api.waitForCall(h)))).map((applied) => applied.created ?? applied.callHash);
  const funding: Hash[] = [];
  for (const [i, m] of modules.entries()) {
    const setup = ZAPP_SETUP[m.name];
    const zAppId = ids[i]!;
    funding.push(await ctx.api.sendCall(owner, { name: 'TopUp', zAppId, amount: setup.topUp }));
    funding.push(await ctx.api.sendCall(owner, { name: 'SetAutoTopUp', zAppId, minAvailable: setup.minAvailable, refill: setup.refill }));
  }
  await Promise.all(funding.map((h) => ctx.api.waitForCall(h)));
  const zApps = {} as Record<DemoZApp, RegisteredZApp>;
  for (const [i, m] of modules.entries()) {
    const setup = ZAPP_SETUP[m.name];
    const id = ids[i]!;
    zApps[m.name] = {
      name: m.name, id, moduleHash: m.moduleHash, moduleBytes: m.bytes, topUp: setup.topUp, autoTopUp: { minAvailable: setup.minAvailable, refill: setup.refill },
      zApp: await ctx.api.zApp(id),
    };
  }
  return { zApps, ownerBalanceBefore, ownerBalanceAfter: await ctx.api.balance(owner.address) };
}

// ── 2. providers ──────────────────────────────────────────────────────────────────────────
export interface RegisteredProvider {
  name: 'honest' | 'dishonest' | 'mallory';
  address: Address;
  receiptSigner: Address;
  pricePerMgas: Qsr;
  upfrontGas: Gas;
  stake: Qsr;
  balanceBefore: bigint;
  balanceAfter: bigint;
  provider: ProviderView;
}
export interface ProvidersStep {
  honest: RegisteredProvider;
  dishonest: RegisteredProvider;
  mallory: RegisteredProvider;
}

async function registerProvider(ctx: DemoContext, name: RegisteredProvider['name'], account: DemoActor, signer: DemoActor, pricePerMgas: Qsr): Promise<RegisteredProvider> {
  const address = ctx.keys[account].address;
  const balanceBefore = await ctx.api.balance(address);
  await ctx.api.execute(wallet(ctx, account), { name: 'RegisterProvider', receiptSigner: ctx.keys[signer].address, pricePerMgas, upfrontGas: UPFRONT_GAS, stake: PROVIDER_STAKE });
  return {
    name, address, receiptSigner: ctx.keys[signer].address, pricePerMgas, upfrontGas: UPFRONT_GAS, stake: PROVIDER_STAKE,
    balanceBefore, balanceAfter: await ctx.api.balance(address), provider: await ctx.api.provider(address),
  };
}

export async function registerProviders(ctx: DemoContext): Promise<ProvidersStep> {
  // Three accounts, three independent calls: they register at once.
  const [honest, dishonest, mallory] = await Promise.all([
    registerProvider(ctx, 'honest', 'provider', 'providerSigner', HONEST_PRICE_PER_MGAS),
    registerProvider(ctx, 'dishonest', 'dishonest', 'dishonestSigner', DISHONEST_PRICE_PER_MGAS),
    registerProvider(ctx, 'mallory', 'mallory', 'mallorySigner', MALLORY_PRICE_PER_MGAS),
  ]);
  return { honest, dishonest, mallory };
}

// ── 3. sessions ───────────────────────────────────────────────────────────────────────────
export interface OpenedSession {
  label: string;
  id: Hash;
  zApp: DemoZApp;
  zAppId: Hash;
  user: DemoActor;
  provider: Address;
  openedBy: DemoActor;
  gasLimit: Gas;
  price: Qsr;
  hold: Qsr;
  upfrontGas: Gas;
  upfrontQsr: Qsr;
  /** What the contract's auto top-up moved from the owner while opening. */
  autoToppedUp: Qsr;
  escrowBefore: Escrow;
  escrowAfter: Escrow;
  userBalanceBefore: bigint;
  userBalanceAfter: bigint;
  session: SessionView;
}
export interface SessionsStep {
  counter: OpenedSession;
  fuddor: OpenedSession;
  closing: OpenedSession;
  spin: OpenedSession;
  dishonest: OpenedSession;
}

export async function openSession(
  ctx: DemoContext,
  label: string,
  zApp: RegisteredZApp,
  provider: RegisteredProvider,
  user: DemoActor,
  openedBy: DemoActor,
  gasLimit: Gas,
): Promise<OpenedSession> {
  const escrowBefore = await escrow(ctx, zApp.id);
  const userBalanceBefore = await ctx.api.balance(ctx.keys[user].address);
  // The opener signs for the offer it saw: a provider raising its price or upfront gas meanwhile makes the open fail (OfferChanged).
  const opened = await ctx.api.execute(wallet(ctx, openedBy), {
    name: 'OpenSession', zAppId: zApp.id, provider: provider.address, user: ctx.keys[user].address, gasLimit, durationSeconds: SESSION_DURATION_SECONDS,
    maxPricePerMgas: provider.pricePerMgas, maxUpfrontGas: provider.upfrontGas,
  });
  const id = opened.created ?? opened.callHash;
  const session = await ctx.api.session(id);
  const price = qsr(big(session.price));
  const upfrontGas = gas(big(session.upfrontGas));
  return {
    label, id, zApp: zApp.name, zAppId: zApp.id, user, provider: provider.address, openedBy, gasLimit, price, hold: qsr(big(session.hold)),
    upfrontGas, upfrontQsr: cost(upfrontGas, price), autoToppedUp: qsr(eventSum(opened, 'AutoToppedUp', 'amount')),
    escrowBefore, escrowAfter: await escrow(ctx, zApp.id),
    userBalanceBefore, userBalanceAfter: await ctx.api.balance(ctx.keys[user].address), session,
  };
}

export async function openSessions(ctx: DemoContext, zApps: ZAppsStep, providers: ProvidersStep): Promise<SessionsStep> {
  const z = zApps.zApps;
  return {
    counter: await openSession(ctx, 'alice on counter (opened by the owner)', z.counter, providers.honest, 'alice', 'owner', SMALL_SESSION_GAS),
    fuddor: await openSession(ctx, 'dave on fuddor-meme (opened by dave: the zApp is open to all)', z['fuddor-meme'], providers.honest, 'dave', 'dave', SMALL_SESSION_GAS),
    closing: await openSession(ctx, 'erin on counter (opened by the owner)', z.counter, providers.honest, 'erin', 'owner', SMALL_SESSION_GAS),
    spin: await openSession(ctx, 'carol on spin (opened by the owner)', z.spin, providers.honest, 'carol', 'owner', SPIN_SESSION_GAS),
    dishonest: await openSession(ctx, 'bob on counter with the dishonest provider', z.counter, providers.dishonest, 'bob', 'owner', DISHONEST_SESSION_GAS),
  };
}
