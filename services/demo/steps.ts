/**
 * The demo as a sequence of steps: each drives the system through the typed client (settlement API
 * and runners, docs/protocol.md §Fixed surfaces) as the demo's actors would, and returns what it
 * saw, so the printer can narrate it and the end-to-end suite can check it to the base unit.
 */
import type { AbortStep, CallsStep, CloseStep } from './calls.ts';
import { abortLongCall, closeWithReceiptsInFlight, runCalls } from './calls.ts';
import type { DemoContext } from './context.ts';
import type { ClaimStep, FinalizeStep, SummaryStep } from './finish.ts';
import { claimEarnings, finalizeSessions, summarize } from './finish.ts';
import type { ChallengeStep, SelfSlashStep } from './fraud.ts';
import { challengeDishonestProvider, selfSlashAttempt } from './fraud.ts';
import type { ProvidersStep, SessionsStep, ZAppsStep } from './setup.ts';
import { openSessions, registerProviders, registerZApps } from './setup.ts';

export type { DemoContext } from './context.ts';

export interface DemoResult {
  zApps: ZAppsStep;
  providers: ProvidersStep;
  sessions: SessionsStep;
  calls: CallsStep;
  close: CloseStep;
  abort: AbortStep;
  challenge: ChallengeStep;
  selfSlash: SelfSlashStep;
  finalize: FinalizeStep;
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
  providers: 'Three providers stake and publish offers: an honest one (with a runner), a dishonest one, and mallory',
  sessions: 'Users get sessions without paying: opened by the owner (upfront gas) or by the user on an open zApp',
  calls: 'Calls run on the runner; the client checks every receipt before acknowledging it, re-executes it, and receipts settle',
  close: 'Erin closes her session while its receipts are still on their way: they settle until closesAt',
  abort: "Carol aborts a long-running call through the API and the runner: billed at the abort grace",
  challenge: "The dishonest provider inflates a receipt; bob's client catches it by re-execution and challenges it",
  selfSlash: 'Mallory tries to slash itself through a second account to get its stake back at once',
  finalize: 'The closing sessions are finalized after their grace: the rest of each hold returns to the escrow',
  claim: 'After the challenge window the honest provider claims its earnings',
  summary: 'Summary',
};

/** Runs every step in order. A failed step throws (a ZgasError carries the server's code). */
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
  const close = await step('close', () => closeWithReceiptsInFlight(ctx, sessions));
  const abort = await step('abort', () => abortLongCall(ctx, sessions));
  const challenge = await step('challenge', () => challengeDishonestProvider(ctx, sessions));
  const selfSlash = await step('selfSlash', () => selfSlashAttempt(ctx, zApps, providers));
  const finalize = await step('finalize', () => finalizeSessions(ctx, [sessions.closing, sessions.spin]));
  const claim = await step('claim', () => claimEarnings(ctx, providers));
  const summary = await step('summary', () => summarize(ctx, zApps, providers));
  return { zApps, providers, sessions, calls, close, abort, challenge, selfSlash, finalize, claim, summary };
}
