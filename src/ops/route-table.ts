/**
 * The gateway's route table: the request a route sees, what it answers, and
 * the method + path lookup that picks the route (404 for an unknown path,
 * 405 with the allowed methods for a known path and another method).
 * Routes are few and mounted once, so a list scanned in mount order is the
 * whole router; a path is matched segment by segment, `:name` taking any
 * non-empty segment.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Permission, Principal } from './auth.js';
import { httpErrors } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route's `message`, `actor` and `respond` functions see. */
export interface GatewayRequest {
  method: string;
  /** The decoded path. */
  path: string;
  /** `:name` segments of the route's path, decoded. */
  params: Record<string, string>;
  /** Query string; the last value of a repeated key wins. */
  query: Record<string, string>;
  /** Parsed JSON body; `undefined` without one (and always for GET). */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Who is calling; `undefined` on open routes or with `auth: false`. */
  principal: Principal | undefined;
  correlationId: number;
  /** The client's `x-request-id`, if it was printable ASCII of at most 128 characters. */
  requestId: string | undefined;
}

export interface GatewayResponse {
  /** @default 200 */
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A handler's answer. */
export interface Reply extends GatewayResponse {
  /** Sent as is instead of JSON (the metrics exposition). */
  text?: string;
  /** Takes over the response instead (server-sent events): writes its own head and ends it when it is done. */
  stream?: (res: ServerResponse) => void;
}

/** One mounted route: `pattern` is its path as written (the metrics label). */
export interface Route {
  method: HttpMethod;
  pattern: string;
  segments: { literal?: string; param?: string }[];
  permission: Permission | false;
  readsBody: boolean;
  handle(request: GatewayRequest): Promise<Reply>;
}

const kMethods: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export class RouteTable {
  readonly #routes: Route[] = [];

  /** Mounts a route; a TypeError says what is wrong with it (method, path, permission, or a route already at that place). */
  add(method: HttpMethod, path: string, permission: Permission | false, readsBody: boolean, handle: Route['handle']): void {
    if (!kMethods.includes(method)) throw new TypeError(`route method must be one of ${kMethods.join(', ')}, received ${String(method)}`);
    if (typeof path !== 'string' || !/^(\/(:[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~!$&'()*+,;=@-]+))+$|^\/$/.test(path)) {
      throw new TypeError(`route path must look like /a/:param/b, received ${JSON.stringify(path)}`);
    }
    if (permission !== false && (typeof permission !== 'string' || permission.length === 0)) throw new TypeError(`route ${path}: "permission" must be a string or false`);
    const pattern = `${method} ${path}`;
    if (this.#routes.some((r) => `${r.method} ${canonical(r.segments)}` === `${method} ${canonical(segmentsOf(path))}`)) {
      throw new TypeError(`route ${pattern} is already mounted`);
    }
    this.#routes.push({ method, pattern: path, segments: segmentsOf(path), permission, readsBody, handle });
  }

  /** The route for `method` at `segments` and its params; throws the 404 or 405 the client gets. */
  match(method: string, path: string, segments: string[]): { route: Route; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route, segments);
      if (params === undefined) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) throw httpErrors.methodNotAllowed(method, allowed);
    throw httpErrors.notFound(path);
  }
}

function segmentsOf(path: string): Route['segments'] {
  return path.split('/').slice(1).filter((s) => s.length > 0).map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
}

function canonical(segments: Route['segments']): string {
  return segments.map((s) => (s.param === undefined ? s.literal : ':')).join('/');
}

function matchSegments(route: Route, segments: string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i];
    if (want.param === undefined) {
      if (want.literal !== segments[i]) return undefined;
    } else {
      if (segments[i].length === 0) return undefined;
      params[want.param] = segments[i];
    }
  }
  return params;
}
