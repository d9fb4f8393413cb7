import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorRef, ActorSystem } from 'troupe';
import { createAuth, createGateway, defaultRoles, type Gateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, request } from './ops-helpers.js';

// The predicates given to waitForFunction run in the page; this file is type-checked without the DOM lib.
declare const document: any;
declare const localStorage: any;

/** The screenshot this test leaves behind (git-ignored), for the docs and for a reviewer. */
const kArtifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const kWait = { timeout: 30_000, polling: 50 } as const;


const kPepper = 'pepper-for-the-live-view-test-0123456789';
let browser: Browser;
let system: ActorSystem;
let gateway: Gateway;
let url: string;
let viewerKey: string;
let guestKey: string;
let load: ActorRef;
/** Console errors and failed requests of every page, checked at the end: the CSP must not have refused anything. */
const problems: string[] = [];
const foreign: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.on('console', (message) => {
    // The browser reports the refused stream requests (401, 403) of the auth tests itself.
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) foreign.push(r.url());
  });
  await page.goto(`${url}/admin/ui`);
  return page;
}

async function signIn(page: Page, credential: string): Promise<void> {
  await page.waitForSelector('#auth:not([hidden])', { timeout: kWait.timeout });
  await page.fill('#credential', credential);
  await page.click('#auth-form button[type=submit]');
}

/** Keeps telling the load actor until stopped: the page must see the count rise while this runs. */
function runLoad(): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      let accepted = true;
      for (let i = 0; i < 500 && accepted; i++) accepted = load.tell({ type: 'inc' });
      // A full lane holds the message in the overflow: wait for it to drain, as a well-behaved producer does.
      if (accepted) await new Promise((resolve) => setImmediate(resolve));
      else await load.whenWritable();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

beforeAll(async () => {
  browser = await launchChromium();
  system = await startSystem();
  const auth = createAuth({ pepper: kPepper, roles: { ...defaultRoles, guest: ['routes:read'] } });
  viewerKey = auth.createApiKey('viewer', { subject: 'ops-viewer' }).key;
  guestKey = auth.createApiKey('guest', { subject: 'visitor' }).key;
  load = await system.spawn(fixture('crasher'), { name: 'load', host: 1 });
  gateway = createGateway(system, { auth, logger: captureLogs().logger, ui: { intervalMs: 200 } });
  ({ url } = await gateway.listen());
}, 600_000);

afterAll(async () => {
  await gateway?.close();
  await system?.shutdown();
  await browser?.close();
});

describe('the live view at /admin/ui, in headless Chromium', () => {
  it('asks for a credential, then shows figures that rise while load runs', async () => {
    const page = await openPage();
    // No credential yet: the stream answered 401 and the page asks for one.
    await signIn(page, viewerKey);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'live', undefined, kWait);
    await expect(page.textContent('#viewer')).resolves.toBe('signed in as ops-viewer (viewer)');
    await page.waitForFunction(() => document.querySelectorAll('#hosts tbody tr').length === 3, undefined, kWait);
    const before = Number(await page.getAttribute('#total-in', 'data-value'));
    const traffic = runLoad();
    try {
      await page.waitForFunction((floor) => Number(document.getElementById('total-in')?.dataset.value) > floor + 20_000, before, kWait);
      await page.waitForFunction(() => Number(document.getElementById('total-rate')?.dataset.value) > 0, undefined, kWait);
      // worker 1 runs the load actor: its own row counts the messages too
      await page.waitForFunction((floor) => Number(document.querySelector('#hosts tr[data-host="1"]')?.dataset.messagesIn) > floor + 20_000, before, kWait);
    } finally {
      await traffic.stop();
    }
    // uPlot drew its charts (a canvas each) from the frames
    await page.waitForFunction(() => document.querySelectorAll('.charts figure canvas').length >= 5, undefined, kWait);
    const box = await page.locator('#chart-rate canvas').first().boundingBox();
    expect(box!.width).toBeGreaterThan(250);
    // the credential is in sessionStorage only: not in the document, not in the stream
    expect(await page.content()).not.toContain(viewerKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.close();
  });

  it('shows a crashed actor restarting, with its error, and live again once it has restarted', async () => {
    const journal = await system.spawn(fixture('journal'), { host: 1 });
    // Its restarted init waits until the journal holds 2 entries (its onStop writes the first): the restart is ours to finish.
    const flaky = await system.spawn(fixture('slow-restart'), { name: 'flaky', host: 0, args: { journal, releaseAt: 2 } });
    const page = await openPage();
    await signIn(page, viewerKey);
    await page.waitForFunction(() => document.querySelector('#tree li[data-name="flaky"]')?.dataset.status === 'live', undefined, kWait);
    flaky.tell('crash');
    await page.waitForFunction(
      () => {
        const node = document.querySelector('#tree li[data-name="flaky"]');
        const row = document.querySelector('#crashes tbody tr');
        return node?.dataset.status === 'restarting' && row?.dataset.outcome === 'restarting' && /Error: crash/.test(row.textContent ?? '');
      },
      undefined,
      kWait,
    );
    await expect(page.textContent('#tree li[data-name="flaky"] .error-text')).resolves.toBe('Error: crash');
    await journal.ask({ type: 'append', entry: 'release' });
    await page.waitForFunction(
      () => {
        const node = document.querySelector('#tree li[data-name="flaky"]');
        const row = document.querySelector('#crashes tbody tr');
        return node?.dataset.status === 'live' && node.dataset.restarts === '1' && row?.dataset.outcome === 'restarted';
      },
      undefined,
      kWait,
    );
    await page.waitForFunction(() => Number(document.getElementById('total-restarts')?.dataset.value) >= 1, undefined, kWait);
    await expect(page.textContent('#log')).resolves.toMatch(/flaky \(\d+\) restarted on worker 0/);
    mkdirSync(kArtifacts, { recursive: true });
    await page.screenshot({ path: `${kArtifacts}admin-ui.png`, fullPage: true });
    await page.close();
  });

  it('refuses a viewer without the permission: 403 from the stream, and the page says so', async () => {
    const denied = await request(`${url}/admin/ui/stream`, { headers: { 'x-api-key': guestKey } });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'TROUPE_ERR_AUTH_FORBIDDEN' });
    expect(denied.json.error.message).toContain('admin:read');
    const anonymous = await request(`${url}/admin/ui/stream`);
    expect(anonymous.status).toBe(401);
    const page = await openPage();
    await signIn(page, guestKey);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'denied', undefined, kWait);
    const message = await page.textContent('#auth-error');
    expect(message).toContain('403');
    expect(message).toContain('admin:read');
    expect(await page.isHidden('#view')).toBe(true);
    await page.close();
  });

  it('serves the page under a strict CSP, fetches nothing from elsewhere, and puts no credential in the stream', async () => {
    const shell = await request(`${url}/admin/ui`);
    expect(shell.status).toBe(200);
    const csp = shell.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(shell.text).not.toMatch(/<script>|<style>|style="/);
    // The stream, read as a client reads it; meanwhile a handler crashes with a credential in its error message.
    const leaky = await system.spawn(fixture('ui-leaky'), { name: 'leaky', host: 0 });
    const response = await fetch(`${url}/admin/ui/stream`, { headers: { 'x-api-key': viewerKey } });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/^event: frame$/m.test(text)) text += decoder.decode((await reader.read()).value, { stream: true });
    leaky.tell({ type: 'leak', text: `key ${viewerKey} and Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl` });
    while (!text.includes('upstream refused')) text += decoder.decode((await reader.read()).value, { stream: true });
    await reader.cancel();
    expect(text).toContain('"subject":"ops-viewer"');
    expect(text).toContain('upstream refused key [redacted] and Authorization: Bearer [redacted]');
    for (const secret of [viewerKey, viewerKey.split('.')[1], guestKey, guestKey.split('.')[1], kPepper, 'eyJhbGciOiJIUzI1NiJ9']) expect(text).not.toContain(secret);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });

  it('checks the credential again at every reconnect: a revoked key stops the viewer within streamMaxMs', async () => {
    const auth = createAuth({ pepper: kPepper });
    const { key, record } = auth.createApiKey('viewer', { subject: 'short-lived' });
    const short = createGateway(system, { auth, logger: captureLogs().logger, ui: { intervalMs: 100, streamMaxMs: 500 } });
    const listening = await short.listen();
    try {
      const page = await browser.newPage();
      page.on('pageerror', (error) => problems.push(String(error)));
      await page.goto(`${listening.url}/admin/ui`);
      await signIn(page, key);
      await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'live', undefined, kWait);
      auth.revokeApiKey(record.id);
      // The stream ends by itself after 500 ms; the reconnect presents the key again and gets 401.
      await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'unauthorized', undefined, kWait);
      expect(await page.textContent('#auth-error')).toContain('401');
      expect(await page.isHidden('#view')).toBe(true);
      await page.close();
    } finally {
      await short.close();
    }
  });

  it('ends its streams when the gateway closes, so close() does not wait on an open page', async () => {
    const page = await openPage();
    await signIn(page, viewerKey);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'live', undefined, kWait);
    const started = performance.now();
    // Left open, the stream would hold close() for its whole 30 s timeout.
    await gateway.close({ closeTimeoutMs: 30_000 });
    expect(performance.now() - started).toBeLessThan(10_000);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'reconnecting', undefined, kWait);
    await page.close();
  });
});
