/**
 * The runner's port to the settlement side: what it reads about sessions and modules, where it
 * pushes receipts, and how it learns of aborts. An in-memory ledger serves tests; the HTTP ledger
 * (http-ledger.ts) speaks the settlement API (docs/protocol.md §Fixed surfaces).
 */
import { sha3 } from '../../contracts/hash.ts';
import type { Address, Hash, SettlementReceipt } from '../../contracts/types.ts';
import type { Gas } from '../../contracts/units.ts';

export type LedgerSessionStatus = 'open' | 'closing' | 'closed';

/** The part of a session (docs/contract.md §State) a runner needs, with its zApp's module hash and owner. */
export interface LedgerSession {
  id: Hash;
  status: LedgerSessionStatus;
  /** Set by Abort: the running call stops and no new invocation runs. */
  stopCall: boolean;
  user: Address;
  provider: Address;
  zAppId: Hash;
  zAppOwner: Address;
  moduleHash: Hash;
  gasLimit: Gas;
  settledGas: Gas;
  /** The seq of the newest settled receipt (0 before the first). */
  lastSeq: bigint;
  receiptSigner: Address;
  /**
   * Unix seconds from which the session runs no new call: the close grace that follows is for the
   * calls already running to end and settle, not for new ones.
   */
  expiresAt: bigint;
}

/** The ledger announced that a session stops (contracts/events.ts): with stopCall (Abort) the running call stops too. */
export interface SessionStop {
  sessionId: Hash;
  stopCall: boolean;
}

export interface Ledger {
  getSession(id: Hash): Promise<LedgerSession | null>;
  /** The module bytes stored under the hash (the caller checks the hash), or null. */
  getModule(moduleHash: Hash): Promise<Uint8Array | null>;
  /** Delivers receipts for settlement; resolves once accepted (duplicates are harmless). */
  submitReceipts(receipts: SettlementReceipt[]): Promise<void>;
  /** Aborts and closes of this provider's sessions; returns the unsubscribe function. */
  onSessionStop(listener: (event: SessionStop) => void): () => void;
  close(): Promise<void>;
}

/** A ledger held in memory, driven by tests and the packaged-runner test. */
export class MemoryLedger implements Ledger {
  readonly sessions = new Map<Hash, LedgerSession>();
  readonly modules = new Map<Hash, Uint8Array>();
  readonly receipts: SettlementReceipt[] = [];
  private readonly listeners = new Set<(event: SessionStop) => void>();

  putModule(bytes: Uint8Array): Hash {
    const hash = sha3(bytes);
    this.modules.set(hash, bytes.slice());
    return hash;
  }

  putSession(session: LedgerSession): void {
    this.sessions.set(session.id.toLowerCase() as Hash, { ...session });
  }

  /** Applies `Abort` as the contract does (closing, stopCall) and tells the runner, as the settlement side does. */
  abort(sessionId: Hash): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined) {
      session.stopCall = true;
      if (session.status === 'open') session.status = 'closing';
    }
    for (const listener of this.listeners) listener({ sessionId, stopCall: true });
  }

  /** Applies `CloseSession` as the contract does: closing, the running call finishes. */
  closeSession(sessionId: Hash): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined && session.status === 'open') session.status = 'closing';
    for (const listener of this.listeners) listener({ sessionId, stopCall: false });
  }

  async getSession(id: Hash): Promise<LedgerSession | null> {
    const session = this.sessions.get(id.toLowerCase() as Hash);
    return session === undefined ? null : { ...session };
  }

  async getModule(moduleHash: Hash): Promise<Uint8Array | null> {
    return this.modules.get(moduleHash.toLowerCase() as Hash)?.slice() ?? null;
  }

  async submitReceipts(receipts: SettlementReceipt[]): Promise<void> {
    this.receipts.push(...receipts);
  }

  onSessionStop(listener: (event: SessionStop) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
