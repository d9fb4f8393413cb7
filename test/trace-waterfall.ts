/**
 * A trace as a waterfall, rendered in headless Chromium from the spans an
 * OTLP receiver got: one row per span (name, thread, duration), indented
 * under its parent, a bar where it ran. What the tracing test leaves in
 * test-artifacts/trace.png (docs/images/trace.png is one of them).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { launchChromium } from './chromium.js';

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function waterfallHtml(traceId: string, spans: WaterfallSpan[]): string {
  const start = spans.reduce((min, s) => (s.startNs < min ? s.startNs : min), spans[0]!.startNs);
  const end = spans.reduce((max, s) => (s.endNs > max ? s.endNs : max), spans[0]!.endNs);
  const total = Number(end - start) || 1;
  const ids = new Set(spans.map((s) => s.spanId));
  const rows: string[] = [];
  const visit = (parent: string, depth: number): void => {
    for (const span of spans.filter((s) => (parent === '' ? !ids.has(s.parentSpanId) : s.parentSpanId === parent)).sort((a, b) => Number(a.startNs - b.startNs))) {
      const left = (Number(span.startNs - start) / total) * 100;
      const width = Math.max(0.4, (Number(span.endNs - span.startNs) / total) * 100);
      const thread = span.attributes['thread.id'] === undefined ? span.service : `${span.service} · thread ${String(span.attributes['thread.id'])}`;
      const ms = (Number(span.endNs - span.startNs) / 1e6).toFixed(3);
      rows.push(`<tr><td style="padding-left:${8 + depth * 18}px">${escape(span.name)}</td><td class="t">${escape(thread)}</td><td class="t">${ms} ms</td><td class="bar"><div style="margin-left:${left}%;width:${width}%" class="d${depth % 4}"></div></td></tr>`);
      visit(span.spanId, depth + 1);
    }
  };
  visit('', 0);
  return `<!doctype html><meta charset="utf-8"><style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}h1{font-size:15px;margin:0 0 4px}p{margin:0 0 12px;color:#666}
table{border-collapse:collapse;width:100%}td{padding:5px 8px;border-bottom:1px solid #eee;white-space:nowrap}.t{color:#555}
.bar{width:45%}.bar div{height:12px;border-radius:2px}.d0{background:#4e79a7}.d1{background:#f28e2b}.d2{background:#59a14f}.d3{background:#b07aa1}
</style><h1>trace ${escape(traceId)}</h1><p>${spans.length} spans received over OTLP/HTTP, ${(total / 1e6).toFixed(3)} ms end to end</p>
<table><tr><th align="left">span</th><th align="left">service · thread</th><th align="left">duration</th><th></th></tr>${rows.join('')}</table>`;
}

/** Renders the waterfall and saves a screenshot of it at `path`. */
export async function screenshotWaterfall(path: string, traceId: string, spans: WaterfallSpan[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 300 } });
    await page.setContent(waterfallHtml(traceId, spans));
    await page.screenshot({ path, fullPage: true });
  } finally {
    await browser.close();
  }
}
