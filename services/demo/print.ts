/** Narrates the demo's steps in the terminal: a heading per step, a few lines each, exact amounts. */
import { displayQsr } from '../../contracts/units.ts';
import { CallStatus } from '../../contracts/types.ts';
import type { DemoReporter, DemoResult } from './steps.ts';
import { expectedSlash } from './steps.ts';

/** An amount exactly: QSR with 8 decimals and its base units. */
export const amount = (value: bigint): string => `${displayQsr(value)} (${value.toString()} base units)`;
const short = (hex: string): string => (hex.length > 14 ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : hex);
const gasText = (value: bigint): string => `${value.toLocaleString('en-US')} gas`;
const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(CallStatus).map(([k, v]) => [v, k]));

export function createPrinter(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): DemoReporter {
  const line = (text = ''): void => write(text);
  const item = (text: string): void => write(`  ${text}`);
  let started = performance.now();
  return {
    step(n, title) {
      started = performance.now();
      line();
      line(`━━ Step ${n} · ${title}`);
    },
    done(key, value) {
      const tookMs = performance.now() - started;
      const printers: { [K in keyof DemoResult]: (v: DemoResult[K]) => void } = {
        zApps(v) {
          for (const z of Object.values(v.zApps)) {
            item(`${z.name}: module ${short(z.moduleHash)} (${z.moduleBytes} bytes) → zApp ${short(z.id)}`);
            item(`   TopUp ${amount(z.topUp)}; auto top-up: below ${displayQsr(z.autoTopUp.minAvailable)} refill ${displayQsr(z.autoTopUp.refill)}`);
          }
          const first = v.zApps.counter;
          const last = v.zApps.spin;
          item(`owner balance ${amount(first.ownerBalanceBefore)} → ${amount(last.ownerBalanceAfter)}`);
        },
        providers(v) {
          for (const [name, p] of [['honest', v.honest], ['dishonest', v.dishonest]] as const) {
            item(`${name} provider ${short(p.address)}: stake ${amount(p.stake)}, price ${amount(p.pricePerMgas)} per Mgas, upfront ${gasText(p.upfrontGas)}, receipt signer ${short(p.receiptSigner)}`);
          }
        },
        sessions(v) {
          for (const s of [v.counter, v.fuddor, v.spin, v.dishonest]) {
            item(`${s.label}: session ${short(s.id)}, gas limit ${gasText(s.gasLimit)}`);
            item(`   hold ${amount(s.hold)}; upfront ${gasText(s.upfrontGas)} = ${amount(s.upfrontQsr)} to the provider; the user paid nothing (balance ${displayQsr(s.userBalanceBefore)} → ${displayQsr(s.userBalanceAfter)})`);
            item(`   escrow available ${displayQsr(s.escrowBefore.available)} → ${displayQsr(s.escrowAfter.available)}, held ${displayQsr(s.escrowBefore.held)} → ${displayQsr(s.escrowAfter.held)}${s.autoToppedUp > 0n ? `; auto top-up refilled ${amount(s.autoToppedUp)}` : ''}`);
          }
        },
        calls(v) {
          for (const s of [v.counter, v.fuddor]) {
            for (const c of s.calls) item(`${s.label} #${c.seq}: "${c.input}" → "${c.output}" (${gasText(c.receipt.callGas)}, receipt signed)`);
            item(`   settled ${gasText(s.settledGas)}, billed ${gasText(s.billedGas)} = ${amount(s.billedQsr)}; provider earnings ${displayQsr(s.providerEarningsBefore)} → ${displayQsr(s.providerEarningsAfter)}`);
          }
        },
        abort(v) {
          item(`${v.label}: warm-up call #1 used ${gasText(v.warmup.receipt.callGas)}`);
          item(`call #2 spins forever; after it ran a while carol signs Abort with receipt #1 (cumulative ${gasText(v.lastReceipt.cumulativeGas)})`);
          item(`runner stopped the call after ${Math.round(v.runMs)} ms: status ${STATUS_NAMES[v.abortedReceipt.status] ?? v.abortedReceipt.status}, ${gasText(v.abortedReceipt.callGas)} burnt`);
          item(`abort cap ${gasText(v.abortCap)} → at most ${amount(v.capQsr)}`);
          item(`billed ${gasText(v.billedGas)} = ${amount(v.billedQsr)} ≤ cap ${v.billedQsr <= v.capQsr ? '✔' : '✘'}; ${gasText(v.unbilledGas)} past the cap are the provider's loss`);
          item(`carol closed the session: ${amount(v.released)} of the hold returned to the escrow`);
        },
        challenge(v) {
          item(`re-execution of bob's call: ${gasText(v.honestGas)}; the dishonest receipt claims ${gasText(v.inflatedReceipt.callGas)}`);
          item(`the inflated receipt settled: billed ${gasText(v.billedGasBeforeChallenge)}, charged ${amount(v.chargedQsr)}`);
          item(`bob challenges with the input and the pre-state → fraud proven`);
          item(`stake ${amount(v.stakeBefore)} → ${amount(v.stakeAfter)} (slashed ${amount(v.slashed)} = stake × ${v.slashFractionBps} / 10000${v.slashed === expectedSlash(v.stakeBefore, v.slashFractionBps) ? ' ✔' : ' ✘'})`);
          item(`challenger reward ${amount(v.toChallenger)} (bob ${displayQsr(v.challengerBalanceBefore)} → ${displayQsr(v.challengerBalanceAfter)})`);
          item(`zApp refund: ${amount(v.toZApp)} slashed + ${amount(v.voided)} voided earnings + ${amount(v.released)} released hold`);
          item(`   counter escrow available ${displayQsr(v.escrowBefore.available)} → ${displayQsr(v.escrowAfter.available)}`);
        },
        claim(v) {
          item(`waited ${(v.waitedMs / 1000).toFixed(1)} s for the challenge windows to pass`);
          item(`claimed ${amount(v.claimed)} (matured ${amount(v.matured)}) in momentum ${v.claimHeight}`);
          item(`provider balance ${amount(v.balanceBefore)} → ${amount(v.balanceAfter)}`);
        },
        summary(v) {
          for (const z of v.zApps) item(`escrow ${z.name.padEnd(12)} available ${amount(z.available)}, held ${amount(z.held)}`);
          for (const p of v.providers) item(`provider ${p.name.padEnd(10)} stake ${amount(p.stake)}, pending ${amount(p.pending)}, claimable ${amount(p.claimable)}`);
          item(`momentums: ${(v.momentumHeight + 1n).toString()} (height ${v.momentumHeight}), latest ${v.latestHash}`);
          item(`balances ${amount(v.totals.balances)} + escrow ${amount(v.totals.escrow)} + providers ${amount(v.totals.providers)}`);
          item(`= ${amount(v.totals.total)}; genesis supply ${amount(v.genesisSupply)}: ${v.conserved ? 'conserved to the base unit ✔' : 'NOT CONSERVED ✘'}`);
        },
      };
      (printers[key] as (v: DemoResult[typeof key]) => void)(value);
      item(`(${(tookMs / 1000).toFixed(1)} s)`);
    },
  };
}
