/**
 * Calls on the honest runner through the typed client, which checks each receipt before it signs
 * the next invocation and (verify mode) re-executes each call; a close while receipts are still on
 * their way to settlement; an abort of a long-running call, billed at the grace.
 */
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { cost, gas } from '../../contracts/units.ts';
import type { Gas, Qsr } from '../../contracts/units.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { loadZApp } from '../../unikernel-runner/zapps/load.ts';
import { poll, SessionClient, Verifier } from '../client/index.ts';
import type { CompletedCall, SessionView, Verification } from '../client/index.ts';
import { big, escrow, providerFunds, wallet } from './context.ts';
import type { DemoContext, Escrow } from './context.ts';
import type { OpenedSession, SessionsStep } from './setup.ts';

/** The limit the long call runs under: far more than the abort lets it use. */
export const SPIN_CALL_GAS_LIMIT = gas(1_000_000_000);
/** Iterations asked of `spin`: far more than its limit allows, so only the abort ends it early. */
export const SPIN_FOREVER = '100000000000000';
/** The small calls' limit. */
export const SMALL_CALL_GAS_LIMIT = gas(200_000);

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export async function attachSession(ctx: DemoContext, opened: OpenedSession, runnerUrl = ctx.runnerUrl): Promise<SessionClient> {
  return SessionClient.attach({ api: ctx.api, runnerUrl, sessionId: opened.id, user: wallet(ctx, opened.user), defaultCallGasLimit: SMALL_CALL_GAS_LIMIT });
}

export interface RunCall {
  seq: bigint;
  input: string;
  output: string;
  receipt: SettlementReceipt;
}
const runCall = (c: CompletedCall, input: string): RunCall => ({ seq: c.seq, input, output: text(c.output), receipt: c.receipt });

// ── 4. calls ──────────────────────────────────────────────────────────────────────────────
export interface SettledSession {
  label: string;
  id: Hash;
  calls: RunCall[];
  /** Re-executions by the client's verify mode: every receipt held. */
  verifications: Verification[];
  settledGas: bigint;
  billedGas: bigint;
  /** cost(billedGas, price): what the zApp has paid for the session. */
  billedQsr: Qsr;
  escrowBefore: Escrow;
  escrowAfter: Escrow;
  /** The provider's pending + claimable earnings around the calls. */
  providerEarningsBefore: bigint;
  providerEarningsAfter: bigint;
  session: SessionView;
}
export interface CallsStep {
  counter: SettledSession;
  fuddor: SettledSession;
}

async function runSession(ctx: DemoContext, opened: OpenedSession, inputs: (previous: string | null) => string, count: number): Promise<SettledSession> {
  const escrowBefore = await escrow(ctx, opened.zAppId);
  const earnings = async (): Promise<bigint> => {
    const f = await providerFunds(ctx, opened.provider);
    return f.pending + f.claimable;
  };
  const providerEarningsBefore = await earnings();
  const session = await attachSession(ctx, opened);
  const verifier = new Verifier({ api: ctx.api, challenger: wallet(ctx, opened.user), module: loadZApp(opened.zApp) });
  verifier.watch(session);
  const calls: RunCall[] = [];
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const input = inputs(previous);
    const call = runCall(await session.call(utf8Bytes(input)), input);
    previous = call.output;
    calls.push(call);
  }
  await verifier.settled();
  const settled = await ctx.api.waitForSettled(opened.id, BigInt(count));
  return {
    label: opened.label, id: opened.id, calls, verifications: [...verifier.verifications],
    settledGas: big(settled.settledGas), billedGas: big(settled.billedGas), billedQsr: cost(big(settled.billedGas), opened.price),
    escrowBefore, escrowAfter: await escrow(ctx, opened.zAppId), providerEarningsBefore, providerEarningsAfter: await earnings(), session: settled,
  };
}

export async function runCalls(ctx: DemoContext, sessions: SessionsStep): Promise<CallsStep> {
  return {
    counter: await runSession(ctx, sessions.counter, () => 'increment', 3),
    fuddor: await runSession(ctx, sessions.fuddor, (previous) => (previous === null ? 'name' : previous), 2),
  };
}

// ── 5. close with receipts in flight ──────────────────────────────────────────────────────
export interface CloseStep {
  label: string;
  sessionId: Hash;
  calls: RunCall[];
  /** The session as it was in the momentum that applied the close: receipts of finished calls not all settled yet. */
  atClose: SessionView;
  closeHeight: bigint;
  /** The session once every finished call's receipt settled while it was closing. */
  settled: SessionView;
  closesAt: bigint;
}

export async function closeWithReceiptsInFlight(ctx: DemoContext, sessions: SessionsStep): Promise<CloseStep> {
  const opened = sessions.closing;
  const session = await attachSession(ctx, opened);
  const calls: RunCall[] = [];
  for (let i = 0; i < 3; i++) calls.push(runCall(await session.call(utf8Bytes('increment')), 'increment'));
  // Erin closes at once: the runner has not pushed every receipt yet.
  const closeHash = await session.close();
  const applied = await ctx.api.waitForCall(closeHash);
  const atClose = await ctx.api.session(opened.id);
  const settled = await ctx.api.waitForSettled(opened.id, BigInt(calls.length));
  return {
    label: opened.label, sessionId: opened.id, calls, atClose, closeHeight: big(applied.momentumHeight), settled, closesAt: big(settled.closesAt),
  };
}

// ── 6. abort ──────────────────────────────────────────────────────────────────────────────
export interface AbortStep {
  label: string;
  sessionId: Hash;
  warmup: RunCall;
  /** The runner's receipt for the stopped call (status Aborted). */
  abortedReceipt: SettlementReceipt;
  runnerStopped: boolean;
  /** How long the long call ran, request to answer. */
  runMs: number;
  abortGraceGas: Gas;
  /** ackedGas + min(callGas, abortGraceGas): what the contract bills for an unfinished call after an abort. */
  expectedBilledGas: bigint;
  settledGas: bigint;
  billedGas: bigint;
  billedQsr: Qsr;
  /** Gas the runner burnt that nobody pays for: the provider's exposure to an abort. */
  unbilledGas: bigint;
  session: SessionView;
  closesAt: bigint;
}

export async function abortLongCall(ctx: DemoContext, sessions: SessionsStep): Promise<AbortStep> {
  const opened = sessions.spin;
  const session = await attachSession(ctx, opened);
  const warm = await session.call(utf8Bytes('1000'));
  const started = performance.now();
  const long = session.call(utf8Bytes(SPIN_FOREVER), { callGasLimit: SPIN_CALL_GAS_LIMIT });
  long.catch(() => undefined);
  // Abort once the runner is busy with the call (its health says so).
  await poll(async () => (await fetch(`${ctx.runnerUrl}/healthz`)).json() as Promise<{ busy: number }>, (h) => h.busy > 0, { timeoutMs: 10_000, intervalMs: 10, what: 'the long call to start' });
  const { runnerStopped } = await session.abort();
  const stopped = await long;
  const runMs = performance.now() - started;
  const settled = await ctx.api.waitForSettled(opened.id, stopped.seq);
  const grace = ctx.genesis.params.abortGraceGas;
  const r = stopped.receipt;
  const ackedGas = r.cumulativeGas - r.callGas;
  const billedGas = big(settled.billedGas);
  return {
    label: opened.label, sessionId: opened.id, warmup: runCall(warm, '1000'), abortedReceipt: r, runnerStopped, runMs, abortGraceGas: grace,
    expectedBilledGas: ackedGas + (r.callGas < grace ? r.callGas : grace), settledGas: big(settled.settledGas), billedGas,
    billedQsr: cost(billedGas, opened.price), unbilledGas: r.cumulativeGas > billedGas ? r.cumulativeGas - billedGas : 0n, session: settled,
    closesAt: big(settled.closesAt),
  };
}

/** The statuses the narration names. */
export const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(CallStatus).map(([k, v]) => [v, k]));
