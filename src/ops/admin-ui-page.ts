/**
 * The live view's page and styles, as strings: tsconfig compiles only .ts
 * into dist and the package ships dist, so a string module is the file that
 * reliably travels with the package. The page is a static shell (no data,
 * no inline script or style, for the CSP); admin-ui-script.ts fills it in.
 * Paths are relative (`ui/app.js` from `<admin>/ui`), so the page also works
 * behind a proxy that mounts the gateway under a sub-path.
 */

export const kPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>troupe · live view</title>
<link rel="stylesheet" href="ui/uplot.css">
<link rel="stylesheet" href="ui/app.css">
<script src="ui/uplot.js" defer></script>
<script src="ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>troupe <span class="dim">live view</span></h1>
  <span id="status" class="pill" data-state="connecting">connecting</span>
  <span id="system-state" class="dim"></span>
  <span id="uptime" class="dim"></span>
  <span class="grow"></span>
  <span id="viewer" class="dim"></span>
  <button id="sign-out" type="button" hidden>forget credential</button>
</header>

<section id="auth" hidden>
  <form id="auth-form" autocomplete="off">
    <label for="credential">Bearer token or API key (<code>trp_…</code>), with the permission the stream needs (<code>admin:read</code> by default)</label>
    <div class="row">
      <input id="credential" name="credential" type="password" spellcheck="false" autocomplete="off" required>
      <button type="submit">connect</button>
    </div>
    <p class="dim">Kept in this tab's sessionStorage only, and sent as a header, never in a URL.</p>
  </form>
  <p id="auth-error" role="alert"></p>
</section>

<main id="view" hidden>
  <section class="cards">
    <div class="card"><span class="label">messages in / s</span><span id="total-rate" class="value">–</span></div>
    <div class="card"><span class="label">messages in</span><span id="total-in" class="value" data-value="0">–</span></div>
    <div class="card"><span class="label">actors</span><span id="total-actors" class="value">–</span></div>
    <div class="card"><span class="label">restarts</span><span id="total-restarts" class="value" data-value="0">–</span></div>
    <div class="card"><span class="label">dead letters</span><span id="total-dead" class="value">–</span></div>
    <div class="card"><span class="label">errors</span><span id="total-errors" class="value">–</span></div>
    <div class="card"><span class="label">p50 / p99 handler</span><span id="total-latency" class="value">–</span></div>
    <div class="card"><span class="label">lane depth / high water</span><span id="total-lanes" class="value">–</span></div>
    <div class="card"><span class="label">heap / rss</span><span id="total-memory" class="value">–</span></div>
    <div class="card"><span class="label">cpu</span><span id="total-cpu" class="value">–</span></div>
  </section>

  <section>
    <h2>Hosts</h2>
    <div class="scroll">
    <table id="hosts">
      <thead><tr>
        <th>host</th><th>state</th><th>actors</th><th>in / s</th><th>out / s</th><th>messages in</th><th>mailbox</th>
        <th>lane depth</th><th>lane high water</th><th>p50</th><th>p99</th><th>utilisation</th><th>heap</th>
        <th>restarts</th><th>dead letters</th><th>errors</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    </div>
    <p class="dim small">p50 / p99: handler time since start, sampled; the chart shows them per interval. Lane figures are over the lanes into the host.</p>
  </section>

  <section class="charts">
    <figure id="chart-rate"><figcaption>messages in / s, per host</figcaption></figure>
    <figure id="chart-latency"><figcaption>handler time, µs (p50, p99 per interval)</figcaption></figure>
    <figure id="chart-util"><figcaption>utilisation, %, per host</figcaption></figure>
    <figure id="chart-heap"><figcaption>heap used, MiB, per host</figcaption></figure>
    <figure id="chart-lanes"><figcaption>lane depth, KiB, into each host</figcaption></figure>
  </section>

  <section class="split">
    <div>
      <h2>Supervision</h2>
      <p class="dim small">Named actors where they run, and every actor seen failing, under its supervisor when a decision named it.</p>
      <div id="tree"></div>
      <p id="tree-omitted" class="dim small"></p>
    </div>
    <div>
      <h2>Recent crashes</h2>
      <table id="crashes">
        <thead><tr><th>time</th><th>actor</th><th>host</th><th>error</th><th>outcome</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="no-crashes" class="dim small">none since the view started watching</p>
      <h2>Events</h2>
      <ol id="log"></ol>
    </div>
  </section>
</main>
</body>
</html>
`;

export const kAppCss = `:root {
  --fg: #1d2330; --dim: #687083; --bg: #f6f7f9; --panel: #fff; --line: #dfe2e8;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --accent: #2b6cb0;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg);
}
body { margin: 0; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 18px 0 8px; }
.dim { color: var(--dim); }
.small { font-size: 12px; }
.grow { flex: 1; }
main, #auth { padding: 0 20px 30px; }
.pill { padding: 2px 10px; border-radius: 10px; background: var(--line); font-size: 12px; }
.pill[data-state="live"] { background: #d7f2e1; color: var(--ok); }
.pill[data-state="denied"], .pill[data-state="unauthorized"], .pill[data-state="error"] { background: #fde2e2; color: var(--bad); }
.pill[data-state="reconnecting"] { background: #fdf0d5; color: var(--warn); }
#auth form { max-width: 640px; margin-top: 24px; }
#auth label { display: block; margin-bottom: 6px; }
#auth .row { display: flex; gap: 8px; }
#auth input { flex: 1; padding: 6px 8px; font: inherit; border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); cursor: pointer; }
#auth-error { color: var(--bad); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; display: flex; flex-direction: column; }
.card .label { color: var(--dim); font-size: 12px; }
.card .value { font-size: 18px; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
#crashes td { text-align: left; white-space: normal; }
td.state-up { color: var(--ok); }
td.state-stale, td.state-stalled { color: var(--warn); }
td.state-exited { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; margin-top: 12px; }
figure { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-height: 220px; }
figcaption { font-size: 12px; color: var(--dim); margin-bottom: 4px; }
.split { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1.3fr); gap: 20px; }
#tree ul { list-style: none; margin: 0; padding-left: 18px; }
#tree > ul { padding-left: 0; }
#tree li { padding: 2px 0; }
#tree .host { font-weight: 600; margin-top: 6px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; margin-left: 6px; background: var(--line); }
.badge.live { background: #d7f2e1; color: var(--ok); }
.badge.crashed, .badge.escalated { background: #fde2e2; color: var(--bad); }
.badge.restarting { background: #fdf0d5; color: var(--warn); }
.badge.removed { background: #e2e8f0; color: var(--dim); }
.error-text { color: var(--bad); font-family: ui-monospace, monospace; font-size: 12px; }
#log { list-style: none; padding: 0; margin: 0; max-height: 260px; overflow-y: auto; font-family: ui-monospace, monospace; font-size: 12px; background: var(--panel); border: 1px solid var(--line); }
#log li { padding: 2px 8px; border-bottom: 1px solid var(--line); }
`;
