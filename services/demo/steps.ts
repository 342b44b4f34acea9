/**
 * The demo as a library of steps: each drives the system through the settlement API and a runner
 * (DESIGN §9) as the demo's actors would, and returns what it saw, so the printer can narrate it
 * and the end-to-end suite can check it to the base unit.
 */
import type { Domain } from '../../contracts/eip712/index.ts';
import { signReceipt } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import { BPS_DENOMINATOR, genesisSupply } from '../../contracts/gas/genesis.ts';
import { contextSeed, encodeState, EMPTY_STATE_HASH, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, utf8Bytes } from '../../contracts/hex.ts';
import type { Address, Hash, SignedReceipt } from '../../contracts/types.ts';
import { cost, gas, qsr, wholeQsr } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { gasTableByName } from '../../unikernel-runner/runtime/tables.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import type { CallRecordJson, ProviderJson, RunnerClient, SessionJson, SettlementClient, Signer, ZAppJson } from './client.ts';
import { poll, sleep } from './client.ts';
import type { DemoActor, DemoKey } from './genesis.ts';

export interface DemoContext {
  api: SettlementClient;
  /** The honest provider's runner. */
  runner: RunnerClient;
  domain: Domain;
  genesis: Genesis;
  keys: Readonly<Record<DemoActor, DemoKey>>;
  /** Chain seconds per real second (1 on a system clock). */
  chainSpeed: number;
}

// ── the demo's figures ────────────────────────────────────────────────────────────────────
export const HONEST_PRICE_PER_MGAS = qsr(200_000); // 0.002 QSR per million gas
export const DISHONEST_PRICE_PER_MGAS = qsr(150_000);
export const MAX_PRICE_PER_MGAS = qsr(5_000_000);
export const UPFRONT_GAS = gas(2_000);
export const PROVIDER_STAKE = wholeQsr(2_000);
export const SESSION_DURATION_SECONDS = 86_400n;
export const SMALL_SESSION_GAS = gas(1_000_000);
// Metered code runs billions of gas a second, so the long call needs room for several seconds of
// work: the abort must reach the runner well before the session's gas runs out.
export const SPIN_SESSION_GAS = gas(50_000_000_000);
export const DISHONEST_SESSION_GAS = gas(5_000_000);
/** Gas the dishonest provider adds to what the call really used. */
export const INFLATED_EXTRA_GAS = 500_000n;
/** Iterations asked of `spin`: far more than the session's gas allows, so only an abort ends it early. */
export const SPIN_FOREVER = '100000000000000';
/** How long the long call runs before its user aborts it. */
export const ABORT_AFTER_MS = 300;

export const ZAPP_SETUP = {
  counter: { topUp: wholeQsr(50), minAvailable: wholeQsr(10), refill: wholeQsr(20), maxGasPerSession: gas(10_000_000), openToAll: false, userGasPerDay: gas(0) },
  'fuddor-meme': { topUp: wholeQsr(20), minAvailable: wholeQsr(5), refill: wholeQsr(10), maxGasPerSession: gas(10_000_000), openToAll: true, userGasPerDay: gas(5_000_000) },
  spin: { topUp: wholeQsr(150), minAvailable: wholeQsr(100), refill: wholeQsr(100), maxGasPerSession: gas(100_000_000_000), openToAll: false, userGasPerDay: gas(0) },
} as const;
export type DemoZApp = keyof typeof ZAPP_SETUP;
export const DEMO_ZAPPS = Object.keys(ZAPP_SETUP) as DemoZApp[];

const signer = (k: DemoKey): Signer => ({ address: k.address, privateKey: k.privateKey });
const big = (text: string | null | undefined): bigint => BigInt(text ?? '0');
const eventsOf = (record: CallRecordJson, type: string) => (record.result?.events ?? []).filter((e) => e.type === type);
const eventAmount = (record: CallRecordJson, type: string, field: string): bigint => eventsOf(record, type).reduce((sum, e) => sum + big(e[field] as string), 0n);
export const escrowOf = (z: ZAppJson) => ({ available: big(z.available), held: big(z.held) });
/** Earnings not yet paid out: pending (inside a challenge window) and matured. */
export const earnings = (p: ProviderJson): bigint => big(p.pendingTotal) + big(p.claimable);

// ── 1. zApps ──────────────────────────────────────────────────────────────────────────────
export interface RegisteredZApp {
  name: DemoZApp;
  id: Hash;
  moduleHash: Hash;
  moduleBytes: number;
  topUp: Qsr;
  autoTopUp: { minAvailable: Qsr; refill: Qsr };
  ownerBalanceBefore: bigint;
  ownerBalanceAfter: bigint;
  zApp: ZAppJson;
}
export interface ZAppsStep {
  zApps: Record<DemoZApp, RegisteredZApp>;
}

export async function registerZApps(ctx: DemoContext): Promise<ZAppsStep> {
  const owner = signer(ctx.keys.owner);
  const zApps = {} as Record<DemoZApp, RegisteredZApp>;
  for (const name of DEMO_ZAPPS) {
    const setup = ZAPP_SETUP[name];
    const bytes = loadZApp(name);
    const moduleHash = await ctx.api.putModule(bytes);
    const ownerBalanceBefore = await ctx.api.balance(owner.address);
    const registered = await ctx.api.execute(owner, {
      name: 'RegisterZApp', moduleHash, maxPricePerMgas: MAX_PRICE_PER_MGAS, maxGasPerSession: setup.maxGasPerSession,
      openToAll: setup.openToAll, userGasPerDay: setup.userGasPerDay,
    });
    const id = (registered.result?.created ?? registered.callHash) as Hash;
    await ctx.api.execute(owner, { name: 'TopUp', zAppId: id, amount: setup.topUp });
    await ctx.api.execute(owner, { name: 'SetAutoTopUp', zAppId: id, minAvailable: setup.minAvailable, refill: setup.refill });
    zApps[name] = {
      name, id, moduleHash, moduleBytes: bytes.length, topUp: setup.topUp,
      autoTopUp: { minAvailable: setup.minAvailable, refill: setup.refill },
      ownerBalanceBefore, ownerBalanceAfter: await ctx.api.balance(owner.address), zApp: await ctx.api.mustZApp(id),
    };
  }
  return { zApps };
}

// ── 2. providers ──────────────────────────────────────────────────────────────────────────
export interface RegisteredProvider {
  address: Address;
  receiptSigner: Address;
  pricePerMgas: Qsr;
  upfrontGas: Gas;
  stake: Qsr;
  balanceBefore: bigint;
  balanceAfter: bigint;
  provider: ProviderJson;
}
export interface ProvidersStep {
  honest: RegisteredProvider;
  dishonest: RegisteredProvider;
}

async function registerProvider(ctx: DemoContext, account: DemoKey, receiptSigner: DemoKey, pricePerMgas: Qsr): Promise<RegisteredProvider> {
  const balanceBefore = await ctx.api.balance(account.address);
  await ctx.api.execute(signer(account), { name: 'RegisterProvider', receiptSigner: receiptSigner.address, pricePerMgas, upfrontGas: UPFRONT_GAS, stake: PROVIDER_STAKE });
  return {
    address: account.address, receiptSigner: receiptSigner.address, pricePerMgas, upfrontGas: UPFRONT_GAS, stake: PROVIDER_STAKE,
    balanceBefore, balanceAfter: await ctx.api.balance(account.address), provider: await ctx.api.mustProvider(account.address),
  };
}

export async function registerProviders(ctx: DemoContext): Promise<ProvidersStep> {
  return {
    honest: await registerProvider(ctx, ctx.keys.provider, ctx.keys.providerSigner, HONEST_PRICE_PER_MGAS),
    dishonest: await registerProvider(ctx, ctx.keys.dishonest, ctx.keys.dishonestSigner, DISHONEST_PRICE_PER_MGAS),
  };
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
  escrowBefore: { available: bigint; held: bigint };
  escrowAfter: { available: bigint; held: bigint };
  userBalanceBefore: bigint;
  userBalanceAfter: bigint;
  session: SessionJson;
}
export interface SessionsStep {
  counter: OpenedSession;
  fuddor: OpenedSession;
  spin: OpenedSession;
  dishonest: OpenedSession;
}

async function openSession(
  ctx: DemoContext,
  label: string,
  zApps: ZAppsStep,
  zApp: DemoZApp,
  provider: RegisteredProvider,
  user: DemoActor,
  openedBy: DemoActor,
  gasLimit: Gas,
): Promise<OpenedSession> {
  const zAppId = zApps.zApps[zApp].id;
  const escrowBefore = escrowOf(await ctx.api.mustZApp(zAppId));
  const userBalanceBefore = await ctx.api.balance(ctx.keys[user].address);
  const record = await ctx.api.execute(signer(ctx.keys[openedBy]), {
    name: 'OpenSession', zAppId, provider: provider.address, user: ctx.keys[user].address, gasLimit, durationSeconds: SESSION_DURATION_SECONDS,
  });
  const id = (record.result?.created ?? record.callHash) as Hash;
  const session = await ctx.api.mustSession(id);
  const price = qsr(big(session.price));
  return {
    label, id, zApp, zAppId, user, provider: provider.address, openedBy, gasLimit, price,
    hold: qsr(big(session.hold)), upfrontGas: gas(big(session.upfrontGas)), upfrontQsr: cost(big(session.upfrontGas), price),
    autoToppedUp: qsr(eventAmount(record, 'AutoToppedUp', 'amount')),
    escrowBefore, escrowAfter: escrowOf(await ctx.api.mustZApp(zAppId)),
    userBalanceBefore, userBalanceAfter: await ctx.api.balance(ctx.keys[user].address), session,
  };
}

export async function openSessions(ctx: DemoContext, zApps: ZAppsStep, providers: ProvidersStep): Promise<SessionsStep> {
  return {
    counter: await openSession(ctx, 'alice on counter (opened by the owner)', zApps, 'counter', providers.honest, 'alice', 'owner', SMALL_SESSION_GAS),
    fuddor: await openSession(ctx, 'dave on fuddor-meme (opened by dave: openToAll)', zApps, 'fuddor-meme', providers.honest, 'dave', 'dave', SMALL_SESSION_GAS),
    spin: await openSession(ctx, 'carol on spin (opened by the owner)', zApps, 'spin', providers.honest, 'carol', 'owner', SPIN_SESSION_GAS),
    dishonest: await openSession(ctx, 'bob on counter with the dishonest provider', zApps, 'counter', providers.dishonest, 'bob', 'owner', DISHONEST_SESSION_GAS),
  };
}

// ── 4. calls ──────────────────────────────────────────────────────────────────────────────
export interface RunCall {
  session: string;
  seq: bigint;
  input: string;
  output: string;
  receipt: SignedReceipt;
}
export interface SettledSession {
  label: string;
  id: Hash;
  calls: RunCall[];
  /** Σ callGas of the receipts: what the runner metered. */
  meteredGas: bigint;
  settledGas: bigint;
  billedGas: bigint;
  /** cost(billedGas, price): what the zApp has paid for the session. */
  billedQsr: Qsr;
  escrowBefore: { available: bigint; held: bigint };
  escrowAfter: { available: bigint; held: bigint };
  /** The provider's pending + claimable earnings around the calls. */
  providerEarningsBefore: bigint;
  providerEarningsAfter: bigint;
  session: SessionJson;
}
export interface CallsStep {
  counter: SettledSession;
  fuddor: SettledSession;
}

async function runSession(ctx: DemoContext, opened: OpenedSession, inputs: (previous: string | null) => string, count: number): Promise<SettledSession> {
  const user = signer(ctx.keys[opened.user]);
  const escrowBefore = escrowOf(await ctx.api.mustZApp(opened.zAppId));
  const providerEarningsBefore = earnings(await ctx.api.mustProvider(opened.provider));
  const calls: RunCall[] = [];
  let previous: string | null = null;
  for (let i = 1; i <= count; i++) {
    const input = inputs(previous);
    const { output, receipt } = await ctx.runner.invoke(user, opened.id, BigInt(i), utf8Bytes(input));
    previous = new TextDecoder().decode(output);
    calls.push({ session: opened.label, seq: BigInt(i), input, output: previous, receipt });
  }
  const session = await ctx.api.waitSettled(opened.id, BigInt(count));
  return {
    label: opened.label, id: opened.id, calls, meteredGas: calls.reduce((sum, c) => sum + c.receipt.callGas, 0n),
    settledGas: big(session.settledGas), billedGas: big(session.billedGas), billedQsr: cost(big(session.billedGas), opened.price),
    escrowBefore, escrowAfter: escrowOf(await ctx.api.mustZApp(opened.zAppId)),
    providerEarningsBefore, providerEarningsAfter: earnings(await ctx.api.mustProvider(opened.provider)), session,
  };
}

export async function runCalls(ctx: DemoContext, sessions: SessionsStep): Promise<CallsStep> {
  return {
    counter: await runSession(ctx, sessions.counter, () => 'increment', 3),
    fuddor: await runSession(ctx, sessions.fuddor, (previous) => (previous === null ? 'name' : previous), 2),
  };
}

// ── 5. abort ──────────────────────────────────────────────────────────────────────────────
export interface AbortStep {
  label: string;
  sessionId: Hash;
  warmup: RunCall;
  /** The receipt the user signed its Abort with. */
  lastReceipt: SignedReceipt;
  abortCallHash: Hash;
  abortCap: bigint;
  /** cost(max(upfrontGas, abortCap), price): the most the session can ever be billed now. */
  capQsr: Qsr;
  /** The runner's final receipt for the stopped call. */
  abortedReceipt: SignedReceipt;
  /** How long the long call ran, request to answer. */
  runMs: number;
  settledGas: bigint;
  billedGas: bigint;
  billedQsr: Qsr;
  /** Gas the runner burnt past the cap, which nobody pays for (the provider's exposure). */
  unbilledGas: bigint;
  /** hold − billed, returned to `available` when the user closed the session. */
  released: Qsr;
  escrowBeforeClose: { available: bigint; held: bigint };
  escrowAfterClose: { available: bigint; held: bigint };
  session: SessionJson;
}

export async function abortLongCall(ctx: DemoContext, sessions: SessionsStep): Promise<AbortStep> {
  const opened = sessions.spin;
  const user = signer(ctx.keys[opened.user]);
  const warm = await ctx.runner.invoke(user, opened.id, 1n, utf8Bytes('1000'));
  const warmup: RunCall = { session: opened.label, seq: 1n, input: '1000', output: new TextDecoder().decode(warm.output), receipt: warm.receipt };

  const started = performance.now();
  const long = ctx.runner.invoke(user, opened.id, 2n, utf8Bytes(SPIN_FOREVER));
  long.catch(() => undefined);
  await poll(() => ctx.runner.health(), (h) => h.busy > 0, 5_000, 'the long call to start');
  await sleep(ABORT_AFTER_MS);
  const abort = await ctx.api.execute(user, { name: 'Abort', sessionId: opened.id, lastReceipt: warm.receipt });
  const { receipt: abortedReceipt } = await long;
  const runMs = performance.now() - started;

  const session = await ctx.api.waitSettled(opened.id, 2n);
  const abortCap = big(session.abortCap);
  const escrowBeforeClose = escrowOf(await ctx.api.mustZApp(opened.zAppId));
  const close = await ctx.api.execute(user, { name: 'CloseSession', sessionId: opened.id });
  const billedGas = big(session.billedGas);
  return {
    label: opened.label, sessionId: opened.id, warmup, lastReceipt: warm.receipt, abortCallHash: abort.callHash, abortCap,
    capQsr: cost(abortCap > opened.upfrontGas ? abortCap : opened.upfrontGas, opened.price), abortedReceipt, runMs,
    settledGas: big(session.settledGas), billedGas, billedQsr: cost(billedGas, opened.price),
    unbilledGas: abortedReceipt.cumulativeGas > billedGas ? abortedReceipt.cumulativeGas - billedGas : 0n,
    released: qsr(eventAmount(close, 'SessionClosed', 'released')),
    escrowBeforeClose, escrowAfterClose: escrowOf(await ctx.api.mustZApp(opened.zAppId)), session: await ctx.api.mustSession(opened.id),
  };
}

// ── 6. challenge ──────────────────────────────────────────────────────────────────────────
export interface ChallengeStep {
  sessionId: Hash;
  /** What re-executing the call gives. */
  honestGas: bigint;
  inflatedReceipt: SignedReceipt;
  /** What the inflated receipt billed when it settled. */
  billedGasBeforeChallenge: bigint;
  chargedQsr: Qsr;
  stakeBefore: bigint;
  stakeAfter: bigint;
  slashed: bigint;
  toChallenger: bigint;
  toZApp: bigint;
  voided: bigint;
  /** The rest of the session's hold, released when the fraud closed it. */
  released: bigint;
  challengerBalanceBefore: bigint;
  challengerBalanceAfter: bigint;
  escrowBefore: { available: bigint; held: bigint };
  escrowAfter: { available: bigint; held: bigint };
  slashFractionBps: bigint;
  session: SessionJson;
}

export async function challengeInflatedReceipt(ctx: DemoContext, zApps: ZAppsStep, sessions: SessionsStep): Promise<ChallengeStep> {
  const opened = sessions.dishonest;
  const input = utf8Bytes('increment');
  const preState = encodeState([]);
  // What the call really costs: any holder of the input and the pre-state can re-run it.
  const rerun = createReexecutor(gasTableByName()).rerun({
    module: loadZApp(zApps.zApps[opened.zApp].name), preState, input, gasLimit: opened.gasLimit, seed: contextSeed(opened.id, 1n),
  });
  const inflated = gas(rerun.callGas + INFLATED_EXTRA_GAS);
  const inflatedReceipt = signReceipt(
    ctx.domain,
    {
      sessionId: opened.id, seq: 1n, callGas: inflated, cumulativeGas: inflated, inputHash: sha3(input), preStateHash: EMPTY_STATE_HASH,
      postStateHash: rerun.postStateHash, outputHash: rerun.outputHash, status: rerun.status,
    },
    ctx.keys.dishonestSigner.privateKey,
  );
  const escrowBeforeSettle = escrowOf(await ctx.api.mustZApp(opened.zAppId));
  await ctx.api.postReceipts([inflatedReceipt]);
  const settled = await ctx.api.waitSettled(opened.id, 1n);
  const escrowBefore = escrowOf(await ctx.api.mustZApp(opened.zAppId));

  const challenger = signer(ctx.keys[opened.user]);
  const stakeBefore = big((await ctx.api.mustProvider(opened.provider)).stake);
  const challengerBalanceBefore = await ctx.api.balance(challenger.address);
  const record = await ctx.api.execute(challenger, { name: 'Challenge', receipt: inflatedReceipt, input: bytesToHex(input), preState: bytesToHex(preState) });
  const fraud: Record<string, unknown> = eventsOf(record, 'FraudProven')[0] ?? {};
  return {
    sessionId: opened.id, honestGas: rerun.callGas, inflatedReceipt, billedGasBeforeChallenge: big(settled.billedGas),
    chargedQsr: qsr(escrowBeforeSettle.held - escrowBefore.held),
    stakeBefore, stakeAfter: big((await ctx.api.mustProvider(opened.provider)).stake),
    slashed: big(fraud['slashed'] as string), toChallenger: big(fraud['toChallenger'] as string), toZApp: big(fraud['toZApp'] as string),
    voided: big(fraud['voided'] as string), released: eventAmount(record, 'SessionClosed', 'released'),
    challengerBalanceBefore, challengerBalanceAfter: await ctx.api.balance(challenger.address),
    escrowBefore, escrowAfter: escrowOf(await ctx.api.mustZApp(opened.zAppId)),
    slashFractionBps: ctx.genesis.params.slashFractionBps, session: await ctx.api.mustSession(opened.id),
  };
}

/** stake × slashFractionBps / 10 000, as the contract computes it. */
export const expectedSlash = (stake: bigint, bps: bigint): bigint => (stake * bps) / BPS_DENOMINATOR;

// ── 7. claim ──────────────────────────────────────────────────────────────────────────────
export interface ClaimStep {
  provider: Address;
  /** Real milliseconds waited for the challenge windows to pass. */
  waitedMs: number;
  before: ProviderJson;
  after: ProviderJson;
  /** The claim's momentum: earnings that matured by its timestamp are what it may move. */
  claimHeight: bigint;
  claimTimestamp: bigint;
  /** claimable + pending entries with claimableAt ≤ claimTimestamp, from the state before the claim. */
  matured: bigint;
  claimed: bigint;
  balanceBefore: bigint;
  balanceAfter: bigint;
}

/** Chain time now, at least: the newest momentum's timestamp plus the real time since (never ahead of the host's clock). */
async function chainNowAtLeast(ctx: DemoContext): Promise<{ at: number; chainNow: bigint }> {
  const at = Date.now();
  const latest = await ctx.api.momentum('latest');
  return { at, chainNow: big(latest?.timestamp) };
}

export async function claimEarnings(ctx: DemoContext, providers: ProvidersStep): Promise<ClaimStep> {
  const address = providers.honest.address;
  const account = signer(ctx.keys.provider);
  const before0 = await ctx.api.mustProvider(address);
  const lastDue = before0.pendingEarnings.reduce((m, e) => (big(e.claimableAt) > m ? big(e.claimableAt) : m), 0n);
  const { at, chainNow } = await chainNowAtLeast(ctx);
  const waitMs = lastDue > chainNow ? Math.ceil((Number(lastDue - chainNow) * 1000) / ctx.chainSpeed) + Math.ceil(1000 / ctx.chainSpeed) : 0;
  const started = Date.now();
  await sleep(Math.max(0, at + waitMs - Date.now()));
  const before = await ctx.api.mustProvider(address);
  const balanceBefore = await ctx.api.balance(address);
  const record = await ctx.api.execute(account, { name: 'ClaimEarnings' });
  const claimHeight = big(record.momentumHeight);
  const claimTimestamp = big((await ctx.api.momentum(claimHeight))?.timestamp);
  const matured = before.pendingEarnings.reduce((sum, e) => (big(e.claimableAt) <= claimTimestamp ? sum + big(e.amount) : sum), big(before.claimable));
  return {
    provider: address, waitedMs: Date.now() - started, before, after: await ctx.api.mustProvider(address), claimHeight, claimTimestamp, matured,
    claimed: eventAmount(record, 'EarningsClaimed', 'amount'), balanceBefore, balanceAfter: await ctx.api.balance(address),
  };
}

// ── 8. summary ────────────────────────────────────────────────────────────────────────────
export interface SummaryStep {
  zApps: Array<{ name: DemoZApp; id: Hash; available: bigint; held: bigint }>;
  providers: Array<{ name: string; address: Address; stake: bigint; unbonding: bigint; pending: bigint; claimable: bigint }>;
  accounts: Array<{ name: DemoActor; address: Address; balance: bigint }>;
  momentumHeight: bigint;
  latestHash: Hash;
  genesisSupply: bigint;
  totals: { balances: bigint; escrow: bigint; providers: bigint; total: bigint };
  conserved: boolean;
}

/** Sums every place QSR can be, over every actor of the demo (the genesis holds no one else). */
export async function summarize(ctx: DemoContext, zApps: ZAppsStep, providers: ProvidersStep): Promise<SummaryStep> {
  const zRows: SummaryStep['zApps'] = [];
  for (const name of DEMO_ZAPPS) {
    const z = await ctx.api.mustZApp(zApps.zApps[name].id);
    zRows.push({ name, id: zApps.zApps[name].id, ...escrowOf(z) });
  }
  const pRows: SummaryStep['providers'] = [];
  for (const [name, p] of [['honest', providers.honest], ['dishonest', providers.dishonest]] as const) {
    const j = await ctx.api.mustProvider(p.address);
    pRows.push({
      name, address: p.address, stake: big(j.stake), unbonding: j.unbonding.reduce((s, u) => s + big(u.amount), 0n),
      pending: big(j.pendingTotal), claimable: big(j.claimable),
    });
  }
  const aRows: SummaryStep['accounts'] = [];
  for (const key of Object.values(ctx.keys)) aRows.push({ name: key.name, address: key.address, balance: await ctx.api.balance(key.address) });
  const latest = await ctx.api.momentum('latest');
  const balances = aRows.reduce((s, a) => s + a.balance, 0n);
  const escrow = zRows.reduce((s, z) => s + z.available + z.held, 0n);
  const staked = pRows.reduce((s, p) => s + p.stake + p.unbonding + p.pending + p.claimable, 0n);
  const supply = genesisSupply(ctx.genesis);
  const total = balances + escrow + staked;
  return {
    zApps: zRows, providers: pRows, accounts: aRows, momentumHeight: big(latest?.height), latestHash: (latest?.hash ?? '0x') as Hash,
    genesisSupply: supply, totals: { balances, escrow, providers: staked, total }, conserved: total === supply,
  };
}

// ── the whole flow ───────────────────────────────────────────────────────────────────────
export interface DemoResult {
  zApps: ZAppsStep;
  providers: ProvidersStep;
  sessions: SessionsStep;
  calls: CallsStep;
  abort: AbortStep;
  challenge: ChallengeStep;
  claim: ClaimStep;
  summary: SummaryStep;
}

export interface DemoReporter {
  step(n: number, title: string): void;
  /** Called with each step's result as soon as it is done. */
  done<K extends keyof DemoResult>(key: K, value: DemoResult[K], all: Partial<DemoResult>): void;
}

export const STEP_TITLES: Readonly<Record<keyof DemoResult, string>> = {
  zApps: 'A zApp owner uploads and registers counter, fuddor-meme and spin, funds them and sets auto top-up',
  providers: 'Two providers register: an honest one (with a runner) and a dishonest one',
  sessions: 'Users open sessions without paying: the zApps escrow holds the gas',
  calls: 'Calls run on the runner (signed invocations); receipts are pushed and settle',
  abort: 'A user aborts a long-running call with its last receipt',
  challenge: 'The dishonest provider inflates a receipt; the user challenges it and the provider is slashed',
  claim: 'After the challenge window the honest provider claims its earnings',
  summary: 'Summary',
};

/** Runs the eight steps in order. A failed step throws (an HttpError carries the API's code). */
export async function runDemo(ctx: DemoContext, reporter?: DemoReporter): Promise<DemoResult> {
  const all: Partial<DemoResult> = {};
  let n = 0;
  const step = async <K extends keyof DemoResult>(key: K, run: () => Promise<DemoResult[K]>): Promise<DemoResult[K]> => {
    reporter?.step(++n, STEP_TITLES[key]);
    const value = await run();
    all[key] = value;
    reporter?.done(key, value, all);
    return value;
  };
  const zApps = await step('zApps', () => registerZApps(ctx));
  const providers = await step('providers', () => registerProviders(ctx));
  const sessions = await step('sessions', () => openSessions(ctx, zApps, providers));
  const calls = await step('calls', () => runCalls(ctx, sessions));
  const abort = await step('abort', () => abortLongCall(ctx, sessions));
  const challenge = await step('challenge', () => challengeInflatedReceipt(ctx, zApps, sessions));
  const claim = await step('claim', () => claimEarnings(ctx, providers));
  const summary = await step('summary', () => summarize(ctx, zApps, providers));
  return { zApps, providers, sessions, calls, abort, challenge, claim, summary };
}

