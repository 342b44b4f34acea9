/* The dashboard's views per role and its actions, inlined into the page after client.js (whose
   helpers it uses). Viewing needs only an address; acting signs in the page with a browser wallet,
   a key generated in this browser, or a demo key the local demo offers — the signing code
   (/dashboard/wallet.js) loads on first use, and only signed calls leave the page. */
/* global document, window, fetch, setInterval, localStorage, h, qsrNode, hexNode, formatQsr, formatCount, isDecimal, view, gasBar */
'use strict';

var SAMPLES_MAX = 180;
var SPEND_WINDOW_MS = 60000;
var FUDDOR_SESSION_GAS = 500000n;
var BROWSER_KEY_ITEM = 'zgas.browserKey';
var ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
/** The signing code, a URL of this origin (served by plugin.ts, built by bundle.ts). */
var WALLET_URL = '/dashboard/wallet.js';

// ── pure helpers (also run by the tests) ────────────────────────────────────────────────

function sameAddr(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** Seconds -> "45 s", "3 min 05 s", "2 h 10 min", "4 d 3 h". */
function formatDuration(seconds) {
  if (!(seconds >= 0) || !isFinite(seconds)) return '—';
  var s = Math.floor(seconds);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

/**
 * Spend per second (base units, as a Number: only the forecast uses it) over the samples
 * [{ atMs, billed }] of the last windowMs; null before two samples span any time.
 */
function spendRate(samples, nowMs, windowMs) {
  var recent = samples.filter(function (p) { return p.atMs >= nowMs - windowMs; });
  if (recent.length < 2) return null;
  var first = recent[0];
  var last = recent[recent.length - 1];
  var seconds = (last.atMs - first.atMs) / 1000;
  if (seconds <= 0) return null;
  var spent = BigInt(last.billed) - BigInt(first.billed);
  return spent > 0n ? Number(spent) / seconds : 0;
}

/** How long `available` (decimal base units) lasts at `rate` per second: seconds, or null when nothing is spent. */
function runwaySeconds(available, rate) {
  if (rate === null || rate <= 0 || !isDecimal(available)) return null;
  return Number(BigInt(available)) / rate;
}

/** The chain's time now (unix seconds), estimated from the newest momentum and when the page saw it. */
function chainNowSeconds(latest, seenMs, nowMs) {
  if (!latest || !isDecimal(latest.timestamp)) return null;
  var base = Number(latest.timestamp);
  return seenMs === null || seenMs === undefined ? base : base + Math.max(0, (nowMs - seenMs) / 1000);
}

/**
 * Polyline points of a burn-down over samples [{ atMs, total }], scaled into width × height between
 * the lowest and the highest total seen (a flat line sits in the middle), so small spends show.
 */
function burnPoints(samples, width, height) {
  if (samples.length === 0) return '';
  var t0 = samples[0].atMs;
  var t1 = samples[samples.length - 1].atMs;
  var low = BigInt(samples[0].total);
  var high = low;
  samples.forEach(function (p) {
    var v = BigInt(p.total);
    if (v > high) high = v;
    if (v < low) low = v;
  });
  var span = high - low;
  return samples.map(function (p) {
    var x = t1 === t0 ? width : ((p.atMs - t0) / (t1 - t0)) * width;
    var share = span === 0n ? 0.5 : Number(((BigInt(p.total) - low) * 1000n) / span) / 1000;
    var y = height - 3 - share * (height - 6);
    return x.toFixed(1) + ',' + y.toFixed(1);
  }).join(' ');
}

/** The burn-down's caption: the range it spans. */
function burnCaption(samples, nowMs) {
  if (samples.length < 2) return 'escrow over time: collecting…';
  var first = samples[0];
  var last = samples[samples.length - 1];
  return 'escrow (available + held) over the last ' + formatDuration((nowMs - first.atMs) / 1000) + ': ' + formatQsr(first.total) + ' → ' + formatQsr(last.total);
}

// ── state ─────────────────────────────────────────────────────────────────────────────────

var act = {
  address: null, // the address viewed
  signer: null, // { address, kind, label, signer } from wallet.js
  local: null, // the local demo's offer, or null
  lib: null,
  client: null,
  escrow: {}, // zAppId -> [{ atMs, total }]
  spend: {}, // zAppId -> [{ atMs, billed }]
  fuddor: null, // { session, user }
  earnings: null, // { address, at, seenMs }: the host's clock when the provider's earnings were read
  busy: false,
};

function status(text, bad) {
  var node = document.getElementById('act-status');
  node.textContent = text;
  node.className = bad ? 'act-status bad' : 'act-status';
}

function errorText(error) {
  if (error && error.details && typeof error.details.remoteMessage === 'string') return error.code + ': ' + error.details.remoteMessage;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') return error.code + ': ' + error.message;
  return error && error.message ? error.message : String(error);
}

function loadLib() {
  if (act.lib) return Promise.resolve(act.lib);
  return import(WALLET_URL).then(function (lib) {
    act.lib = lib;
    return lib;
  });
}

function pageClient() {
  var o = view.overview;
  if (!o || !o.chain || !o.chain.chainId || !o.chain.contract) return Promise.reject(new Error('the chain is not known yet'));
  return loadLib().then(function (lib) {
    if (!act.client) act.client = new lib.PageClient(window.location.origin, o.chain.chainId, o.chain.contract);
    return act.client;
  });
}

/** Runs one action: one at a time, its outcome in the status line. */
function run(label, work) {
  if (act.busy) return Promise.resolve();
  if (!act.signer) {
    status('Sign in first: a browser wallet, a key in this browser or a demo key.', true);
    return Promise.resolve();
  }
  act.busy = true;
  setBusy(true);
  status(label + '…');
  return pageClient()
    .then(function (client) { return work(client, act.signer); })
    .then(function (done) { status(label + ': ' + (done || 'done')); })
    .catch(function (error) { status(label + ' failed — ' + errorText(error), true); })
    .then(function () {
      act.busy = false;
      setBusy(false);
      if (typeof refresh === 'function') refresh(); // eslint-disable-line no-undef
    });
}

function setBusy(busy) {
  document.querySelectorAll('button[data-act]').forEach(function (b) { b.disabled = busy || b.getAttribute('data-off') === '1'; });
}

// ── signing in ────────────────────────────────────────────────────────────────────────────

function signedIn(signer) {
  act.signer = signer;
  act.fuddor = null;
  var node = document.getElementById('signer');
  node.textContent = signer.label + ' ' + signer.address.slice(0, 8) + '…' + signer.address.slice(-4);
  node.title = signer.address;
  showAddress(signer.address);
  status('Signed in with ' + signer.label + ': calls are signed in this page.');
}

function signInWith(makeSigner) {
  status('Signing in…');
  return loadLib()
    .then(makeSigner)
    .then(signedIn)
    .catch(function (error) { status('Sign-in failed — ' + errorText(error), true); });
}

function connectWallet() {
  if (!window.ethereum || typeof window.ethereum.request !== 'function') {
    status('No browser wallet found (window.ethereum): use a key in this browser instead.', true);
    return;
  }
  signInWith(function (lib) { return lib.connectWallet(window.ethereum); });
}

function browserKey() {
  signInWith(function (lib) {
    var key = null;
    try {
      key = localStorage.getItem(BROWSER_KEY_ITEM);
    } catch {
      key = null;
    }
    if (!key) {
      key = lib.newPrivateKey();
      try {
        localStorage.setItem(BROWSER_KEY_ITEM, key);
      } catch {
        // Storage refused (private mode): the key lives as long as the page.
      }
    }
    return lib.keySigner(key, 'browser', 'key in this browser');
  });
}

function demoKey(name) {
  var key = act.local && act.local.keys.find(function (k) { return k.name === name; });
  if (!key) return;
  signInWith(function (lib) { return lib.keySigner(key.privateKey, 'demo', 'demo key ' + name); });
}

function loadLocal() {
  return fetch('/v1/local', { cache: 'no-store', headers: { accept: 'application/json' } })
    .then(function (res) { return res.ok ? res.json() : null; })
    .catch(function () { return null; })
    .then(function (local) {
      act.local = local;
      var select = document.getElementById('demo-keys');
      if (!local) return;
      local.keys.forEach(function (k) {
        var option = h('option', null, k.name + ' ' + k.address.slice(0, 8) + '…');
        option.value = k.name;
        select.appendChild(option);
      });
      select.hidden = false;
      if (view.overview) renderRoles(view.overview);
    });
}

function showAddress(address) {
  act.address = address;
  document.getElementById('view-address').value = address;
  if (window.history && window.history.replaceState) window.history.replaceState(null, '', '#as=' + address);
  if (view.overview) renderRoles(view.overview);
}

// ── views per role ────────────────────────────────────────────────────────────────────────

/** One node per key in a container, created once (inputs keep what is typed) and updated on every overview. */
function keyed(container, keys, create, update) {
  var have = {};
  Array.prototype.forEach.call(container.children, function (child) { have[child.getAttribute('data-key')] = child; });
  keys.forEach(function (key, i) {
    var node = have[key.id];
    if (!node) {
      node = create(key);
      node.setAttribute('data-key', key.id);
    }
    delete have[key.id];
    update(node, key);
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
  Object.keys(have).forEach(function (k) { have[k].remove(); });
}

function kvBox(pairs) {
  var box = h('div', 'kv');
  pairs.forEach(function (p) {
    var cellNode = h('div');
    cellNode.appendChild(h('div', 'k', p[0]));
    var v = h('div', 'v');
    v.setAttribute('data-field', p[1]);
    cellNode.appendChild(v);
    box.appendChild(cellNode);
  });
  return box;
}

function setField(root, field, content) {
  var node = root.querySelector('[data-field="' + field + '"]');
  if (!node) return;
  if (content instanceof window.Node) node.replaceChildren(content);
  else node.textContent = content;
}

function actionButton(label, kind, onClick) {
  var b = h('button', kind || null, label);
  b.type = 'button';
  b.setAttribute('data-act', label.toLowerCase().replace(/[^a-z]+/g, '-'));
  b.addEventListener('click', onClick);
  return b;
}

function amountInput(placeholder, label) {
  var input = h('input', 'amount');
  input.placeholder = placeholder;
  input.setAttribute('aria-label', label);
  input.inputMode = 'decimal';
  return input;
}

function sample(list, point, nowMs) {
  var last = list[list.length - 1];
  if (last && last.atMs === nowMs) return;
  list.push(point);
  if (list.length > SAMPLES_MAX) list.shift();
}

/** Escrow and spend samples of every zApp, at each overview: the burn-down and the runway read them. */
function recordSamples(o, nowMs) {
  var billed = {};
  o.sessions.forEach(function (s) { billed[s.zAppId] = (billed[s.zAppId] || 0n) + BigInt(s.billedQsr); });
  o.zApps.forEach(function (z) {
    sample(act.escrow[z.id] || (act.escrow[z.id] = []), { atMs: nowMs, total: (BigInt(z.available) + BigInt(z.held)).toString() }, nowMs);
    sample(act.spend[z.id] || (act.spend[z.id] = []), { atMs: nowMs, billed: (billed[z.id] || 0n).toString() }, nowMs);
  });
}

function createOwnerTile(z) {
  var tile = h('div', 'tile');
  tile.setAttribute('data-zapp', z.id);
  var head = h('div', 'tile-head');
  head.appendChild(h('span', 'strong', zAppName(z)));
  head.appendChild(hexNode(z.id));
  tile.appendChild(head);
  tile.appendChild(kvBox([['Available', 'available'], ['Held by sessions', 'held'], ['Auto top-up', 'auto']]));
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'burn');
  svg.setAttribute('viewBox', '0 0 300 90');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'escrow over time');
  var base = document.createElementNS('http://www.w3.org/2000/svg', 'line');
  base.setAttribute('x1', '0'); base.setAttribute('x2', '300'); base.setAttribute('y1', '87'); base.setAttribute('y2', '87');
  svg.appendChild(base);
  svg.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'polyline'));
  tile.appendChild(svg);
  tile.appendChild(h('div', 'burn-caption muted'));
  tile.appendChild(h('div', 'runway'));
  var topUp = h('div', 'row');
  var amount = amountInput('QSR', 'top-up amount');
  amount.className += ' top-up-amount';
  topUp.appendChild(amount);
  topUp.appendChild(actionButton('Top up', null, function () {
    run('Top-up', function (client, who) { return client.topUp(who, z.id, amount.value).then(function (r) { amount.value = ''; return 'in momentum #' + r.height; }); });
  }));
  tile.appendChild(topUp);
  var auto = h('div', 'row');
  var min = amountInput('below', 'auto top-up when available is below');
  var refill = amountInput('refill', 'auto top-up refill');
  auto.appendChild(h('span', 'muted', 'auto top-up'));
  auto.appendChild(min);
  auto.appendChild(refill);
  auto.appendChild(actionButton('Set auto top-up', 'ghost', function () {
    run('Auto top-up', function (client, who) { return client.setAutoTopUp(who, z.id, min.value || '0', refill.value || '0').then(function (r) { return 'set in momentum #' + r.height; }); });
  }));
  tile.appendChild(auto);
  return tile;
}

function updateOwnerTile(tile, z, nowMs) {
  setField(tile, 'available', qsrNode(z.available));
  setField(tile, 'held', qsrNode(z.held));
  setField(tile, 'auto', z.autoTopUp ? 'below ' + formatQsr(z.autoTopUp.minAvailable) + ' → +' + formatQsr(z.autoTopUp.refill) : 'off');
  tile.querySelector('polyline').setAttribute('points', burnPoints(act.escrow[z.id] || [], 300, 90));
  tile.querySelector('.burn-caption').textContent = burnCaption(act.escrow[z.id] || [], nowMs);
  var rate = spendRate(act.spend[z.id] || [], nowMs, SPEND_WINDOW_MS);
  var runway = runwaySeconds(z.available, rate);
  var text = rate === null ? 'Runway: measuring the spend…'
    : runway === null ? 'Runway: no spend in the last minute'
      : 'Runway ≈ ' + formatDuration(runway) + ' at the current spend (' + formatQsr(String(Math.round(rate * 60))) + ' QSR/min)';
  if (z.autoTopUp) text += ' · auto top-up refills ' + formatQsr(z.autoTopUp.refill) + ' from your balance';
  tile.querySelector('.runway').textContent = text;
}

function renderOwner(o, nowMs) {
  var mine = o.zApps.filter(function (z) { return sameAddr(z.owner, act.address); });
  document.getElementById('owner-view').hidden = mine.length === 0;
  keyed(document.getElementById('owner-zapps'), mine, createOwnerTile, function (tile, z) { updateOwnerTile(tile, z, nowMs); });
}

function renderProvider(o, nowMs) {
  var p = o.providers.find(function (row) { return sameAddr(row.address, act.address); });
  var box = document.getElementById('provider-earnings');
  document.getElementById('provider-view').hidden = !p;
  if (!p) return;
  keyed(box, [Object.assign({ id: p.address }, p)], function () {
    var tile = h('div', 'tile');
    tile.appendChild(kvBox([['Stake', 'stake'], ['Pending', 'pending'], ['Claimable now', 'claimable'], ['Next claimable in', 'countdown']]));
    var row = h('div', 'row');
    row.appendChild(actionButton('Claim', null, function () {
      run('Claim', function (client, who) { return client.claim(who).then(function (r) { return 'claimed in momentum #' + r.height; }); });
    }));
    tile.appendChild(row);
    return tile;
  }, function (tile) {
    setField(tile, 'stake', qsrNode(p.stake));
    // The overview's figures until the host's (newer) are read for this provider.
    if (!act.earnings || !sameAddr(act.earnings.address, p.address)) updateEarnings(tile, { at: null, claimableNow: p.claimable, pending: p.pending, nextClaimableAt: p.nextClaimableAt }, nowMs, p.address);
  });
  loadEarnings(p.address);
}

/**
 * The provider's earnings at the host's clock (GET /v1/providers/:address): the overview matures
 * earnings at the newest momentum's time, and no momentum may come while nothing happens.
 */
function loadEarnings(address) {
  fetch('/v1/providers/' + address, { cache: 'no-store', headers: { accept: 'application/json' } })
    .then(function (res) { return res.ok ? res.json() : null; })
    .then(function (p) {
      var tile = document.querySelector('#provider-earnings .tile');
      if (!p || !p.earnings || !tile || !sameAddr(act.address, address)) return;
      updateEarnings(tile, p.earnings, Date.now(), address);
    })
    .catch(function () { /* the next overview tries again */ });
}

function updateEarnings(tile, e, nowMs, address) {
  if (e.at !== null) act.earnings = { address: address, at: Number(e.at), seenMs: nowMs };
  setField(tile, 'pending', qsrNode(e.pending));
  setField(tile, 'claimable', qsrNode(e.claimableNow));
  var button = tile.querySelector('button[data-act="claim"]');
  var nothing = e.claimableNow === '0';
  button.setAttribute('data-off', nothing || !act.signer ? '1' : '0');
  button.disabled = act.busy || nothing || !act.signer;
  tile.setAttribute('data-next', e.nextClaimableAt || '');
  updateCountdown(tile, nowMs);
}

function updateCountdown(tile, nowMs) {
  var next = tile.getAttribute('data-next');
  var now = act.earnings && sameAddr(act.earnings.address, act.address) ? act.earnings.at + Math.max(0, (nowMs - act.earnings.seenMs) / 1000) : chainNowSeconds(view.overview && view.overview.latest, view.latestSeenMs, nowMs);
  var text = !next ? 'nothing pending' : now === null ? '—' : Number(next) <= now ? 'matured: claim it' : formatDuration(Number(next) - now) + ' (chain time)';
  setField(tile, 'countdown', text);
}

function runnerFor(provider) {
  var r = act.local && act.local.runners.find(function (x) { return sameAddr(x.provider, provider); });
  return r ? r.url : null;
}

function renderUser(o) {
  var mine = o.sessions.filter(function (s) { return sameAddr(s.user, act.address); });
  document.getElementById('user-view').hidden = mine.length === 0;
  keyed(document.getElementById('user-sessions'), mine, function (s) {
    var tile = h('div', 'tile');
    tile.setAttribute('data-session', s.id);
    var head = h('div', 'tile-head');
    head.appendChild(hexNode(s.id));
    head.appendChild(h('span', 'badge'));
    tile.appendChild(head);
    tile.appendChild(h('div', 'meter'));
    tile.appendChild(kvBox([['zApp', 'zapp'], ['Calls', 'seq'], ['Billed to the zApp', 'billed']]));
    var row = h('div', 'row');
    row.appendChild(actionButton('Abort', 'danger', function () {
      run('Abort', function (client, who) { return client.abort(who, s.id, runnerFor(s.provider)).then(function () { return 'the session stops; the runner ends its running call'; }); });
    }));
    row.appendChild(actionButton('Close', 'ghost', function () {
      run('Close', function (client, who) { return client.close(who, s.id).then(function (r) { return 'closing from momentum #' + r.height; }); });
    }));
    tile.appendChild(row);
    return tile;
  }, function (tile, s) {
    var badge = tile.querySelector('.badge');
    badge.className = 'badge badge-' + s.status;
    badge.textContent = s.stopCall ? s.status + ' · aborted' : s.status;
    tile.querySelector('.meter').replaceChildren(gasBar(s));
    setField(tile, 'zapp', zAppName(o.zApps.find(function (z) { return z.id === s.zAppId; }) || { id: s.zAppId }));
    setField(tile, 'seq', formatCount(s.lastSeq));
    setField(tile, 'billed', qsrNode(s.billedQsr));
    var mayAct = s.status === 'open' && act.signer !== null && sameAddr(act.signer.address, s.user);
    tile.querySelectorAll('button[data-act]').forEach(function (b) {
      b.setAttribute('data-off', mayAct ? '0' : '1');
      b.disabled = act.busy || !mayAct;
    });
  });
}

// ── fuddor-meme ───────────────────────────────────────────────────────────────────────────

function zAppName(z) {
  var known = act.local && act.local.zApps.find(function (m) { return z.moduleHash && m.moduleHash === z.moduleHash; });
  return known ? known.name : 'zApp ' + (z.id || '').slice(0, 10);
}

function fuddorZApp(o) {
  var module = act.local && act.local.zApps.find(function (m) { return m.name === 'fuddor-meme'; });
  return module ? o.zApps.find(function (z) { return z.moduleHash === module.moduleHash; }) || null : null;
}

function renderFuddor(o) {
  var z = fuddorZApp(o);
  var runner = act.local && act.local.runners[0];
  document.getElementById('fuddor-view').hidden = !z || !runner;
  if (!z) return;
  document.getElementById('fuddor-escrow').replaceChildren(qsrNode(z.available));
  var meet = document.getElementById('fuddor-meet');
  meet.disabled = act.busy || !act.signer;
}

function fuddorCall(input) {
  var z = fuddorZApp(view.overview);
  var runner = act.local.runners[0];
  return run(input === 'name' ? 'Meeting a Fuddor' : 'Asking ' + input + ' for a meme', function (client, who) {
    var ready = act.fuddor && sameAddr(act.fuddor.user, who.address) ? Promise.resolve(act.fuddor)
      : client.openOwnSession(who, z.id, runner.provider, FUDDOR_SESSION_GAS)
        .then(function (sessionId) { return client.attach(who, sessionId, runner.url); })
        .then(function (session) {
          act.fuddor = { session: session, user: who.address };
          return act.fuddor;
        });
    return ready.then(function (f) { return act.lib.callText(f.session, input); }).then(function (r) {
      showFuddor(input, r);
      return 'call ' + r.seq + ' cost ' + formatCount(r.callGas) + ' gas, paid from the zApp\'s escrow';
    });
  });
}

function showFuddor(input, r) {
  var out = document.getElementById('fuddor-out');
  if (input === 'name') {
    var name = actionButton(r.output, 'fuddor-name', function () { fuddorCall(r.output); });
    name.id = 'fuddor-name';
    out.replaceChildren(name);
  } else {
    var meme = h('div', 'meme', r.output);
    meme.id = 'fuddor-meme';
    var old = out.querySelector('.meme');
    if (old) old.remove();
    out.appendChild(meme);
  }
  document.getElementById('fuddor-gas').textContent = formatCount(r.cumulativeGas) + ' gas';
  var costs = document.getElementById('fuddor-costs');
  costs.insertBefore(h('li', null, 'call ' + r.seq + ' · ' + formatCount(r.callGas) + ' gas · ' + (input === 'name' ? 'name' : 'meme')), costs.firstChild);
  refreshBalance();
}

function refreshBalance() {
  if (!act.signer || !act.client) return;
  act.client.api.balance(act.signer.address).then(function (b) {
    document.getElementById('fuddor-balance').replaceChildren(qsrNode(b.toString()));
  }).catch(function () { /* the next action tries again */ });
}

// ── wiring ────────────────────────────────────────────────────────────────────────────────

function renderRoles(o) {
  var nowMs = Date.now();
  if (act.address === null) {
    ['owner-view', 'provider-view', 'user-view'].forEach(function (id) { document.getElementById(id).hidden = true; });
  } else {
    renderOwner(o, nowMs);
    renderProvider(o, nowMs);
    renderUser(o);
  }
  renderFuddor(o);
}

function startAct() {
  document.addEventListener('zgas:overview', function (e) {
    recordSamples(e.detail, Date.now());
    renderRoles(e.detail);
  });
  var input = document.getElementById('view-address');
  var go = function () {
    var text = input.value.trim();
    if (!ADDRESS_RE.test(text)) {
      status('An address is 0x and 40 hex digits.', true);
      return;
    }
    showAddress(text);
    status('Viewing ' + text + (act.signer && sameAddr(act.signer.address, text) ? '' : ' (sign in as it to act)'));
  };
  document.getElementById('view-go').addEventListener('click', go);
  input.addEventListener('keydown', function (e) { if (e.key === 'Enter') go(); });
  document.getElementById('connect-wallet').addEventListener('click', connectWallet);
  document.getElementById('new-key').addEventListener('click', browserKey);
  document.getElementById('demo-keys').addEventListener('change', function (e) { if (e.target.value) demoKey(e.target.value); });
  document.getElementById('fuddor-meet').addEventListener('click', function () { fuddorCall('name'); });
  var hash = /^#as=(0x[0-9a-fA-F]{40})$/.exec(window.location.hash);
  if (hash) showAddress(hash[1]);
  if (view.overview) {
    recordSamples(view.overview, Date.now());
    renderRoles(view.overview);
  }
  loadLocal();
  setInterval(function () {
    var tile = document.querySelector('#provider-earnings .tile');
    if (tile) updateCountdown(tile, Date.now());
  }, 1000);
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startAct);
  else startAct();
}
