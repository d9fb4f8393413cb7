/**
 * A loopback LLM server for tests and benchmarks: speaks enough of the OpenAI
 * chat completions API and the Anthropic messages API (JSON and SSE streams,
 * tool calls) for the official SDKs to be its clients, answers deterministically,
 * and can be told to be slow, to rate-limit like a real API, or to fail in the
 * ways real APIs fail (error statuses, hangs, malformed or cut streams, resets).
 * It keeps a bill, so a test can check that what the caller was told it used is
 * what the server charged, and that failed answers were not charged.
 *
 * Standalone: `node dist/bench/llm-server.js --port 8089 [--latency 50,200]
 * [--chunk-delay 20] [--rpm 60] [--tpm 10000] [--seed 1]` prints its base URLs
 * and runs until killed.
 *
 * The wire formats live in llm-server-openai.ts and llm-server-anthropic.ts;
 * this file owns the HTTP side, the schedule (latency, limits, faults) and the bill.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { anthropicDialect } from './llm-server-anthropic.js';
import { RateWindow, type RateLimits } from './llm-server-limits.js';
import { openaiDialect } from './llm-server-openai.js';
import { planReply, type Dialect, type LlmApi, type ParsedCall, type ReplyAnswer, type ReplyPlan } from './llm-server-wire.js';
import { seededRandom } from '../examples/actors/random.js';

export type { LlmApi, ReplyAnswer } from './llm-server-wire.js';

/** Past a cap, 429 with `retry-after` (whole seconds, rounded up) and `retry-after-ms`. */
export type LlmServerLimits = RateLimits;

export interface LlmReplyRequest {
  api: LlmApi;
  model: string;
  messages: unknown[];
  tools: unknown[] | undefined;
  lastUser: string;
}

/** Answers a request differently from the default echo; `undefined` falls back to the echo. */
export type LlmReply = (request: LlmReplyRequest) => ReplyAnswer | undefined;

/** What `configure()` can change while the server runs. */
export interface LlmServerSettings {
  /** Wait before the first byte of every answer: fixed, or seeded-random in `[min, max]`. @default 0 */
  latencyMs?: number | [number, number];
  /** Wait between stream chunks. @default 0 */
  chunkDelayMs?: number;
  /** A server-side cap, as a real API's rate limit. Counted on arrival; rejected requests do not count. */
  limits?: LlmServerLimits | undefined;
  /** By default the reply is `re: ` + the last user message (first 200 characters). */
  reply?: LlmReply | undefined;
  /** When set, a request without this key (Bearer or `x-api-key`) gets 401. */
  apiKey?: string | undefined;
}

export interface LlmServerOptions extends LlmServerSettings {
  /** @default 0 (the OS picks a free port) */
  port?: number;
  /** Seeds the latency draws. @default 1 */
  seed?: number;
}

export type LlmFault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'cut' }
  | { kind: 'reset' };

export interface LlmFaultMatchInfo {
  api: LlmApi;
  lastUser: string;
  stream: boolean;
}

export interface LlmRequestInfo extends LlmFaultMatchInfo {
  /** 1 for the first request since start (or resetBill), and so on: `bill().requests` at that moment. */
  n: number;
}

export interface InjectOptions {
  /** How many matching requests get the fault. @default 1 */
  count?: number;
  /** Which requests: by default the next ones of any kind. */
  match?: (info: LlmFaultMatchInfo) => boolean;
}

export type LlmOutcome =
  | 'open'
  | 'completed'
  | 'bad-request'
  | 'unauthorized'
  | 'rate-limited'
  | 'status'
  | 'hang'
  | 'malformed'
  | 'cut'
  | 'reset'
  /** The client closed the connection before the answer was complete. */
  | 'client-gone';

export interface LlmServerLogEntry {
  /** Milliseconds since the server started, when the request arrived. */
  at: number;
  api: LlmApi;
  model: string;
  stream: boolean;
  lastUser: string;
  outcome: LlmOutcome;
  /** The HTTP status sent, once headers went out. */
  status: number | undefined;
}

export interface LlmBill {
  requests: number;
  completed: number;
  /** Requests that ended without a complete answer (errors, faults, clients that gave up). */
  failed: number;
  /** Only answers fully sent are billed. */
  inputTokens: number;
  outputTokens: number;
  byPrompt: Record<string, { requests: number; completed: number }>;
}

export interface LlmServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** For the OpenAI SDK's `baseURL` (it posts to `<baseURL>/chat/completions`): `<url>/v1`. */
  readonly openaiBaseURL: string;
  /** For the Anthropic SDK's `baseURL` (it posts to `<baseURL>/v1/messages`): the origin. */
  readonly anthropicBaseURL: string;
  /** Every LLM request, in arrival order; an entry's outcome changes as the request ends. */
  readonly log: readonly LlmServerLogEntry[];
  configure(settings: LlmServerSettings): void;
  /** Queues a fault for the next `count` requests that `match`. */
  inject(fault: LlmFault, options?: InjectOptions): void;
  bill(): LlmBill;
  resetBill(): void;
  /** The most requests that arrived within any rolling window of `windowMs`. */
  peakRequests(windowMs: number): number;
  /** The most requests open at once. */
  peakConcurrent(): number;
  /** Calls `listener` as each request is logged (body read, before any answer); `n` is its place in the log. Returns an unsubscribe. */
  onRequest(listener: (info: LlmRequestInfo) => void): () => void;
  /** Stops listening and closes every connection, hung ones too. */
  close(): Promise<void>;
}

const kMaxBodyBytes = 16 * 2 ** 20;
const kSettingKeys = new Set(['latencyMs', 'chunkDelayMs', 'limits', 'reply', 'apiKey']);
const kOptionKeys = new Set([...kSettingKeys, 'port', 'seed']);

function checkNonNegative(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a finite number >= 0 (received ${String(value)})`);
}

function checkSettings(settings: object, known: Set<string>): void {
  for (const key of Object.keys(settings)) if (!known.has(key)) throw new TypeError(`unknown llm-server option "${key}" (known: ${[...known].join(', ')})`);
  const s = settings as LlmServerOptions;
  if (Array.isArray(s.latencyMs)) {
    const [min, max] = s.latencyMs;
    checkNonNegative('latencyMs[0]', min);
    checkNonNegative('latencyMs[1]', max);
    if (max < min) throw new TypeError(`latencyMs must be [min, max] with min <= max (received [${min}, ${max}])`);
  } else if (s.latencyMs !== undefined) checkNonNegative('latencyMs', s.latencyMs);
  if (s.chunkDelayMs !== undefined) checkNonNegative('chunkDelayMs', s.chunkDelayMs);
  for (const key of ['rpm', 'tpm', 'windowMs'] as const) {
    const value = s.limits?.[key];
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) throw new TypeError(`limits.${key} must be a number > 0 (received ${String(value)})`);
  }
  if (s.reply !== undefined && typeof s.reply !== 'function') throw new TypeError('reply must be a function');
}

type Action =
  | { kind: 'error'; status: number; message: string; outcome: LlmOutcome; headers?: Record<string, string> }
  | { kind: 'answer'; plan: ReplyPlan; fault: LlmFault | undefined };

interface QueuedFault {
  fault: LlmFault;
  remaining: number;
  match: ((info: LlmFaultMatchInfo) => boolean) | undefined;
}

class LoopbackLlmServer implements LlmServer {
  readonly url: string;
  readonly port: number;
  readonly openaiBaseURL: string;
  readonly anthropicBaseURL: string;
  #server: Server;
  #settings: LlmServerSettings;
  #random: () => number;
  #startedAt = performance.now();
  #requestNo = 0;
  #faults: QueuedFault[] = [];
  #window = new RateWindow();
  #timers = new Map<NodeJS.Timeout, () => void>();
  #closing: Promise<void> | undefined;
  // The bill.
  #log: LlmServerLogEntry[] = [];
  #arrivals: number[] = [];
  #open = 0;
  #peakOpen = 0;
  #completed = 0;
  #failed = 0;
  #inputTokens = 0;
  #outputTokens = 0;
  #byPrompt = new Map<string, { requests: number; completed: number }>();
  #listeners = new Set<(info: LlmRequestInfo) => void>();

  constructor(server: Server, port: number, options: LlmServerOptions) {
    this.#server = server;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.openaiBaseURL = `${this.url}/v1`;
    this.anthropicBaseURL = this.url;
    const { port: _port, seed = 1, ...settings } = options;
    this.#settings = settings;
    this.#random = seededRandom(seed);
    // A bug in a handler (or a throwing onRequest listener) kills that one connection, never the process.
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res).catch(() => res.destroy()));
  }

  get log(): readonly LlmServerLogEntry[] {
    return this.#log;
  }

  configure(settings: LlmServerSettings): void {
    checkSettings(settings, kSettingKeys);
    this.#settings = { ...this.#settings, ...settings };
  }

  inject(fault: LlmFault, options: InjectOptions = {}): void {
    const kinds = ['status', 'hang', 'malformed', 'cut', 'reset'];
    if (!kinds.includes(fault?.kind)) throw new TypeError(`fault.kind must be one of ${kinds.join(', ')} (received ${String(fault?.kind)})`);
    if (fault.kind === 'status' && !(Number.isInteger(fault.status) && fault.status >= 400 && fault.status <= 599)) {
      throw new TypeError(`a status fault needs a status in 400..599 (received ${String(fault.status)})`);
    }
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`count must be an integer >= 1 (received ${String(count)})`);
    this.#faults.push({ fault, remaining: count, match: options.match });
  }

  bill(): LlmBill {
    const byPrompt: LlmBill['byPrompt'] = {};
    for (const [prompt, counts] of this.#byPrompt) byPrompt[prompt] = { ...counts };
    return {
      requests: this.#log.length,
      completed: this.#completed,
      failed: this.#failed,
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      byPrompt,
    };
  }

  resetBill(): void {
    this.#log = [];
    this.#arrivals = [];
    this.#peakOpen = this.#open;
    this.#completed = this.#failed = this.#inputTokens = this.#outputTokens = 0;
    this.#byPrompt.clear();
  }

  peakRequests(windowMs: number): number {
    checkNonNegative('windowMs', windowMs);
    let peak = 0;
    for (let first = 0, last = 0; last < this.#arrivals.length; last++) {
      while (this.#arrivals[last] - this.#arrivals[first] >= windowMs) first++;
      peak = Math.max(peak, last - first + 1);
    }
    return peak;
  }

  peakConcurrent(): number {
    return this.#peakOpen;
  }

  onRequest(listener: (info: LlmRequestInfo) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const [timer, wake] of this.#timers) {
        clearTimeout(timer);
        wake();
      }
      this.#timers.clear();
      const closed = once(this.#server, 'close');
      this.#server.close();
      // Hung requests and keep-alive sockets would hold close() open forever.
      this.#server.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  #now(): number {
    return performance.now() - this.#startedAt;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closing !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const dialect = [openaiDialect, anthropicDialect].find((d) => d.path === path);
    if (dialect === undefined || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route for ${req.method} ${path}` } }));
      return;
    }
    const at = this.#now();
    this.#arrivals.push(at);
    this.#open++;
    this.#peakOpen = Math.max(this.#peakOpen, this.#open);
    let entry: LlmServerLogEntry | undefined;
    let gone = false;
    res.on('close', () => {
      gone = true;
      this.#open--;
      if (entry !== undefined && entry.outcome === 'open') this.#settle(entry, 'client-gone');
    });
    const raw = await readBody(req);
    if (gone) return;
    const requestNo = ++this.#requestNo;
    const call = raw === undefined ? 'the body is too large' : parseCall(dialect, raw);
    entry = { at, api: dialect.api, model: typeof call === 'string' ? '' : call.model, stream: typeof call !== 'string' && call.stream, lastUser: typeof call === 'string' ? '' : call.lastUser, outcome: 'open', status: undefined };
    this.#log.push(entry);
    this.#countPrompt(entry.lastUser, 'requests');
    const info = { api: entry.api, lastUser: entry.lastUser, stream: entry.stream, n: this.#log.length };
    for (const listener of this.#listeners) listener(info);

    const action = this.#decide(dialect, req, call, requestNo, at);
    const fault = action.kind === 'answer' ? action.fault : undefined;
    if (fault?.kind === 'reset') {
      this.#settle(entry, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      // Never answers: the client gives up, or close() destroys the socket.
      this.#settle(entry, 'hang');
      return;
    }
    await this.#sleep(this.#latency());
    if (gone || this.#closing !== undefined) {
      if (!gone) res.destroy();
      return;
    }
    const ids = { 'x-request-id': `req_${requestNo}`, 'request-id': `req_${requestNo}` };
    if (action.kind === 'error') {
      this.#sendError(dialect, res, entry, action.status, action.message, action.outcome, { ...ids, ...action.headers });
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { ...ids };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      this.#sendError(dialect, res, entry, fault.status, `injected fault: status ${fault.status}`, 'status', headers);
      return;
    }
    const broken = fault?.kind === 'malformed' || fault?.kind === 'cut' ? fault.kind : undefined;
    if (entry.stream) await this.#sendStream(dialect, res, entry, action.plan, ids, broken, () => gone);
    else this.#sendJson(dialect, res, entry, action.plan, ids, broken);
  }

  /** Everything that decides the answer before a byte is written: validation, auth, the reply, limits, faults. */
  #decide(dialect: Dialect, req: IncomingMessage, call: ParsedCall | string, requestNo: number, at: number): Action {
    if (typeof call === 'string') return { kind: 'error', status: 400, message: call, outcome: 'bad-request' };
    const key = this.#settings.apiKey;
    if (key !== undefined) {
      const given = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
      if (given !== key) return { kind: 'error', status: 401, message: 'invalid api key', outcome: 'unauthorized' };
    }
    const answer =
      this.#settings.reply?.({ api: dialect.api, model: call.model, messages: call.messages, tools: call.tools, lastUser: call.lastUser }) ??
      { text: `re: ${call.lastUser.slice(0, 200)}` };
    const plan = planReply(call, answer, requestNo, dialect.api === 'openai' ? { message: 'chatcmpl-', toolCall: 'call_' } : { message: 'msg_', toolCall: 'toolu_' });
    const refusal = this.#window.admit(this.#settings.limits, at, plan.inputTokens + plan.outputTokens);
    if (refusal !== undefined) {
      const headers = { 'retry-after': String(Math.ceil(refusal.retryAfterMs / 1000)), 'retry-after-ms': String(refusal.retryAfterMs) };
      return { kind: 'error', status: 429, message: refusal.message, outcome: 'rate-limited', headers };
    }
    return { kind: 'answer', plan, fault: this.#takeFault({ api: dialect.api, lastUser: call.lastUser, stream: call.stream }) };
  }

  #takeFault(info: LlmFaultMatchInfo): LlmFault | undefined {
    const index = this.#faults.findIndex((queued) => queued.match?.(info) ?? true);
    if (index < 0) return undefined;
    const queued = this.#faults[index];
    if (--queued.remaining === 0) this.#faults.splice(index, 1);
    return queued.fault;
  }

  #latency(): number {
    const latency = this.#settings.latencyMs ?? 0;
    if (!Array.isArray(latency)) return latency;
    const [min, max] = latency;
    return min + this.#random() * (max - min);
  }

  #sendError(dialect: Dialect, res: ServerResponse, entry: LlmServerLogEntry, status: number, message: string, outcome: LlmOutcome, headers: Record<string, string>): void {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(dialect.errorBody(status, message)));
    this.#settle(entry, outcome);
  }

  #sendJson(dialect: Dialect, res: ServerResponse, entry: LlmServerLogEntry, plan: ReplyPlan, ids: Record<string, string>, broken: 'malformed' | 'cut' | undefined): void {
    const text = JSON.stringify(dialect.body(plan));
    entry.status = 200;
    if (broken === 'malformed') {
      // A body that ends mid-object, with a length that matches it: the JSON parse fails, not the read.
      const truncated = text.slice(0, Math.floor(text.length / 2));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(truncated)), ...ids }).end(truncated);
      this.#settle(entry, 'malformed');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...ids });
    if (broken === 'cut') {
      // Half the promised bytes, then the connection dies.
      this.#settle(entry, 'cut');
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
      return;
    }
    // Billed as the last byte is handed over, so a client that sees the answer sees the bill too.
    res.end(text);
    this.#settle(entry, 'completed', plan);
  }

  async #sendStream(
    dialect: Dialect,
    res: ServerResponse,
    entry: LlmServerLogEntry,
    plan: ReplyPlan,
    ids: Record<string, string>,
    broken: 'malformed' | 'cut' | undefined,
    isGone: () => boolean,
  ): Promise<void> {
    const frames = dialect.frames(plan);
    // A broken stream always stops before its final events, so a client cannot mistake it for a whole one.
    const breakAt = broken === undefined ? frames.length : Math.max(1, Math.min(Math.floor(frames.length / 2), frames.length - 2));
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...ids });
    res.flushHeaders();
    const delay = this.#settings.chunkDelayMs ?? 0;
    for (let i = 0; i < breakAt; i++) {
      if (isGone()) return;
      if (i > 0 && delay > 0) {
        await this.#sleep(delay);
        if (isGone() || this.#closing !== undefined) {
          if (!isGone()) res.destroy();
          return;
        }
      }
      if (broken === 'cut' && i === breakAt - 1) {
        this.#settle(entry, 'cut');
        res.write(frames[i], () => res.socket?.destroy());
        return;
      }
      res.write(frames[i]);
    }
    if (broken === 'malformed') {
      res.end(dialect.malformedFrame());
      this.#settle(entry, 'malformed');
      return;
    }
    res.end();
    this.#settle(entry, 'completed', plan);
  }

  /** An entry's one ending: counted once, and billed only when the answer was whole. */
  #settle(entry: LlmServerLogEntry, outcome: LlmOutcome, billed?: ReplyPlan): void {
    if (entry.outcome !== 'open') return;
    entry.outcome = outcome;
    // An entry from before resetBill() is no longer in the bill.
    if (!this.#log.includes(entry)) return;
    if (outcome === 'completed' && billed !== undefined) {
      this.#completed++;
      this.#inputTokens += billed.inputTokens;
      this.#outputTokens += billed.outputTokens;
      this.#countPrompt(entry.lastUser, 'completed');
    } else {
      this.#failed++;
    }
  }

  #countPrompt(prompt: string, field: 'requests' | 'completed'): void {
    const counts = this.#byPrompt.get(prompt) ?? { requests: 0, completed: 0 };
    counts[field]++;
    this.#byPrompt.set(prompt, counts);
  }
}

/** The body as a string, or undefined when it passes the size cap. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > kMaxBodyBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
  } catch {
    // The client went away mid-body; the close handler settles it.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseCall(dialect: Dialect, raw: string): ParsedCall | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'the body is not valid JSON';
  }
  return dialect.parse(body);
}

/** Starts a loopback LLM server on 127.0.0.1. */
export async function startLlmServer(options: LlmServerOptions = {}): Promise<LlmServer> {
  checkSettings(options, kOptionKeys);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer in 0..65535 (received ${String(port)})`);
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return new LoopbackLlmServer(server, (server.address() as { port: number }).port, options);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  const number = (name: string) => {
    const value = flag(args, name);
    return value === undefined ? undefined : Number(value);
  };
  const latency = flag(args, '--latency')?.split(',').map(Number);
  const limits: LlmServerLimits = {};
  if (number('--rpm') !== undefined) limits.rpm = number('--rpm');
  if (number('--tpm') !== undefined) limits.tpm = number('--tpm');
  if (number('--window-ms') !== undefined) limits.windowMs = number('--window-ms');
  const server = await startLlmServer({
    port: number('--port') ?? 0,
    seed: number('--seed') ?? 1,
    chunkDelayMs: number('--chunk-delay') ?? 0,
    latencyMs: latency === undefined ? 0 : latency.length === 1 ? latency[0] : [latency[0], latency[1]],
    limits: Object.keys(limits).length > 0 ? limits : undefined,
  });
  // --inject-429-every N: every N-th request is refused with a 429 (retry-after-ms --retry-after-ms, default 1000).
  const every = number('--inject-429-every');
  if (every !== undefined) {
    let seen = 0;
    const retryAfterMs = number('--retry-after-ms') ?? 1000;
    server.inject({ kind: 'status', status: 429, retryAfterMs }, { count: 2 ** 31 - 1, match: () => ++seen % every === 0 });
  }
  console.log(`llm-server listening on ${server.url}`);
  console.log(`  OPENAI_BASE_URL=${server.openaiBaseURL}`);
  console.log(`  ANTHROPIC_BASE_URL=${server.anthropicBaseURL}`);
  const stop = () => {
    // The bill without its per-prompt table (a long run has one entry per prompt); written out before the exit.
    const { byPrompt, ...bill } = server.bill();
    const line = `${JSON.stringify({ bill: { ...bill, prompts: Object.keys(byPrompt).length }, peakConcurrent: server.peakConcurrent() })}\n`;
    process.stdout.write(line, () => void server.close().then(() => process.exit(0)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const invokedAs = process.argv[1];
if (invokedAs !== undefined && pathToFileURL(realpathSync(invokedAs)).href === import.meta.url) {
  await main(process.argv.slice(2));
}
