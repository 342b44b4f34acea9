/**
 * Pushes settlement receipts to the settlement API (docs/protocol.md §Runner rules): every receipt
 * at once, or coalesced — only the newest receipt of each session, every flush interval and at the
 * session's end. A newer receipt acknowledges every call before it
 * (docs/contract.md §Settling receipts, step 3), so both bill the same. OutOfGas receipts are
 * always pushed at once, never held back (docs/contract.md §Settling receipts, step 5).
 */
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import type { Ledger } from './ledger.ts';

export type ReceiptPushMode = 'every' | 'coalesced';

export interface ReceiptPusherOptions {
  ledger: Ledger;
  mode: ReceiptPushMode;
  /** Coalesced: how often the newest receipt of each session is pushed. */
  flushIntervalMs: number;
  /** Receipts that could not be delivered after all retries. */
  onError?: (error: unknown, receipts: SettlementReceipt[]) => void;
}

export class ReceiptPusher {
  /** Coalesced: the newest receipt of each session not yet pushed. */
  private readonly pending = new Map<Hash, SettlementReceipt>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly options: ReceiptPusherOptions) {
    this.timer = options.mode === 'coalesced' ? setInterval(() => this.flushAll(), options.flushIntervalMs).unref() : null;
  }

  /** A new receipt of its session (receipts of one session arrive in seq order). */
  add(receipt: SettlementReceipt): void {
    if (this.options.mode === 'every' || receipt.status === CallStatus.OutOfGas) {
      // What waits for the session is older than this receipt, which acknowledges it.
      this.pending.delete(receipt.sessionId);
      this.deliver([receipt]);
      return;
    }
    this.pending.set(receipt.sessionId, receipt);
  }

  /** Receipts pushed again in one delivery (after a restart: the newest of each logged session). */
  addAll(receipts: SettlementReceipt[]): void {
    if (receipts.length > 0) this.deliver(receipts);
  }

  /** The session ended (aborted or closing): its newest receipt goes now. */
  flushSession(sessionId: Hash): void {
    const receipt = this.pending.get(sessionId);
    if (receipt === undefined) return;
    this.pending.delete(sessionId);
    this.deliver([receipt]);
  }

  /** Pushes every session's newest waiting receipt. */
  flushAll(): void {
    if (this.pending.size === 0) return;
    const receipts = [...this.pending.values()];
    this.pending.clear();
    this.deliver(receipts);
  }

  /** Pushes what waits and waits for every delivery in flight. */
  async flush(): Promise<void> {
    this.flushAll();
    await Promise.allSettled([...this.deliveries]);
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.flush();
  }

  private deliver(receipts: SettlementReceipt[]): void {
    const delivery = this.options.ledger
      .submitReceipts(receipts)
      .catch((error: unknown) => this.options.onError?.(error, receipts))
      .finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }
}
