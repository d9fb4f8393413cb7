/**
 * The HTTP gateway (`troupe/http`): a node:http server that turns requests
 * into asks, plus `/metrics`, `/healthz`, `/readyz`, an admin API and token
 * refresh.
 *
 * Every request gets a correlation id from a counter (1 to 2^32-1, then
 * around again). It travels with the ask in the record header, so the
 * handler sees it as `ctx.correlationId` and every message the handler causes
 * carries it; the response returns it as `x-correlation-id`, and the request's
 * log line carries it next to the client's `x-request-id`.
 *
 * Order of refusals: unknown path (404) or method (405), then credentials
 * (401) and role (403), then the body (415, 413, 400). Nothing reaches an
 * actor until all of them pass, and a client without credentials never makes
 * the server read its body.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { isActorRef, type ActorRef, type AskOptions } from '../actor/ref.js';
import { ActorNotFoundError, SystemStoppedError, TroupeError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ActorSystem } from '../system/actor-system.js';
import type { AdminUiOptions } from './admin-ui.js';
import type { Auth, Permission, Principal } from './auth.js';
import { kRedactPaths } from '../secrets/redaction.js';
import { auditRecorder, type AuditRecorder } from './audit-trail.js';
import { mountBuiltIns } from './built-in-routes.js';
import { HttpError, httpErrors, truncate } from './errors.js';
import { GatewayTracing, type RequestSpan } from './http-tracing.js';
import { loadOtel } from '../host/tracing.js';
import { HealthMonitor, type HealthOptions, type HealthReport } from './health.js';
import { TroupeMetrics } from './metrics.js';
import { parseTarget, readJson } from './request-input.js';
import { RouteActors, type RouteActorOptions } from './route-actors.js';
import { RouteTable, type GatewayRequest, type GatewayResponse, type HttpMethod, type Reply, type Route } from './route-table.js';
import { createLimitedServer, resolveServerLimits, type ServerLimits } from './server-limits.js';

export type { GatewayRequest, GatewayResponse, HttpMethod } from './route-table.js';

/** An actor name (looked up per request, so a re-spawned actor is found), a ref, or a function choosing one. */
export type ActorTarget = string | ActorRef | ((request: GatewayRequest) => string | ActorRef | undefined);

export interface RouteOptions {
  /** @default 'POST' */
  method?: HttpMethod;
  /** `/counters/:name/inc`: literal segments and `:param` segments. */
  path: string;
  actor: ActorTarget;
  /** Builds the message from the request; throw an `HttpError` to refuse. @default `{ params, query, body }` (`body` only when there is one) */
  message?: (request: GatewayRequest) => unknown;
  /** Ask timeout; past it the answer is 504. @default the gateway's askTimeoutMs, else the system's */
  timeoutMs?: number;
  /** What the caller's role must grant; `false` opens the route to anyone. @default 'routes:read' for GET, 'routes:write' otherwise */
  permission?: Permission | false;
  /** Shapes the reply into a response. @default reply => ({ status: 200, body: reply }) */
  respond?: (reply: unknown, request: GatewayRequest) => GatewayResponse;
}

export interface GatewayOptions {
  /** Required: an `Auth` from `createAuth`, or `false` to serve every route to anyone (development, loopback only). */
  auth: Auth | false;
  /** Request and denial logs. @default pino at 'info' */
  logger?: Logger;
  /** Records authentication failures, permission denials and admin actions (stop, restart, chaos, shutdown) here. */
  audit?: AuditLog;
  /** The registry `/metrics` serves; `false`: no `/metrics`. @default a new TroupeMetrics with default Node metrics */
  metrics?: TroupeMetrics | false;
  health?: HealthOptions;
  /** Default ask timeout of routes. @default the system's askTimeoutMs */
  askTimeoutMs?: number;
  /** Largest request body read. @default 1048576 */
  bodyLimitBytes?: number;
  /** Where the admin API lives. @default '/admin' */
  adminPrefix?: string;
  /** Permission `/metrics` asks for; `false` opens it. @default 'metrics:read' */
  metricsPermission?: Permission | false;
  /** Serve `POST <admin>/workers/:worker/terminate` (permission `chaos:inject`). @default false */
  chaos?: boolean;
  /** The live view at `<admin>/ui` (its stream needs `admin:read`; see docs/guide/operations.md); `false`: not served. @default true */
  ui?: boolean | AdminUiOptions;
  /** Longest wait for a request's headers on the `listen()` server; `0`: none. @default 10000 (capped at requestTimeoutMs) */
  headersTimeoutMs?: number;
  /** Longest wait for a whole request (headers and body) on the `listen()` server, then 408 and the connection closes; `0`: none. @default 30000 */
  requestTimeoutMs?: number;
  /** How long the `listen()` server keeps an idle keep-alive connection. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Connections the `listen()` server keeps open at once; more are closed as they arrive. @default 1024 */
  maxConnections?: number;
}

export interface ShutdownOptions {
  /** How long readiness fails while requests are still served, so load balancers stop sending traffic first. @default 0 */
  drainMs?: number;
  /** Longest wait for in-flight requests once the server closes. @default 10000 */
  closeTimeoutMs?: number;
}

export interface ListenOptions {
  /** @default 0 (an ephemeral port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

const kDefaults = {
  bodyLimitBytes: 1_048_576,
  adminPrefix: '/admin',
  metricsPermission: 'metrics:read',
  closeTimeoutMs: 10_000,
} as const;

const kMaxCorrelationId = 0xffff_ffff;
const kRequestIdPattern = /^[\x21-\x7e]{1,128}$/;

/**
 * The gateway. Make one with {@link createGateway}, mount routes, `listen`.
 *
 * @example
 * const gateway = createGateway(system, { auth: createAuth({ jwt: { secret, issuer, audience } }) });
 * gateway.route({ method: 'POST', path: '/counter/inc', actor: 'counter', message: () => ({ type: 'inc' }) });
 * const { url } = await gateway.listen({ port: 8080, host: '0.0.0.0' });
 */
export class Gateway {
  readonly #system: ActorSystem;
  readonly #auth: Auth | false;
  readonly #log: Logger;
  readonly #metrics: TroupeMetrics | undefined;
  readonly #ownsMetrics: boolean;
  readonly #health: HealthMonitor;
  readonly #askTimeoutMs: number | undefined;
  readonly #bodyLimit: number;
  readonly #routes = new RouteTable();
  readonly #limits: ServerLimits;
  readonly #routeActors: RouteActors;
  readonly #record: AuditRecorder;
  #server: Server | undefined;
  #correlation = 0;
  /** With a system started with `tracing`: each request a server span (see http-tracing.ts). */
  #tracing: GatewayTracing | undefined;
  #tracingLoaded: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted when closing begins: long-lived responses (the live view's streams) end, so the server can close. */
  readonly #closed = new AbortController();

  constructor(system: ActorSystem, options: GatewayOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('createGateway(system, options): options must be an object with at least "auth"');
    if (options.auth !== false && (options.auth === undefined || typeof (options.auth as Auth).authenticate !== 'function')) {
      throw new TypeError('gateway option "auth" is required: an Auth from createAuth(), or false to serve every route without credentials');
    }
    const bodyLimit = options.bodyLimitBytes ?? kDefaults.bodyLimitBytes;
    if (!Number.isInteger(bodyLimit) || bodyLimit < 0) throw new TypeError(`gateway option "bodyLimitBytes" must be a non-negative integer, received ${String(bodyLimit)}`);
    if (options.askTimeoutMs !== undefined) positive('askTimeoutMs', options.askTimeoutMs);
    const adminPrefix = options.adminPrefix ?? kDefaults.adminPrefix;
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(adminPrefix)) throw new TypeError(`gateway option "adminPrefix" must be a path like /admin, received ${JSON.stringify(adminPrefix)}`);
    this.#system = system;
    this.#auth = options.auth;
    this.#log = options.logger ?? pino({ name: 'troupe-http', redact: { paths: [...kRedactPaths], censor: '[REDACTED]' } });
    this.#record = auditRecorder(options.audit, this.#log);
    this.#ownsMetrics = options.metrics === undefined;
    this.#metrics = options.metrics === false ? undefined : (options.metrics ?? new TroupeMetrics(system));
    this.#health = new HealthMonitor(system, options.health);
    this.#askTimeoutMs = options.askTimeoutMs;
    this.#bodyLimit = bodyLimit;
    this.#limits = resolveServerLimits(options);
    this.#routeActors = new RouteActors(system, this.#log);
    if (system.tracing) {
      this.#tracingLoaded = loadOtel().then(
        (api) => void (this.#tracing = new GatewayTracing(api)),
        (error: unknown) => this.#log.error({ err: error }, 'troupe gateway: traces are off'),
      ).finally(() => (this.#tracingLoaded = undefined));
    }
    if (this.#auth === false) this.#log.warn('troupe gateway: auth is off; every route, /metrics and the admin API are open');
    mountBuiltIns(this.#routes, {
      system,
      health: this.#health,
      metrics: this.#metrics,
      auth: this.#auth,
      adminPrefix,
      metricsPermission: options.metricsPermission ?? kDefaults.metricsPermission,
      chaos: options.chaos ?? false,
      record: this.#record,
      ui: options.ui,
      closed: this.#closed.signal,
    });
  }

  /** Mounts a route that asks an actor and answers with its reply. */
  route(options: RouteOptions): this {
    if (options === null || typeof options !== 'object') throw new TypeError('route(options): options must be an object');
    const method = options.method ?? 'POST';
    const { actor } = options;
    if (typeof actor !== 'string' && !isActorRef(actor) && typeof actor !== 'function') throw new TypeError(`route ${options.path}: "actor" must be a name, an ActorRef or a function, received ${typeof actor}`);
    for (const name of ['message', 'respond'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`route ${options.path}: "${name}" must be a function`);
    }
    if (options.timeoutMs !== undefined) positive('timeoutMs', options.timeoutMs);
    const timeoutMs = options.timeoutMs ?? this.#askTimeoutMs;
    const build = options.message ?? defaultMessage;
    const label = `${method} ${options.path}`;
    this.#routes.add(method, options.path, options.permission ?? (method === 'GET' ? 'routes:read' : 'routes:write'), method !== 'GET', async (request) => {
      const ref = this.#target(actor, request);
      const message = build(request);
      const askOptions: AskOptions = { correlationId: request.correlationId };
      if (timeoutMs !== undefined) askOptions.timeoutMs = timeoutMs;
      const started = performance.now();
      let reply: unknown;
      try {
        reply = await ref.ask(message, askOptions);
      } catch (error) {
        const failure = this.#askFailure(error, ref);
        this.#metrics?.observeAsk(label, outcomeOf(failure), (performance.now() - started) / 1000);
        throw failure;
      }
      this.#metrics?.observeAsk(label, 'ok', (performance.now() - started) / 1000);
      return options.respond === undefined ? { body: reply } : options.respond(reply, request);
    });
    return this;
  }

  /**
   * Starts an actor for routes to target by `name`, under a supervisor of its
   * own: its crashes spend that supervisor's restart budget (`maxRestarts`
   * in `withinMs`), never the root's, so no request can stop the system.
   * Past the budget its routes answer 503 `TROUPE_ERR_ROUTE_UNAVAILABLE`
   * until the gateway starts it again, `reviveAfterMs` later. Resolves with
   * its ref once its `init` has run. It starts inside its supervisor's
   * `init`, so any failure to start it (module, export, its own `init`)
   * rejects with `TROUPE_ERR_ACTOR_INIT`, whose message says why.
   *
   * @example
   * await gateway.spawn(new URL('./actors/orders.js', import.meta.url), { name: 'orders', maxRestarts: 10, withinMs: 5000 });
   * gateway.route({ method: 'POST', path: '/orders', actor: 'orders' });
   */
  spawn<TMsg = any, TReply = any>(moduleUrl: URL | string, options: RouteActorOptions): Promise<ActorRef<TMsg, TReply>> {
    return this.#routeActors.spawn(moduleUrl, options);
  }

  /** `(req, res)` for an existing node:http server (or express, or a test). */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    void this.#serve(req, res);
  };

  /** Starts a node:http server on `host:port`. */
  async listen(options: ListenOptions = {}): Promise<{ port: number; host: string; url: string }> {
    if (this.#server !== undefined) throw new TypeError('the gateway is already listening');
    const server = createLimitedServer(this.handler, this.#limits, this.#log);
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.#onClientError(error, socket));
    this.#server = server;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    return { port, host, url: `http://${shown}:${port}` };
  }

  get server(): Server | undefined {
    return this.#server;
  }

  get metrics(): TroupeMetrics | undefined {
    return this.#metrics;
  }

  /** What `/healthz` answers. */
  liveness(): HealthReport {
    return this.#health.liveness();
  }

  /** What `/readyz` answers. */
  readiness(): HealthReport {
    return this.#health.readiness();
  }

  /**
   * Graceful stop for a SIGTERM: readiness fails at once, requests are still
   * served for `drainMs`, then the server closes (in-flight requests finish)
   * and the system shuts down.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.#health.markStopping('gateway shutdown');
    const drainMs = options.drainMs ?? 0;
    this.#record({ type: 'admin.shutdown', actor: 'process', subject: 'system', detail: { drainMs, pid: process.pid } });
    if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
    await this.close(options);
    await this.#system.shutdown();
  }

  /** Closes the server (in-flight requests finish, idle connections end) and stops watching the system. The system keeps running. */
  close(options: Pick<ShutdownOptions, 'closeTimeoutMs'> = {}): Promise<void> {
    this.#closing ??= this.#close(options.closeTimeoutMs ?? kDefaults.closeTimeoutMs);
    return this.#closing;
  }

  async #close(closeTimeoutMs: number): Promise<void> {
    this.#health.markStopping('gateway closed');
    this.#closed.abort();
    const server = this.#server;
    if (server !== undefined && server.listening) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), closeTimeoutMs);
      await closed;
      clearTimeout(timer);
    }
    this.#health.close();
    this.#routeActors.close();
    if (this.#ownsMetrics) this.#metrics?.close();
  }

  // ------------------------------------------------------------- serving

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    this.#correlation = this.#correlation >= kMaxCorrelationId ? 1 : this.#correlation + 1;
    const correlationId = this.#correlation;
    const rawRequestId = req.headers['x-request-id'];
    const requestId = typeof rawRequestId === 'string' && kRequestIdPattern.test(rawRequestId) ? rawRequestId : undefined;
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let principal: Principal | undefined;
    let status: number;
    let failure: HttpError | undefined;
    if (this.#tracing === undefined && this.#tracingLoaded !== undefined) await this.#tracingLoaded;
    const traced: RequestSpan | undefined = this.#tracing?.begin(req, method);
    if (traced?.traceparent !== undefined) res.setHeader('traceparent', traced.traceparent);
    try {
      const { path, segments, query } = parseTarget(req.url ?? '');
      const matched = this.#routes.match(method, path, segments);
      route = matched.route;
      if (traced !== undefined) this.#tracing!.routed(traced, method, route.pattern, path);
      principal = await this.#authenticate(route, req);
      if (principal !== undefined) (this.#auth as Auth).authorize(principal, route.permission as Permission);
      const body = route.readsBody ? await readJson(req, this.#bodyLimit) : undefined;
      const request: GatewayRequest = { method, path, params: matched.params, query, body, headers: req.headers, principal, correlationId, requestId };
      const handling = route;
      const reply = traced === undefined ? await handling.handle(request) : await this.#tracing!.within(traced, () => handling.handle(request));
      status = send(res, reply.status ?? 200, correlationId, requestId, reply, this.#closing !== undefined);
    } catch (error) {
      failure = toHttpError(error);
      if (failure.code === 'TROUPE_ERR_SYSTEM_STOPPED') this.#health.markStopping('system shutting down');
      const body = { error: { code: failure.code, message: failure.message }, correlationId };
      status = send(res, failure.status, correlationId, requestId, { body, headers: failure.headers }, this.#closing !== undefined);
    }
    if (traced !== undefined) this.#tracing!.end(traced, status, failure);
    const seconds = (performance.now() - started) / 1000;
    this.#metrics?.observeRequest(method, route?.pattern ?? 'unmatched', status, seconds);
    const line = {
      correlationId,
      requestId,
      method: truncate(method, 16),
      url: truncate(req.url ?? '', 200),
      route: route?.pattern,
      status,
      ms: Math.round(seconds * 1e5) / 100,
      subject: principal?.subject,
      role: principal?.role,
    };
    if (failure === undefined) this.#log.info(line, 'request');
    else if (status === 401 || status === 403) {
      const reason = failure.detail ?? failure.message;
      const remote = req.socket.remoteAddress;
      this.#log.warn({ ...line, code: failure.code, reason, remote }, 'request denied');
      this.#record({
        type: status === 401 ? 'auth.failed' : 'auth.denied',
        ...(principal === undefined ? {} : { actor: principal.subject }),
        subject: line.route ?? line.url,
        detail: { code: failure.code, reason, method: line.method, role: principal?.role, via: principal?.via, remote, requestId, correlationId },
      });
    }
    else if (status >= 500) this.#log.error({ ...line, code: failure.code, err: failure.cause ?? failure }, 'request failed');
    else this.#log.info({ ...line, code: failure.code, reason: failure.detail }, 'request refused');
  }

  /**
   * The ref a route asks. A system that is not running says so: its names are
   * gone, and "no actor by that name" would send clients looking for a bug.
   */
  #target(target: ActorTarget, request: GatewayRequest): ActorRef {
    if (this.#system.state !== 'running') throw new SystemStoppedError();
    const chosen = typeof target === 'function' ? target(request) : target;
    if (typeof chosen === 'string') {
      const ref = this.#system.lookup(chosen);
      if (ref !== undefined) return ref;
      throw this.#routeActors.unavailable(chosen) ?? new ActorNotFoundError(JSON.stringify(chosen));
    }
    if (isActorRef(chosen)) return chosen;
    throw new ActorNotFoundError('(none chosen by the route)');
  }

  /** A failed ask as the client hears it: a dead target because the system stops, or a route actor given up, says so. */
  #askFailure(error: unknown, ref: ActorRef): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'TROUPE_ERR_ACTOR_NOT_FOUND' && code !== 'TROUPE_ERR_ACTOR_STOPPED' && code !== 'TROUPE_ERR_WORKER_EXITED') return error;
    if (this.#system.state !== 'running') return new SystemStoppedError();
    return this.#routeActors.unavailable(ref.name) ?? error;
  }

  /** Who is calling, when the route asks for a permission; the caller checks it (so a denial knows who was denied). */
  async #authenticate(route: Route, req: IncomingMessage): Promise<Principal | undefined> {
    if (route.permission === false || this.#auth === false) return undefined;
    return this.#auth.authenticate(req.headers);
  }

  #onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    // A response already under way (a refusal sent before the body came) cannot be followed by another.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : timedOut ? 408 : 400;
    const code = status === 431 ? 'TROUPE_ERR_HTTP_HEADERS_TOO_LARGE' : timedOut ? 'TROUPE_ERR_HTTP_REQUEST_TIMEOUT' : 'TROUPE_ERR_HTTP_BAD_REQUEST';
    const body = JSON.stringify({ error: { code, message: timedOut ? 'the request did not arrive in time' : 'malformed HTTP request' } });
    this.#log.info({ code: error.code, status, remote: socket.remoteAddress }, timedOut ? 'request timed out' : 'malformed HTTP request');
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
}

/** Builds a gateway over `system`; see {@link GatewayOptions}. */
export function createGateway(system: ActorSystem, options: GatewayOptions): Gateway {
  return new Gateway(system, options);
}

// ------------------------------------------------------------------ helpers

function positive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2 ** 31 - 1) throw new TypeError(`"${name}" must be a positive number of milliseconds, received ${String(value)}`);
}

function defaultMessage({ params, query, body }: GatewayRequest): unknown {
  return body === undefined ? { params, query } : { params, query, body };
}

/** Runtime failures of an ask, as HTTP answers. */
const kAskStatus: Readonly<Record<string, { status: number; outcome: string; message?: string }>> = {
  TROUPE_ERR_ASK_TIMEOUT: { status: 504, outcome: 'timeout', message: 'the actor did not answer in time' },
  TROUPE_ERR_ACTOR_NOT_FOUND: { status: 503, outcome: 'unavailable' },
  TROUPE_ERR_ACTOR_STOPPED: { status: 503, outcome: 'unavailable' },
  TROUPE_ERR_WORKER_EXITED: { status: 503, outcome: 'unavailable' },
  TROUPE_ERR_SYSTEM_STOPPED: { status: 503, outcome: 'unavailable' },
  TROUPE_ERR_ROUTE_UNAVAILABLE: { status: 503, outcome: 'unavailable' },
  TROUPE_ERR_MAILBOX_FULL: { status: 503, outcome: 'overloaded' },
  TROUPE_ERR_UNENCODABLE: { status: 400, outcome: 'refused' },
  TROUPE_ERR_INVALID_ARGUMENT: { status: 400, outcome: 'refused' },
  TROUPE_ERR_PAYLOAD_TOO_LARGE: { status: 413, outcome: 'refused' },
  // The handler's own message may hold internals; the client gets the code only.
  TROUPE_ERR_ACTOR_CRASHED: { status: 502, outcome: 'crashed', message: 'the actor crashed while handling the request' },
};

function outcomeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' ? kAskStatus[code]?.outcome : undefined) ?? 'error';
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof TroupeError || (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string')) {
    const { code, message } = error as { code: string; message: string };
    const known = kAskStatus[code];
    if (known !== undefined) {
      const headers: Record<string, string> = known.status === 503 ? { 'retry-after': '1' } : {};
      return new HttpError(known.status, code, known.message ?? message, { cause: error, headers });
    }
  }
  return httpErrors.internal(error);
}

/** Writes the response; returns the status sent. */
function send(res: ServerResponse, status: number, correlationId: number, requestId: string | undefined, reply: Reply, closing: boolean): number {
  if (res.headersSent || res.destroyed) return status;
  if (reply.stream !== undefined) {
    reply.stream(res);
    return status;
  }
  let payload: string;
  try {
    // 204 and 304 have no body (RFC 9110 §15.3.5, §15.4.5).
    payload = status === 204 || status === 304 ? '' : (reply.text ?? JSON.stringify(reply.body ?? null, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  } catch (error) {
    const failure = httpErrors.internal(error);
    payload = JSON.stringify({ error: { code: failure.code, message: 'the reply cannot be sent as JSON' }, correlationId });
    status = 500;
  }
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
    'x-correlation-id': correlationId,
  };
  if (status !== 204 && status !== 304) headers['content-length'] = Buffer.byteLength(payload);
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  if (closing) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(payload);
  return status;
}
