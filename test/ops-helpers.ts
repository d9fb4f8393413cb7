import { pino, type Logger } from 'pino';
import type { ActorSystem } from 'troupe';
import { createGateway, type Gateway, type GatewayOptions } from 'troupe/http';

/** A pino logger whose JSON lines land in `lines`. */
export function captureLogs(level: pino.LevelWithSilent = 'info'): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * A listening gateway over `system` (auth off and a quiet logger unless
 * `options` say otherwise); `await using` closes it.
 */
export async function serve(
  system: ActorSystem,
  options: Partial<GatewayOptions> = {},
  mount: (gateway: Gateway) => void = () => {},
): Promise<{ gateway: Gateway; url: string; port: number; [Symbol.asyncDispose](): Promise<void> }> {
  const gateway = createGateway(system, { auth: false, logger: captureLogs().logger, ...options });
  mount(gateway);
  const { url, port } = await gateway.listen();
  return { gateway, url, port, [Symbol.asyncDispose]: () => gateway.close() };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** One real HTTP request; the body is parsed as JSON when it is JSON. */
export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(url, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: parsed };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples and `# TYPE` lines of a Prometheus text exposition (the test's own reading; promtool is the real check). */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.length === 0 || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** Sum of a metric's samples whose labels include `labels`. */
export function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((acc, s) => acc + s.value, 0);
}
