/** `zgas transfer TO QSR`: moves QSR from the key's balance to another account (Transfer). */
import { parseAddress } from '../../../contracts/hex.ts';
import { parseQsrAmount, qsrText } from '../format.ts';
import type { Cli } from './context.ts';

export async function transfer(cli: Cli, [toText, amountText]: string[]): Promise<void> {
  const to = parseAddress(toText);
  const amount = parseQsrAmount(amountText ?? '');
  const signer = await cli.signer();
  const applied = await cli.execute({ name: 'Transfer', to, amount }, signer);
  const api = await cli.api();
  const [from, balanceTo] = await Promise.all([api.balance(await signer.getAddress()), api.balance(to)]);
  cli.emit({ to, amount: amount.toString(), momentumHeight: applied.momentumHeight ?? null, balance: from.toString(), balanceTo: balanceTo.toString() }, `sent ${qsrText(amount)} to ${to}: your balance ${qsrText(from)}, theirs ${qsrText(balanceTo)}`);
}
