/**
 * Verify mode (docs/protocol.md §Verify): the user's client re-executes its calls with the runner's
 * own metered runtime — it holds the module, every input and every pre-state — and challenges any
 * receipt the re-execution disproves. Every call at once, or a random sample at once and the rest
 * later (`verifyPending`, before the challenge deadline). This is how the zApp, which pays, is
 * protected by the users who hold the data.
 */
import { randomInt } from 'node:crypto';
import type { ZgasError } from '../../contracts/errors.ts';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { bytesToHex } from '../../contracts/hex.ts';
import type { RerunResult } from '../../contracts/gas/reexecutor.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';
import { gasTableHash } from '../../unikernel-runner/metering/table.ts';
import type { GasTable } from '../../unikernel-runner/metering/table.ts';
import { createReexecutor } from '../../unikernel-runner/runtime/reexecutor.ts';
import { gasTableByName } from '../../unikernel-runner/metering/registry.ts';
import type { AppliedCall, SettlementClient } from './settlement.ts';
import type { CompletedCall, SessionClient } from './session.ts';
import type { TypedDataSigner } from './signer.ts';
import { DEFAULT_MAX_STATE_BYTES } from '../../unikernel-runner/runtime/state.ts';
import { DEFAULT_MAX_INPUT_BYTES } from '../../unikernel-runner/runtime/execute.ts';

/** Of each million calls, how many verify at once by default: all of them. */
export const SAMPLE_ALL_PPM = 1_000_000;
/** Calls kept for later verification at most; past it the oldest is verified at once. */
export const MAX_PENDING_VERIFICATIONS = 10_000;

export interface VerifierOptions {
  api: SettlementClient;
  /** Who challenges (pays the bond from its balance and gets the reward): usually the session's user. */
  challenger: TypedDataSigner;
  /** The zApp's module bytes (see `Verifier.forSession` to fetch and check them). */
  module: Uint8Array;
  /** The gas table genesis names (default: the reference table). */
  gasTable?: GasTable;
  /** Genesis maxStateBytes (default: the default genesis's). */
  maxStateBytes?: number;
  /** Genesis maxInputBytes (default: the default genesis's). */
  maxInputBytes?: number;
  /** Parts per million of calls re-executed as they complete; the rest wait for verifyPending(). */
  sampleAtOncePpm?: number;
  /** Challenge a disproved receipt by itself (default true). */
  autoChallenge?: boolean;
}

/** What re-executing one call showed. */
export interface Verification {
  sessionId: Hash;
  seq: bigint;
  /** What the receipt claims and what re-execution gives. */
  claimed: RerunResult;
  rerun: RerunResult;
  /** The receipt fields re-execution disproves (empty: the receipt holds). */
  disproved: Array<keyof RerunResult>;
  /** The challenge sent for it, if any. */
  challenge?: AppliedCall;
  challengeError?: ZgasError | Error;
}

/** Whether and where a re-execution disproves a receipt, by the contract's own rule (docs/contract.md §Judging). */
export function disprovedFields(claimed: RerunResult, rerun: RerunResult): Array<keyof RerunResult> {
  // An Aborted receipt claims only that the call does not finish within its callGas.
  if (claimed.status === CallStatus.Aborted) return rerun.status === CallStatus.OutOfGas ? [] : ['status'];
  const fields: Array<keyof RerunResult> = [];
  if (rerun.callGas !== claimed.callGas) fields.push('callGas');
  if (rerun.status !== claimed.status) fields.push('status');
  if (rerun.postStateHash !== claimed.postStateHash) fields.push('postStateHash');
  if (rerun.outputHash !== claimed.outputHash) fields.push('outputHash');
  return fields;
}

export class Verifier {
  private readonly reexecutor;
  /** Hashed once: every re-execution finds the prepared module by it. */
  private readonly moduleHash: Hash;
  private readonly backlog: Array<{ sessionId: Hash; call: CompletedCall }> = [];
  private readonly results: Verification[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opts: VerifierOptions) {
    this.reexecutor = createReexecutor({ gasTable: gasTableHash(opts.gasTable ?? gasTableByName()) });
    this.moduleHash = sha3(opts.module);
  }

  /** A verifier for the zApp of a session: fetches its module from the API (checked against moduleHash). */
  static async forSession(session: SessionClient, opts: Omit<VerifierOptions, 'api' | 'module'>): Promise<Verifier> {
    const zApp = await session.api.zApp(session.terms.zAppId);
    const module = await session.api.getModule(zApp.moduleHash as Hash);
    return new Verifier({ ...opts, api: session.api, module });
  }

  /** Every verification so far. */
  get verifications(): readonly Verification[] {
    return this.results;
  }
  /** Calls waiting for verifyPending(). */
  get pendingCount(): number {
    return this.backlog.length;
  }

  /** Verifies the session's calls as they complete (a sample at once, the rest kept for verifyPending). */
  watch(session: SessionClient): void {
    session.onCall((call) => {
      const ppm = this.opts.sampleAtOncePpm ?? SAMPLE_ALL_PPM;
      if (ppm >= SAMPLE_ALL_PPM || randomInt(SAMPLE_ALL_PPM) < ppm) {
        this.later(session.sessionId, call);
        return;
      }
      this.backlog.push({ sessionId: session.sessionId, call });
      if (this.backlog.length > MAX_PENDING_VERIFICATIONS) {
        const oldest = this.backlog.shift()!;
        this.later(oldest.sessionId, oldest.call);
      }
    });
  }

  /** Verifies the calls left for later; resolves with their verifications (and any challenges sent). */
  async verifyPending(): Promise<Verification[]> {
    const out: Verification[] = [];
    for (const { sessionId, call } of this.backlog.splice(0)) out.push(await this.verify(sessionId, call));
    return out;
  }

  /** Waits for the verifications started by watch() (and their challenges). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Re-executes one call and, when it disproves the receipt and autoChallenge is on, challenges it. */
  async verify(sessionId: Hash, call: CompletedCall): Promise<Verification> {
    const r = call.receipt;
    const claimed: RerunResult = { callGas: r.callGas, postStateHash: r.postStateHash, outputHash: r.outputHash, status: r.status };
    const gasLimit = (r.status === CallStatus.Aborted ? r.callGas : r.callGasLimit) as Gas;
    const rerun = this.reexecutor.rerun({ maxStateBytes: this.opts.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES, maxInputBytes: this.opts.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, module: this.opts.module, moduleHash: this.moduleHash, preState: call.preState.encode(), input: call.input, gasLimit, seed: contextSeed(sessionId, call.seq) });
    const verification: Verification = { sessionId, seq: call.seq, claimed, rerun, disproved: disprovedFields(claimed, rerun) };
    this.results.push(verification);
    if (verification.disproved.length > 0 && this.opts.autoChallenge !== false) {
      try {
        verification.challenge = await this.challenge(call);
      } catch (error) {
        verification.challengeError = error instanceof Error ? error : new Error(String(error));
      }
    }
    return verification;
  }

  /** Sends `Challenge(receipt, input, preState)`; the contract takes challengeBond from the challenger. */
  challenge(call: CompletedCall): Promise<AppliedCall> {
    return this.opts.api.execute(this.opts.challenger, {
      name: 'Challenge', receipt: call.receipt, input: bytesToHex(call.input), preState: bytesToHex(call.preState.encode()),
    });
  }

  /** Re-execution is synchronous: it starts after the call that triggered it has been handed to its caller. */
  private later(sessionId: Hash, call: CompletedCall): void {
    this.track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.verify(sessionId, call)));
  }

  private track(work: Promise<unknown>): void {
    const p = work.finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
