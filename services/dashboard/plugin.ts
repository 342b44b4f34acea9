import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Overview } from './overview.ts';
import { PAGE_CSP, renderPage } from './page.ts';

export type { Overview } from './overview.ts';

export interface DashboardDeps {
  /** The current overview (built with buildOverview from the contract's JSON state). */
  overview: () => Promise<Overview>;
}

/**
 * The dashboard: `GET /` and `GET /dashboard` serve one self-contained page (inline CSS and
 * script, the current overview embedded); `GET /v1/overview` serves its data. Live updates come
 * from `GET /v1/events`, which the settlement API serves; the page polls the overview every 2 s as
 * well. An overview that fails still serves the page (it shows "offline" and keeps polling); on
 * `/v1/overview` the error propagates to the app's error handler.
 */
export async function dashboardPlugin(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
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
      .header('content-security-policy', PAGE_CSP)
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
}
