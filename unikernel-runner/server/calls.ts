/**
 * The runner's call service: checks an invocation against the ledger and the session's own record,
 * runs it in the pool, signs the receipt, answers, and pushes the receipt for settlement. Aborts
 * from the ledger stop the session's running call at its next checkpoint.
 */
import { ZgasError } from '../../contracts/errors.ts';
import { recoverInvocationSigner } from '../../contracts/eip712/index.ts';
import type { Domain, SignatureBackend } from '../../contracts/eip712/index.ts';
import { contextSeed, sha3 } from '../../contracts/hash.ts';
import { bytesToHex, hexToBytes, sameAddress } from '../../contracts/hex.ts';
import type { Address, Hash, Hex, SignedInvocation, SignedReceipt } from '../../contracts/types.ts';
import { gas } from '../../contracts/units.ts';
import type { GasTable } from '../metering/table.ts';
import { MAX_INPUT_BYTES } from '../runtime/execute.ts';
import type { HostPrices } from '../runtime/host.ts';
import type { WorkerPool } from '../runtime/pool.ts';
import { hostPrices, prepareModule } from '../runtime/prepare.ts';
import { recordCall, SessionBook } from '../runtime/sessions.ts';
import type { Ledger, LedgerSession } from './ledger.ts';

/** Module bytes kept per runner (by hash) so a session's calls fetch them once. */
export const MAX_CACHED_MODULE_BYTES = 64;

export interface CallServiceDeps {
  ledger: Ledger;
  pool: WorkerPool;
  table: GasTable;
  domain: Domain;
  /** The receipt signer's private key. */
  receiptKey: Uint8Array;
  /** The receipt signer's address (checked against each session's receiptSigner). */
  receiptSigner: Address;
  provider: Address;
  backend: SignatureBackend;
  /** Receipts that could not be delivered after all retries (logged by the caller). */
  onPushError?: (error: unknown, receipts: SignedReceipt[]) => void;
}

export interface CallResult {
  output: Hex;
  receipt: SignedReceipt;
}

export class CallService {
  readonly sessions = new SessionBook();
  private readonly prices: HostPrices;
  private readonly modules = new Map<Hash, Uint8Array>();
  private readonly pushes = new Set<Promise<void>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: CallServiceDeps) {
    this.prices = hostPrices(deps.table);
    this.unsubscribe = deps.ledger.onAbort(({ sessionId }) => this.abort(sessionId));
  }

  /** Runs one signed invocation; refuses with a typed error and runs nothing on any check that fails. */
  async invoke(invocation: SignedInvocation): Promise<CallResult> {
    const { deps } = this;
    const sessionId = invocation.sessionId.toLowerCase() as Hash;
    const input = hexToBytes(invocation.input);
    if (input.length > MAX_INPUT_BYTES) throw new ZgasError('LimitExceeded', { what: 'input bytes', maxBytes: MAX_INPUT_BYTES });

    const ledgerSession = await deps.ledger.getSession(sessionId);
    if (ledgerSession === null) throw new ZgasError('SessionNotFound', { sessionId });
    if (!sameAddress(ledgerSession.provider, deps.provider)) throw new ZgasError('NotThisProvider', { sessionId, provider: ledgerSession.provider });
    if (!sameAddress(ledgerSession.receiptSigner, deps.receiptSigner)) {
      throw new ZgasError('ReceiptSignerMismatch', { sessionId, receiptSigner: ledgerSession.receiptSigner });
    }
    const signer = recoverInvocationSigner(deps.domain, { ...invocation, sessionId }, deps.backend);
    if (!sameAddress(signer, ledgerSession.user)) throw new ZgasError('NotSessionUser', { sessionId, signer });

    const session = this.sessions.open(sessionId);
    const { seq } = invocation;
    if (seq <= session.lastSeq || session.running?.seq === seq) throw new ZgasError('InvocationReplayed', { sessionId, seq: seq.toString() });
    if (session.running !== null || seq !== session.lastSeq + 1n) {
      throw new ZgasError('InvocationOutOfOrder', { sessionId, seq: seq.toString(), next: (session.lastSeq + 1n).toString() });
    }
    if (session.aborted || ledgerSession.status.toLowerCase() !== 'open') throw new ZgasError('SessionNotOpen', { sessionId, status: session.aborted ? 'aborting' : ledgerSession.status });
    const used = session.cumulativeGas > ledgerSession.settledGas ? session.cumulativeGas : ledgerSession.settledGas;
    if (used >= ledgerSession.gasLimit) throw new ZgasError('SessionOutOfGas', { sessionId, gasLimit: ledgerSession.gasLimit.toString() });
    if (session.lastSeq === 0n && ledgerSession.settledGas > 0n) throw new ZgasError('SessionStateLost', { sessionId });
    const gasLimit = gas(ledgerSession.gasLimit - used);

    session.running = { seq, callId: null };
    try {
      const prepared = prepareModule(await this.module(ledgerSession), deps.table);
      const call = deps.pool.submit({
        prepared,
        prices: this.prices,
        preState: session.state,
        input,
        gasLimit,
        seed: contextSeed(sessionId, seq),
      });
      session.running.callId = call.id;
      if (session.aborted) deps.pool.abort(call.id);
      const outcome = await call.result;
      const receipt = recordCall(session, seq, input, outcome, { domain: deps.domain, key: deps.receiptKey, backend: deps.backend });
      this.push([receipt]);
      return { output: bytesToHex(outcome.output), receipt };
    } finally {
      session.running = null;
    }
  }

  /** An abort for the session: no call starts any more, and the running one stops at its next checkpoint. */
  abort(sessionId: Hash): void {
    const session = this.sessions.open(sessionId.toLowerCase() as Hash);
    session.aborted = true;
    const callId = session.running?.callId;
    if (callId !== undefined && callId !== null) this.deps.pool.abort(callId);
  }

  /** Waits for receipt deliveries in flight. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pushes]);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.flush();
  }

  private push(receipts: SignedReceipt[]): void {
    const delivery = this.deps.ledger
      .submitReceipts(receipts)
      .catch((error: unknown) => this.deps.onPushError?.(error, receipts))
      .finally(() => this.pushes.delete(delivery));
    this.pushes.add(delivery);
  }

  private async module(session: LedgerSession): Promise<Uint8Array> {
    const hash = session.moduleHash.toLowerCase() as Hash;
    const cached = this.modules.get(hash);
    if (cached !== undefined) return cached;
    const bytes = await this.deps.ledger.getModule(hash);
    if (bytes === null) throw new ZgasError('ModuleUnavailable', { moduleHash: hash });
    const actual = sha3(bytes);
    if (actual !== hash) throw new ZgasError('ModuleHashMismatch', { moduleHash: hash, actual });
    if (this.modules.size >= MAX_CACHED_MODULE_BYTES) this.modules.delete(this.modules.keys().next().value!);
    this.modules.set(hash, bytes);
    return bytes;
  }
}
