/**
 * The demo's last steps: closing sessions are finalized once their grace has passed (anyone may),
 * the honest provider claims its matured earnings after the challenge window, and a summary sums
 * every place QSR can be — balances, escrows, providers' funds and what was burned — against the
 * genesis supply, to the base unit.
 */
import { genesisSupply } from '../../contracts/gas/genesis.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { cost } from '../../contracts/units.ts';
import { request } from '../client/index.ts';
import type { ProviderEarningsView, ProviderView } from '../client/index.ts';
import { big, chainTime, escrow, eventsOf, eventSum, fundsOf, totalFunds, waitForChainTime, wallet } from './context.ts';
import type { DemoContext, Escrow, ProviderFunds } from './context.ts';
import type { DemoActor } from './genesis.ts';
import type { OpenedSession, ProvidersStep, ZAppsStep } from './setup.ts';
import { DEMO_ZAPPS } from './setup.ts';
import type { DemoZApp } from './setup.ts';

// ── 9. finalize ───────────────────────────────────────────────────────────────────────────
export interface FinalizedSession {
  label: string;
  sessionId: Hash;
  closesAt: bigint;
  billedGas: bigint;
  /** hold − cost(billedGas): what FinalizeSession returned to the zApp's available escrow. */
  released: bigint;
  expectedReleased: bigint;
  escrowBefore: Escrow;
  escrowAfter: Escrow;
  /** The session's status as the finalizing momentum left it ('closed'), from its SessionFinalized event. */
  status: string;
}
export interface FinalizeStep {
  /** Chain time the finalizer waited for: the latest closesAt. */
  waitedUntil: bigint;
  sessions: FinalizedSession[];
}

export async function finalizeSessions(ctx: DemoContext, closing: OpenedSession[]): Promise<FinalizeStep> {
  const closesAt = await Promise.all(closing.map(async (s) => big((await ctx.api.session(s.id)).closesAt)));
  const waitedUntil = closesAt.reduce((m, t) => (t > m ? t : m), 0n);
  // FinalizeSession needs chain time past closesAt; the momentum that applies it is at least this late.
  await waitForChainTime(ctx, waitedUntil + 1n);
  const out: FinalizedSession[] = [];
  for (const [i, opened] of closing.entries()) {
    const escrowBefore = await escrow(ctx, opened.zAppId);
    // Anyone may finalize: here the provider, which wants its sessions final.
    const applied = await ctx.api.execute(wallet(ctx, 'provider'), { name: 'FinalizeSession', sessionId: opened.id });
    // The facts come from the momentum that applied it: a finalized session may leave the state
    // (and the API) soon after, so a later read could find nothing.
    const finalized = eventsOf(applied, 'SessionFinalized');
    const billedGas = eventSum(applied, 'SessionFinalized', 'billedGas');
    out.push({
      label: opened.label, sessionId: opened.id, closesAt: closesAt[i] ?? 0n, billedGas, released: eventSum(applied, 'SessionFinalized', 'released'),
      expectedReleased: opened.hold - cost(billedGas, opened.price), escrowBefore, escrowAfter: await escrow(ctx, opened.zAppId),
      status: finalized.length === 1 ? 'closed' : 'not finalized',
    });
  }
  return { waitedUntil, sessions: out };
}

// ── 10. claim ─────────────────────────────────────────────────────────────────────────────
const earningsOf = (p: ProviderView): ProviderEarningsView | null => p.earnings ?? null;

export interface ClaimStep {
  provider: Address;
  /** What the API said before waiting: claimable now, pending, and when the pending earnings mature. */
  earningsBefore: ProviderEarningsView | null;
  /** Real milliseconds waited for the challenge windows to pass. */
  waitedMs: number;
  before: ProviderFunds;
  after: ProviderFunds;
  claimHeight: bigint;
  claimTimestamp: bigint;
  /** claimable + pending entries with claimableAt ≤ the claim's momentum time, from the state before the claim. */
  matured: bigint;
  claimed: bigint;
  balanceBefore: bigint;
  balanceAfter: bigint;
}

export async function claimEarnings(ctx: DemoContext, providers: ProvidersStep): Promise<ClaimStep> {
  const address = providers.honest.address;
  const first = await ctx.api.provider(address);
  const earningsBefore = earningsOf(first);
  const lastDue = first.pendingEarnings.reduce((m, e) => (big(e.claimableAt) > m ? big(e.claimableAt) : m), 0n);
  const started = Date.now();
  if (lastDue > (await chainTime(ctx))) await waitForChainTime(ctx, lastDue);
  const waitedMs = Date.now() - started;
  const view = await ctx.api.provider(address);
  const balanceBefore = await ctx.api.balance(address);
  const applied = await ctx.api.execute(wallet(ctx, 'provider'), { name: 'ClaimEarnings' });
  const claimHeight = big(applied.momentumHeight);
  const claimTimestamp = big((await ctx.api.getMomentum(claimHeight))?.timestamp);
  const matured = view.pendingEarnings.reduce((sum, e) => (big(e.claimableAt) <= claimTimestamp ? sum + big(e.amount) : sum), big(view.claimable));
  return {
    provider: address, earningsBefore, waitedMs, before: fundsOf(view), after: fundsOf(await ctx.api.provider(address)), claimHeight, claimTimestamp, matured,
    claimed: eventSum(applied, 'EarningsClaimed', 'amount'), balanceBefore, balanceAfter: await ctx.api.balance(address),
  };
}

// ── 11. summary ───────────────────────────────────────────────────────────────────────────
export interface SummaryStep {
  zApps: Array<{ name: DemoZApp; id: Hash } & Escrow>;
  providers: Array<{ name: string; address: Address } & ProviderFunds>;
  accounts: Array<{ name: DemoActor; address: Address; balance: bigint }>;
  momentumHeight: bigint;
  latestHash: Hash;
  genesisSupply: bigint;
  totals: { balances: bigint; escrow: bigint; providers: bigint; burned: bigint; total: bigint };
  conserved: boolean;
}

/** The contract's total burned, as the node's overview reports it. */
async function burnedTotal(ctx: DemoContext): Promise<bigint> {
  const { body } = await request<{ totals: { burned?: string } }>(`${ctx.api.baseUrl}/v1/overview`);
  return big(body.totals.burned);
}

/** Sums every place QSR can be, over every actor of the demo (the genesis holds no one else). */
export async function summarize(ctx: DemoContext, zApps: ZAppsStep, providers: ProvidersStep): Promise<SummaryStep> {
  const zRows: SummaryStep['zApps'] = [];
  for (const name of DEMO_ZAPPS) zRows.push({ name, id: zApps.zApps[name].id, ...(await escrow(ctx, zApps.zApps[name].id)) });
  const pRows: SummaryStep['providers'] = [];
  for (const p of [providers.honest, providers.dishonest, providers.mallory]) pRows.push({ name: p.name, address: p.address, ...fundsOf(await ctx.api.provider(p.address)) });
  const aRows: SummaryStep['accounts'] = [];
  for (const key of Object.values(ctx.keys)) aRows.push({ name: key.name, address: key.address, balance: await ctx.api.balance(key.address) });
  const latest = await ctx.api.getMomentum('latest');
  const balances = aRows.reduce((s, a) => s + a.balance, 0n);
  const escrowTotal = zRows.reduce((s, z) => s + z.available + z.held, 0n);
  const staked = pRows.reduce((s, p) => s + totalFunds(p), 0n);
  const burned = await burnedTotal(ctx);
  const supply = genesisSupply(ctx.genesis);
  const total = balances + escrowTotal + staked + burned;
  return {
    zApps: zRows, providers: pRows, accounts: aRows, momentumHeight: big(latest?.height), latestHash: (latest?.hash ?? '0x') as Hash,
    genesisSupply: supply, totals: { balances, escrow: escrowTotal, providers: staked, burned, total }, conserved: total === supply,
  };
}
