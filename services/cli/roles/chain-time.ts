/**
 * The chain's time as the settlement API sees it (unix seconds): what decides when earnings become
 * claimable, unbonded stake is released and a closing session may be finalized. The API states it
 * with every provider view (`earnings.at`, never before the newest momentum); without a provider,
 * the newest momentum's timestamp is the best lower bound.
 */
import type { SettlementClient } from '../../client/index.ts';
import { request } from '../../client/index.ts';

export async function chainTime(api: SettlementClient, provider?: string): Promise<bigint> {
  if (provider !== undefined) {
    const { body } = await request<{ earnings?: { at?: unknown } }>(`${api.baseUrl}/v1/providers/${provider}`);
    if (typeof body.earnings?.at === 'string') return BigInt(body.earnings.at);
  }
  const latest = await api.getMomentum('latest');
  return latest === null ? 0n : BigInt(latest.timestamp);
}
