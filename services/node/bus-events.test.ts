import { describe, expect, it } from 'vitest';
import { sessionStopEvent } from '../../contracts/events.ts';
import type { ReceiptJson } from '../../contracts/json.ts';
import type { Hash } from '../../contracts/types.ts';
import type { HostEvent } from '../host/index.ts';
import { busEvents } from './node.ts';

const receipts = (n: number): ReceiptJson[] => Array.from({ length: n }, () => ({}) as ReceiptJson);
const HASH = `0x${'ab'.repeat(32)}` as Hash;

describe('momentum events on the bus', () => {
  it('count the inputs and the receipt copies the inputs carried, and leave the inputs in the store', () => {
    const momentum: HostEvent = {
      type: 'momentum', height: '7', hash: HASH, timestamp: '1700000000', results: [],
      inputs: [{ type: 'call', call: {} as never }, { type: 'receipts', receipts: receipts(3) }, { type: 'receipts', receipts: receipts(2) }],
    };
    expect(busEvents([momentum])).toEqual([{ type: 'momentum', height: '7', hash: HASH, timestamp: '1700000000', inputCount: 3, receiptCount: 5 }]);
  });

  it('count no receipts in a momentum of calls only, and pass other events as they are', () => {
    const stop = sessionStopEvent({ kind: 'abort', sessionId: HASH, provider: `0x${'cc'.repeat(20)}`, stopCall: true, closesAt: 1_800_000_060n, height: 8n });
    const [m, s] = busEvents([{ type: 'momentum', height: '8', hash: HASH, timestamp: '1', results: [], inputs: [{ type: 'call', call: {} as never }] }, stop]);
    expect(m).toMatchObject({ inputCount: 1, receiptCount: 0 });
    expect(s).toBe(stop);
  });
});
