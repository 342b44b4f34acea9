import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The browser script, inlined: the page needs no second request, font, CDN or build step. */
export const CLIENT_SCRIPT = readFileSync(new URL('./client.js', import.meta.url), 'utf8');
/** The second script: views per role and the actions, signing in the page (act.js). */
export const ACT_SCRIPT = readFileSync(new URL('./act.js', import.meta.url), 'utf8');

const STYLES = `
:root {
  --bg: #f4f6f9; --panel: #ffffff; --ink: #18202e; --ink-2: #4a5568; --muted: #7b8698; --line: #e3e7ee;
  --accent: #2459d6; --accent-soft: #c4d5fa; --ok: #16794a; --ok-soft: #dcf3e6; --warn: #9a5b00; --warn-soft: #fdf0d5;
  --bad: #b42318; --bad-soft: #fde4e1; --grey-soft: #eceff3;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body { background: var(--bg); color: var(--ink); font: 14px/1.45 var(--sans); -webkit-font-smoothing: antialiased; }
code, .hex { font-family: var(--mono); font-size: 12.5px; color: var(--ink-2); }
.muted { color: var(--muted); }
.strong { font-weight: 600; }
header.top { background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.top-inner { max-width: 1480px; margin: 0 auto; padding: 12px 24px; display: flex; align-items: center; gap: 24px; flex-wrap: wrap; }
.brand { display: flex; align-items: baseline; gap: 10px; }
.brand h1 { font-size: 20px; margin: 0; letter-spacing: -0.01em; }
.brand h1 span { color: var(--accent); }
.brand .sub { color: var(--muted); font-size: 13px; }
.chain { display: flex; gap: 14px; color: var(--ink-2); font-size: 13px; align-items: center; flex-wrap: wrap; }
.chain .pill { background: var(--grey-soft); border-radius: 999px; padding: 2px 10px; }
.momentum { margin-left: auto; display: flex; align-items: center; gap: 18px; }
.height { text-align: right; }
.height .label { font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.height .value { font: 600 24px/1.1 var(--mono); font-variant-numeric: tabular-nums; }
.height .value::before { content: "#"; color: var(--muted); font-weight: 400; margin-right: 1px; }
.height .meta { font-size: 12px; color: var(--muted); }
.height .meta code { font-size: 12px; }
.conn { display: inline-flex; align-items: center; gap: 7px; border-radius: 999px; padding: 4px 12px; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.05em; }
.conn-dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.conn-live { background: var(--ok-soft); color: var(--ok); }
.conn-live .conn-dot { animation: pulse 1.6s ease-in-out infinite; }
.conn-polling { background: var(--warn-soft); color: var(--warn); }
.conn-offline { background: var(--bad-soft); color: var(--bad); }
@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.35; } }
@media (prefers-reduced-motion: reduce) { .conn-live .conn-dot { animation: none; } }
main { max-width: 1480px; margin: 0 auto; padding: 20px 24px 40px; }
section.act { margin-bottom: 20px; }
.caption { display: flex; align-items: baseline; gap: 10px; margin: 0 0 8px; }
.caption h2 { font-size: 13px; margin: 0; text-transform: uppercase; letter-spacing: 0.06em; color: var(--ink-2); }
.caption span { font-size: 12px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 14px; margin-bottom: 20px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.card-label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); font-weight: 600; }
.card-value { font: 600 17px/1.3 var(--mono); margin: 6px 0 4px; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; letter-spacing: -0.01em; }
.card-sub { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.card-sub.card-alert { color: var(--bad); font-weight: 600; }
.qsr { white-space: nowrap; font-variant-numeric: tabular-nums; }
.qsr-zeros { color: #b3bccb; }
.card-value .qsr { white-space: normal; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 20px; align-items: start; }
.col { display: grid; gap: 20px; min-width: 0; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; min-width: 0; }
.panel-head { display: flex; align-items: baseline; gap: 10px; padding: 12px 16px; border-bottom: 1px solid var(--line); }
.panel-head h2 { font-size: 15px; margin: 0; }
.panel-head .count { background: var(--grey-soft); color: var(--ink-2); border-radius: 999px; padding: 0 8px; font-size: 12px; font-weight: 600; }
.panel-head .hint { margin-left: auto; color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 8px 10px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: middle; white-space: nowrap; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; background: #fafbfc; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #f8faff; }
th:first-child, td:first-child { padding-left: 16px; }
th:last-child, td:last-child { padding-right: 16px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { font-family: var(--mono); font-size: 12.5px; }
tr.empty td { color: var(--muted); text-align: center; padding: 18px; font-style: italic; }
tr.session-closed td { color: var(--muted); }
td.topup { font-size: 12px; color: var(--ink-2); }
td.topup.muted { color: var(--muted); }
.parties { display: grid; gap: 2px; font-size: 12px; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; }
.badge-open { background: var(--ok-soft); color: var(--ok); }
.badge-closing { background: var(--warn-soft); color: var(--warn); }
.badge-closed { background: var(--grey-soft); color: var(--muted); }
.gas-cell { min-width: 160px; }
.stack { display: grid; gap: 1px; }
.stack .sub { font: 11.5px var(--mono); color: var(--muted); }
td.num .stack { justify-items: end; }
.gas { display: grid; gap: 3px; }
.bar { position: relative; height: 8px; background: var(--grey-soft); border-radius: 4px; overflow: visible; }
.bar-billed, .bar-settled { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 4px; }
.bar-billed { background: var(--accent-soft); }
.bar-settled { background: var(--accent); }
.bar-settled.bar-closing { background: #d08700; }
.bar-settled.bar-closed { background: #9aa5b5; }
.gas-text { font: 11.5px var(--mono); color: var(--ink-2); font-variant-numeric: tabular-nums; }
.legend { display: flex; gap: 12px; font-size: 11.5px; color: var(--muted); margin-left: auto; flex-wrap: wrap; }
.legend i { display: inline-block; width: 10px; height: 8px; border-radius: 2px; margin-right: 4px; vertical-align: 0; }
.legend .l-settled { background: var(--accent); }
.legend .l-billed { background: var(--accent-soft); }
.pipeline { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1px; background: var(--line); }
.pipeline div { background: var(--panel); padding: 10px 14px; }
.pipeline .k { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; }
.pipeline .v { font: 600 18px var(--mono); font-variant-numeric: tabular-nums; }
.pipeline .bad .v { color: var(--bad); }
.pipeline-wrap { border-radius: 0 0 10px 10px; overflow: hidden; }
ol.feed { list-style: none; margin: 0; padding: 4px 0; max-height: 420px; overflow-y: auto; }
.feed-item { display: grid; grid-template-columns: 12px minmax(0, 1fr) auto; gap: 10px; align-items: start; padding: 7px 16px; border-bottom: 1px solid var(--line); }
.feed-item:last-child { border-bottom: 0; }
.feed-dot { width: 8px; height: 8px; border-radius: 50%; margin-top: 6px; background: var(--accent); }
.feed-abort .feed-dot { background: var(--bad); }
.feed-close .feed-dot { background: var(--warn); }
.feed-title { font-weight: 600; font-size: 13px; }
.feed-abort .feed-title { color: var(--bad); }
.feed-detail { font: 12px var(--mono); color: var(--muted); overflow-wrap: anywhere; }
.feed-time { font: 12px var(--mono); color: var(--muted); }
.feed-empty { padding: 18px 16px; color: var(--muted); font-style: italic; }
footer { max-width: 1480px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 12px; display: flex; gap: 16px; flex-wrap: wrap; }
button, select, input { font: inherit; font-size: 13px; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: 6px 12px; cursor: pointer; font-weight: 600; min-height: 32px; }
button.ghost { background: var(--grey-soft); color: var(--ink); }
button.danger { background: var(--bad-soft); color: var(--bad); }
button:disabled { opacity: 0.45; cursor: default; }
input, select { border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: #fff; color: var(--ink); min-height: 32px; min-width: 0; }
input.addr { font-family: var(--mono); font-size: 12.5px; flex: 1 1 260px; }
input.amount { width: 90px; font-family: var(--mono); }
[hidden] { display: none !important; }
.act-bar { display: flex; flex-wrap: wrap; gap: 10px 16px; padding: 12px 16px; align-items: center; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; min-width: 0; }
.row.grow { flex: 1 1 320px; }
.act-status { font-size: 12.5px; color: var(--ink-2); padding: 0 16px 10px; overflow-wrap: anywhere; }
.act-status.bad { color: var(--bad); }
.roles { display: grid; gap: 12px; padding: 0 16px 16px; }
.list { display: grid; gap: 10px; margin-top: 6px; }
.burn-caption { font-size: 12px; }
.roles h3 { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--ink-2); margin: 6px 0 0; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; display: grid; gap: 8px; min-width: 0; }
.tile-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.kv { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 6px 14px; }
.kv .k { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; }
.kv .v { font: 600 14px var(--mono); overflow-wrap: anywhere; }
svg.burn { width: 100%; height: 90px; background: #fafbfc; border-radius: 6px; display: block; }
svg.burn polyline { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
svg.burn line { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
.runway { font-size: 12.5px; color: var(--ink-2); }
.fuddor-out { display: grid; gap: 8px; }
.fuddor-name { background: var(--ok-soft); color: var(--ok); font-size: 16px; }
.meme { font-size: 16px; font-weight: 600; padding: 10px 12px; background: var(--warn-soft); border-radius: 8px; }
ol.costs { margin: 0; padding-left: 18px; font: 12px var(--mono); color: var(--ink-2); }
@media (max-width: 1100px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 640px) {
  .top-inner, main, footer { padding-left: 12px; padding-right: 12px; }
  .momentum { margin-left: 0; width: 100%; justify-content: space-between; }
  .height { text-align: left; }
  .legend { display: none; }
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
  .card { padding: 12px; }
  .card-value { font-size: 15px; }
  header.top { position: static; }
  .top-inner { padding-top: 6px; padding-bottom: 6px; gap: 4px 12px; }
  .brand h1 { font-size: 17px; }
  .brand .sub, .chain span:not(.pill) { display: none; }
  .momentum { width: auto; margin-left: auto; gap: 10px; }
  .height .label, .height .meta { display: none; }
  .height .value { font-size: 17px; }
  .conn { padding: 2px 8px; }
  .scroll { overflow-x: visible; }
  .scroll table, .scroll thead, .scroll tbody, .scroll tr, .scroll td { display: block; width: 100%; }
  .scroll thead { display: none; }
  .scroll tr { border-bottom: 1px solid var(--line); padding: 6px 12px; }
  .scroll td, .scroll td:first-child, .scroll td:last-child { border: 0; padding: 2px 0; white-space: normal; display: flex; justify-content: space-between; gap: 10px; text-align: right; }
  .scroll td::before { content: attr(data-label); color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; text-align: left; flex: none; }
  .scroll td.gas-cell { display: block; }
  .scroll td.gas-cell::before { display: block; }
  .scroll tr.empty td { justify-content: center; }
  .scroll tr.empty td::before { content: none; }
  .gas-cell { min-width: 0; }
  .kv { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
`;

const BODY = `
<header class="top">
  <div class="top-inner">
    <div class="brand"><h1>z<span>gas</span></h1><span class="sub">settlement dashboard</span></div>
    <div class="chain">
      <span class="pill" id="chain">chain —</span>
      <span>contract <code id="contract">—</code></span>
    </div>
    <div class="momentum">
      <div class="height">
        <div class="label">latest momentum</div>
        <div class="value" id="height">—</div>
        <div class="meta"><code id="hash"></code> <span id="age"></span></div>
      </div>
      <span class="conn conn-polling" id="conn"><span class="conn-dot"></span><span id="conn-label">connecting</span></span>
    </div>
  </div>
</header>
<main>
  <section class="panel act" aria-labelledby="h-act">
    <div class="panel-head"><h2 id="h-act">Your view</h2><span class="hint" id="signer">not signed in</span></div>
    <div class="act-bar">
      <div class="row grow"><input class="addr" id="view-address" placeholder="0x… address: owner, provider or user" aria-label="address to view" autocomplete="off" spellcheck="false"><button type="button" class="ghost" id="view-go">View</button></div>
      <div class="row">
        <button type="button" id="connect-wallet">Browser wallet</button>
        <button type="button" class="ghost" id="new-key" title="a key generated and kept in this browser">Key in this browser</button>
        <select id="demo-keys" hidden aria-label="sign with a demo key"><option value="">demo key…</option></select>
      </div>
    </div>
    <div class="act-status" id="act-status" role="status" aria-live="polite"></div>
    <div class="roles">
      <div id="owner-view" hidden><h3>zApps you own</h3><div class="list" id="owner-zapps"></div></div>
      <div id="provider-view" hidden><h3>Your earnings</h3><div id="provider-earnings"></div></div>
      <div id="user-view" hidden><h3>Your sessions</h3><div class="list" id="user-sessions"></div></div>
      <div id="fuddor-view" hidden><h3>fuddor-meme</h3>
        <div class="tile">
          <div class="runway">Meet a Fuddor, then click its name for a meme. Each click is a call on the runner, paid from the zApp's escrow: your balance does not move.</div>
          <div class="kv"><div><div class="k">zApp escrow</div><div class="v" id="fuddor-escrow">—</div></div><div><div class="k">Your balance</div><div class="v" id="fuddor-balance">—</div></div><div><div class="k">Gas so far</div><div class="v" id="fuddor-gas">—</div></div></div>
          <div class="row"><button type="button" id="fuddor-meet">Meet a Fuddor</button></div>
          <div class="fuddor-out" id="fuddor-out"></div>
          <ol class="costs" id="fuddor-costs"></ol>
        </div>
      </div>
    </div>
  </section>
  <div class="caption"><h2>Totals</h2><span>QSR, 8 decimals · supply = balances + escrow + stake + unbonding + earnings + burned</span></div>
  <div class="cards" id="cards" aria-live="polite"></div>
  <div class="layout">
    <div class="col">
      <section class="panel" aria-labelledby="h-sessions">
        <div class="panel-head"><h2 id="h-sessions">Sessions</h2><span class="count" id="sessions-count">0</span>
          <span class="legend"><span><i class="l-settled"></i>settled</span><span><i class="l-billed"></i>billed</span></span></div>
        <div class="scroll"><table>
          <thead><tr><th>Session · seq</th><th>zApp</th><th>Parties</th><th>Status</th><th>Gas settled / limit</th><th class="num">Billed</th><th class="num" title="when a closing session may be finalized (chain time)">Closes at</th></tr></thead>
          <tbody id="sessions" data-empty="No sessions yet"><tr class="empty"><td colspan="7">Loading…</td></tr></tbody>
        </table></div>
      </section>
      <section class="panel" aria-labelledby="h-zapps">
        <div class="panel-head"><h2 id="h-zapps">zApps</h2><span class="count" id="zapps-count">0</span><span class="hint">escrow in QSR</span></div>
        <div class="scroll"><table>
          <thead><tr><th>zApp</th><th>Owner</th><th>Module</th><th class="num">Available</th><th class="num">Held</th><th>Auto top-up</th></tr></thead>
          <tbody id="zapps" data-empty="No zApps registered yet"><tr class="empty"><td colspan="6">Loading…</td></tr></tbody>
        </table></div>
      </section>
      <section class="panel" aria-labelledby="h-providers">
        <div class="panel-head"><h2 id="h-providers">Providers</h2><span class="count" id="providers-count">0</span><span class="hint">amounts in QSR</span></div>
        <div class="scroll"><table>
          <thead><tr><th>Provider</th><th class="num">Price / Mgas</th><th class="num">Stake</th><th class="num">Unbonding</th><th class="num">Pending</th><th class="num">Claimable now</th><th class="num" title="when the next pending earning matures (chain time)">Next maturity</th></tr></thead>
          <tbody id="providers" data-empty="No providers registered yet"><tr class="empty"><td colspan="7">Loading…</td></tr></tbody>
        </table></div>
      </section>
    </div>
    <div class="col">
      <section class="panel" aria-labelledby="h-pipeline">
        <div class="panel-head"><h2 id="h-pipeline">Receipt pipeline</h2></div>
        <div class="pipeline-wrap"><div class="pipeline">
          <div><div class="k">Stored</div><div class="v" id="pipe-stored">—</div></div>
          <div><div class="k">Verified</div><div class="v" id="pipe-verified">—</div></div>
          <div><div class="k">Applied</div><div class="v" id="pipe-applied">—</div></div>
          <div class="bad"><div class="k">Rejected</div><div class="v" id="pipe-rejected">—</div></div>
        </div></div>
      </section>
      <section class="panel" aria-labelledby="h-feed">
        <div class="panel-head"><h2 id="h-feed">Live feed</h2><span class="hint">momentums, aborts and closes</span></div>
        <ol class="feed" id="feed" aria-live="polite"></ol>
      </section>
      <section class="panel" aria-labelledby="h-momentums">
        <div class="panel-head"><h2 id="h-momentums">Recent momentums</h2></div>
        <div class="scroll"><table>
          <thead><tr><th class="num">Height</th><th>Hash</th><th class="num">Inputs</th><th class="num" title="the momentum timestamp (chain time)">Time</th></tr></thead>
          <tbody id="momentums" data-empty="No momentums yet"><tr class="empty"><td colspan="4">Loading…</td></tr></tbody>
        </table></div>
      </section>
    </div>
  </div>
</main>
<footer><span id="updated">not yet loaded</span><span>data: <code>/v1/overview</code> · events: <code>/v1/events</code></span></footer>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Allows exactly the page's inline style and scripts, and the signing bundle of this origin; data
 * comes from this origin, calls on a session go to the given runners' origins.
 */
export function pageCsp(runnerOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(CLIENT_SCRIPT)} ${sha256(ACT_SCRIPT)} 'self'`,
    `style-src ${sha256(STYLES)}`,
    ["connect-src 'self'", ...runnerOrigins].join(' '),
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const PAGE_CSP = pageCsp();

const HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zgas dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLES}</style>
</head>
<body>${BODY}`;

/** JSON that is safe inside a <script> data block: no "<", no line separators that end it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The whole page. `initial` (the overview at request time, or null) is embedded as a JSON data
 * block so the first paint shows data; the script then keeps it fresh.
 */
export function renderPage(initial: unknown): string {
  return `${HEAD}<script type="application/json" id="initial-overview">${jsonForScript(initial ?? null)}</script>
<script>${CLIENT_SCRIPT}</script>
<script>${ACT_SCRIPT}</script>
</body>
</html>
`;
}
