import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZgasError } from '../../contracts/errors.ts';
import { walletBundle } from './bundle.ts';
import type { Overview } from './overview.ts';
import { pageCsp, renderPage } from './page.ts';

export type { Overview } from './overview.ts';

/**
 * What a local system (`npm start`) offers the page so it can act: the demo's keys (public,
 * derived from the actors' names; the page signs with them itself), the runners' URLs, and the
 * module hashes of the bundled zApps. A node that is not the local demo offers none of it.
 */
export interface DashboardLocal {
  keys: { name: string; address: string; privateKey: string }[];
  runners: { provider: string; url: string }[];
  zApps: { name: string; moduleHash: string }[];
}

export interface DashboardDeps {
  /** The current overview (built with buildOverview from the contract's JSON state). */
  overview: () => Promise<Overview>;
  /** The local demo's offer to the page; absent or null: none (the page signs with a browser wallet or a key it generates). */
  local?: () => DashboardLocal | null;
}

/** The origins of the runners the page may call (its Content-Security-Policy allows exactly these). */
function runnerOrigins(local: DashboardLocal | null): string[] {
  const origins = new Set<string>();
  for (const r of local?.runners ?? []) {
    try {
      origins.add(new URL(r.url).origin);
    } catch {
      // A malformed URL is left out: the page cannot reach it.
    }
  }
  return [...origins];
}

/**
 * The dashboard: `GET /` and `GET /dashboard` serve one page (inline CSS and scripts, the current
 * overview embedded); `GET /v1/overview` serves its data; `GET /dashboard/wallet.js` the signing
 * code the page loads when it is asked to act (bundle.ts); `GET /v1/local` what a local demo offers.
 * Live updates come from `GET /v1/events`, which the settlement API serves; the page polls the
 * overview every 2 s as well. An overview that fails still serves the page (it shows "offline" and
 * keeps polling); on `/v1/overview` the error propagates to the app's error handler. Signed calls
 * go to the API's own `POST /v1/calls`: no key ever reaches the server.
 */
export async function dashboardPlugin(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const local = (): DashboardLocal | null => deps.local?.() ?? null;
  const servePage = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let initial: Overview | null = null;
    try {
      initial = await deps.overview();
    } catch (err) {
      req.log.warn({ err }, 'dashboard overview failed; serving the page without data');
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', pageCsp(runnerOrigins(local())))
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(renderPage(initial));
  };
  app.get('/', servePage);
  app.get('/dashboard', servePage);
  app.get('/v1/overview', async (_req, reply) => {
    const overview = await deps.overview();
    return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(overview);
  });
  app.get('/dashboard/wallet.js', async (req, reply) => {
    const bundle = await walletBundle();
    if (req.headers['if-none-match'] === bundle.etag) return reply.status(304).send();
    return reply.type('text/javascript; charset=utf-8').header('etag', bundle.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(bundle.code);
  });
  app.get('/v1/local', async (_req, reply) => {
    const offer = local();
    if (offer === null) throw new ZgasError('NotFound', { what: 'the local demo offer', reason: 'this node is not the local demo: sign with a browser wallet' });
    return reply.header('cache-control', 'no-store').send(offer);
  });
}
