/**
 * Self-contained HTML reports: charts rendered to inline SVG by vega-lite and
 * vega in this process (no script, no CDN, nothing fetched when the page is
 * opened), tables as plain HTML.
 */
import type { Counts, PairLedger } from './checker.js';
import type { FaultReport, ModeRecovery, Percentiles } from './measure.js';
import type { RunSummary } from './runner.js';

type VegaLiteSpec = Record<string, unknown>;

let engines: Promise<{ compile: (spec: any, options?: any) => { spec: unknown }; vega: typeof import('vega') }> | undefined;

/** vega-lite warns about legend merges it resolves itself; a report has no console to say it to. */
const kQuiet = { level: () => kQuiet, error: () => kQuiet, warn: () => kQuiet, info: () => kQuiet, debug: () => kQuiet };

/** vega and vega-lite load once per process (about half a second), and only when a report is drawn. */
function load() {
  engines ??= Promise.all([import('vega-lite'), import('vega')]).then(([vl, vega]) => ({ compile: vl.compile, vega }));
  return engines;
}

export async function toSvg(spec: VegaLiteSpec): Promise<string> {
  const { compile, vega } = await load();
  const view = new vega.View(vega.parse(compile(spec, { logger: kQuiet }).spec as any), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(v === 1 ? 0 : 1)}%`);
const kColors = { reliable: '#1f6feb', 'at-most-once': '#d97706', offered: '#6b7280' } as const;

function faultLayer(faults: FaultReport[]): VegaLiteSpec[] {
  if (faults.length === 0) return [];
  const values = faults.map((f) => ({ start: f.start / 1000, end: Math.max(f.end, f.start + 20) / 1000, label: `#${f.id} ${f.label}` }));
  return [
    { data: { values }, mark: { type: 'rect', color: '#dc2626', opacity: 0.12 }, encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } } },
    {
      data: { values: values.map((v, i) => ({ ...v, row: i % 3 })) },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, fontSize: 10, color: '#991b1b' },
      encoding: { x: { field: 'start', type: 'quantitative' }, y: { value: 0 }, yOffset: { field: 'row', type: 'quantitative', scale: { range: [2, 26] } }, text: { field: 'label' } },
    },
  ];
}

interface Series {
  name: string;
  color: string;
  dash: number[];
}

/** A timeline chart: one line per series over the run, the fault windows shaded behind. */
function timeChart(summary: RunSummary, o: { title: string; yTitle: string; log?: boolean; mark: Record<string, unknown>; series: Series[]; values: { s: number; series: string; v: number }[] }): Promise<string> {
  const domain = o.series.map((x) => x.name);
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 860,
    height: 230,
    title: { text: o.title, anchor: 'start', fontSize: 13 },
    layer: [
      ...faultLayer(summary.faults),
      {
        data: { values: o.values },
        mark: { type: 'line', ...o.mark },
        encoding: {
          x: { field: 's', type: 'quantitative', title: 'seconds since the workload started' },
          y: { field: 'v', type: 'quantitative', title: o.yTitle, ...(o.log === true ? { scale: { type: 'log' } } : {}) },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain, range: o.series.map((x) => x.color) }, legend: { orient: 'bottom', labelLimit: 260 } },
          strokeDash: { field: 'series', type: 'nominal', legend: null, scale: { domain, range: o.series.map((x) => x.dash) } },
        },
      },
    ],
  });
}

export function throughputChart(summary: RunSummary): Promise<string> {
  const values: { s: number; series: string; v: number }[] = [];
  for (const b of summary.timeline) {
    values.push({ s: b.t / 1000, series: `${b.mode} delivered`, v: b.receivedPerSec });
    if (b.mode === 'reliable') values.push({ s: b.t / 1000, series: 'offered (each mode)', v: b.sentPerSec });
  }
  return timeChart(summary, {
    title: 'Throughput, 100 ms buckets (messages/s); faults shaded',
    yTitle: 'messages/s',
    mark: { strokeWidth: 1.4, interpolate: 'step-after' },
    series: [
      { name: 'reliable delivered', color: kColors.reliable, dash: [1, 0] },
      { name: 'at-most-once delivered', color: kColors['at-most-once'], dash: [1, 0] },
      { name: 'offered (each mode)', color: kColors.offered, dash: [4, 3] },
    ],
    values,
  });
}

export function latencyChart(summary: RunSummary): Promise<string> {
  const values: { s: number; series: string; v: number }[] = [];
  for (const b of summary.timeline) {
    if (b.p50 !== null) values.push({ s: b.t / 1000, series: `${b.mode} p50`, v: Math.max(0.05, b.p50) });
    if (b.p99 !== null) values.push({ s: b.t / 1000, series: `${b.mode} p99`, v: Math.max(0.05, b.p99) });
  }
  return timeChart(summary, {
    title: 'Latency from the intended send time, by delivery bucket (ms, log scale)',
    yTitle: 'ms',
    log: true,
    mark: { strokeWidth: 1.2, point: { size: 8 } },
    series: [
      { name: 'reliable p50', color: kColors.reliable, dash: [1, 0] },
      { name: 'reliable p99', color: '#0b3d91', dash: [4, 2] },
      { name: 'at-most-once p50', color: kColors['at-most-once'], dash: [1, 0] },
      { name: 'at-most-once p99', color: '#92400e', dash: [4, 2] },
    ],
    values,
  });
}

function outcomeBadge(outcome: RunSummary['outcome']): string {
  const cls = outcome === 'pass' ? 'pass' : outcome === 'xfail' ? 'xfail' : 'fail';
  const text = { pass: 'PASS', fail: 'FAIL', xfail: 'XFAIL (known issue)', xpass: 'XPASS (revisit)' }[outcome];
  return `<span class="badge ${cls}">${text}</span>`;
}

const kCountColumns: (keyof Counts)[] = ['attempted', 'failed', 'acknowledged', 'received', 'lost', 'reported', 'unreported', 'indeterminate', 'duplicated', 'redelivered', 'outOfOrder', 'unexpected'];
const kBad = new Set<keyof Counts>(['lost', 'duplicated', 'outOfOrder', 'unexpected']);

function ledgerTable(summary: RunSummary): string {
  const cell = (p: PairLedger | Counts, key: keyof Counts, mode: string) => {
    const v = p[key];
    // what fails a run: reliable mode's losses and disorder, at-most-once mode's unreported losses
    const bad = v > 0 && (mode === 'reliable' ? kBad.has(key) : key === 'unreported');
    return `<td class="num${bad ? ' bad' : v > 0 && kBad.has(key) ? ' warn' : ''}">${mode === 'reliable' && (key === 'reported' || key === 'unreported') ? '—' : v}</td>`;
  };
  const rows = summary.ledger.pairs.map((p) => `<tr><td>${esc(p.mode)}</td><td>${esc(p.pair)}</td>${kCountColumns.map((k) => cell(p, k, p.mode)).join('')}</tr>`);
  const totals = (['reliable', 'at-most-once'] as const).map(
    (mode) => `<tr class="total"><td>${mode}</td><td>all pairs</td>${kCountColumns.map((k) => cell(summary.ledger.totals[mode], k, mode)).join('')}</tr>`,
  );
  return `<table><thead><tr><th>mode</th><th>pair</th>${kCountColumns.map((k) => `<th>${k === 'outOfOrder' ? 'out of order' : k}</th>`).join('')}</tr></thead><tbody>${rows.join('')}${totals.join('')}</tbody></table>
<p class="note">Damaged messages that reached a handler (the workload's own checksum failed; only at-most-once messages can): <b>${summary.ledger.corruptDelivered}</b>, with the runtime's record checksum ${summary.checksum === false ? 'off' : 'on'}.
Reported: lost at-most-once messages the runtime reported as dead letters (by the message, else by count per sender and target, or per target for a dead worker's mailbox); unreported = lost − reported, which fails the run. At-most-once dead letters recorded: ${deadLetterList(summary.ledger.deadLetters)}.</p>
<p class="note">
Indeterminate: accepted by a producer incarnation that died before the consumer confirmed them (never counted as lost). Redelivered: handled again by a consumer incarnation that replaced one which died before its ack left (allowed by the reliable guarantee).</p>`;
}

function deadLetterList(byReason: Record<string, number> | undefined): string {
  const entries = Object.entries(byReason ?? {}).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([reason, n]) => `${esc(reason)} ${n}`).join(', ');
}

const lat = (p: Percentiles) => (p.count === 0 ? '—' : `${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.p999)}`);

function faultTable(summary: RunSummary): string {
  if (summary.faults.length === 0) return '<p>No fault in this scenario.</p>';
  const rows: string[] = [];
  for (const f of summary.faults) {
    const modes = (['reliable', 'at-most-once'] as const).filter((m) => f.modes[m] !== undefined);
    modes.forEach((mode, i) => {
      const r = f.modes[mode] as ModeRecovery;
      const head =
        i === 0
          ? `<td rowspan="${modes.length}">#${f.id} ${esc(f.label)}${f.injectError ? `<br><span class="bad">${esc(f.injectError)}</span>` : ''}</td><td rowspan="${modes.length}">${(f.start / 1000).toFixed(2)}–${(f.end / 1000).toFixed(2)} s</td><td rowspan="${modes.length}">${f.affectedPairs.length}</td><td rowspan="${modes.length}">${f.detect === null ? '—' : `${ms(f.detect.ms)}<br><small>${esc(f.detect.signal)}</small>`}</td><td rowspan="${modes.length}"><small>${esc(f.recoveryFrom.what)}</small></td>`
          : '';
      rows.push(
        `<tr>${head}<td>${mode}</td><td class="num">${ms(r.firstSuccessMs)}</td><td class="num">${ms(r.to95Ms)}</td><td class="num">${pct(r.availability)}</td><td class="num">${lat(r.latency.before)}</td><td class="num">${lat(r.latency.during)}</td><td class="num">${lat(r.latency.after)}</td></tr>`,
      );
    });
  }
  return `<table><thead><tr><th>fault</th><th>window</th><th>pairs</th><th>detected after</th><th>recovery from</th><th>mode</th><th>first success</th><th>≥95% throughput</th><th>availability (≤ ${summary.sloMs} ms)</th><th>latency before p50/p99/p999</th><th>during</th><th>after</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const kStyle = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#111;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}table{border-collapse:collapse;margin:8px 0;font-size:12.5px}
th,td{border:1px solid #d0d7de;padding:3px 7px;vertical-align:top}th{background:#f6f8fa;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#fbfbfb}.bad{color:#b91c1c;font-weight:700}.warn{color:#b45309}.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.xfail{background:#fef3c7;color:#92400e}.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:700;font-size:13px;vertical-align:middle}code{background:#f6f8fa;padding:1px 5px;border-radius:4px}
.note{color:#57606a;font-size:12.5px;max-width:1100px}figure{margin:10px 0}dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:13px}dt{color:#57606a}dd{margin:0}`;

export async function renderRun(summary: RunSummary): Promise<string> {
  const [throughput, latency] = await Promise.all([throughputChart(summary), latencyChart(summary)]);
  const badge = outcomeBadge(summary.outcome);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>troupe chaos: ${esc(summary.scenario)} (seed ${summary.seed})</title><style>${kStyle}</style></head>
<body>
<h1>${esc(summary.scenario)} ${badge}</h1>
<p>${esc(summary.description)}</p>
${summary.knownIssue === undefined ? '' : `<p><b>Known runtime issue</b> (this scenario is expected to fail until it is fixed): ${esc(summary.knownIssue)}</p>`}
${summary.reasons.length > 0 ? `<ul class="bad">${summary.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
${summary.warnings.length > 0 ? `<ul class="warn">${summary.warnings.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<dl>
<dt>replay</dt><dd><code>${esc(summary.replay)}</code></dd>
<dt>seed</dt><dd>${summary.seed}</dd>
<dt>workload</dt><dd>${summary.workload === undefined ? `${summary.workers} workers + main; a producer and a consumer on every host; ${summary.rate} msgs/s per pair and mode, ${summary.durationMs / 1000} s; modes: reliable (troupe/reliable) and at-most-once (plain tell), side by side` : esc(summary.workload)}</dd>
<dt>drain</dt><dd>${summary.drained ? 'every reliable channel confirmed' : '<span class="bad">not drained</span>'} ${ms(summary.drainMs)} after the heal</dd>
<dt>history</dt><dd>${summary.historyRecords} records${summary.historyDropped + summary.historySkipped > 0 ? ` <span class="bad">(${summary.historyDropped} dropped, ${summary.historySkipped} skipped)</span>` : ''} — <a href="history.jsonl">history.jsonl</a>, <a href="summary.json">summary.json</a></dd>
<dt>machine</dt><dd>${esc(summary.machine.cpu)}, ${summary.machine.cores} cores, Node ${esc(summary.machine.node)}; started ${esc(summary.startedAt)}</dd>
</dl>
<h2>Throughput and latency</h2>
<figure class="chart" id="throughput">${throughput}</figure>
<figure class="chart" id="latency">${latency}</figure>
<h2>Faults: detection and recovery</h2>
${faultTable(summary)}
<p class="note">Detected after: from injection to the first signal (a runtime event for worker and actor faults; the reliable layer's first resend, or a decode dead letter, for lane faults). First success: from the fault's end (heal) or the death it caused to the first delivery of a message sent since the fault began. ≥95% throughput: until three 100 ms buckets in a row average 95% of the steady state before the fault, on the affected pairs. Latency is measured from each message's intended send time (the schedule), so stalls count.</p>
<h2>Ledger</h2>
${ledgerTable(summary)}
</body></html>
`;
}

export interface SuiteEntry {
  summary: RunSummary;
  /** The run's report, relative to the suite report. */
  href: string;
}

export interface SuiteSummary {
  startedAt: string;
  seed: number;
  quick: boolean;
  durationMs: number;
  scenarios: number;
  passed: number;
  /** Unexpected failures (and XPASS). */
  failed: string[];
  /** Scenarios that demonstrate a known runtime issue and failed as expected. */
  expectedFailures: string[];
  reliable: { lost: number; duplicated: number; outOfOrder: number; indeterminate: number; redelivered: number };
  atMostOnce: { lost: number; unreported: number; duplicated: number; corruptDelivered: number };
  /** Over every fault of every scenario (known-issue scenarios left out, as in the counts above), reliable mode. */
  recovery: { faults: number; firstSuccessMaxMs: number | null; firstSuccessP99Ms: number | null; to95MaxMs: number | null; to95P99Ms: number | null; detectMaxMs: number | null; detectP99Ms: number | null };
  wallMs: number;
  machine: RunSummary['machine'];
  runs: { scenario: string; outcome: RunSummary['outcome']; dir: string; reasons: string[] }[];
}

const p99 = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
};
const max = (values: number[]): number | null => (values.length === 0 ? null : Math.max(...values));

export function summarizeSuite(entries: SuiteEntry[], meta: { startedAt: string; seed: number; quick: boolean; durationMs: number; wallMs: number }): SuiteSummary {
  const firstSuccess: number[] = [];
  const to95: number[] = [];
  const detect: number[] = [];
  for (const { summary } of entries.filter((e) => e.summary.outcome !== 'xfail')) {
    for (const f of summary.faults) {
      const r = f.modes.reliable;
      if (r?.firstSuccessMs !== null && r?.firstSuccessMs !== undefined) firstSuccess.push(r.firstSuccessMs);
      if (r?.to95Ms !== null && r?.to95Ms !== undefined) to95.push(r.to95Ms);
      if (f.detect !== null) detect.push(f.detect.ms);
    }
  }
  // Scenarios that demonstrate a known runtime issue fail by design: their figures are not the harness's verdict.
  const counted = entries.filter((e) => e.summary.outcome !== 'xfail');
  const sum = (pick: (s: RunSummary) => number) => counted.reduce((acc, e) => acc + pick(e.summary), 0);
  return {
    ...meta,
    scenarios: entries.length,
    passed: entries.filter((e) => e.summary.outcome === 'pass').length,
    failed: entries.filter((e) => e.summary.outcome === 'fail' || e.summary.outcome === 'xpass').map((e) => e.summary.scenario),
    expectedFailures: entries.filter((e) => e.summary.outcome === 'xfail').map((e) => e.summary.scenario),
    reliable: {
      lost: sum((s) => s.ledger.totals.reliable.lost),
      duplicated: sum((s) => s.ledger.totals.reliable.duplicated),
      outOfOrder: sum((s) => s.ledger.totals.reliable.outOfOrder),
      indeterminate: sum((s) => s.ledger.totals.reliable.indeterminate),
      redelivered: sum((s) => s.ledger.totals.reliable.redelivered),
    },
    atMostOnce: { lost: sum((s) => s.ledger.totals['at-most-once'].lost), unreported: sum((s) => s.ledger.totals['at-most-once'].unreported), duplicated: sum((s) => s.ledger.totals['at-most-once'].duplicated), corruptDelivered: sum((s) => s.ledger.corruptDelivered) },
    recovery: { faults: sum((s) => s.faults.length), firstSuccessMaxMs: max(firstSuccess), firstSuccessP99Ms: p99(firstSuccess), to95MaxMs: max(to95), to95P99Ms: p99(to95), detectMaxMs: max(detect), detectP99Ms: p99(detect) },
    machine: entries[0]?.summary.machine ?? { node: process.version, cpu: 'unknown', cores: 0 },
    runs: entries.map((e) => ({ scenario: e.summary.scenario, outcome: e.summary.outcome, dir: e.href.replace(/\/report\.html$/, ''), reasons: e.summary.reasons })),
  };
}

export async function renderSuite(suite: SuiteSummary, entries: SuiteEntry[]): Promise<string> {
  const values = entries.flatMap(({ summary }) => {
    const worst = (pick: (r: ModeRecovery) => number | null, mode: 'reliable' | 'at-most-once') => Math.max(0, ...summary.faults.map((f) => (f.modes[mode] ? (pick(f.modes[mode]!) ?? 0) : 0)));
    return (['reliable', 'at-most-once'] as const).map((mode) => ({ scenario: summary.scenario, mode, v: worst((r) => r.to95Ms, mode) }));
  });
  const chart = await toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 860,
    height: { step: 9 },
    title: { text: 'Worst time to ≥95% throughput per scenario (ms)', anchor: 'start', fontSize: 13 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'scenario', type: 'nominal', title: null, sort: null },
      yOffset: { field: 'mode' },
      x: { field: 'v', type: 'quantitative', title: 'ms' },
      color: { field: 'mode', type: 'nominal', title: null, scale: { domain: ['reliable', 'at-most-once'], range: [kColors.reliable, kColors['at-most-once']] }, legend: { orient: 'bottom', labelLimit: 260 } },
    },
  });
  const rows = entries.map(({ summary: s, href }) => {
    const r = s.ledger.totals.reliable;
    const a = s.ledger.totals['at-most-once'];
    const worst = (pick: (m: ModeRecovery) => number | null) => max(s.faults.map((f) => (f.modes.reliable ? pick(f.modes.reliable) : null)).filter((v): v is number => v !== null));
    return `<tr><td><a href="${esc(href)}">${esc(s.scenario)}</a></td><td>${outcomeBadge(s.outcome)}</td><td class="num">${r.attempted}</td><td class="num${r.lost ? ' bad' : ''}">${r.lost}</td><td class="num${r.duplicated ? ' bad' : ''}">${r.duplicated}</td><td class="num${r.outOfOrder ? ' bad' : ''}">${r.outOfOrder}</td><td class="num">${r.indeterminate}</td><td class="num">${r.redelivered}</td><td class="num">${a.lost}</td><td class="num${a.unreported ? ' bad' : ''}">${a.unreported}</td><td class="num">${a.duplicated}</td><td class="num">${s.ledger.corruptDelivered}</td><td class="num">${ms(max(s.faults.map((f) => f.detect?.ms ?? 0)))}</td><td class="num">${ms(worst((m) => m.firstSuccessMs))}</td><td class="num">${ms(worst((m) => m.to95Ms))}</td><td><small>${esc([...(s.knownIssue === undefined ? [] : [`known issue: ${s.knownIssue}`]), ...s.reasons].join('; '))}</small></td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>troupe chaos suite: ${suite.passed}/${suite.scenarios}</title><style>${kStyle}</style></head>
<body>
<h1>troupe chaos suite <span class="badge ${suite.failed.length === 0 ? 'pass' : 'fail'}">${suite.passed}/${suite.scenarios} passed</span>${suite.expectedFailures.length > 0 ? ` <span class="badge xfail">${suite.expectedFailures.length} known runtime issue${suite.expectedFailures.length > 1 ? 's' : ''}</span>` : ''}</h1>
<dl>
<dt>runs</dt><dd>${suite.scenarios} scenarios, seed ${suite.seed}, ${suite.durationMs / 1000} s each${suite.quick ? ' (quick)' : ''}, ${(suite.wallMs / 1000).toFixed(0)} s in all; started ${esc(suite.startedAt)}</dd>
<dt>reliable mode${suite.expectedFailures.length > 0 ? ' (known-issue scenarios left out)' : ''}</dt><dd>lost ${suite.reliable.lost}, duplicated ${suite.reliable.duplicated}, out of order ${suite.reliable.outOfOrder}; indeterminate ${suite.reliable.indeterminate}, redelivered after a consumer restart ${suite.reliable.redelivered}</dd>
<dt>at-most-once mode</dt><dd>lost ${suite.atMostOnce.lost} (unreported ${suite.atMostOnce.unreported}), duplicated ${suite.atMostOnce.duplicated}, damaged messages delivered ${suite.atMostOnce.corruptDelivered}</dd>
<dt>recovery (reliable, ${suite.recovery.faults} faults)</dt><dd>first success max ${ms(suite.recovery.firstSuccessMaxMs)}, p99 ${ms(suite.recovery.firstSuccessP99Ms)}; ≥95% throughput max ${ms(suite.recovery.to95MaxMs)}, p99 ${ms(suite.recovery.to95P99Ms)}; detection max ${ms(suite.recovery.detectMaxMs)}</dd>
<dt>machine</dt><dd>${esc(suite.machine.cpu)}, ${suite.machine.cores} cores, Node ${esc(suite.machine.node)}</dd>
</dl>
<table><thead><tr><th>scenario</th><th>verdict</th><th>reliable sent</th><th>lost</th><th>dup</th><th>out of order</th><th>indeterminate</th><th>redelivered</th><th>at-most-once lost</th><th>unreported</th><th>dup</th><th>damaged delivered</th><th>detect (max)</th><th>first success (max)</th><th>≥95% (max)</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<figure class="chart" id="recovery">${chart}</figure>
</body></html>
`;
}
