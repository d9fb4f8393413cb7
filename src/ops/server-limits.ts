/**
 * The limits `gateway.listen()` puts on its node:http server. Node's own
 * defaults suit a server behind a proxy that already enforces them: a whole
 * request may take 300 s (`requestTimeout`), its headers 60 s, the check runs
 * every 30 s, and connections are unlimited, so a client that sends a body a
 * byte at a time holds a socket for minutes and enough of them exhaust the
 * process's file descriptors. A gateway may face clients directly, so it
 * starts from tighter values; every one can be set.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface ServerLimits {
  /** Longest wait for a request's headers; `0`: none. @default 10000, or requestTimeoutMs if it is smaller */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, headers and body; `0`: none. Past it the client gets 408 and the connection closes. @default 30000 */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (above your load balancer's idle timeout if it reuses connections). @default 5000 */
  keepAliveTimeoutMs: number;
  /** Connections open at once; more are closed as they arrive. @default 1024 */
  maxConnections: number;
}

export const kServerLimitDefaults: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
});

/** Validates the gateway's limit options (a `TypeError` naming the bad one) and fills in defaults. */
export function resolveServerLimits(options: Partial<ServerLimits>): ServerLimits {
  const ms = (name: keyof ServerLimits): number | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
      throw new TypeError(`gateway option "${name}" must be an integer number of milliseconds ≥ 0 (0: no limit), received ${JSON.stringify(value)}`);
    }
    return value;
  };
  const requestTimeoutMs = ms('requestTimeoutMs') ?? kServerLimitDefaults.requestTimeoutMs;
  const givenHeaders = ms('headersTimeoutMs');
  // node:http refuses a headers timeout above the request timeout.
  const headersTimeoutMs = givenHeaders ?? (requestTimeoutMs > 0 ? Math.min(kServerLimitDefaults.headersTimeoutMs, requestTimeoutMs) : kServerLimitDefaults.headersTimeoutMs);
  if (requestTimeoutMs > 0 && (headersTimeoutMs > requestTimeoutMs || headersTimeoutMs === 0)) {
    throw new TypeError(`gateway option "headersTimeoutMs" (${headersTimeoutMs}) must not exceed "requestTimeoutMs" (${requestTimeoutMs}), nor be 0 while it is set`);
  }
  const keepAliveTimeoutMs = ms('keepAliveTimeoutMs') ?? kServerLimitDefaults.keepAliveTimeoutMs;
  const maxConnections = options.maxConnections ?? kServerLimitDefaults.maxConnections;
  if (typeof maxConnections !== 'number' || !Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new TypeError(`gateway option "maxConnections" must be an integer ≥ 1, received ${JSON.stringify(maxConnections)}`);
  }
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections };
}

/** A node:http server under `limits`; connections refused past the limit are logged at most once a second. */
export function createLimitedServer(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: ServerLimits, log: Logger): Server {
  const shortest = Math.min(...[limits.headersTimeoutMs, limits.requestTimeoutMs].filter((t) => t > 0));
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often node looks for requests past their timeouts: its 30 s default would let one run 30 s late.
      connectionsCheckingInterval: Number.isFinite(shortest) ? Math.max(10, Math.min(1000, Math.floor(shortest / 4))) : 1000,
    },
    handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  let refused = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    refused++;
    const at = performance.now();
    if (at - loggedAt < 1000) return;
    loggedAt = at;
    log.warn({ refused, maxConnections: limits.maxConnections }, 'connections refused: maxConnections open');
    refused = 0;
  });
  return server;
}
