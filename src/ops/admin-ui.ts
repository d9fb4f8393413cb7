/**
 * The live view's routes: the page (`<admin>/ui`), its script and styles,
 * uPlot, and the stream of frames (`<admin>/ui/stream`, server-sent events).
 *
 * Auth. The page, its script and its styles are static files that hold no
 * data, so they are served to anyone: a browser's navigation cannot carry a
 * bearer header. Every figure comes through the stream, which needs
 * `admin:read` (as the rest of the admin API) from the gateway's `Auth`.
 * The page asks for a bearer token or an API key, keeps it in
 * `sessionStorage` (this tab only; gone when it closes) and reads the stream
 * with `fetch()` and that header, since `EventSource` cannot set headers,
 * and a credential in a URL ends up in access logs, proxies and history.
 * A stream ends after `streamMaxMs` and the page connects again with the
 * credential it holds, so an expired token or a revoked key stops a viewer
 * within that time, not whenever the tab is closed.
 *
 * The page's CSP allows only this origin's files (no inline script or
 * style), so a text in a frame that got past escaping still could not run.
 *
 * A viewer too slow to read its frames has frames dropped (never buffered
 * without bound). When the gateway closes, every stream ends, so
 * `gateway.close()` is not held up by an open page.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import type { ActorSystem } from '../system/actor-system.js';
import { kAppCss, kPageHtml } from './admin-ui-page.js';
import { kAppScript } from './admin-ui-script.js';
import type { Permission } from './auth.js';
import { httpErrors } from './errors.js';
import type { HealthMonitor } from './health.js';
import { LiveView, type LiveFrame } from './live-view.js';
import type { Reply, RouteTable } from './route-table.js';

export interface AdminUiOptions {
  /** Time between frames the page receives. @default 1000 */
  intervalMs?: number;
  /** How far back its charts reach. @default 300000 (5 minutes) */
  historyMs?: number;
  /** Permission the stream needs (the page itself holds no data). @default 'admin:read' */
  permission?: Permission;
  /** Streams open at once; more are answered 503. @default 16 */
  maxViewers?: number;
  /** A stream ends after this long and the page reconnects, which checks its credential again. @default 60000 */
  streamMaxMs?: number;
  /** Applied to every error text the view shows, e.g. `(text) => secrets.redact(text)`. @default none (credential-shaped texts are blanked either way) */
  redact?: (text: string) => string;
}

type ResolvedAdminUi = Required<Omit<AdminUiOptions, 'redact'>> & Pick<AdminUiOptions, 'redact'>;

export interface AdminUiParts {
  system: ActorSystem;
  health: HealthMonitor;
  adminPrefix: string;
  /** Aborted when the gateway closes: every stream ends. */
  closed: AbortSignal;
}

const kDefaults = { intervalMs: 1000, historyMs: 300_000, permission: 'admin:read', maxViewers: 16, streamMaxMs: 60_000 } as const;
const kKeys = new Set([...Object.keys(kDefaults), 'redact']);

const kSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** Validates the gateway's `ui` option: `true`/`undefined` take the defaults, `false` turns the view off. */
export function resolveAdminUi(option: boolean | AdminUiOptions | undefined): ResolvedAdminUi | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return { ...kDefaults };
  if (option === null || typeof option !== 'object') throw new TypeError(`gateway option "ui" must be a boolean or an object, received ${String(option)}`);
  for (const key of Object.keys(option)) {
    if (!kKeys.has(key)) throw new TypeError(`gateway option "ui" has an unknown key ${JSON.stringify(key)}; known: ${[...kKeys].join(', ')}`);
  }
  const resolved = { ...kDefaults, ...option };
  for (const name of ['intervalMs', 'historyMs', 'maxViewers', 'streamMaxMs'] as const) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw new TypeError(`gateway option "ui.${name}" must be a positive integer, received ${String(value)}`);
  }
  if (resolved.intervalMs < 50) throw new TypeError(`gateway option "ui.intervalMs" must be at least 50, received ${resolved.intervalMs}`);
  if (typeof resolved.permission !== 'string' || resolved.permission.length === 0) throw new TypeError('gateway option "ui.permission" must be a non-empty string');
  if (resolved.redact !== undefined && typeof resolved.redact !== 'function') throw new TypeError('gateway option "ui.redact" must be a function (text) => text');
  return resolved;
}

/** Mounts the page, its files and the stream under `<adminPrefix>/ui`. */
export function mountAdminUi(routes: RouteTable, parts: AdminUiParts, options: ResolvedAdminUi): void {
  const { system, health, adminPrefix: admin, closed } = parts;
  const view = new LiveView(system, health, { intervalMs: options.intervalMs, historyMs: options.historyMs, redact: options.redact });
  const streams = new Set<ServerResponse>();
  closed.addEventListener('abort', () => {
    for (const res of [...streams]) res.end();
    view.close();
  }, { once: true });

  const file = (text: string, type: string): Reply => ({ text, headers: { ...kSecurityHeaders, 'content-type': type, 'cache-control': 'no-cache' } });
  routes.add('GET', `${admin}/ui`, false, false, async () => file(kPageHtml, 'text/html; charset=utf-8'));
  routes.add('GET', `${admin}/ui/app.js`, false, false, async () => file(kAppScript, 'text/javascript; charset=utf-8'));
  routes.add('GET', `${admin}/ui/app.css`, false, false, async () => file(kAppCss, 'text/css; charset=utf-8'));
  routes.add('GET', `${admin}/ui/uplot.js`, false, false, async () => file(await uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8'));
  routes.add('GET', `${admin}/ui/uplot.css`, false, false, async () => file(await uplot('uPlot.min.css'), 'text/css; charset=utf-8'));

  routes.add('GET', `${admin}/ui/stream`, options.permission, false, async ({ principal }) => {
    if (closed.aborted) throw httpErrors.unavailable('the gateway is closing');
    if (streams.size >= options.maxViewers) throw httpErrors.unavailable(`the live view already has ${options.maxViewers} viewers (ui.maxViewers)`);
    // Who is watching, shown on the page: the subject and role only, never the credential or its key id.
    const viewer = principal === undefined ? null : { subject: principal.subject, role: principal.role };
    return { stream: (res) => serveStream(res, view, streams, viewer, options.streamMaxMs) };
  });
}

function serveStream(res: ServerResponse, view: LiveView, streams: Set<ServerResponse>, viewer: { subject: string; role: string } | null, maxMs: number): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // A stream holds its connection to the end; closing it then lets the server close without waiting on keep-alive.
    connection: 'close',
    // nginx would otherwise buffer the frames.
    'x-accel-buffering': 'no',
  });
  let writable = true;
  /** Frames dropped since the last one written (the socket's buffer was full). */
  let dropped = 0;
  const write = (event: string, data: unknown): void => {
    writable = res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  res.on('drain', () => (writable = true));
  const attached = view.attach((frame: LiveFrame) => {
    if (!writable) {
      dropped++;
      return;
    }
    // After a drop the frame carries the crashes again: a dropped one may have been the one that listed a change.
    write('frame', dropped === 0 ? frame : { ...frame, dropped, crashes: view.crashes() });
    dropped = 0;
  });
  streams.add(res);
  write('hello', { ...attached.hello, viewer, streamMaxMs: maxMs });
  write('frame', attached.first);
  const timer = setTimeout(() => {
    write('end', { reason: 'reauthenticate' });
    res.end();
  }, maxMs);
  timer.unref();
  res.on('close', () => {
    clearTimeout(timer);
    streams.delete(res);
    attached.detach();
  });
}

const kRequire = createRequire(import.meta.url);
const kUplot = new Map<string, Promise<string>>();

/** A file of the uplot dependency, read once from wherever npm put it. */
function uplot(name: 'uPlot.iife.min.js' | 'uPlot.min.css'): Promise<string> {
  let text = kUplot.get(name);
  if (text === undefined) {
    text = readFile(kRequire.resolve(`uplot/dist/${name}`), 'utf8');
    // A failed read is tried again on the next request, not cached.
    text.catch(() => kUplot.delete(name));
    kUplot.set(name, text);
  }
  return text;
}
