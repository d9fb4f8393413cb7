/**
 * The `cluster` option of `ActorSystem.start`: plain data, validated here so
 * a bad value fails the start with a typed error before anything connects.
 */
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';

export interface ClusterOptions {
  /** NATS server URL(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** The cluster's name: systems with the same name (and servers) are one cluster. */
  name: string;
  /** This node's name, unique in the cluster. @default a random id */
  node?: string;
  /** How often this node says it is alive, from a thread that runs no actors. @default 200 */
  heartbeatMs?: number;
  /** Silence after which a node is `unreachable` (messages still go; nothing is failed yet). @default 1000 */
  suspectAfterMs?: number;
  /** Silence after which a node is `down`: its asks fail with `TROUPE_ERR_NODE_DOWN`, its incarnation is gone for good. @default 2000 */
  downAfterMs?: number;
  /** How long the start waits for a NATS server before it fails with `TROUPE_ERR_CLUSTER_UNAVAILABLE`. @default 5000 */
  connectTimeoutMs?: number;
  /** Credentials the NATS servers ask for: a user and password, or a token. @default none */
  user?: string;
  pass?: string;
  token?: string;
}

export interface ResolvedCluster {
  servers: string[];
  name: string;
  node: string;
  heartbeatMs: number;
  suspectAfterMs: number;
  downAfterMs: number;
  connectTimeoutMs: number;
  user: string | undefined;
  pass: string | undefined;
  token: string | undefined;
}

/** Node and cluster names become NATS subject tokens. */
const kToken = /^[A-Za-z0-9_-]{1,64}$/;
const kKeys = new Set(['servers', 'name', 'node', 'heartbeatMs', 'suspectAfterMs', 'downAfterMs', 'connectTimeoutMs', 'user', 'pass', 'token']);

export function resolveCluster(value: unknown): ResolvedCluster | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError('cluster', "an object: { servers, name, node? }", value);
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) if (!kKeys.has(key)) throw new InvalidOptionError(`cluster.${key}`, `one of ${[...kKeys].join(', ')} (unknown option)`, key);
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InvalidOptionError('cluster.servers', "a NATS URL or a non-empty array of them, e.g. 'nats://127.0.0.1:4222'", options.servers);
  }
  const token = (key: string, fallback?: string): string => {
    const v = options[key] ?? fallback;
    if (typeof v !== 'string' || !kToken.test(v)) throw new InvalidOptionError(`cluster.${key}`, 'a name of 1 to 64 letters, digits, "_" or "-"', options[key]);
    return v;
  };
  const ms = (key: string, fallback: number, min: number): number => {
    const v = options[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 3_600_000) throw new InvalidOptionError(`cluster.${key}`, `an integer from ${min} to 3600000 (ms)`, options[key]);
    return v;
  };
  const secret = (key: string): string | undefined => {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw new InvalidOptionError(`cluster.${key}`, 'a non-empty string', typeof v === 'string' ? '' : v);
    return v as string | undefined;
  };
  const heartbeatMs = ms('heartbeatMs', 200, 10);
  const suspectAfterMs = ms('suspectAfterMs', Math.max(1000, 3 * heartbeatMs), 2 * heartbeatMs);
  const downAfterMs = ms('downAfterMs', Math.max(2000, 2 * suspectAfterMs), suspectAfterMs + 1);
  return {
    servers: servers as string[],
    name: token('name'),
    node: token('node', `n-${randomBytes(4).toString('hex')}`),
    heartbeatMs,
    suspectAfterMs,
    downAfterMs,
    connectTimeoutMs: ms('connectTimeoutMs', 5000, 1),
    user: secret('user'),
    pass: secret('pass'),
    token: secret('token'),
  };
}

/** The NATS client's connection options for one of this node's connections (`role` names it on the server). */
export function connectionOptions(cluster: ResolvedCluster, role: string): Record<string, unknown> {
  const options: Record<string, unknown> = {
    servers: cluster.servers,
    name: `troupe-${role}-${cluster.node}`,
    timeout: cluster.connectTimeoutMs,
    // For ever, a quarter second apart: a node outlives its server's restarts (heartbeats tell the rest).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (cluster.user !== undefined) options.user = cluster.user;
  if (cluster.pass !== undefined) options.pass = cluster.pass;
  if (cluster.token !== undefined) options.token = cluster.token;
  return options;
}
