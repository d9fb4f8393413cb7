/**
 * Refusals the operations surface answers itself. They join the runtime's
 * error family (`TroupeError`, matched on `code`) and carry the HTTP status
 * they are sent with. `detail` is for the log only: a client learns that its
 * token is invalid, the log learns why (forged signature, wrong audience...).
 */
import { TroupeError } from '../errors.js';

export class HttpError extends TroupeError {
  readonly status: number;
  /** Extra response headers (`WWW-Authenticate`, `Allow`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Why, for the log; never sent to the client. */
  readonly detail: string | undefined;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown; headers?: Record<string, string>; detail?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.headers = options?.headers ?? {};
    this.detail = options?.detail;
  }
}

/** `WWW-Authenticate` of a 401 (RFC 6750 §3). */
const kChallenge = (error: string): Record<string, string> => ({ 'www-authenticate': `Bearer realm="troupe", error="${error}"` });

export const httpErrors = {
  badRequest: (message: string, detail?: string) => new HttpError(400, 'TROUPE_ERR_HTTP_BAD_REQUEST', message, { detail }),
  badJson: (detail: string) => new HttpError(400, 'TROUPE_ERR_HTTP_BAD_JSON', 'the request body is not valid JSON', { detail }),
  notFound: (path: string) => new HttpError(404, 'TROUPE_ERR_HTTP_NOT_FOUND', `no route for ${truncate(path)}`),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new HttpError(405, 'TROUPE_ERR_HTTP_METHOD_NOT_ALLOWED', `method ${truncate(method)} is not allowed here`, { headers: { allow: allowed.join(', ') } }),
  bodyTooLarge: (limit: number) =>
    new HttpError(413, 'TROUPE_ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`, { headers: { connection: 'close' } }),
  mediaType: (received: string) =>
    new HttpError(415, 'TROUPE_ERR_HTTP_MEDIA_TYPE', 'the request body must be application/json', { detail: `content-type ${truncate(received)}` }),
  authMissing: () => new HttpError(401, 'TROUPE_ERR_AUTH_MISSING', 'credentials required: a bearer token or an API key', { headers: kChallenge('invalid_request') }),
  invalidToken: (detail: string) => new HttpError(401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', 'the bearer token is invalid', { headers: kChallenge('invalid_token'), detail }),
  tokenExpired: (detail: string) => new HttpError(401, 'TROUPE_ERR_AUTH_TOKEN_EXPIRED', 'the bearer token has expired', { headers: kChallenge('invalid_token'), detail }),
  invalidKey: (detail: string) => new HttpError(401, 'TROUPE_ERR_AUTH_INVALID_KEY', 'the API key is invalid', { detail }),
  forbidden: (permission: string, role: string) =>
    new HttpError(403, 'TROUPE_ERR_AUTH_FORBIDDEN', `this needs the permission ${permission}, which role ${truncate(role)} lacks`),
  unavailable: (message: string) => new HttpError(503, 'TROUPE_ERR_HTTP_UNAVAILABLE', message, { headers: { 'retry-after': '1' } }),
  internal: (cause: unknown) => new HttpError(500, 'TROUPE_ERR_HTTP_INTERNAL', 'internal error', { cause }),
} as const;

/** Keeps hostile input from bloating messages and logs. */
export function truncate(value: string, max = 120): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}
