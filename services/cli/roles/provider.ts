/** `zgas provider register|offer|stake|unbond|withdraw|claim|retire|status`: the provider's commands. */
import { ZgasError } from '../../../contracts/errors.ts';
import { parseAddress } from '../../../contracts/hex.ts';
import type { Address } from '../../../contracts/types.ts';
import { parseGas, parseQsr } from '../../../contracts/units.ts';
import type { ProviderView, SettlementClient } from '../../client/index.ts';
import { request } from '../../client/index.ts';
import { durationText, groupDigits, parseGasAmount, parseQsrAmount, qsrText, table, timeText } from '../format.ts';
import { withProgress } from '../progress.ts';
import type { Cli } from './context.ts';

/** The provider view of GET /v1/providers/:address, with what can be claimed at the API's chain time. */
interface Earnings {
  at: string;
  claimableNow: string;
  pending: string;
  nextClaimableAt: string | null;
  allClaimableAt: string | null;
  schedule: Array<{ claimableAt: string; amount: string }>;
  unbondedWithdrawableAt: string | null;
}
type ProviderWithEarnings = ProviderView & { earnings: Earnings };

/** How often a waiting command reads the provider again. */
const WAIT_POLL_MS = 500;
/** The longest `claim --wait` and `withdraw --wait` wait. */
const WAIT_MAX_MS = 30 * 60_000;

async function providerWithEarnings(api: SettlementClient, address: Address): Promise<ProviderWithEarnings> {
  await api.provider(address); // NotFound naming the provider when there is none
  return (await request<ProviderWithEarnings>(`${api.baseUrl}/v1/providers/${address}`)).body;
}

async function me(cli: Cli): Promise<Address> {
  const address = await cli.keyAddress();
  if (address === undefined) throw new ZgasError('KeyNotFound', { reason: 'name the provider with an address or --key' });
  return address;
}

export async function register(cli: Cli, _args: string[], opts: Record<string, unknown>): Promise<void> {
  const receiptSigner = parseAddress(opts['receiptSigner']);
  const pricePerMgas = parseQsrAmount(String(opts['price']), 'price');
  const upfrontGas = parseGasAmount(String(opts['upfrontGas'] ?? '0'), 'upfront-gas');
  const stake = parseQsrAmount(String(opts['stake']), 'stake');
  const address = await me(cli);
  await cli.execute({ name: 'RegisterProvider', receiptSigner, pricePerMgas, upfrontGas, stake });
  const p = await (await cli.api()).provider(address);
  cli.emit({ provider: p }, `registered provider ${address}: stake ${qsrText(p.stake)}, ${qsrText(p.pricePerMgas)} per Mgas, upfront ${groupDigits(p.upfrontGas)} gas, receipts signed by ${p.receiptSigner}`);
}

export async function offer(cli: Cli, _args: string[], opts: Record<string, unknown>): Promise<void> {
  const address = await me(cli);
  const api = await cli.api();
  const current = await api.provider(address);
  await cli.execute({
    name: 'UpdateOffer',
    receiptSigner: opts['receiptSigner'] === undefined ? parseAddress(current.receiptSigner) : parseAddress(opts['receiptSigner']),
    pricePerMgas: opts['price'] === undefined ? parseQsr(current.pricePerMgas) : parseQsrAmount(String(opts['price']), 'price'),
    upfrontGas: opts['upfrontGas'] === undefined ? parseGas(current.upfrontGas) : parseGasAmount(String(opts['upfrontGas']), 'upfront-gas'),
  });
  const p = await api.provider(address);
  cli.emit({ provider: p }, `offer: ${qsrText(p.pricePerMgas)} per Mgas, upfront ${groupDigits(p.upfrontGas)} gas, signer ${p.receiptSigner}; accepting new sessions (open sessions keep their terms)`);
}

export async function stake(cli: Cli, [amountText]: string[]): Promise<void> {
  const amount = parseQsrAmount(amountText ?? '');
  const address = await me(cli);
  await cli.execute({ name: 'AddStake', amount });
  const p = await (await cli.api()).provider(address);
  cli.emit({ amount: amount.toString(), stake: p.stake }, `staked ${qsrText(amount)}: stake ${qsrText(p.stake)}`);
}

export async function unbond(cli: Cli, [amountText]: string[]): Promise<void> {
  const amount = parseQsrAmount(amountText ?? '');
  const address = await me(cli);
  await cli.execute({ name: 'Unbond', amount });
  const p = await providerWithEarnings(await cli.api(), address);
  const at = p.earnings.unbondedWithdrawableAt;
  cli.emit({ amount: amount.toString(), stake: p.stake, unbonding: p.unbonding, withdrawableAt: at }, `unbonding ${qsrText(amount)} (still slashable); stake ${qsrText(p.stake)}; withdrawable from ${at === null ? '?' : timeText(at)}`);
}

export async function withdraw(cli: Cli, _args: string[], opts: Record<string, unknown>): Promise<void> {
  const address = await me(cli);
  const api = await cli.api();
  if (opts['wait'] === true) {
    await waitFor(cli, api, address, 'waiting until the unbonded stake is released', (p) => {
      const at = p.earnings.unbondedWithdrawableAt;
      if (at === null) throw new ZgasError('NothingToWithdraw', { provider: address, reason: 'nothing is unbonding' });
      return BigInt(at) <= BigInt(p.earnings.at) ? null : `chain time ${timeText(p.earnings.at)}, released at ${timeText(at)}`;
    });
  }
  const before = await api.balance(address);
  await cli.execute({ name: 'WithdrawUnbonded' });
  const after = await api.balance(address);
  cli.emit({ withdrawn: (after - before).toString(), balance: after.toString() }, `withdrew ${qsrText(after - before)} of unbonded stake: balance ${qsrText(after)}`);
}

export async function claim(cli: Cli, _args: string[], opts: Record<string, unknown>): Promise<void> {
  const address = await me(cli);
  const api = await cli.api();
  if (opts['wait'] === true) {
    await waitFor(cli, api, address, 'waiting for the challenge window to pass', (p) => {
      const { pending, claimableNow, allClaimableAt, at } = p.earnings;
      if (BigInt(pending) === 0n) {
        if (BigInt(claimableNow) === 0n) throw new ZgasError('NothingToClaim', { provider: address, reason: 'no earnings, pending or claimable' });
        return null;
      }
      return `${qsrText(claimableNow)} claimable, ${qsrText(pending)} pending until ${allClaimableAt === null ? '?' : timeText(allClaimableAt)} (chain time ${timeText(at)})`;
    });
  }
  const before = await api.balance(address);
  await cli.execute({ name: 'ClaimEarnings' });
  const after = await api.balance(address);
  const p = await providerWithEarnings(api, address);
  cli.emit({ claimed: (after - before).toString(), balance: after.toString(), pending: p.earnings.pending }, `claimed ${qsrText(after - before)}: balance ${qsrText(after)}; still pending ${qsrText(p.earnings.pending)}`);
}

export async function retire(cli: Cli): Promise<void> {
  const address = await me(cli);
  await cli.execute({ name: 'Retire' });
  const p = await (await cli.api()).provider(address);
  cli.emit({ provider: p }, `retired: no new sessions; ${p.liveSessions} open sessions run on; \`zgas provider offer\` accepts sessions again`);
}

export async function status(cli: Cli, [addressArg]: string[]): Promise<void> {
  const address = addressArg === undefined ? await me(cli) : parseAddress(addressArg);
  const p = await providerWithEarnings(await cli.api(), address);
  const e = p.earnings;
  const now = BigInt(e.at);
  const unbonding = p.unbonding.reduce((sum, u) => sum + BigInt(u.amount), 0n);
  const when = (t: string | null): string => (t === null ? '—' : `${timeText(t)} (in ${durationText(BigInt(t) - now)})`);
  cli.emit(p, () => table([
    ['provider', p.address],
    ['accepting', p.accepting ? 'yes' : 'no (retired)'],
    ['offer', `${qsrText(p.pricePerMgas)} per Mgas, upfront ${groupDigits(p.upfrontGas)} gas, signer ${p.receiptSigner}`],
    ['stake', qsrText(p.stake)],
    ['unbonding', unbonding === 0n ? '0 QSR' : `${qsrText(unbonding)}, withdrawable from ${when(e.unbondedWithdrawableAt)}`],
    ['pending', qsrText(e.pending)],
    ['claimable now', qsrText(e.claimableNow)],
    ['rest claimable', BigInt(e.pending) === 0n ? '—' : `next ${when(e.nextClaimableAt)}, all ${when(e.allClaimableAt)}`],
    ['live sessions', String(p.liveSessions)],
    ['chain time', timeText(e.at)],
  ]));
}

/** Polls the provider until `check` says nothing is left to wait for (null), with progress on stderr. */
async function waitFor(cli: Cli, api: SettlementClient, address: Address, label: string, check: (p: ProviderWithEarnings) => string | null): Promise<void> {
  const deadline = Date.now() + WAIT_MAX_MS;
  await withProgress(label, async (progress) => {
    for (;;) {
      const detail = check(await providerWithEarnings(api, address));
      if (detail === null) return;
      progress.update(detail);
      if (Date.now() > deadline) throw new ZgasError('NotReady', { reason: `${label}: gave up after ${WAIT_MAX_MS / 60_000} minutes` });
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }, { quiet: cli.json });
}
