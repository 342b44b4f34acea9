/**
 * A session as its user drives it on a provider's runner (docs/protocol.md §Calls on a runner,
 * §What the user's client checks): each call is a signed invocation that also acknowledges the
 * previous receipt, so the client checks every receipt (check.ts) against what it asked for and the
 * state it holds before it signs the next one. It keeps the session's state from the returned
 * writes, recovers from a lost answer by asking the runner for its latest receipt and sending the
 * very same invocation again (the runner answers a retry with the same receipt), and aborts through
 * the API and the runner at once.
 */
import { ZgasError, isZgasError } from '../../contracts/errors.ts';
import { bytesToHex, hexToBytes, parseAddress, parseHash, sameAddress } from '../../contracts/hex.ts';
import { invocationOfRequest } from '../../contracts/invocation.ts';
import { callToJson, invocationToJson, receiptFromJson, writesFromJson } from '../../contracts/json.ts';
import { settlementReceipt } from '../../contracts/eip712/index.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Address, Hash, Invocation, SettlementReceipt, SignedInvocation, StateWrite } from '../../contracts/types.ts';
import { gas, parseGas } from '../../contracts/units.ts';
import type { Gas } from '../../contracts/units.ts';
import { checkReceipt } from './check.ts';
import { checkLatestReceipt, checkSavedCalls, planResume } from './resume.ts';
import type { PendingCall } from './resume.ts';
import { getOrNull, request } from './http.ts';
import type { SettlementClient } from './settlement.ts';
import type { TypedDataSigner } from './signer.ts';
import { signerAddress, signInvocationRequestWith } from './signer.ts';
import { SessionState } from './state.ts';
import type { SessionView } from './views.ts';

/** The limit of a call when the caller sets none (capped at the gas the session has left). */
export const DEFAULT_CALL_GAS_LIMIT = gas(100_000_000);
/** How many times a lost answer is recovered before the call gives up (the invocation stays pending). */
export const MAX_RESYNC_ATTEMPTS = 3;
/** A call may run long (its limit bounds it); wait this long for the runner's answer. */
export const CALL_TIMEOUT_MS = 120_000;

/** One call the client checked and acknowledged: all it needs to re-execute and challenge it later. */
export interface CompletedCall {
  seq: bigint;
  input: Uint8Array;
  output: Uint8Array;
  writes: StateWrite[];
  preState: SessionState;
  postState: SessionState;
  /** The settlement receipt: the runner's signed receipt with the client's own invocation signature. */
  receipt: SettlementReceipt;
}

export interface SessionClientOptions {
  api: SettlementClient;
  /** The provider's runner, e.g. http://127.0.0.1:8646. */
  runnerUrl: string;
  sessionId: Hash;
  /** The session's user: signs invocations and the Abort. */
  user: TypedDataSigner;
  defaultCallGasLimit?: Gas;
  /** Called with every checked call, in seq order (verify mode listens here). */
  onCall?: (call: CompletedCall) => void;
}

/** What a client continuing a session in a new process brings from the earlier one. */
export interface SessionResumeOptions extends SessionClientOptions {
  /** The calls checked earlier, seq 1, 2, 3, … (none for a session with no call yet). */
  calls?: readonly CompletedCall[];
  /** The session was aborted or closed by this user: no further call is signed. */
  stopped?: boolean;
  /** The call sent last whose answer was lost: sent again, so its receipt is checked and acknowledged. */
  pending?: PendingCall | null;
}

interface Pending {
  signed: SignedInvocation;
  invocation: Invocation;
  input: Uint8Array;
}

export class SessionClient {
  readonly sessionId: Hash;
  readonly runnerUrl: string;
  readonly api: SettlementClient;
  /** The session as the ledger had it when the client attached (its terms never change). */
  readonly terms: SessionView;
  private readonly user: TypedDataSigner;
  private readonly defaultCallGasLimit: Gas;
  private readonly listeners: Array<(call: CompletedCall) => void> = [];
  private currentState = SessionState.empty();
  private nextSeq = 1n;
  private acked = gas(0);
  private readonly completed: CompletedCall[] = [];
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private abortSent = false;
  private closed = false;

  private constructor(opts: SessionClientOptions, terms: SessionView) {
    this.api = opts.api;
    this.runnerUrl = opts.runnerUrl.replace(/\/+$/, '');
    this.sessionId = parseHash(opts.sessionId);
    this.user = opts.user;
    this.terms = terms;
    this.defaultCallGasLimit = opts.defaultCallGasLimit ?? DEFAULT_CALL_GAS_LIMIT;
    if (opts.onCall !== undefined) this.listeners.push(opts.onCall);
  }

  /** A client for a session that has just opened: reads its terms from the ledger and checks the signer is its user. */
  static async attach(opts: SessionClientOptions): Promise<SessionClient> {
    const terms = await opts.api.session(opts.sessionId);
    const user = await signerAddress(opts.user);
    if (!sameAddress(user, terms.user)) throw new ZgasError('NotSessionUser', { sessionId: opts.sessionId, user: terms.user, signer: user });
    return new SessionClient(opts, terms);
  }

  /**
   * A client that continues a session an earlier process drove: attaches (checking the signer is
   * the session's user), checks the saved calls chain, asks the runner for its latest receipt and
   * the ledger for the settled seq, and trusts the receipt only once its receipt and invocation
   * signatures are the session's. A call whose answer was lost (the runner's latest receipt is one
   * past the saved calls) is sent again when `pending` names it; the client then stands after it.
   */
  static async resume(opts: SessionResumeOptions): Promise<SessionClient> {
    const client = await SessionClient.attach(opts);
    const calls = opts.calls ?? [];
    checkSavedCalls(calls);
    const [latest, view] = await Promise.all([client.latestReceipt(), opts.api.session(client.sessionId)]);
    if (latest !== null) checkLatestReceipt(opts.api.domain, client.terms, latest);
    const plan = planResume({ calls, pending: opts.pending ?? null, latest, view });
    const last = calls.at(-1);
    client.completed.push(...calls);
    client.currentState = last?.postState ?? SessionState.empty();
    client.nextSeq = (last?.seq ?? 0n) + 1n;
    client.acked = last?.receipt.cumulativeGas ?? gas(0);
    client.abortSent = opts.stopped === true || last?.receipt.status === CallStatus.Aborted || view.stopCall;
    client.closed = view.status !== 'open';
    if (plan.resend !== null) {
      const { input, callGasLimit } = plan.resend;
      const signed = await signInvocationRequestWith(client.user, client.api.domain, {
        sessionId: client.sessionId, seq: client.nextSeq, callGasLimit, input: bytesToHex(input), preStateHash: client.currentState.hash(), ackedGas: client.acked,
      });
      client.pending = { signed, invocation: invocationOfRequest(signed), input };
      await client.send();
    }
    return client;
  }

  get userAddress(): Address {
    return parseAddress(this.terms.user);
  }
  /** The seq of the next call. */
  get seq(): bigint {
    return this.nextSeq;
  }
  /** The cumulative gas of the last acknowledged receipt. */
  get ackedGas(): Gas {
    return this.acked;
  }
  get state(): SessionState {
    return this.currentState;
  }
  /** Every call checked so far, in seq order. */
  get calls(): readonly CompletedCall[] {
    return this.completed;
  }
  get lastCall(): CompletedCall | undefined {
    return this.completed.at(-1);
  }
  /** True once the session was aborted or closed here, or a receipt said Aborted: no further call is signed. */
  get stopped(): boolean {
    return this.abortSent || this.closed;
  }
  /** Gas the session can still give a call. */
  get remainingGas(): Gas {
    const limit = parseGas(this.terms.gasLimit);
    return gas(limit > this.acked ? limit - this.acked : 0n);
  }

  /** The limit the next call is signed with: the one asked for, else the default capped at the gas left. */
  callGasLimitFor(requested?: Gas): Gas {
    if (requested !== undefined) return requested;
    const remaining = this.remainingGas;
    return this.defaultCallGasLimit < remaining ? this.defaultCallGasLimit : remaining;
  }

  onCall(listener: (call: CompletedCall) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs one call: signs invocation `seq` (acknowledging the previous receipt), sends it, checks the
   * receipt, output and writes, and only then takes the new state. Calls of one session run one at a time.
   */
  call(input: Uint8Array, opts: { callGasLimit?: Gas } = {}): Promise<CompletedCall> {
    const run = async (): Promise<CompletedCall> => {
      if (this.pending !== null) await this.resync();
      if (this.stopped) throw new ZgasError('SessionStopped', { sessionId: this.sessionId });
      const wanted = this.callGasLimitFor(opts.callGasLimit);
      const signed = await signInvocationRequestWith(this.user, this.api.domain, {
        sessionId: this.sessionId, seq: this.nextSeq, callGasLimit: wanted, input: bytesToHex(input), preStateHash: this.currentState.hash(), ackedGas: this.acked,
      });
      this.pending = { signed, invocation: invocationOfRequest(signed), input };
      return this.send();
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * After a lost answer: asks the runner for its latest receipt. If the runner never saw the
   * pending invocation, or ran it (its latest receipt answers exactly that invocation), the same
   * signed invocation goes again and the runner answers it (with the same receipt when it ran).
   * A latest receipt for another invocation of this seq or a later seq is refused.
   */
  async resync(): Promise<CompletedCall | null> {
    const pending = this.pending;
    if (pending === null) return null;
    const latest = await this.latestReceipt();
    if (latest !== null && latest.seq >= pending.invocation.seq) {
      const inv = pending.invocation;
      const matches = latest.seq === inv.seq && latest.callGasLimit === inv.callGasLimit && latest.inputHash === inv.inputHash
        && latest.preStateHash === inv.preStateHash && latest.cumulativeGas - latest.callGas === inv.ackedGas;
      if (!matches) throw new ZgasError('ReceiptNotAcknowledged', { field: 'seq', reason: "the runner's latest receipt answers no invocation the client signed", seq: String(latest.seq) });
    }
    return this.send();
  }

  /** The runner's newest settlement receipt of the session (null before the first call). */
  async latestReceipt(): Promise<SettlementReceipt | null> {
    const body = await getOrNull<unknown>(`${this.runnerUrl}/v1/sessions/${this.sessionId}/receipts/latest`);
    if (body === null) return null;
    const inner = typeof body === 'object' && body !== null && 'receipt' in body ? (body as { receipt: unknown }).receipt : body;
    return receiptFromJson(inner);
  }

  /**
   * Aborts the session: the user's signed `Abort` goes to the settlement API and, the same signed
   * call, straight to the runner, which stops the running call at its next checkpoint. The call in
   * flight then ends with an Aborted receipt (billed at most abortGraceGas); no further call is signed.
   * Resolves with the Abort call's hash once the API stored it; `runnerStopped` says whether the
   * runner took the fast path (the sequencer's announcement stops it otherwise).
   */
  async abort(): Promise<{ callHash: Hash; runnerStopped: boolean }> {
    this.abortSent = true;
    const signed = await this.api.signCall(this.user, { name: 'Abort', sessionId: this.sessionId });
    const [callHash, runner] = await Promise.all([
      this.api.submitCall(signed),
      request(`${this.runnerUrl}/v1/sessions/${this.sessionId}/abort`, { json: callToJson(signed) }).then(
        () => true,
        () => false,
      ),
    ]);
    return { callHash, runnerStopped: runner };
  }

  /** Closes the session (CloseSession through the API): no new call; the receipts of finished calls still settle. */
  async close(): Promise<Hash> {
    this.closed = true;
    return this.api.sendCall(this.user, { name: 'CloseSession', sessionId: this.sessionId });
  }

  /** Sends the pending invocation and takes its answer; a transport failure resynchronises, a refusal drops it. */
  private async send(attempt = 0): Promise<CompletedCall> {
    const pending = this.pending;
    if (pending === null) throw new ZgasError('NotReady', { reason: 'no pending invocation' });
    let body: { output: unknown; receipt: unknown; writes: unknown };
    try {
      body = (await request<typeof body>(`${this.runnerUrl}/v1/sessions/${this.sessionId}/calls`, { json: invocationToJson(pending.signed), timeoutMs: CALL_TIMEOUT_MS })).body;
    } catch (error) {
      if (isZgasError(error) && error.details['httpStatus'] !== undefined && error.code !== 'InvocationReplayed') {
        // The runner answered and refused: the invocation did not run, nothing is acknowledged.
        this.pending = null;
        throw error;
      }
      if (attempt + 1 >= MAX_RESYNC_ATTEMPTS) throw error;
      return this.resyncAttempt(attempt + 1);
    }
    return this.accept(pending, body);
  }

  private async resyncAttempt(attempt: number): Promise<CompletedCall> {
    const pending = this.pending;
    if (pending === null) throw new ZgasError('NotReady', { reason: 'no pending invocation' });
    const latest = await this.latestReceipt().catch(() => null);
    if (latest !== null && latest.seq > pending.invocation.seq) {
      throw new ZgasError('ReceiptNotAcknowledged', { field: 'seq', reason: 'the runner holds a later receipt than the client signed for', seq: String(latest.seq) });
    }
    return this.send(attempt);
  }

  private accept(pending: Pending, body: { output: unknown; receipt: unknown; writes: unknown }): CompletedCall {
    let output: Uint8Array;
    let writes: StateWrite[];
    let receipt: SettlementReceipt;
    try {
      if (typeof body.output !== 'string') throw new ZgasError('InvalidField', { path: 'output', expected: 'hex' });
      output = hexToBytes(body.output);
      writes = writesFromJson(body.writes);
      receipt = receiptFromJson(body.receipt, 'receipt');
    } catch (error) {
      throw new ZgasError('ReceiptNotAcknowledged', { field: 'answer', reason: 'the runner answer does not parse', cause: error instanceof Error ? error.message : String(error) });
    }
    const preState = this.currentState;
    const postState = checkReceipt(this.api.domain, {
      invocation: pending.invocation, receiptSigner: parseAddress(this.terms.receiptSigner), preState, output, writes, aborted: this.abortSent,
    }, receipt);
    const call: CompletedCall = {
      seq: receipt.seq, input: pending.input, output, writes, preState, postState,
      receipt: settlementReceipt(receipt, pending.signed.signature),
    };
    this.pending = null;
    this.completed.push(call);
    this.currentState = postState;
    this.nextSeq = receipt.seq + 1n;
    this.acked = receipt.cumulativeGas;
    if (receipt.status === CallStatus.Aborted) this.abortSent = true;
    for (const listener of this.listeners) listener(call);
    return call;
  }
}
