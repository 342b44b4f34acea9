/**
 * What every demo step works with: the typed client of the settlement API, the runners' URLs, the
 * actors as ethers wallets (the client signs through any ethers Signer), and reads of the chain's
 * time and of amounts the steps compare.
 */
import { Wallet } from 'ethers';
import type { Domain } from '../../contracts/eip712/index.ts';
import type { Genesis } from '../../contracts/gas/genesis.ts';
import type { Address, Hash } from '../../contracts/types.ts';
import { poll } from '../client/index.ts';
import type { AppliedCall, ProviderView, SettlementClient, ZAppView } from '../client/index.ts';
import type { DemoActor, DemoKey } from './genesis.ts';

export interface DemoContext {
  api: SettlementClient;
  /** The honest provider's runner. */
  runnerUrl: string;
  /** The dishonest provider's runner. */
  dishonestRunnerUrl: string;
  domain: Domain;
  genesis: Genesis;
  keys: Readonly<Record<DemoActor, DemoKey>>;
  /** Chain seconds per real second while the demo runs (1 on a system clock). */
  chainSpeed: number;
}

const wallets = new Map<string, Wallet>();
/** The actor's ethers Wallet: what signs its calls and invocations. */
export function wallet(ctx: DemoContext, who: DemoActor): Wallet {
  const key = ctx.keys[who].privateKey;
  let w = wallets.get(key);
  if (w === undefined) {
    w = new Wallet(key);
    wallets.set(key, w);
  }
  return w;
}

export const big = (text: string | null | undefined): bigint => BigInt(text ?? '0');

export interface Escrow {
  available: bigint;
  held: bigint;
}
export const escrowOf = (z: ZAppView): Escrow => ({ available: big(z.available), held: big(z.held) });
export const escrow = async (ctx: DemoContext, zAppId: Hash): Promise<Escrow> => escrowOf(await ctx.api.zApp(zAppId));

/** A provider's funds as the contract holds them: stake, unbonding, pending and claimable earnings. */
export interface ProviderFunds {
  stake: bigint;
  unbonding: bigint;
  pending: bigint;
  claimable: bigint;
}
export const fundsOf = (p: ProviderView): ProviderFunds => ({
  stake: big(p.stake), unbonding: p.unbonding.reduce((s, u) => s + big(u.amount), 0n), pending: big(p.pendingTotal), claimable: big(p.claimable),
});
export const providerFunds = async (ctx: DemoContext, address: Address): Promise<ProviderFunds> => fundsOf(await ctx.api.provider(address));
export const totalFunds = (f: ProviderFunds): bigint => f.stake + f.unbonding + f.pending + f.claimable;

/** The events of one type an applied call reported. */
export const eventsOf = (call: AppliedCall, type: string): Array<Record<string, unknown>> => (call.result?.events ?? []).filter((e) => e.type === type);
/** The sum of an amount field over the call's events of one type. */
export const eventSum = (call: AppliedCall, type: string, field: string): bigint => eventsOf(call, type).reduce((s, e) => s + big(e[field] as string), 0n);

/** The chain's time as the API reports it (the host's clock, never before the newest momentum). */
export async function chainTime(ctx: DemoContext): Promise<bigint> {
  const view = (await ctx.api.provider(ctx.keys.provider.address)) as ProviderView & { earnings?: { at: string } };
  if (view.earnings !== undefined) return BigInt(view.earnings.at);
  return big((await ctx.api.getMomentum('latest'))?.timestamp);
}

/** Waits until the chain's time reaches `at` (the demo's clock runs fast, so this takes seconds). */
export async function waitForChainTime(ctx: DemoContext, at: bigint): Promise<bigint> {
  return poll(() => chainTime(ctx), (now) => now >= at, { timeoutMs: 60_000, intervalMs: 50, what: `chain time ${at}` });
}
