import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/vectors.json' with { type: 'json' };
import { sha3 } from '../../contracts/hash.ts';
import { utf8Bytes } from '../../contracts/hex.ts';
import { receiptFromJson } from '../../contracts/json.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { MemoryLedger } from './ledger.ts';
import { ReceiptPusher } from './receipt-pusher.ts';

const base = receiptFromJson(vectors.settlementReceipt.json);
const receipt = (session: string, seq: bigint, status: CallStatus = CallStatus.Ok): SettlementReceipt => ({ ...base, sessionId: sha3(utf8Bytes(session)) as Hash, seq, status });

class BatchLedger extends MemoryLedger {
  readonly batches: bigint[][] = [];
  override async submitReceipts(receipts: SettlementReceipt[]): Promise<void> {
    this.batches.push(receipts.map((r) => r.seq));
    await super.submitReceipts(receipts);
  }
}

describe('ReceiptPusher', () => {
  it('every: pushes each receipt at once, in order', async () => {
    const ledger = new BatchLedger();
    const pusher = new ReceiptPusher({ ledger, mode: 'every', flushIntervalMs: 3_600_000 });
    for (const seq of [1n, 2n, 3n]) pusher.add(receipt('a', seq));
    await pusher.close();
    expect(ledger.batches).toEqual([[1n], [2n], [3n]]);
  });

  it("coalesced: only each session's newest receipt per flush, at the session's end, and OutOfGas at once", async () => {
    const ledger = new BatchLedger();
    const pusher = new ReceiptPusher({ ledger, mode: 'coalesced', flushIntervalMs: 3_600_000 });
    pusher.add(receipt('a', 1n));
    pusher.add(receipt('a', 2n));
    pusher.add(receipt('b', 1n));
    await pusher.flush();
    expect(ledger.receipts.map((r) => [r.sessionId, r.seq])).toEqual([[receipt('a', 2n).sessionId, 2n], [receipt('b', 1n).sessionId, 1n]]);
    ledger.batches.length = 0;

    pusher.add(receipt('a', 3n));
    pusher.add(receipt('a', 4n, CallStatus.OutOfGas));
    expect(ledger.batches).toEqual([[4n]]);
    pusher.add(receipt('a', 5n));
    pusher.add(receipt('b', 2n));
    pusher.flushSession(receipt('a', 5n).sessionId);
    expect(ledger.batches).toEqual([[4n], [5n]]);
    await pusher.close();
    expect(ledger.batches).toEqual([[4n], [5n], [2n]]);
  });

  it('reports a delivery that failed after its retries', async () => {
    const ledger = new MemoryLedger();
    ledger.submitReceipts = async () => {
      throw new Error('refused');
    };
    const failed: bigint[] = [];
    const pusher = new ReceiptPusher({ ledger, mode: 'every', flushIntervalMs: 1_000, onError: (_e, receipts) => failed.push(...receipts.map((r) => r.seq)) });
    pusher.add(receipt('a', 1n));
    await pusher.close();
    expect(failed).toEqual([1n]);
  });
});
