import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { parseAddress } from '../../../contracts/hex.ts';
import type { Hash } from '../../../contracts/types.ts';
import { providerView } from '../../../contracts/gas/provider-view.ts';
import { providerFromJson } from '../../../contracts/gas/state.ts';
import { genesisToJson } from '../../../contracts/gas/genesis.ts';
import { systemClock } from '../../../unikernel-runner/clock.ts';
import { getAccount, getMomentum, getProvider, getSession, getZApp, latestMomentum, latestMomentumHead, pendingNonce } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';
import { addressParams, heightParams, idParams, openApiSchema, parseRequest } from '../schemas.ts';

function found<T>(value: T | null | undefined, code: ErrorCode, details: Record<string, unknown>): T {
  if (value === null || value === undefined) throw new ZgasError(code, details);
  return value;
}

/** GET the gas contract state (docs/contract.md §State) as JSON (decimal strings, 0x hex, EIP-55 addresses). */
export async function stateRoutes(app: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { db } = deps;
  const tags = ['state'];
  const clock = deps.clock ?? systemClock;
  /** The chain's time now: the clock, never before the latest momentum (whose timestamp a ClaimEarnings would at least get). */
  const chainTime = async (): Promise<bigint> => {
    const latest = await latestMomentumHead(db);
    const now = clock();
    return latest !== null && latest.timestamp > now ? latest.timestamp : now;
  };

  // Answered once per process: runners read it at start to check that they meter as the chain does.
  const genesisJson = genesisToJson(deps.genesis);
  app.get(
    '/v1/genesis',
    {
      schema: {
        tags,
        summary:
          'The genesis this node runs (the genesis file format): chainId, contract, timestamp, gasTable (the hash of the gas table every runner must meter with), meteringVersion (the metering semantics, when the node states it), params and accounts',
      },
    },
    async () => genesisJson,
  );

  app.get(
    '/v1/accounts/:address',
    {
      schema: {
        tags,
        summary: 'An account: balance, nonce (applied calls) and pendingNonce (the nonce the next call must carry); unknown accounts hold 0',
        params: openApiSchema(addressParams),
      },
    },
    async (request) => {
      const address = parseAddress(parseRequest(addressParams, request.params).address);
      const [account, next] = await Promise.all([getAccount(db, address), pendingNonce(db, address)]);
      return { ...(account ?? { address, balance: '0', nonce: '0' }), pendingNonce: next.toString() };
    },
  );

  app.get('/v1/zapps/:id', { schema: { tags, summary: 'A zApp: owner, module, escrow and policy', params: openApiSchema(idParams) } }, async (request) => {
    const id = parseRequest(idParams, request.params).id.toLowerCase() as Hash;
    return found(await getZApp(db, id), 'ZAppNotFound', { zAppId: id });
  });

  app.get(
    '/v1/providers/:address',
    {
      schema: {
        tags,
        summary: 'A provider: offer, stake and earnings; `earnings` says what it can claim now (chain time `at`) and when the rest becomes claimable',
        params: openApiSchema(addressParams),
      },
    },
    async (request) => {
      const address = parseAddress(parseRequest(addressParams, request.params).address);
      const json = found(await getProvider(db, address), 'ProviderNotFound', { provider: address });
      const [, provider] = providerFromJson(json);
      return { ...json, earnings: providerView(provider, await chainTime()) };
    },
  );

  app.get('/v1/sessions/:id', { schema: { tags, summary: 'A session: terms, settled and billed gas, status', params: openApiSchema(idParams) } }, async (request) => {
    const id = parseRequest(idParams, request.params).id.toLowerCase() as Hash;
    return found(await getSession(db, id), 'SessionNotFound', { sessionId: id });
  });

  // Registered before /:height so that "latest" is never read as a height.
  app.get('/v1/momentums/latest', { schema: { tags, summary: 'The newest momentum' } }, async () => {
    return found(await latestMomentum(db), 'NotFound', { momentum: 'latest' });
  });

  app.get('/v1/momentums/:height', { schema: { tags, summary: 'The momentum at a height: inputs, results, state changes', params: openApiSchema(heightParams) } }, async (request) => {
    const height = BigInt(parseRequest(heightParams, request.params).height);
    return found(await getMomentum(db, height), 'NotFound', { height: height.toString() });
  });
}
