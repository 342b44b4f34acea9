import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_STATE_HASH, sha3 } from '../hash.ts';
import { bytesToHex, concatBytes } from '../hex.ts';
import { CallStatus } from '../types.ts';
import type { Address, GasReceipt, Hash, Method, VerifiedReceipt } from '../types.ts';
import { cost, wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { apply } from './apply.ts';
import type { ApplyOutput } from './apply.ts';
import { checkInvariants } from './invariants.ts';
import { cloneState, stateDigest, totalSupply } from './state.ts';
import type { State } from './state.ts';
import { pendingKey } from './tx.ts';
import type { Changed } from './tx.ts';
import { ADDR, ANY_PRICE, ANY_UPFRONT, EMPTY_OUTPUT_HASH, FAKE_MODULE_HASH, fakeRun, unsignedVerified, World } from '../../test/support/contract-kit.ts';
import type { KeyName } from '../../test/support/contract-kit.ts';

/** Generous: the runs are CPU-bound and the machine is shared. */
const PROPERTY_TIMEOUT_MS = 180_000;

/** What the random runs exercised, summed over all of them (asserted so the generators stay useful). */
const seen = new Map<string, number>();
const tally = (key: string): void => { seen.set(key, (seen.get(key) ?? 0) + 1); };

const ACTORS: KeyName[] = ['owner', 'provider', 'user', 'other', 'provider2'];
const SIGNERS: Record<string, Address> = { [ADDR.provider]: ADDR.receiptSigner, [ADDR.provider2]: ADDR.signer2 };

/** An honest runner's view of one session, to produce receipts and the data to challenge them. */
interface Run { pre: Uint8Array; seq: bigint; cumulative: bigint; tampered: bigint[]; calls: Map<bigint, { input: Uint8Array; pre: Uint8Array; vr: VerifiedReceipt }> }

/** Every pending earnings entry as `pendingKey → amount`. */
function pendingEntries(state: State): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [address, p] of state.providers) for (const e of p.pendingEarnings) out.set(pendingKey(address, e.claimableAt, e.sessionId), e.amount);
  return out;
}

/**
 * The host writes only the pending entries an input names: every entry that differs must be named
 * (an entry earned and voided within one input is named, unchanged, and its row written as absent).
 */
function checkPendingChanges(before: State, after: State, changed: Changed): void {
  const was = pendingEntries(before);
  const is = pendingEntries(after);
  const differ = [...new Set([...was.keys(), ...is.keys()])].filter((k) => was.get(k) !== is.get(k));
  const named = changed.pendingEarnings as ReadonlySet<string>;
  expect(differ.filter((k) => !named.has(k))).toEqual([]);
  if (differ.length > 0) tally('pending:changed');
}

class Model {
  readonly w = new World();
  private n = 0;
  readonly zApps: Hash[] = [];
  readonly sessions: Hash[] = [];
  readonly runs = new Map<Hash, Run>();
  readonly supply = totalSupply(this.w.state);
  /** The call of the last challenge re-execution upheld. */
  upheld: { input: Uint8Array; pre: Uint8Array; vr: VerifiedReceipt } | undefined;

  hash(): Hash {
    return sha3(new Uint8Array([1, this.n >> 16, (this.n >> 8) & 255, this.n++ & 255]));
  }

  call(who: KeyName, method: Method<VerifiedReceipt>): ApplyOutput {
    const from = ADDR[who];
    const before = cloneState(this.w.state);
    const out = apply(this.w.state, { kind: 'call', from, nonce: this.w.nonceOf(from), callHash: this.hash(), method }, this.w.context());
    tally(`${method.name}:${out.result.ok ? 'ok' : out.result.code}`);
    checkPendingChanges(before, this.w.state, out.changed);
    if (out.changed.removedSessions.size > 0) tally('sessions:removed');
    if (out.result.ok) {
      for (const e of out.result.events) if (e.type === 'FraudProven') tally(`fraud:${e.kind}`);
      if (out.result.created !== undefined) (method.name === 'RegisterZApp' ? this.zApps : this.sessions).push(out.result.created);
    } else {
      // a failed call changes nothing but its sender's nonce (closed sessions due still leave first)
      for (const id of out.changed.removedSessions) before.sessions.delete(id);
      const acc = before.accounts.get(from) ?? { balance: 0n as Qsr, nonce: 0n };
      before.accounts.set(from, { ...acc, nonce: acc.nonce + 1n });
      expect(stateDigest(this.w.state)).toBe(stateDigest(before));
    }
    return out;
  }

  /** A Settle batch submitted as a receipts input (no sender). */
  settle(receipts: VerifiedReceipt[]): ApplyOutput {
    const before = cloneState(this.w.state);
    const out = apply(this.w.state, { kind: 'receipts', receipts }, this.w.context());
    checkPendingChanges(before, this.w.state, out.changed);
    return out;
  }

  /** The next receipt of a session (honest unless `tamper`), recorded for later challenges. */
  receipt(sessionId: Hash, inputBytes: number, tamper: number): VerifiedReceipt | undefined {
    const s = this.w.state.sessions.get(sessionId);
    if (s === undefined) return undefined;
    const run: Run = this.runs.get(sessionId) ?? { pre: new Uint8Array(0), seq: 0n, cumulative: 0n, tampered: [], calls: new Map() };
    this.runs.set(sessionId, run);
    const last = run.calls.get(s.lastSeq); // the settled receipt, if this run produced it
    if (tamper === 5 && last !== undefined) {
      // equivocation: a second, different result for the newest request; or a second request for its seq
      const { signature: _s, invocationSignature: _i, ...fields } = last.vr.receipt;
      const other = inputBytes % 2 === 0 ? { outputHash: sha3(new Uint8Array([5])) } : { inputHash: sha3(new Uint8Array([6])) };
      return unsignedVerified({ ...fields, ...other }, last.vr.signer, last.vr.invocationSigner);
    }
    const left = s.gasLimit - run.cumulative;
    if (left <= 0n) return undefined;
    const input = new Uint8Array(inputBytes).fill(inputBytes);
    const callGasLimit = (tamper === 8 ? left / 2n + 1n : left) as Gas;
    let out = fakeRun(run.pre, input, callGasLimit);
    const preStateHash = run.pre.length === 0 ? EMPTY_STATE_HASH : sha3(run.pre);
    if (tamper === 7 && out.callGas > 10n) out = { callGas: (out.callGas / 2n) as Gas, postStateHash: preStateHash, outputHash: EMPTY_OUTPUT_HASH, status: CallStatus.Aborted };
    run.seq += 1n;
    let r: GasReceipt = {
      sessionId, seq: run.seq, callGasLimit, callGas: out.callGas, cumulativeGas: (run.cumulative + out.callGas) as Gas, inputHash: sha3(input),
      preStateHash, postStateHash: out.postStateHash, outputHash: out.outputHash, status: out.status,
    };
    if (tamper === 1) r = { ...r, outputHash: sha3(new Uint8Array([7])) }; // re-execution disproves it
    if (tamper === 4) r = { ...r, preStateHash: sha3(new Uint8Array([4])) }; // contradicts the settled post-state
    if (tamper === 2) r = { ...r, callGas: (r.callGas + 3n) as Gas, cumulativeGas: (r.cumulativeGas + 3n) as Gas }; // overcharge
    const signer = tamper === 3 ? ADDR.other : SIGNERS[s.provider] ?? s.receiptSigner;
    const vr = unsignedVerified(r, signer, tamper === 6 ? ADDR.other : s.user);
    run.calls.set(run.seq, { input, pre: run.pre, vr });
    if (tamper === 1 || tamper === 2) run.tampered.push(run.seq);
    run.cumulative = r.cumulativeGas;
    if (out.status === CallStatus.Ok) run.pre = concatBytes(run.pre, input);
    return vr;
  }

  check(): void {
    checkInvariants(this.w.state);
    expect(totalSupply(this.w.state)).toBe(this.supply);
    // every committed state reads back
    expect(stateDigest(cloneState(this.w.state))).toBe(stateDigest(this.w.state));
  }
}

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);

type Step = { op: number; who: number; a: number; b: number; amount: bigint; flag: boolean };
const step = fc.record({ op: fc.nat(24), who: fc.nat(5), a: fc.nat(50), b: fc.nat(50), amount: fc.bigInt(0n, 3_000_000n), flag: fc.boolean() });
const outcomeKey = (o: { outcome: string; code?: string; kind?: string }): string => (o.outcome === 'Rejected' ? `receipt:${o.code}` : o.outcome === 'Fraud' ? `fraud:${o.kind}` : `receipt:${o.outcome}`);

function run(m: Model, s: Step): void {
  const who = ACTORS[s.who % ACTORS.length]!;
  const zAppId = pick(m.zApps, s.a) ?? FAKE_MODULE_HASH;
  const sessionId = pick(m.sessions, s.a) ?? FAKE_MODULE_HASH;
  const provider = s.b % 2 === 0 ? ADDR.provider : ADDR.provider2;
  const gas = (s.amount % 2_000_000n) as Gas;
  const amount = s.amount as Qsr;
  switch (s.op) {
    case 0: m.call(who, { name: 'Transfer', to: ADDR[ACTORS[s.b % ACTORS.length]!], amount }); break;
    case 1: m.call(who, { name: 'RegisterZApp', moduleHash: FAKE_MODULE_HASH, maxPricePerMgas: BigInt(s.b * 100_000) as Qsr, maxGasPerSession: (gas + 100_000n) as Gas, openToAll: s.flag, openGasPerDay: (gas * 2n) as Gas }); break;
    case 2: m.call(who, { name: 'SetPolicy', zAppId, maxPricePerMgas: BigInt(s.b * 100_000) as Qsr, maxGasPerSession: (gas + 10_000n) as Gas, openToAll: s.flag, openGasPerDay: gas }); break;
    case 3: m.call(who, { name: 'SetAutoTopUp', zAppId, minAvailable: amount, refill: (amount / BigInt(s.b + 1)) as Qsr }); break;
    case 4: case 5: m.call(who, { name: 'TopUp', zAppId, amount: (amount * 10n) as Qsr }); break;
    case 6: m.call(who, { name: 'WithdrawEscrow', zAppId, amount }); break;
    case 7: m.call(who, { name: 'RegisterProvider', receiptSigner: SIGNERS[ADDR[who]] ?? ADDR.other, pricePerMgas: BigInt(s.b * 50_000) as Qsr, upfrontGas: BigInt(s.a * 100) as Gas, stake: (wholeQsr(1_000) + amount) as Qsr }); break;
    case 8: m.call(who, s.flag ? { name: 'UpdateOffer', receiptSigner: SIGNERS[ADDR[who]] ?? ADDR.other, pricePerMgas: BigInt(s.b * 50_000) as Qsr, upfrontGas: BigInt(s.a * 100) as Gas } : s.a % 2 === 0 ? { name: 'Retire' } : { name: 'AddStake', amount }); break;
    case 9: m.call(who, s.flag ? { name: 'Unbond', amount: (amount * 1_000n) as Qsr } : { name: 'WithdrawUnbonded' }); break;
    case 10: case 11: m.call(who, {
      name: 'OpenSession', zAppId, provider, user: s.flag ? ADDR[who] : ADDR[ACTORS[s.b % ACTORS.length]!], gasLimit: (gas + 1_000n) as Gas, durationSeconds: BigInt(s.b * 10 + 1),
      maxPricePerMgas: s.a % 7 === 0 ? (BigInt(s.b) * 40_000n) as Qsr : ANY_PRICE, maxUpfrontGas: s.a % 5 === 0 ? BigInt(s.b * 100) as Gas : ANY_UPFRONT,
    }); break;
    case 12: m.call(who, { name: 'ExtendSession', sessionId, extraGas: (gas / 10n) as Gas }); break;
    case 13: m.call(who, { name: 'Abort', sessionId }); break;
    case 14: m.call(who, s.flag ? { name: 'CloseSession', sessionId } : { name: 'FinalizeSession', sessionId }); break;
    case 15: m.call(s.flag ? (s.b % 2 === 0 ? 'provider' : 'provider2') : who, { name: 'ClaimEarnings' }); break;
    case 16: case 17: case 23: {
      const receipts: VerifiedReceipt[] = [];
      for (let i = 0; i <= s.b % 4; i++) {
        const vr = m.receipt(pick(m.sessions, s.a + i) ?? sessionId, (s.b + i) % 40, s.flag ? (s.a + i) % 9 : 0);
        if (vr !== undefined) receipts.push(vr);
      }
      if (receipts.length === 0) break;
      const out = s.op === 17 ? m.call(who, { name: 'Settle', receipts }) : m.settle(receipts);
      expect(out.result.ok).toBe(true);
      if (out.result.ok) for (const o of out.result.outcomes!) tally(outcomeKey(o));
      break;
    }
    case 18: case 20: {
      // challenge a receipt: with `flag`, one the runner tampered with (in any session)
      const runs = [...m.runs.values()].filter((r) => r.tampered.length > 0);
      const r = s.flag ? pick(runs, s.a) : m.runs.get(sessionId);
      const seq = r === undefined ? 0n : s.flag ? pick(r.tampered, s.b)! : BigInt(1 + (s.b % Number(r.seq || 1n)));
      // op 20 without `flag` challenges the last upheld receipt again
      const c = s.op === 20 && !s.flag && m.upheld !== undefined ? m.upheld : r?.calls.get(seq);
      if (c !== undefined) {
        const out = m.call(who, { name: 'Challenge', receipt: c.vr, input: bytesToHex(c.input), preState: bytesToHex(c.pre) });
        if (out.result.ok) tally(`challenge:${out.result.challenge!.outcome}`);
        if (out.result.ok && out.result.challenge!.outcome === 'Upheld') {
          m.upheld = c;
          if (s.b % 2 === 0) m.call(who, { name: 'Challenge', receipt: c.vr, input: bytesToHex(c.input), preState: bytesToHex(c.pre) }); // judged once
        }
      }
      break;
    }
    case 19: {
      // resubmit receipts already produced (settled, skipped or rejected), in any order
      const old = [...m.runs.values()].flatMap((r) => [...r.calls.values()].map((c) => c.vr));
      if (old.length === 0) break;
      const batch = [old[s.a % old.length]!, old[s.b % old.length]!];
      const out = m.settle(batch);
      if (out.result.ok) for (const o of out.result.outcomes!) tally(outcomeKey(o));
      break;
    }
    default: m.w.now += BigInt(s.b * 40); // time passes
  }
  m.check();
}

describe('random interleavings of every method', () => {
  it('conserve the supply, keep every session within its hold and its receipts, and fail atomically', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 20, maxLength: 80 }), (steps) => {
      const m = new Model();
      // a funded zApp, both providers and an open session to start from
      const zAppId = m.w.setup({ price: 1_000_000n, upfrontGas: 1_000n, openToAll: true, openGasPerDay: 1_500_000n });
      m.zApps.push(zAppId);
      m.call('provider2', { name: 'RegisterProvider', receiptSigner: ADDR.signer2, pricePerMgas: 500_000n as Qsr, upfrontGas: 0n as Gas, stake: wholeQsr(2_000) });
      m.call('owner', { name: 'OpenSession', zAppId, provider: ADDR.provider, user: ADDR.user, gasLimit: 500_000n as Gas, durationSeconds: 600n, maxPricePerMgas: ANY_PRICE, maxUpfrontGas: ANY_UPFRONT });
      for (const s of steps) run(m, s);
      for (const s of m.w.state.sessions.values()) {
        expect(cost(s.billedGas, s.price)).toBeLessThanOrEqual(s.hold);
        expect(s.billedGas <= (s.settledGas > s.upfrontGas ? s.settledGas : s.upfrontGas)).toBe(true);
      }
    }), { numRuns: 150 });
    for (const key of [
      'OpenSession:ok', 'OpenSession:OfferChanged', 'OpenSession:OpenGasPerDayExceeded', 'Abort:ok', 'CloseSession:ok', 'FinalizeSession:ok', 'Retire:ok',
      'challenge:Upheld', 'challenge:Fraud', 'Challenge:AlreadyJudged', 'ClaimEarnings:ok', 'receipt:Settled', 'receipt:Duplicate', 'receipt:InvalidSigner',
      'receipt:InvalidInvocation', 'receipt:ConflictingInvocation', 'receipt:InvalidReceipt', 'fraud:challenge', 'fraud:contradiction', 'fraud:equivocation',
      'ExtendSession:ok', 'WithdrawEscrow:ok', 'Unbond:ok', 'sessions:removed', 'pending:changed',
    ]) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  }, PROPERTY_TIMEOUT_MS);
});

describe('receipt streams', () => {
  /** Three sessions, each with an honest chain of receipts; returns the world and the receipts. */
  function chains(lengths: number[], gasSeed: number): { m: Model; receipts: VerifiedReceipt[] } {
    const m = new Model();
    const zAppId = m.w.setup({ price: 1_234_567n, upfrontGas: 1_500n });
    const receipts: VerifiedReceipt[] = [];
    lengths.forEach((len) => {
      const id = m.w.open(zAppId, 5_000_000n, 600n);
      m.sessions.push(id);
      for (let i = 0; i < len; i++) receipts.push(m.receipt(id, (gasSeed * (i + 3)) % 37, 0)!);
    });
    return { m, receipts };
  }

  const delivery = fc.record({
    lengths: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
    gasSeed: fc.integer({ min: 1, max: 1_000 }),
    order: fc.array(fc.nat(), { maxLength: 40 }),
    extras: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
    cuts: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
    called: fc.boolean(),
  });

  it('any order, batching and duplication of the same consistent receipts ends in the same state', () => {
    fc.assert(fc.property(delivery, ({ lengths, gasSeed, order, extras, cuts, called }) => {
      const reference = chains(lengths, gasSeed);
      const all = reference.receipts;
      expect(reference.m.w.settle(all).result.ok).toBe(true);
      const expected = stateDigest(reference.m.w.state);

      const { m, receipts } = chains(lengths, gasSeed);
      // a permutation of every receipt, then duplicates inserted anywhere
      const stream = receipts.map((r, i) => ({ r, k: order[i] ?? i })).sort((a, b) => a.k - b.k).map((x) => x.r);
      for (const [pos, idx] of extras) stream.splice(pos % (stream.length + 1), 0, receipts[idx % receipts.length]!);
      let at = 0;
      let c = 0;
      while (at < stream.length) {
        const size = cuts[c++ % cuts.length]!;
        const batch = stream.slice(at, at + size);
        at += size;
        const before = stateDigest(m.w.state);
        const out = called ? m.call('other', { name: 'Settle', receipts: batch }) : m.w.settle(batch);
        expect(out.result.ok).toBe(true);
        const outcomes = out.result.ok ? out.result.outcomes! : [];
        expect(outcomes.every((o) => o.outcome === 'Settled' || o.outcome === 'Duplicate')).toBe(true);
        if (!called && outcomes.every((o) => o.outcome === 'Duplicate')) expect(stateDigest(m.w.state)).toBe(before);
        m.check();
      }
      if (called) {
        // the Settle calls moved the caller's nonce only; compare everything else
        m.w.state.accounts.set(ADDR.other, { ...m.w.state.accounts.get(ADDR.other)!, nonce: reference.m.w.state.accounts.get(ADDR.other)!.nonce });
      }
      expect(stateDigest(m.w.state)).toBe(expected);
      // applying everything again changes nothing
      const again = m.w.settle(receipts.slice(0, 1_000));
      expect(again.result.ok && again.result.outcomes!.every((o) => o.outcome === 'Duplicate')).toBe(true);
      expect(stateDigest(m.w.state)).toBe(expected);
    }), { numRuns: 200 });
  }, PROPERTY_TIMEOUT_MS);
});
