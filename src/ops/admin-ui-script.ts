/**
 * The live view's browser script, as a string (see admin-ui-page.ts for
 * why a string). It runs under a CSP without inline script, so it is served
 * as its own file; it writes every text with `textContent`, never as HTML.
 *
 * The stream is read with `fetch()` so the credential travels in a header
 * (`Authorization: Bearer …` or `X-API-Key: trp_…`): EventSource cannot set
 * one. The credential is kept in sessionStorage under one key; without one
 * the page tries once (a gateway with `auth: false` needs none) and asks on
 * 401. A 403 says which permission is missing and the page stops trying.
 * The server ends each stream after `streamMaxMs`; the page reconnects at
 * once, and after a failure with backoff.
 *
 * Written as plain ES2020 in a String.raw template: no backticks and no
 * dollar-brace inside.
 */

export const kAppScript = String.raw`(function () {
  'use strict';
  var KEY = 'troupe.ui.credential';
  var COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b', '#975a16', '#4a5568'];
  var $ = function (id) { return document.getElementById(id); };
  var state = { controller: null, retryMs: 500, charts: null, hosts: [], hello: null, series: null, stopped: false };

  // ------------------------------------------------------------- format
  var nf = new Intl.NumberFormat('en');
  function int(n) { return n === null || n === undefined || !isFinite(n) ? '–' : nf.format(Math.round(n)); }
  function bytes(n) {
    if (!isFinite(n)) return '–';
    if (n < 1024) return Math.round(n) + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MiB';
    return (n / 1073741824).toFixed(2) + ' GiB';
  }
  function us(n) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    if (n < 1000) return (Math.round(n * 10) / 10) + ' µs';
    if (n < 1e6) return (n / 1000).toFixed(1) + ' ms';
    return (n / 1e6).toFixed(2) + ' s';
  }
  function compact(n) {
    if (n === null || !isFinite(n)) return '';
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return Math.round(n / 1e3) + 'k';
    return String(Math.round(n * 100) / 100);
  }
  function pct(n) { return isFinite(n) ? (n * 100).toFixed(0) + ' %' : '–'; }
  function hostName(h) { return h === 'main' ? 'main' : 'worker ' + h; }
  function clock(at) { return new Date(at).toLocaleTimeString('en-GB', { hour12: false }); }
  function duration(ms) {
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + 'h ' : '') + (h > 0 || m > 0 ? m + 'm ' : '') + (s % 60) + 's';
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setValue(id, text, value) {
    var node = $(id);
    node.textContent = text;
    if (value !== undefined) node.dataset.value = String(value);
  }

  // ----------------------------------------------------------- credential
  function credential() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function headersFor(value) {
    if (!value) return {};
    return /^trp_/.test(value) ? { 'X-API-Key': value } : { Authorization: 'Bearer ' + value.replace(/^Bearer\s+/i, '') };
  }
  function setStatus(text, kind) {
    var node = $('status');
    node.textContent = text;
    node.dataset.state = kind;
  }
  function askForCredential(message) {
    $('auth').hidden = false;
    $('auth-error').textContent = message || '';
    $('sign-out').hidden = !credential();
    $('credential').focus();
  }

  $('auth-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('credential').value.trim();
    $('credential').value = '';
    if (!value) return;
    try { sessionStorage.setItem(KEY, value); } catch (e) { /* private mode: this page load only */ state.memory = value; }
    state.stopped = false;
    connect();
  });
  $('sign-out').addEventListener('click', function () {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    state.memory = null;
    if (state.controller) state.controller.abort();
    state.stopped = true;
    $('view').hidden = true;
    $('viewer').textContent = '';
    setStatus('signed out', 'connecting');
    askForCredential('');
  });

  // --------------------------------------------------------------- stream
  function connect() {
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    var value = credential() || state.memory || null;
    setStatus('connecting', 'connecting');
    fetch('ui/stream', { headers: headersFor(value), cache: 'no-store', credentials: 'omit', signal: controller.signal })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) {
          return res.json().catch(function () { return null; }).then(function (body) {
            var why = body && body.error ? body.error.message + ' (' + body.error.code + ')' : res.statusText;
            setStatus(res.status === 403 ? 'denied' : 'signed out', res.status === 403 ? 'denied' : 'unauthorized');
            $('view').hidden = true;
            state.stopped = true;
            askForCredential(res.status === 401 && !value ? '' : res.status + ': ' + why);
          });
        }
        if (!res.ok || !res.body) {
          setStatus('error ' + res.status, 'error');
          return retry();
        }
        $('auth').hidden = true;
        $('sign-out').hidden = !value;
        return read(res.body.getReader(), controller).then(function (ended) {
          if (controller.signal.aborted) return;
          if (ended === 'reauthenticate') { state.retryMs = 500; connect(); return; }
          retry();
        });
      })
      .catch(function (error) {
        if (controller.signal.aborted) return;
        setStatus('reconnecting', 'reconnecting');
        retry();
      });
  }

  function retry() {
    if (state.stopped) return;
    setStatus('reconnecting', 'reconnecting');
    var wait = state.retryMs;
    state.retryMs = Math.min(10000, state.retryMs * 2);
    setTimeout(function () { if (!state.stopped) connect(); }, wait);
  }

  /** Server-sent events off a byte stream: blocks end with a blank line; "event:" names it, "data:" lines carry JSON. */
  function read(reader, controller) {
    var decoder = new TextDecoder();
    var buffer = '';
    var ended = null;
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done || controller.signal.aborted) return ended;
        buffer += decoder.decode(chunk.value, { stream: true });
        var cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          var block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          var name = 'message', data = [];
          block.split('\n').forEach(function (line) {
            if (line.indexOf('event:') === 0) name = line.slice(6).trim();
            else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
          });
          if (data.length === 0) continue;
          var payload = JSON.parse(data.join('\n'));
          if (name === 'hello') onHello(payload);
          else if (name === 'frame') onFrame(payload);
          else if (name === 'end') ended = payload.reason;
        }
        return pump();
      });
    }
    return pump();
  }

  // ---------------------------------------------------------------- view
  function onHello(hello) {
    state.hello = hello;
    state.retryMs = 500;
    setStatus('live', 'live');
    $('view').hidden = false;
    $('viewer').textContent = hello.viewer ? 'signed in as ' + hello.viewer.subject + ' (' + hello.viewer.role + ')' : 'no auth';
    state.series = null;
    var log = $('log');
    log.textContent = '';
    hello.log.forEach(addLog);
    state.pendingHistory = hello.history;
  }

  function onFrame(frame) {
    if (state.series === null) startSeries(frame, state.pendingHistory || []);
    else addPoint(frame.point);
    $('system-state').textContent = 'system ' + frame.state + ', ' + frame.workers + ' workers';
    $('uptime').textContent = 'up ' + duration(frame.uptimeMs);
    var t = frame.total;
    setValue('total-rate', int(t.inPerSec), t.inPerSec);
    setValue('total-in', int(t.messagesIn), t.messagesIn);
    setValue('total-actors', int(t.actors), t.actors);
    setValue('total-restarts', int(t.restarts), t.restarts);
    setValue('total-dead', int(t.deadLetters), t.deadLetters);
    setValue('total-errors', int(t.errors), t.errors);
    setValue('total-latency', us(t.p50Us) + ' / ' + us(t.p99Us));
    setValue('total-lanes', bytes(t.laneDepthBytes) + ' / ' + bytes(t.laneHighWaterBytes));
    setValue('total-memory', bytes(t.heapUsedBytes) + ' / ' + bytes(t.rssBytes));
    setValue('total-cpu', Math.round(t.cpuPercent) + ' %');
    renderHosts(frame.hosts);
    renderTree(frame.tree, frame.treeOmitted);
    if (frame.crashes) renderCrashes(frame.crashes);
    frame.log.forEach(addLog);
    if (frame.logOmitted > 0) addLog({ at: frame.at, text: frame.logOmitted + ' more events left out' });
  }

  function renderHosts(hosts) {
    var body = document.querySelector('#hosts tbody');
    body.textContent = '';
    hosts.forEach(function (h) {
      var row = el('tr');
      row.dataset.host = String(h.host);
      row.dataset.messagesIn = String(h.messagesIn);
      var cells = [
        hostName(h.host), h.state + (h.parked ? ' · parked' : ''), int(h.actors), int(h.inPerSec), int(h.outPerSec), int(h.messagesIn), int(h.mailboxQueued),
        bytes(h.laneDepthBytes) + ' · ' + int(h.laneDepthRecords), bytes(h.laneHighWaterBytes) + ' of ' + bytes(h.laneCapacityBytes), us(h.p50Us), us(h.p99Us), pct(h.utilisation),
        bytes(h.heapUsedBytes) + ' / ' + bytes(h.heapTotalBytes), int(h.restarts), int(h.deadLetters), int(h.errors),
      ];
      cells.forEach(function (text, i) {
        var cell = el('td', i === 1 ? 'state-' + h.state : '', text);
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
  }

  function actorLabel(a) { return a.name !== undefined && a.name !== null ? a.name : 'actor ' + a.id; }

  function renderTree(actors, omitted) {
    var byId = new Map();
    actors.forEach(function (a) { byId.set(a.id, { actor: a, children: [] }); });
    var roots = [];
    byId.forEach(function (node) {
      var parent = node.actor.supervisor;
      if (parent !== undefined && parent !== null && parent !== 0 && byId.has(parent)) byId.get(parent).children.push(node);
      else roots.push(node);
    });
    var byHost = new Map();
    roots.forEach(function (node) {
      var key = node.actor.host === undefined || node.actor.host === null ? 'not running' : hostName(node.actor.host);
      if (!byHost.has(key)) byHost.set(key, []);
      byHost.get(key).push(node);
    });
    var top = el('ul');
    Array.from(byHost.keys()).sort().forEach(function (key) {
      var hostItem = el('li');
      hostItem.appendChild(el('div', 'host', key));
      hostItem.appendChild(list(byHost.get(key)));
      top.appendChild(hostItem);
    });
    var tree = $('tree');
    tree.textContent = '';
    tree.appendChild(top);
    $('tree-omitted').textContent = omitted > 0 ? omitted + ' more named actors not shown' : '';
  }

  function list(nodes) {
    var ul = el('ul');
    nodes.sort(function (a, b) { return actorLabel(a.actor) < actorLabel(b.actor) ? -1 : 1; }).forEach(function (node) {
      var a = node.actor;
      var li = el('li');
      li.dataset.id = String(a.id);
      if (a.name !== undefined && a.name !== null) li.dataset.name = a.name;
      li.dataset.status = a.status;
      li.dataset.restarts = String(a.restarts);
      li.appendChild(el('span', '', actorLabel(a)));
      li.appendChild(el('span', 'dim small', ' #' + a.id));
      li.appendChild(el('span', 'badge ' + a.status, a.status));
      if (a.restarts > 0) li.appendChild(el('span', 'badge', '↻ ' + a.restarts));
      if (a.lastError) li.appendChild(el('div', 'error-text', a.lastError));
      if (node.children.length > 0) li.appendChild(list(node.children));
      ul.appendChild(li);
    });
    return ul;
  }

  function renderCrashes(crashes) {
    var body = document.querySelector('#crashes tbody');
    body.textContent = '';
    $('no-crashes').hidden = crashes.length > 0;
    crashes.forEach(function (c) {
      var row = el('tr');
      row.dataset.id = String(c.id);
      row.dataset.outcome = c.outcome;
      row.appendChild(el('td', '', clock(c.at)));
      row.appendChild(el('td', '', (c.name !== undefined && c.name !== null ? c.name : 'actor') + ' #' + c.id));
      row.appendChild(el('td', '', hostName(c.host)));
      var error = el('td', 'error-text', c.error.name + ': ' + c.error.message + (c.error.code ? ' [' + c.error.code + ']' : ''));
      if (c.error.stack) error.title = c.error.stack;
      row.appendChild(error);
      var outcome = c.outcome === 'restarted' ? 'restarted after ' + Math.max(0, Math.round(c.restartedAt - c.at)) + ' ms'
        : c.outcome === 'restarting' ? 'restarting' + (c.delayMs ? ' (backoff ' + c.delayMs + ' ms)' : '')
        : c.outcome;
      row.appendChild(el('td', 'badge ' + (c.outcome === 'restarted' ? 'live' : c.outcome), outcome));
      body.appendChild(row);
    });
  }

  function addLog(line) {
    var log = $('log');
    var item = el('li', '', clock(line.at) + '  ' + line.text);
    log.insertBefore(item, log.firstChild);
    while (log.childNodes.length > 200) log.removeChild(log.lastChild);
  }

  // --------------------------------------------------------------- charts
  function startSeries(frame, history) {
    var hosts = frame.hosts.map(function (h) { return h.host; });
    state.hosts = hosts;
    var n = hosts.length;
    var s = { x: [], rate: [], p50: [], p99: [], util: [], heap: [], lanes: [] };
    for (var i = 0; i < n; i++) { s.rate.push([]); s.util.push([]); s.heap.push([]); s.lanes.push([]); }
    state.series = s;
    history.forEach(push);
    push(frame.point);
    if (typeof uPlot === 'undefined') return;
    if (state.charts) state.charts.forEach(function (c) { c.chart.destroy(); });
    var perHost = function (unit) { return hosts.map(function (h, i) { return { label: hostName(h), stroke: COLORS[i % COLORS.length], width: 1.5, value: unit }; }); };
    state.charts = [
      chart('chart-rate', perHost(function (u, v) { return int(v); }), function () { return [s.x].concat(s.rate); }),
      chart('chart-latency', [
        { label: 'p50', stroke: COLORS[0], width: 1.5, value: function (u, v) { return us(v); } },
        { label: 'p99', stroke: COLORS[1], width: 1.5, value: function (u, v) { return us(v); } },
      ], function () { return [s.x, s.p50, s.p99]; }),
      chart('chart-util', perHost(function (u, v) { return v === null ? '–' : Math.round(v) + ' %'; }), function () { return [s.x].concat(s.util); }),
      chart('chart-heap', perHost(function (u, v) { return v === null ? '–' : v.toFixed(1) + ' MiB'; }), function () { return [s.x].concat(s.heap); }),
      chart('chart-lanes', perHost(function (u, v) { return v === null ? '–' : v.toFixed(1) + ' KiB'; }), function () { return [s.x].concat(s.lanes); }),
    ];
  }

  function push(point) {
    var s = state.series;
    var interval = state.hello ? state.hello.intervalMs : 1000;
    // Nobody watched for a while (the view samples only while viewed): a null row breaks the lines instead of bridging the gap.
    if (s.x.length > 0 && point.at / 1000 - s.x[s.x.length - 1] > (3 * interval) / 1000) {
      s.x.push(point.at / 1000 - interval / 1000);
      s.p50.push(null);
      s.p99.push(null);
      [s.rate, s.util, s.heap, s.lanes].forEach(function (group) { group.forEach(function (line) { line.push(null); }); });
    }
    s.x.push(point.at / 1000);
    s.p50.push(point.p50Us);
    s.p99.push(point.p99Us);
    point.hosts.forEach(function (h, i) {
      if (i >= s.rate.length) return;
      s.rate[i].push(h.inPerSec);
      s.util[i].push(h.utilisation * 100);
      s.heap[i].push(h.heapUsedBytes / 1048576);
      s.lanes[i].push(h.laneDepthBytes / 1024);
    });
    var oldest = point.at / 1000 - (state.hello ? state.hello.historyMs / 1000 : 300);
    while (s.x.length > 0 && s.x[0] < oldest) {
      s.x.shift(); s.p50.shift(); s.p99.shift();
      [s.rate, s.util, s.heap, s.lanes].forEach(function (group) { group.forEach(function (line) { line.shift(); }); });
    }
  }

  function addPoint(point) {
    push(point);
    if (state.charts) state.charts.forEach(function (c) { c.chart.setData(c.data()); });
  }

  function chart(id, series, data) {
    var figure = $(id);
    Array.from(figure.querySelectorAll('.uplot')).forEach(function (old) { old.remove(); });
    var options = {
      width: Math.max(300, figure.clientWidth - 16),
      height: 180,
      scales: { x: { time: true } },
      series: [{}].concat(series),
      axes: [{}, { size: 56, values: function (u, splits) { return splits.map(compact); } }],
      legend: { live: false },
    };
    return { chart: new uPlot(options, data(), figure), data: data };
  }

  window.addEventListener('resize', function () {
    if (!state.charts) return;
    state.charts.forEach(function (c) {
      var figure = c.chart.root.parentNode;
      c.chart.setSize({ width: Math.max(300, figure.clientWidth - 16), height: 180 });
    });
  });

  connect();
})();
`;
