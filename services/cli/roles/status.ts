/** `zgas status ADDRESS`: any address — its account, its provider record, the zApps it owns. */
import { parseAddress, sameAddress } from '../../../contracts/hex.ts';
import { request } from '../../client/index.ts';
import type { ProviderView } from '../../client/index.ts';
import { groupDigits, qsrText, table } from '../format.ts';
import type { Cli } from './context.ts';

interface OwnedZApp {
  id: string;
  owner: string;
  available: string;
  held: string;
}

export async function status(cli: Cli, [addressArg]: string[]): Promise<void> {
  const address = parseAddress(addressArg);
  const api = await cli.api();
  const [account, provider, zApps] = await Promise.all([api.getAccount(address), api.getProvider(address), ownedZApps(cli.apiUrl, address)]);
  const balance = account?.balance ?? '0';
  const nonce = account?.nonce ?? '0';
  cli.emit({ address, balance, nonce, provider, zApps }, () => table([
    ['address', address],
    ['balance', qsrText(balance)],
    ['nonce', nonce],
    ['provider', provider === null ? 'no' : providerLine(provider)],
    ['zApps owned', zApps.length === 0 ? 'none' : zApps.map((z) => `${z.id} (available ${qsrText(z.available)}, held ${qsrText(z.held)})`).join('\n             ')],
  ]));
}

const providerLine = (p: ProviderView): string =>
  `stake ${qsrText(p.stake)}, ${qsrText(p.pricePerMgas)} per Mgas, pending ${qsrText(p.pendingTotal)}, claimable ${qsrText(p.claimable)}, ${groupDigits(String(p.liveSessions))} live sessions${p.accepting ? '' : ', retired'}`;

/** The zApps the dashboard's overview lists for this owner (the API has no index by owner). */
async function ownedZApps(apiUrl: string, owner: string): Promise<OwnedZApp[]> {
  try {
    const { body } = await request<{ zApps?: OwnedZApp[] }>(`${apiUrl}/v1/overview`);
    return (body.zApps ?? []).filter((z) => sameAddress(z.owner, owner)).map(({ id, owner: o, available, held }) => ({ id, owner: o, available, held }));
  } catch {
    return [];
  }
}
