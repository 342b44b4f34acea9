/* The dashboard's browser script, inlined into the page by page.ts. Plain ES2020, no build.
   Amounts arrive as decimal strings of base units and are formatted with string arithmetic only. */
/* global document, window, fetch, EventSource, setInterval, setTimeout */
'use strict';

var QSR_DECIMALS = 8;
var POLL_MS = 2000;
var FEED_MAX = 60;
var MOMENTUM_ROWS = 15;
var DECIMAL_RE = /^(0|[1-9][0-9]*)$/;

// ── formatting (pure; also run by the tests) ───────────────────────────────────────────────

function isDecimal(text) {
  return typeof text === 'string' && DECIMAL_RE.test(text);
}

/** "1234567" -> "1,234,567" */
function groupDigits(digits) {
  var out = '';
  for (var i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return out;
}

/** Base units -> { whole: "1,234", frac: "50000000" }; null when the text is not a decimal string. */
function splitQsr(text) {
  if (!isDecimal(text)) return null;
  var padded = text.padStart(QSR_DECIMALS + 1, '0');
  var cut = padded.length - QSR_DECIMALS;
  return { whole: groupDigits(padded.slice(0, cut)), frac: padded.slice(cut) };
}

/** Base units -> "1,234.50000000" (always 8 decimals). */
function formatQsr(text) {
  var parts = splitQsr(text);
  return parts === null ? '—' : parts.whole + '.' + parts.frac;
}

function formatCount(text) {
  return isDecimal(text) ? groupDigits(text) : '—';
}

/** part / whole in percent with two decimals, computed on bigints; clamped to [0, 100]. */
function percentOf(part, whole) {
  if (!isDecimal(part) || !isDecimal(whole) || whole === '0') return 0;
  var basisPoints = (BigInt(part) * 10000n) / BigInt(whole);
  if (basisPoints > 10000n) basisPoints = 10000n;
  return Number(basisPoints) / 100;
}

function shortHex(text) {
  if (typeof text !== 'string') return '—';
  return text.length > 14 ? text.slice(0, 8) + '…' + text.slice(-4) : text;
}

/** thenMs relative to nowMs: "now", "12 s ago", "3 min ago", "2 h ago". */
function agoMs(thenMs, nowMs) {
  var diff = Math.floor((nowMs - thenMs) / 1000);
  if (diff < 1) return 'now';
  if (diff < 60) return diff + ' s ago';
  if (diff < 3600) return Math.floor(diff / 60) + ' min ago';
  if (diff < 86400) return Math.floor(diff / 3600) + ' h ago';
  return Math.floor(diff / 86400) + ' d ago';
}

function clockTime(ms) {
  var d = new Date(ms);
  var pad = function (n) { return String(n).padStart(2, '0'); };
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

function compareDecimal(a, b) {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ── DOM helpers (textContent only: nothing from the server is parsed as HTML) ─────────────

function h(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function qsrNode(text) {
  var span = h('span', 'qsr');
  var parts = splitQsr(text);
  if (parts === null) {
    span.textContent = '—';
    return span;
  }
  var trimmed = parts.frac.replace(/0+$/, '');
  span.appendChild(h('span', 'qsr-whole', parts.whole));
  span.appendChild(h('span', 'qsr-frac', '.' + trimmed));
  span.appendChild(h('span', 'qsr-zeros', parts.frac.slice(trimmed.length)));
  span.title = formatQsr(text) + ' QSR (' + text + ' base units)';
  return span;
}

function hexNode(text) {
  var code = h('code', 'hex', shortHex(text));
  code.title = text;
  return code;
}

function cell(row, content, className) {
  var td = h('td', className);
  if (content instanceof window.Node) td.appendChild(content);
  else td.textContent = content;
  row.appendChild(td);
  return td;
}

/** Each cell's column name, for the phone layout where rows stack as labelled lines. */
function labelCells(body, tr) {
  var heads = body.parentNode.querySelectorAll('thead th');
  for (var i = 0; i < tr.children.length && i < heads.length; i++) tr.children[i].setAttribute('data-label', heads[i].textContent);
  return tr;
}

function fillTable(id, rows, columns, makeRow) {
  var body = document.getElementById(id);
  var fresh = [];
  if (rows.length === 0) {
    var tr = h('tr', 'empty');
    var td = h('td', null, body.getAttribute('data-empty') || 'Nothing yet');
    td.colSpan = columns;
    tr.appendChild(td);
    fresh.push(tr);
  } else {
    rows.forEach(function (row) { fresh.push(labelCells(body, makeRow(row))); });
  }
  body.replaceChildren.apply(body, fresh);
}

function setText(id, text) {
  var node = document.getElementById(id);
  if (node) node.textContent = text;
}

// ── rendering ─────────────────────────────────────────────────────────────────────────────

// Chain time may run ahead of the wall clock (the demo accelerates it): ages and feed times are
// when this page learned of something; chain timestamps are shown as such.
var view = { overview: null, latestHeight: null, latestSeenMs: null, seenMomentums: {}, seenAborts: {}, feed: [], sse: 'connecting', sseEverOpen: false, fetchOk: null, lastFetchMs: 0 };

function setLatest(height, hash, timestamp) {
  if (!isDecimal(String(height))) return;
  height = String(height);
  if (view.latestHeight !== null && compareDecimal(height, view.latestHeight) <= 0) return;
  view.latestHeight = height;
  view.latestSeenMs = seenAt(timestamp, Date.now());
  setText('height', groupDigits(height));
  var hashNode = document.getElementById('hash');
  hashNode.textContent = shortHex(hash);
  hashNode.title = hash || '';
  tick();
}

function supplyNote(t) {
  var balances = 'balances ' + formatQsr(t.balances);
  if (t.genesisSupply === null || t.genesisSupply === undefined) return balances;
  return t.genesisSupply === t.supply ? 'conserved ✓ · ' + balances : '≠ recorded supply ' + formatQsr(t.genesisSupply);
}

function renderCards(o) {
  var t = o.totals;
  var c = o.counts;
  var cards = [
    ['Total supply', t.supply, supplyNote(t)],
    ['Escrow available', t.escrowAvailable, formatCount(c.zApps) + ' zApps'],
    ['Escrow held', t.escrowHeld, formatCount(c.openSessions) + ' open · ' + formatCount(c.closingSessions) + ' closing sessions'],
    ['Provider stake', t.stake, 'unbonding ' + formatQsr(t.unbonding)],
    ['Pending earnings', t.pending, 'in the challenge window'],
    ['Claimable now', t.claimable, formatCount(c.providers) + ' providers'],
    ['Burned', t.burned || '0', 'by slashing, out of the supply for good'],
  ];
  var nodes = cards.map(function (card) {
    var box = h('div', 'card');
    box.appendChild(h('div', 'card-label', card[0]));
    var value = h('div', 'card-value');
    value.appendChild(qsrNode(card[1]));
    box.appendChild(value);
    box.appendChild(h('div', card[2].charAt(0) === '≠' ? 'card-sub card-alert' : 'card-sub', card[2]));
    return box;
  });
  var cardsNode = document.getElementById('cards');
  cardsNode.replaceChildren.apply(cardsNode, nodes);
}

function renderPipeline(p) {
  setText('pipe-stored', formatCount(p.receiptsStored));
  setText('pipe-verified', formatCount(p.verified));
  setText('pipe-applied', formatCount(p.applied));
  setText('pipe-rejected', formatCount(p.rejected));
}

function autoTopUpText(top) {
  if (!top) return 'off';
  return 'below ' + formatQsr(top.minAvailable) + ' → +' + formatQsr(top.refill);
}

function renderZApps(o) {
  setText('zapps-count', formatCount(o.counts.zApps));
  fillTable('zapps', o.zApps, 6, function (z) {
    var tr = h('tr');
    cell(tr, hexNode(z.id));
    cell(tr, hexNode(z.owner));
    cell(tr, hexNode(z.moduleHash));
    cell(tr, qsrNode(z.available), 'num');
    cell(tr, qsrNode(z.held), 'num');
    cell(tr, autoTopUpText(z.autoTopUp), z.autoTopUp ? 'topup' : 'topup muted');
    return tr;
  });
}

function renderProviders(o) {
  setText('providers-count', formatCount(o.counts.providers));
  fillTable('providers', o.providers, 7, function (p) {
    var tr = h('tr', p.accepting === false ? 'muted' : '');
    cell(tr, hexNode(p.address));
    cell(tr, qsrNode(p.pricePerMgas), 'num');
    cell(tr, qsrNode(p.stake), 'num');
    cell(tr, qsrNode(p.unbonding), 'num');
    cell(tr, qsrNode(p.pending), 'num');
    cell(tr, qsrNode(p.claimable), 'num');
    cell(tr, isDecimal(p.nextClaimableAt) ? clockTime(Number(p.nextClaimableAt) * 1000) : '—', 'num muted');
    return tr;
  });
}

function gasBar(s) {
  var wrap = h('div', 'gas');
  var track = h('div', 'bar');
  var billed = h('div', 'bar-billed');
  billed.style.width = percentOf(s.billedGas, s.gasLimit) + '%';
  var settled = h('div', 'bar-settled bar-' + s.status);
  settled.style.width = percentOf(s.settledGas, s.gasLimit) + '%';
  track.appendChild(billed);
  track.appendChild(settled);
  track.title = 'settled ' + formatCount(s.settledGas) + ' · billed ' + formatCount(s.billedGas) + ' · limit ' + formatCount(s.gasLimit) + ' gas';
  wrap.appendChild(track);
  wrap.appendChild(h('div', 'gas-text', formatCount(s.settledGas) + ' / ' + formatCount(s.gasLimit) + ' (' + percentOf(s.settledGas, s.gasLimit).toFixed(1) + '%)'));
  return wrap;
}

function renderSessions(o) {
  setText('sessions-count', formatCount(o.counts.sessions));
  fillTable('sessions', o.sessions, 7, function (s) {
    var tr = h('tr', 'session-' + s.status);
    var idCell = h('div', 'stack');
    idCell.appendChild(hexNode(s.id));
    idCell.appendChild(h('span', 'sub', 'seq ' + formatCount(s.lastSeq)));
    cell(tr, idCell);
    cell(tr, hexNode(s.zAppId));
    var parties = h('div', 'parties');
    var pv = h('div');
    pv.appendChild(h('span', 'muted', 'prov '));
    pv.appendChild(hexNode(s.provider));
    var us = h('div');
    us.appendChild(h('span', 'muted', 'user '));
    us.appendChild(hexNode(s.user));
    parties.appendChild(pv);
    parties.appendChild(us);
    cell(tr, parties);
    var status = s.slashed ? 'slashed' : s.stopCall ? s.status + ' · aborted' : s.status;
    cell(tr, h('span', 'badge badge-' + s.status, status));
    cell(tr, gasBar(s), 'gas-cell');
    var billed = h('div', 'stack');
    billed.appendChild(qsrNode(s.billedQsr));
    billed.appendChild(h('span', 'sub', formatCount(s.billedGas) + ' gas'));
    cell(tr, billed, 'num');
    cell(tr, isDecimal(s.closesAt) ? clockTime(Number(s.closesAt) * 1000) : '—', 'num muted');
    return tr;
  });
}

function renderMomentums(o) {
  fillTable('momentums', o.momentums.slice(0, MOMENTUM_ROWS), 4, function (m) {
    var tr = h('tr');
    cell(tr, '#' + groupDigits(m.height), 'num strong');
    cell(tr, hexNode(m.hash));
    cell(tr, formatCount(m.inputs), 'num');
    cell(tr, isDecimal(m.timestamp) ? clockTime(Number(m.timestamp) * 1000) : '—', 'num muted');
    return tr;
  });
}

// ── live feed ─────────────────────────────────────────────────────────────────────────────

/**
 * Keeps the feed newest first in chain order (momentum height; an abort right after the newest
 * momentum known when it arrived), whatever order the stream and the polls deliver in.
 */
function pushFeed(kind, title, detail, order, atMs) {
  var at = 0;
  while (at < view.feed.length && compareDecimal(view.feed[at].order, order) > 0) at++;
  view.feed.splice(at, 0, { kind: kind, title: title, detail: detail, order: order, atMs: atMs });
  if (view.feed.length > FEED_MAX) view.feed.length = FEED_MAX;
  renderFeed();
}

function renderFeed() {
  var list = document.getElementById('feed');
  if (view.feed.length === 0) {
    list.replaceChildren(h('li', 'feed-empty', 'Waiting for momentums…'));
    return;
  }
  list.replaceChildren.apply(list, view.feed.map(function (item) {
    var li = h('li', 'feed-item feed-' + item.kind);
    li.appendChild(h('span', 'feed-dot'));
    var body = h('div', 'feed-body');
    body.appendChild(h('div', 'feed-title', item.title));
    body.appendChild(h('div', 'feed-detail', item.detail));
    li.appendChild(body);
    li.appendChild(h('time', 'feed-time', item.atMs === null ? 'earlier' : clockTime(item.atMs)));
    return li;
  }));
}

function countInputs(inputs) {
  if (Array.isArray(inputs)) return String(inputs.length);
  if (inputs === undefined || inputs === null) return null;
  return String(inputs);
}

/** When a momentum was most likely committed: its chain time if that is not ahead of the wall clock. */
function seenAt(timestamp, nowMs) {
  var ts = timestamp === undefined || timestamp === null ? '' : String(timestamp);
  if (!isDecimal(ts)) return nowMs;
  var chainMs = Number(ts) * 1000;
  return chainMs <= nowMs ? chainMs : nowMs;
}

/** Feed order of a momentum: 2·height (an abort noted after it gets 2·height + 1). */
function momentumOrder(height) {
  return (BigInt(height) * 2n).toString();
}

/**
 * history: the momentum was already committed when the page first loaded. Its wall time is then
 * its chain time, unless chain time runs ahead of the clock; then there is no honest time to show.
 */
function noteMomentum(m, nowMs, history) {
  var height = String(m.height);
  if (!isDecimal(height) || view.seenMomentums[height]) return;
  view.seenMomentums[height] = true;
  var inputs = countInputs(m.inputs !== undefined ? m.inputs : m.inputCount);
  var detail = shortHex(m.hash) + (inputs === null ? '' : ' · ' + formatCount(inputs) + (inputs === '1' ? ' input' : ' inputs'));
  var atMs = seenAt(m.timestamp, nowMs);
  var chainAhead = isDecimal(String(m.timestamp)) && Number(m.timestamp) * 1000 > nowMs;
  pushFeed('momentum', 'Momentum #' + groupDigits(height), detail, momentumOrder(height), history && chainAhead ? null : atMs);
}

/** A session stopping: aborted (its running call stopped) or closed (no new call); finalizable from closesAt. */
function noteStop(a, atMs) {
  if (typeof a.sessionId !== 'string' || view.seenAborts[a.sessionId]) return;
  view.seenAborts[a.sessionId] = true;
  var closes = isDecimal(a.closesAt) ? ' · closes ' + clockTime(Number(a.closesAt) * 1000) : '';
  var order = (BigInt(view.latestHeight === null ? '0' : view.latestHeight) * 2n + 1n).toString();
  var aborted = a.kind === 'abort';
  pushFeed(aborted ? 'abort' : 'close', aborted ? 'Session aborted' : 'Session closing', shortHex(a.sessionId) + ' · provider ' + shortHex(a.provider) + closes, order, atMs);
}

// ── data flow: SSE first, polling as the fallback ─────────────────────────────────────────

function render(o) {
  view.overview = o;
  var chain = o.chain || {};
  setText('chain', chain.chainId ? 'chain ' + chain.chainId : 'chain —');
  var contract = document.getElementById('contract');
  contract.textContent = chain.contract ? shortHex(chain.contract) : '—';
  contract.title = chain.contract || '';
  if (o.latest) setLatest(o.latest.height, o.latest.hash, o.latest.timestamp);
  renderCards(o);
  renderPipeline(o.pipeline);
  renderZApps(o);
  renderProviders(o);
  renderSessions(o);
  renderMomentums(o);
  var nowMs = Date.now();
  var history = view.lastFetchMs === 0;
  o.momentums.slice().reverse().forEach(function (m) { noteMomentum(m, nowMs, history); });
  o.sessions.forEach(function (s) {
    if (s.status === 'closing') noteStop({ sessionId: s.id, provider: s.provider, kind: s.stopCall ? 'abort' : 'close', closesAt: s.closesAt }, nowMs);
  });
  // The views per role (act.js) follow every overview.
  document.dispatchEvent(new window.CustomEvent('zgas:overview', { detail: o }));
}

var inFlight = false;
var refreshTimer = null;

function refresh() {
  if (inFlight) return;
  inFlight = true;
  fetch('/v1/overview', { cache: 'no-store', headers: { accept: 'application/json' } })
    .then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    })
    .then(function (o) {
      render(o);
      view.fetchOk = true;
      view.lastFetchMs = Date.now();
    })
    .catch(function () {
      view.fetchOk = false;
    })
    .then(function () {
      inFlight = false;
      renderStatus();
    });
}

/** Coalesces bursts of events into one refresh. */
function refreshSoon() {
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(function () {
    refreshTimer = null;
    refresh();
  }, 150);
}

function parseEvent(e) {
  try {
    return JSON.parse(e.data);
  } catch {
    return null;
  }
}

function handleEvent(data) {
  if (!data || typeof data !== 'object') return;
  if (data.type === 'momentum') {
    setLatest(data.height, data.hash, data.timestamp);
    noteMomentum(data, Date.now());
    refreshSoon();
  } else if (data.type === 'sessionStop') {
    noteStop(data, Date.now());
    refreshSoon();
  }
}

function connect() {
  if (typeof EventSource === 'undefined') {
    view.sse = 'unavailable';
    return;
  }
  var source = new EventSource('/v1/events');
  source.addEventListener('open', function () {
    view.sse = 'open';
    view.sseEverOpen = true;
    renderStatus();
  });
  source.addEventListener('momentum', function (e) {
    var data = parseEvent(e);
    if (data) handleEvent(Object.assign({ type: 'momentum' }, data));
  });
  source.addEventListener('sessionStop', function (e) {
    var data = parseEvent(e);
    if (data) handleEvent(Object.assign({ type: 'sessionStop' }, data));
  });
  source.addEventListener('message', function (e) { handleEvent(parseEvent(e)); });
  source.addEventListener('error', function () {
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. the endpoint is missing): try again later; polling carries on.
      view.sse = 'closed';
      source.close();
      setTimeout(connect, 10000);
    } else {
      view.sse = 'connecting';
    }
    renderStatus();
  });
}

function renderStatus() {
  var node = document.getElementById('conn');
  var state;
  var label;
  if (view.fetchOk === false) {
    state = 'offline';
    label = 'offline';
  } else if (view.sse === 'open') {
    state = 'live';
    label = 'live';
  } else if (view.sse === 'connecting' && !view.sseEverOpen) {
    state = 'polling';
    label = 'connecting';
  } else {
    state = 'polling';
    label = 'polling';
  }
  node.className = 'conn conn-' + state;
  setText('conn-label', label);
  node.title = state === 'live'
    ? 'streaming /v1/events, refreshing /v1/overview every ' + POLL_MS / 1000 + ' s'
    : state === 'polling' ? 'event stream unavailable; polling /v1/overview every ' + POLL_MS / 1000 + ' s' : 'the node does not answer';
}

function tick() {
  var now = Date.now();
  setText('age', view.latestSeenMs === null ? '' : agoMs(view.latestSeenMs, now));
  setText('updated', view.lastFetchMs === 0 ? 'not yet loaded' : 'updated ' + clockTime(view.lastFetchMs));
}

function readInitial() {
  var node = document.getElementById('initial-overview');
  if (!node) return null;
  try {
    return JSON.parse(node.textContent || 'null');
  } catch {
    return null;
  }
}

function start() {
  var initial = readInitial();
  if (initial) {
    render(initial);
    view.fetchOk = true;
    view.lastFetchMs = Date.now();
    tick();
  } else {
    refresh();
  }
  renderFeed();
  renderStatus();
  connect();
  setInterval(refresh, POLL_MS);
  setInterval(tick, 1000);
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
