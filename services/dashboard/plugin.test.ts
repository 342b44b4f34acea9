import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Overview } from './overview.ts';
import { buildOverview } from './overview.ts';
import { ACT_SCRIPT, CLIENT_SCRIPT } from './page.ts';
import { buildWalletBundle } from './bundle.ts';
import { dashboardPlugin } from './plugin.ts';
import type { DashboardLocal } from './plugin.ts';
import { sampleCounters, sampleMomentums, sampleState } from './sample.ts';

const fake: Overview = buildOverview(sampleState(), sampleMomentums(1_284n, 1_700_000_000n), sampleCounters);

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

async function serve(overview: () => Promise<Overview>, local?: () => DashboardLocal | null): Promise<FastifyInstance> {
  app = Fastify();
  await app.register(dashboardPlugin, { overview, ...(local === undefined ? {} : { local }) });
  await app.ready();
  return app;
}

/** Every element id the browser script looks up. */
function idsTheScriptNeeds(): string[] {
  const ids = new Set<string>();
  for (const m of `${CLIENT_SCRIPT}${ACT_SCRIPT}`.matchAll(/(?:getElementById|setText)\('([a-z-]+)'/g)) ids.add(m[1] ?? '');
  for (const m of CLIENT_SCRIPT.matchAll(/fillTable\('([a-z-]+)'/g)) ids.add(m[1] ?? '');
  return [...ids];
}

function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="initial-overview">([^<]*)<\/script>/.exec(html);
  if (m === null) throw new Error('no embedded overview');
  return JSON.parse(m[1] ?? '');
}

describe('dashboard plugin', () => {
  it('serves one self-contained HTML page at / and /dashboard with every element the script needs', async () => {
    const server = await serve(async () => fake);
    for (const url of ['/', '/dashboard']) {
      const res = await server.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const html = res.body;
      const ids = idsTheScriptNeeds();
      expect(ids.length).toBeGreaterThan(15);
      for (const id of [...ids, 'initial-overview']) expect(html, `#${id}`).toContain(`id="${id}"`);
      // The script is inline, and the page asks for nothing from elsewhere.
      expect(html).toContain(CLIENT_SCRIPT);
      expect(html).toContain("new EventSource('/v1/events')");
      // (The SVG namespace name is a name, not something fetched.)
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org\/2000\/svg')/);
      expect(embedded(html)).toEqual(JSON.parse(JSON.stringify(fake)));
    }
  });

  it('allows exactly its own inline script by hash in the Content-Security-Policy', async () => {
    const server = await serve(async () => fake);
    const res = await server.inject({ method: 'GET', url: '/' });
    const csp = String(res.headers['content-security-policy']);
    const scriptHash = createHash('sha256').update(CLIENT_SCRIPT).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${scriptHash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const style = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });

  it('embeds data so that no value can close the script block', async () => {
    const hostile: Overview = { ...fake, chain: { chainId: '1', contract: '</script><script>alert(1)</script>\u2028' } };
    const server = await serve(async () => hostile);
    const res = await server.inject({ method: 'GET', url: '/' });
    expect(res.body.match(/<\/script>/g)).toHaveLength(3); // the data block and the two scripts
    expect(embedded(res.body)).toEqual(JSON.parse(JSON.stringify(hostile)));
  });

  it('returns the overview JSON with decimal strings at /v1/overview', async () => {
    const server = await serve(async () => fake);
    const res = await server.inject({ method: 'GET', url: '/v1/overview' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<Overview>();
    expect(body).toEqual(JSON.parse(JSON.stringify(fake)));
    expect(body.totals.supply).toMatch(/^[1-9][0-9]*$/);
    expect(body.latest?.height).toBe('1284');
  });

  it('asks for a fresh overview on every request', async () => {
    let height = 0n;
    const server = await serve(async () => buildOverview(sampleState(), sampleMomentums(++height, 1_000n), sampleCounters));
    const first = (await server.inject({ method: 'GET', url: '/v1/overview' })).json<Overview>();
    const second = (await server.inject({ method: 'GET', url: '/v1/overview' })).json<Overview>();
    expect([first.latest?.height, second.latest?.height]).toEqual(['1', '2']);
  });

  it('still serves the page when the overview fails; the JSON endpoint reports the error', async () => {
    const server = await serve(async () => {
      throw new Error('store unavailable');
    });
    const page = await server.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(embedded(page.body)).toBeNull();
    const json = await server.inject({ method: 'GET', url: '/v1/overview' });
    expect(json.statusCode).toBe(500);
  });

  it('offers the local demo\'s keys and runners only when there is a local demo, and lets the page reach exactly those runners', async () => {
    const offer: DashboardLocal = { keys: [{ name: 'dave', address: '0x' + '11'.repeat(20), privateKey: '0x' + '22'.repeat(32) }], runners: [{ provider: '0x' + '33'.repeat(20), url: 'http://127.0.0.1:8646/' }], zApps: [] };
    const none = await serve(async () => fake);
    expect((await none.inject({ method: 'GET', url: '/v1/local' })).statusCode).toBe(404);
    expect(String((await none.inject({ method: 'GET', url: '/' })).headers['content-security-policy'])).toContain("connect-src 'self';");
    await none.close();
    const server = await serve(async () => fake, () => offer);
    const local = await server.inject({ method: 'GET', url: '/v1/local' });
    expect(local.statusCode).toBe(200);
    expect(local.json()).toEqual(offer);
    const csp = String((await server.inject({ method: 'GET', url: '/' })).headers['content-security-policy']);
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:8646;");
    expect(csp).toContain(`'sha256-${createHash('sha256').update(ACT_SCRIPT).digest('base64')}' 'self'`);
  });

  it('serves the signing code as one ES module with a strong ETag, the same bytes every time', async () => {
    const server = await serve(async () => fake);
    const first = await server.inject({ method: 'GET', url: '/dashboard/wallet.js' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/javascript/);
    expect(first.body).toMatch(/export\{[^}]*PageClient/);
    // Nothing from elsewhere, and no Node built-in left for the browser to miss.
    expect(first.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)|require\("node:/);
    const etag = String(first.headers['etag']);
    expect(etag).toBe(`"${createHash('sha256').update(first.body).digest('base64url')}"`);
    expect((await server.inject({ method: 'GET', url: '/dashboard/wallet.js', headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    // Deterministic: building again from the same sources gives the same bytes.
    expect((await buildWalletBundle()).code).toBe(first.body);
  }, 120_000);
});
