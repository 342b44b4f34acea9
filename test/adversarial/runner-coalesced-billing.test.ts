// A provider pushing only the newest receipt of each session (coalesced) must bill exactly what
// pushing every receipt bills (docs/protocol.md §Runner rules; docs/contract.md §Settling receipts,
// step 3): the newest receipt's invocation acknowledges every call before it. OutOfGas receipts go
// at once, never held back (docs/contract.md §Settling receipts, step 5). The runner's
// ReceiptPusher feeds the gas contract in both modes over the same calls.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stateDigest } from '../../contracts/gas/state.ts';
import type { Hash, SettlementReceipt } from '../../contracts/types.ts';
import { CallStatus } from '../../contracts/types.ts';
import { MemoryLedger } from '../../unikernel-runner/server/ledger.ts';
import { ReceiptPusher } from '../../unikernel-runner/server/receipt-pusher.ts';
import type { ReceiptPushMode } from '../../unikernel-runner/server/receipt-pusher.ts';
import { ADDR, FakeRunner, World } from '../support/contract-kit.ts';

/** A ledger that settles each pushed batch in the world at once, in push order. */
class SettlingLedger extends MemoryLedger {
  constructor(private readonly world: World) {
    super();
  }
  override async submitReceipts(receipts: SettlementReceipt[]): Promise<void> {
    await super.submitReceipts(receipts);
    const out = this.world.settle(receipts);
    if (!out.result.ok) throw new Error(`settle failed: ${out.result.code}`);
  }
}

function world(): { w: World; sessionId: Hash } {
  const w = new World();
  const zAppId = w.setup({ upfrontGas: 0n });
  return { w, sessionId: w.open(zAppId, 1_000_000n) };
}

type Step = 'ok' | 'outOfGas' | 'flush';

async function bill(mode: ReceiptPushMode, receipts: readonly SettlementReceipt[], steps: readonly Step[]): Promise<World> {
  const { w } = world();
  const ledger = new SettlingLedger(w);
  const pusher = new ReceiptPusher({ ledger, mode, flushIntervalMs: 3_600_000 });
  let next = 0;
  for (const step of steps) {
    if (step === 'flush') pusher.flushAll();
    else pusher.add(receipts[next++]!);
    await new Promise((resolve) => setImmediate(resolve));
  }
  // the session's end
  pusher.flushSession(receipts[0]!.sessionId);
  await pusher.close();
  return w;
}

describe('coalesced receipt pushes', () => {
  it('bill the same as pushing every receipt, whatever the calls and flush points', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Step>('ok', 'ok', 'outOfGas', 'flush'), { minLength: 1, maxLength: 12 }), async (steps) => {
        const calls = steps.filter((s) => s !== 'flush');
        fc.pre(calls.length > 0);
        const { w, sessionId } = world();
        const runner = new FakeRunner(w, sessionId);
        const receipts = calls.map((kind) => runner.run(8, { callGasLimit: kind === 'ok' ? 100_000n : 500n }));
        expect(receipts.map((r) => r.status)).toEqual(calls.map((k) => (k === 'ok' ? CallStatus.Ok : CallStatus.OutOfGas)));

        const every = await bill('every', receipts, steps);
        const coalesced = await bill('coalesced', receipts, steps);
        const last = receipts.at(-1)!;
        for (const settled of [every, coalesced]) {
          expect(settled.session(sessionId)).toMatchObject({ lastSeq: last.seq, settledGas: last.cumulativeGas, billedGas: last.cumulativeGas });
        }
        expect(coalesced.state.providers.get(ADDR.provider)).toEqual(every.state.providers.get(ADDR.provider));
        expect(coalesced.state.zApps).toEqual(every.state.zApps);
        expect(stateDigest(coalesced.state)).toBe(stateDigest(every.state));
      }),
      { numRuns: 20 },
    );
  });
});
