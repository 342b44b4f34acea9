/** Narrates the demo's steps in the terminal: a heading per step, a few lines each, exact amounts. */
import { displayQsr } from '../../contracts/units.ts';
import { STATUS_NAMES } from './calls.ts';
import { expectedSlash } from './fraud.ts';
import type { DemoReporter, DemoResult } from './steps.ts';

/** An amount exactly: QSR with 8 decimals and its base units. */
export const amount = (value: bigint): string => `${displayQsr(value)} (${value.toString()} base units)`;
const short = (hex: string): string => (hex.length > 14 ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : hex);
const gasText = (value: bigint): string => `${value.toLocaleString('en-US')} gas`;
const ok = (holds: boolean): string => (holds ? '✔' : '✘');
const signed = (value: bigint): string => (value < 0n ? `−${displayQsr(-value)}` : `+${displayQsr(value)}`);

export function createPrinter(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): DemoReporter {
  const line = (text = ''): void => write(text);
  const item = (text: string): void => write(`  ${text}`);
  let started = performance.now();
  const printers: { [K in keyof DemoResult]: (v: DemoResult[K]) => void } = {
    zApps(v) {
      for (const z of Object.values(v.zApps)) {
        item(`${z.name}: module ${short(z.moduleHash)} (${z.moduleBytes} bytes) → zApp ${short(z.id)}${z.zApp.policy.openToAll ? ', open to all' : ''}`);
        item(`   TopUp ${amount(z.topUp)}; auto top-up: below ${displayQsr(z.autoTopUp.minAvailable)} refill ${displayQsr(z.autoTopUp.refill)}`);
      }
      item(`owner balance ${amount(v.ownerBalanceBefore)} → ${amount(v.ownerBalanceAfter)}`);
    },
    providers(v) {
      for (const p of [v.honest, v.dishonest, v.mallory]) {
        item(`${p.name} provider ${short(p.address)}: stake ${amount(p.stake)}, price ${amount(p.pricePerMgas)} per Mgas, upfront ${gasText(p.upfrontGas)}, receipt signer ${short(p.receiptSigner)}`);
      }
    },
    sessions(v) {
      for (const s of [v.counter, v.fuddor, v.closing, v.spin, v.dishonest]) {
        item(`${s.label}: session ${short(s.id)}, gas limit ${gasText(s.gasLimit)}`);
        const upfront = s.upfrontGas > 0n ? `upfront ${gasText(s.upfrontGas)} = ${amount(s.upfrontQsr)} paid to the provider at once` : 'no upfront gas (opened by the user)';
        item(`   hold ${amount(s.hold)}; ${upfront}; the user paid nothing (balance ${displayQsr(s.userBalanceBefore)} → ${displayQsr(s.userBalanceAfter)})`);
        item(`   escrow available ${displayQsr(s.escrowBefore.available)} → ${displayQsr(s.escrowAfter.available)}, held ${displayQsr(s.escrowBefore.held)} → ${displayQsr(s.escrowAfter.held)}${s.autoToppedUp > 0n ? `; auto top-up refilled ${amount(s.autoToppedUp)}` : ''}`);
      }
    },
    calls(v) {
      for (const s of [v.counter, v.fuddor]) {
        for (const c of s.calls) item(`${s.label} #${c.seq}: "${c.input}" → "${c.output}" (${gasText(c.receipt.callGas)}; receipt checked, acknowledged by invocation #${c.seq + 1n})`);
        const held = s.verifications.filter((x) => x.disproved.length === 0).length;
        item(`   re-executed by the client: ${held}/${s.verifications.length} receipts hold`);
        item(`   settled ${gasText(s.settledGas)}, billed ${gasText(s.billedGas)} = ${amount(s.billedQsr)}; provider earnings ${displayQsr(s.providerEarningsBefore)} → ${displayQsr(s.providerEarningsAfter)}`);
      }
    },
    close(v) {
      item(`${v.label}: ${v.calls.length} calls, ${gasText(v.calls.at(-1)?.receipt.cumulativeGas ?? 0n)} in all, on a runner that pushes receipts only when a session stops`);
      item(`erin closes at once: applied in momentum ${v.closeHeight}; status ${v.atClose.status} until closesAt ${v.closesAt}; the runner runs no new call`);
      item(`the runner then pushed receipt #${v.settled.lastSeq} (it acknowledges every call before it): settled in momentum ${v.settledHeight}, after the close ${v.settledHeight > v.closeHeight ? '✔' : '✘'}`);
      item(`billed ${gasText(BigInt(v.settled.billedGas))} — closing never takes from the provider what it earned`);
    },
    abort(v) {
      item(`${v.label}: warm-up call #1 used ${gasText(v.warmup.receipt.callGas)}`);
      item(`call #2 spins with a limit of ${gasText(v.abortedReceipt.callGasLimit)}; carol signs Abort and sends it to the API and the runner${v.runnerStopped ? ' (the runner took it at once)' : ''}`);
      item(`the runner stopped the call after ${Math.round(v.runMs)} ms: status ${STATUS_NAMES[v.abortedReceipt.status] ?? v.abortedReceipt.status}, ${gasText(v.abortedReceipt.callGas)} burnt`);
      item(`billed ${gasText(v.billedGas)} = acknowledged ${gasText(v.abortedReceipt.cumulativeGas - v.abortedReceipt.callGas)} + min(call, abortGraceGas ${gasText(v.abortGraceGas)}) ${ok(v.billedGas === v.expectedBilledGas)} = ${amount(v.billedQsr)}`);
      item(`${gasText(v.unbilledGas)} past the grace are the provider's loss; session ${v.session.status} until ${v.closesAt}`);
    },
    challenge(v) {
      const r = v.inflatedReceipt;
      item(`bob's call on the dishonest runner: receipt for ${gasText(r.callGas)}; every check without re-execution passes, the client acknowledges it`);
      item(`the receipt settled: billed ${gasText(v.billedGasBeforeChallenge)}, charged ${amount(v.chargedQsr)}`);
      item(`bob's client re-executes the call before the deadline: ${gasText(v.verification.rerun.callGas)} → disproves ${v.verification.disproved.join(', ')}; it challenges (bond ${displayQsr(v.challengeBond)})`);
      item(`stake ${amount(v.providerBefore.stake)} → ${amount(v.providerAfter.stake)} (slashed ${amount(v.fraud.slashed)} = stake × bps / 10000 ${ok(v.fraud.slashed === expectedSlash(v.providerBefore.stake + v.providerBefore.unbonding, v.slashFractionBps))})`);
      item(`challenger reward ${amount(v.fraud.reward)} = ${v.challengerRewardBps} bps of the slash (bob ${displayQsr(v.challengerBalanceBefore)} → ${displayQsr(v.challengerBalanceAfter)}); burned ${amount(v.fraud.burned)}`);
      item(`voided earnings ${amount(v.fraud.voided)} and the released hold ${amount(v.released)} return to counter: available ${displayQsr(v.escrowBefore.available)} → ${displayQsr(v.escrowAfter.available)}`);
    },
    selfSlash(v) {
      item(`mallory's accomplice opens a session, mallory signs a receipt re-execution disproves, the accomplice challenges it`);
      item(`slashed ${amount(v.fraud.slashed)}: ${amount(v.fraud.reward)} to the accomplice, ${amount(v.fraud.burned)} burned`);
      item(`mallory + accomplice: ${amount(v.pairBefore)} → ${amount(v.pairAfter)} (${signed(v.pairAfter - v.pairBefore)}): slashing yourself loses money ${ok(v.pairAfter < v.pairBefore)}`);
    },
    finalize(v) {
      for (const s of v.sessions) {
        item(`${s.label}: finalized after closesAt ${s.closesAt}; ${amount(s.released)} of the hold returned = hold − cost(billed) ${ok(s.released === s.expectedReleased)}; status ${s.status}`);
      }
    },
    claim(v) {
      if (v.earningsBefore !== null) {
        item(`before: claimable now ${amount(BigInt(v.earningsBefore.claimableNow))}, pending ${amount(BigInt(v.earningsBefore.pending))}, next maturity ${v.earningsBefore.nextClaimableAt ?? '—'}`);
      }
      item(`waited ${(v.waitedMs / 1000).toFixed(1)} s for the challenge windows to pass`);
      item(`claimed ${amount(v.claimed)} (matured ${amount(v.matured)}) in momentum ${v.claimHeight}`);
      item(`provider balance ${amount(v.balanceBefore)} → ${amount(v.balanceAfter)}`);
    },
    summary(v) {
      for (const z of v.zApps) item(`escrow ${z.name.padEnd(12)} available ${amount(z.available)}, held ${amount(z.held)}`);
      for (const p of v.providers) item(`provider ${p.name.padEnd(10)} stake ${amount(p.stake)}, pending ${amount(p.pending)}, claimable ${amount(p.claimable)}`);
      item(`momentums: ${(v.momentumHeight + 1n).toString()} (height ${v.momentumHeight}), latest ${v.latestHash}`);
      item(`balances ${amount(v.totals.balances)} + escrow ${amount(v.totals.escrow)} + providers ${amount(v.totals.providers)} + burned ${amount(v.totals.burned)}`);
      item(`= ${amount(v.totals.total)}; genesis supply ${amount(v.genesisSupply)}: ${v.conserved ? 'conserved to the base unit ✔' : 'NOT CONSERVED ✘'}`);
    },
  };
  return {
    step(n, title) {
      started = performance.now();
      line();
      line(`━━ Step ${n} · ${title}`);
    },
    done(key, value) {
      const tookMs = performance.now() - started;
      (printers[key] as (v: DemoResult[typeof key]) => void)(value);
      item(`(${(tookMs / 1000).toFixed(1)} s)`);
    },
  };
}
