import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { renderRun, renderSuite, summarizeSuite } from '../chaos/report.js';
import type { RunSummary } from '../chaos/runner.js';


const dir = mkdtempSync(join(tmpdir(), 'troupe-chaos-report-'));
let browser: Browser;
let summary: RunSummary;

beforeAll(async () => {
  browser = await launchChromium();
  // a real run (short), so the report is drawn from a real history
  const { runScenario } = await import('../dist/chaos/runner.js' as string);
  const scenario = (await import('../dist/chaos/scenarios/partition-halves.js' as string)).default;
  summary = await runScenario({ scenario, seed: 2, durationMs: 2000, quick: true, outDir: join(dir, 'run'), replay: 'test', render: renderRun });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chaos HTML report, in headless Chromium', () => {
  it('draws the throughput and latency charts as inline SVG with non-zero size, and the tables', async () => {
    expect(summary.pass).toBe(true);
    const page = await browser.newPage();
    // nothing may be fetched: the report is self-contained
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(summary.files.report).href);
    for (const id of ['throughput', 'latency']) {
      const svg = page.locator(`figure#${id} > svg`);
      await expect(svg.count()).resolves.toBe(1);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(400);
      expect(box!.height).toBeGreaterThan(150);
      // lines were drawn (vega marks are paths), and the fault window is shaded
      const marks = await svg.locator('path').count();
      expect(marks).toBeGreaterThan(5);
      const lines = svg.locator('g.mark-line path');
      expect(await lines.count()).toBeGreaterThanOrEqual(2);
      const lineBox = await lines.first().boundingBox();
      expect(lineBox!.width).toBeGreaterThan(100);
      expect(await svg.locator('g.mark-rect path').count()).toBeGreaterThanOrEqual(1);
    }
    expect(await page.locator('table').count()).toBe(2);
    expect(await page.locator('table').last().locator('tbody tr').count()).toBe(summary.ledger.pairs.length + 2);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/partition-halves\s+PASS/);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('draws the suite report', async () => {
    const entries = [{ summary, href: 'run/report.html' }];
    const suite = summarizeSuite(entries, { startedAt: new Date().toISOString(), seed: 2, quick: true, durationMs: 2000, wallMs: 1 });
    const file = join(dir, 'suite.html');
    writeFileSync(file, await renderSuite(suite, entries));
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    const box = await page.locator('figure#recovery > svg').boundingBox();
    expect(box!.width).toBeGreaterThan(400);
    expect(box!.height).toBeGreaterThan(10);
    expect(await page.locator('figure#recovery g.mark-rect path').count()).toBeGreaterThanOrEqual(1);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/1\/1 passed/);
    await page.close();
  });
});
