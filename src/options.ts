import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import { InvalidArgumentError, InvalidOptionError, TroupeError } from './errors.js';
import { isStoreSpec, type StoreSpec } from './persistence/store-spec.js';
import { resolveCluster, type ClusterOptions, type ResolvedCluster } from './cluster/cluster-options.js';

/** Options of {@link ActorSystem.start}. Every field is optional; defaults live in {@link kDefaults}. */
export interface SystemOptions {
  /** Worker threads besides the main thread. `0` runs every actor on the main thread. @default os.availableParallelism() */
  workers?: number;
  /** Bytes of each lane (one per ordered pair of hosts); a power of two. Half a lane is the largest message. @default 262144 */
  laneBytes?: number;
  /** Records a sender holds per lane while the lane is full, before `tell` throws `TROUPE_ERR_MAILBOX_FULL`. @default 65536 */
  overflowLimit?: number;
  /**
   * Payload bytes a sender holds per lane while the lane is full, before `tell` throws
   * `TROUPE_ERR_MAILBOX_FULL`: the overflow is bounded in memory, not only in records. @default 67108864 (64 MiB)
   */
  overflowBytes?: number;
  /** Messages queued in one actor's mailbox before a same-host `tell` throws `TROUPE_ERR_MAILBOX_FULL` and records from other hosts become dead letters. @default 1048576 */
  mailboxLimit?: number;
  /** How long a spawn may take (module load plus `init`) before it rejects. @default 30000 */
  spawnTimeoutMs?: number;
  /** Messages one actor handles before the host moves to the next ready actor (fairness). @default 64 */
  throughput?: number;
  /** Longest an idle worker polls its lanes before parking, while cross-thread traffic is recent; the poll adapts below it. `0` parks at once. @default 200 */
  spinMicros?: number;
  /**
   * The same for the main thread. Off by default: the main thread usually
   * serves your app's I/O, which a poll would hold up (an HTTP server loses
   * most of its throughput). Set it (e.g. 200) for the fastest asks from main.
   * @default 0
   */
  mainSpinMicros?: number;
  /** How long after the last message a host still spins before parking; past it, an idle host parks at once. @default 20 */
  spinWindowMs?: number;
  /** Records written to a lane before they are published to the consumer without waiting for the end of the turn. @default 64 */
  batchRecords?: number;
  /**
   * Every record carries a CRC-32 of its payload, checked before it is
   * decoded: a damaged one becomes a dead letter (`checksum-failed`; an ask
   * is answered with `TROUPE_ERR_DECODE`) instead of reaching `receive` as a
   * different message. Off by default because lanes are shared memory, which
   * does not corrupt what it carries (a bit flipped by `troupe/chaos` is the
   * only damage they see); frames that leave the process will carry it by
   * default once hosts can live in other processes. Costs a sum on each side
   * of every cross-thread record (see the `checksum` benchmark).
   * @default false
   */
  checksum?: boolean;
  /**
   * OpenTelemetry traces, through `@opentelemetry/api` (an optional peer:
   * install it to use this). Every message carries the W3C trace context it
   * was sent in, each message handled is a span (`<actor name or module>
   * <message type>`, child of the sender's span) and its handler runs inside
   * it, so your own instrumentation nests under it. Sampling is decided where
   * a message enters with no trace, by the sampler of the tracer provider you
   * register: on the main thread in your app, and on each worker in a
   * `workerPreload` module (see docs/guide/observability.md). Off: nothing of
   * it is loaded or run.
   * @default false
   */
  tracing?: boolean;
  /** Longest stretch a host runs messages before it yields to its event loop (timers, I/O). @default 4 */
  sliceMs?: number;
  /** A worker whose heartbeat stops this long while it is not parked is reported stalled. @default 10000 */
  stallTimeoutMs?: number;
  /** Default `ask` timeout (OTP's `gen_server:call` default). @default 5000 */
  askTimeoutMs?: number;
  /** How long `shutdown()` waits for lanes to drain and actors to stop before forcing. @default 5000 */
  shutdownTimeoutMs?: number;
  /** Deepest nesting a message may have; deeper (or cyclic) messages are refused. @default 64 */
  maxMessageDepth?: number;
  /**
   * Most values and keys a message may have, counting a sub-object each time it
   * appears (as msgpack writes it): bounds the sender's check of a message that
   * shares sub-objects, which would otherwise take exponential time.
   * With the default `laneBytes` the size limit binds first (a value takes a byte at least).
   * @default 1000000
   */
  maxMessageNodes?: number;
  /** Time one message in N (per host) to build the processing-time histogram; 1 times every message. @default 64 */
  statsSampleEvery?: number;
  /** pino logger for the main thread; workers log with the same level to stdout. */
  logger?: Logger;
  /** Level of the default logger (main and workers). @default 'warn' */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `execArgv` of worker threads; e.g. `['--import', 'tsx']` to load `.ts` actor modules. @default process.execArgv */
  workerExecArgv?: string[];
  /**
   * Modules each worker imports before it serves (URLs, absolute paths or
   * specifiers resolvable from troupe), e.g. a loader for `.ts` actor modules:
   * `['troupe/tsx']`. Added automatically when the app runs under
   * `node --import tsx` on Node < 22, whose tsx hooks do not reach workers.
   */
  workerPreload?: (string | URL)[];
  /** V8 heap limits of each worker (a worker that exceeds them exits and is reported). */
  workerResourceLimits?: ResourceLimits;
  /**
   * A worker that dies again within 5 s of its last death is in a loop: its
   * replacement waits `minMs`, doubling up to `maxMs`.
   * @default { minMs: 50, maxMs: 5000 }
   */
  workerBackoff?: { minMs: number; maxMs: number };
  /**
   * Keep one spare worker booted and idle, to take over a dead worker's host
   * at once (a new thread takes ~100 ms to boot and import the runtime).
   * @default true
   */
  spareWorker?: boolean;
  /**
   * The root supervisor, parent of every actor `system.spawn` starts. Past its
   * restart intensity the system emits `system.escalated` and stops cleanly.
   * @default { strategy: 'one_for_one', maxRestarts: 100, withinMs: 5000 } (a worker's death restarts all the top-level actors it ran at once)
   */
  supervisor?: SupervisorOptions;
  /**
   * The journal of durable actors (`defineActor({ persistence })`) and
   * entities: `sqliteStore({ path })` or `postgresStore({ connectionString })`
   * from troupe/persistence. Opened by a thread of its own at start; a store
   * that cannot be opened fails the start with `TROUPE_ERR_PERSISTENCE_STORE`.
   * @default none (durable actors refuse to start)
   */
  store?: StoreSpec;
  /**
   * Makes this system a node of a cluster over NATS: `{ servers, name, node? }`
   * (see docs/guide/cluster.md). The start fails with
   * `TROUPE_ERR_CLUSTER_UNAVAILABLE` when no server answers.
   * @default none (a system of one process)
   */
  cluster?: ClusterOptions;
  /** Virtual actors (`system.entity`). */
  entities?: {
    /** Passivate an entity after this long without messages (per entity: `entity(url, key, { idleMs })`). @default 60000 */
    idleMs?: number;
    /** Activations (spawn + recovery) in progress at once, across the system; the rest wait their turn. @default 256 */
    maxActivating?: number;
    /** Messages one entity holds while it is not running; past it `tell` throws `TROUPE_ERR_MAILBOX_FULL`. @default 10000 */
    maxWaiting?: number;
  };
}

export interface ResolvedEntityOptions {
  idleMs: number;
  maxActivating: number;
  maxWaiting: number;
}

export interface ResolvedOptions {
  workers: number;
  laneBytes: number;
  overflowLimit: number;
  overflowBytes: number;
  mailboxLimit: number;
  spawnTimeoutMs: number;
  throughput: number;
  spinMicros: number;
  mainSpinMicros: number;
  spinWindowMs: number;
  batchRecords: number;
  checksum: boolean;
  tracing: boolean;
  sliceMs: number;
  stallTimeoutMs: number;
  askTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxMessageDepth: number;
  maxMessageNodes: number;
  statsSampleEvery: number;
  logLevel: NonNullable<SystemOptions['logLevel']>;
  workerExecArgv: string[] | undefined;
  workerPreload: string[];
  workerResourceLimits: ResourceLimits | undefined;
  workerBackoff: { minMs: number; maxMs: number };
  spareWorker: boolean;
  supervisor: ResolvedSupervisor;
  store: StoreSpec | undefined;
  entities: ResolvedEntityOptions;
  cluster: ResolvedCluster | undefined;
}

/** The options a worker thread needs; plain data so it crosses `workerData`. */
export type HostOptions = Omit<ResolvedOptions, 'workerExecArgv' | 'workerResourceLimits' | 'workerPreload' | 'supervisor' | 'workerBackoff' | 'spareWorker' | 'store' | 'entities' | 'cluster'>;

export const kDefaults = Object.freeze({
  laneBytes: 256 * 1024,
  overflowLimit: 65_536,
  overflowBytes: 64 * 1024 * 1024,
  mailboxLimit: 1 << 20,
  spawnTimeoutMs: 30_000,
  throughput: 64,
  spinMicros: 200,
  mainSpinMicros: 0,
  spinWindowMs: 20,
  batchRecords: 64,
  checksum: false,
  tracing: false,
  sliceMs: 4,
  stallTimeoutMs: 10_000,
  askTimeoutMs: 5_000,
  shutdownTimeoutMs: 5_000,
  maxMessageDepth: 64,
  maxMessageNodes: 1_000_000,
  statsSampleEvery: 64,
  logLevel: 'warn' as const,
  entities: Object.freeze({ idleMs: 60_000, maxActivating: 256, maxWaiting: 10_000 }),
});

const kLogLevels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const kKnownOptions = new Set([
  'workers', 'laneBytes', 'overflowLimit', 'overflowBytes', 'mailboxLimit', 'spawnTimeoutMs', 'throughput', 'spinMicros', 'mainSpinMicros', 'spinWindowMs', 'batchRecords', 'checksum', 'tracing', 'sliceMs',
  'stallTimeoutMs', 'askTimeoutMs', 'shutdownTimeoutMs', 'maxMessageDepth', 'maxMessageNodes', 'statsSampleEvery', 'logger', 'logLevel',
  'workerExecArgv', 'workerPreload', 'workerResourceLimits', 'workerBackoff', 'spareWorker', 'supervisor', 'store', 'entities', 'cluster',
]);

export const kMaxWorkers = 254;

export function resolveOptions(options: SystemOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!kKnownOptions.has(key)) throw new InvalidOptionError(key, `one of ${[...kKnownOptions].join(', ')} (unknown option)`, key);
  }
  const resolved: ResolvedOptions = {
    workers: integer(options, 'workers', availableParallelism(), 0, kMaxWorkers),
    laneBytes: integer(options, 'laneBytes', kDefaults.laneBytes, 4096, 2 ** 30),
    overflowLimit: integer(options, 'overflowLimit', kDefaults.overflowLimit, 0, 2 ** 30),
    overflowBytes: integer(options, 'overflowBytes', kDefaults.overflowBytes, 0, 2 ** 52),
    mailboxLimit: integer(options, 'mailboxLimit', kDefaults.mailboxLimit, 1, 2 ** 30),
    spawnTimeoutMs: integer(options, 'spawnTimeoutMs', kDefaults.spawnTimeoutMs, 1, 2 ** 31 - 1),
    throughput: integer(options, 'throughput', kDefaults.throughput, 1, 1_000_000),
    spinMicros: integer(options, 'spinMicros', kDefaults.spinMicros, 0, 1_000_000),
    mainSpinMicros: integer(options, 'mainSpinMicros', kDefaults.mainSpinMicros, 0, 1_000_000),
    spinWindowMs: integer(options, 'spinWindowMs', kDefaults.spinWindowMs, 0, 60_000),
    batchRecords: integer(options, 'batchRecords', kDefaults.batchRecords, 1, 1_000_000),
    checksum: kDefaults.checksum,
    tracing: kDefaults.tracing,
    sliceMs: integer(options, 'sliceMs', kDefaults.sliceMs, 1, 60_000),
    stallTimeoutMs: integer(options, 'stallTimeoutMs', kDefaults.stallTimeoutMs, 10, 86_400_000),
    askTimeoutMs: integer(options, 'askTimeoutMs', kDefaults.askTimeoutMs, 1, 2 ** 31 - 1),
    shutdownTimeoutMs: integer(options, 'shutdownTimeoutMs', kDefaults.shutdownTimeoutMs, 0, 2 ** 31 - 1),
    maxMessageDepth: integer(options, 'maxMessageDepth', kDefaults.maxMessageDepth, 1, 1000),
    maxMessageNodes: integer(options, 'maxMessageNodes', kDefaults.maxMessageNodes, 1, 2 ** 30),
    statsSampleEvery: integer(options, 'statsSampleEvery', kDefaults.statsSampleEvery, 1, 1 << 20),
    logLevel: kDefaults.logLevel,
    workerExecArgv: undefined,
    workerPreload: [],
    workerResourceLimits: undefined,
    workerBackoff: { minMs: 50, maxMs: 5000 },
    spareWorker: true,
    supervisor: rootSupervisor(options.supervisor),
    store: undefined,
    entities: entityOptions(options.entities),
    cluster: resolveCluster(options.cluster),
  };
  if (options.store !== undefined) {
    if (!isStoreSpec(options.store)) throw new InvalidOptionError('store', 'a store from troupe/persistence: sqliteStore({ path }) or postgresStore({ connectionString })', options.store);
    resolved.store = options.store;
  }
  if ((resolved.laneBytes & (resolved.laneBytes - 1)) !== 0) {
    throw new InvalidOptionError('laneBytes', 'a power of two between 4096 and 2^30', options.laneBytes);
  }
  if (options.logLevel !== undefined) {
    if (!kLogLevels.has(options.logLevel)) throw new InvalidOptionError('logLevel', `one of ${[...kLogLevels].join(', ')}`, options.logLevel);
    resolved.logLevel = options.logLevel;
  } else if (options.logger !== undefined && kLogLevels.has(options.logger.level)) {
    resolved.logLevel = options.logger.level as ResolvedOptions['logLevel'];
  }
  if (options.logger !== undefined && (options.logger === null || typeof options.logger.child !== 'function')) {
    throw new InvalidOptionError('logger', 'a pino logger', options.logger);
  }
  if (options.workerExecArgv !== undefined) {
    if (!Array.isArray(options.workerExecArgv) || !options.workerExecArgv.every((a) => typeof a === 'string')) {
      throw new InvalidOptionError('workerExecArgv', 'an array of strings', options.workerExecArgv);
    }
    resolved.workerExecArgv = [...options.workerExecArgv];
  }
  if (options.workerPreload !== undefined) {
    if (!Array.isArray(options.workerPreload)) throw new InvalidOptionError('workerPreload', 'an array of module URLs or specifiers', options.workerPreload);
    resolved.workerPreload = options.workerPreload.map((entry) => resolvePreload(entry));
  }
  if (usesTsxWithoutWorkerHooks(resolved.workerExecArgv ?? process.execArgv)) {
    const tsx = resolvePreload('troupe/tsx');
    if (!resolved.workerPreload.includes(tsx)) resolved.workerPreload.unshift(tsx);
  }
  if (options.workerBackoff !== undefined) {
    const { minMs, maxMs } = options.workerBackoff ?? {};
    if (typeof minMs !== 'number' || typeof maxMs !== 'number' || minMs < 0 || maxMs < minMs) {
      throw new InvalidOptionError('workerBackoff', '{ minMs ≥ 0, maxMs ≥ minMs }', options.workerBackoff);
    }
    resolved.workerBackoff = { minMs, maxMs };
  }
  if (options.tracing !== undefined) {
    if (typeof options.tracing !== 'boolean') throw new InvalidOptionError('tracing', 'a boolean', options.tracing);
    resolved.tracing = options.tracing;
  }
  if (options.checksum !== undefined) {
    if (typeof options.checksum !== 'boolean') throw new InvalidOptionError('checksum', 'a boolean', options.checksum);
    resolved.checksum = options.checksum;
  }
  if (options.spareWorker !== undefined) {
    if (typeof options.spareWorker !== 'boolean') throw new InvalidOptionError('spareWorker', 'a boolean', options.spareWorker);
    resolved.spareWorker = options.spareWorker;
  }
  if (options.workerResourceLimits !== undefined) {
    if (options.workerResourceLimits === null || typeof options.workerResourceLimits !== 'object') {
      throw new InvalidOptionError('workerResourceLimits', 'an object of worker_threads ResourceLimits', options.workerResourceLimits);
    }
    resolved.workerResourceLimits = { ...options.workerResourceLimits };
  }
  return resolved;
}

function integer(options: SystemOptions, key: keyof SystemOptions, fallback: number, min: number, max: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(key, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function hostOptionsOf(options: ResolvedOptions): HostOptions {
  const { workerExecArgv: _argv, workerResourceLimits: _limits, workerPreload: _preload, supervisor: _supervisor, workerBackoff: _backoff, spareWorker: _spare, store: _store, entities: _entities, cluster: _cluster, ...rest } = options;
  return rest;
}

const kEntityKeys = new Set(['idleMs', 'maxActivating', 'maxWaiting']);

function entityOptions(options: SystemOptions['entities']): ResolvedEntityOptions {
  const d = kDefaults.entities;
  if (options === undefined) return { ...d };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new InvalidOptionError('entities', 'an object: { idleMs?, maxActivating?, maxWaiting? }', options);
  for (const key of Object.keys(options)) {
    if (!kEntityKeys.has(key)) throw new InvalidOptionError(`entities.${key}`, `one of ${[...kEntityKeys].join(', ')} (unknown option)`, key);
  }
  const field = (key: 'idleMs' | 'maxActivating' | 'maxWaiting', fallback: number, min: number, max: number): number => {
    const value = options[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new InvalidOptionError(`entities.${key}`, `an integer from ${min} to ${max}`, value);
    return value;
  };
  return { idleMs: field('idleMs', d.idleMs, 1, 2 ** 31 - 1), maxActivating: field('maxActivating', d.maxActivating, 1, 1 << 20), maxWaiting: field('maxWaiting', d.maxWaiting, 1, 1 << 24) };
}

function rootSupervisor(options: SupervisorOptions | undefined): ResolvedSupervisor {
  try {
    return resolveSupervisor(options, 'supervisor', kRootSupervisorDefaults);
  } catch (error) {
    throw new InvalidOptionError('supervisor', (error as TroupeError).message.replace(/^supervisor:? ?/, ''), options);
  }
}

function resolvePreload(entry: unknown): string {
  if (entry instanceof URL) return entry.href;
  if (typeof entry !== 'string' || entry.length === 0) throw new InvalidOptionError('workerPreload', 'an array of module URLs or specifiers', entry);
  if (isAbsolute(entry)) return pathToFileURL(entry).href;
  try {
    return new URL(entry).href;
  } catch {
    try {
      return import.meta.resolve(entry);
    } catch {
      throw new InvalidOptionError('workerPreload', 'modules that resolve (an absolute path, a URL, or a package specifier)', entry);
    }
  }
}

/** tsx registers its hooks only on the main thread before Node 22 (it checks isMainThread). */
function usesTsxWithoutWorkerHooks(execArgv: string[]): boolean {
  if (Number(process.versions.node.split('.')[0]) >= 22) return false;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const value = arg === '--import' ? execArgv[i + 1] : arg.startsWith('--import=') ? arg.slice('--import='.length) : undefined;
    if (value === 'tsx' || value === 'tsx/esm') return true;
  }
  return false;
}

// Supervisor flags: an actor's `supervisor` spawn option and the system's
// root `supervisor` option share this shape, defaults and validation.
// supervision/strategy.ts re-exports them.

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface BackoffOptions {
  /** Delay before the first restart of a child that keeps failing. */
  minMs: number;
  /** Cap of the exponentially growing delay. */
  maxMs: number;
  /** Random spread added to each delay, as a fraction of it (0 to 1). @default 0 */
  jitter?: number;
}

/** How an actor supervises its children (OTP's supervisor flags). */
export interface SupervisorOptions {
  /** @default 'one_for_one' */
  strategy?: Strategy;
  /** Restarts allowed within `withinMs` before the supervisor gives up and fails itself. @default 1 (OTP's intensity) */
  maxRestarts?: number;
  /** @default 5000 (OTP's period) */
  withinMs?: number;
  /** Delay restarts of a child that keeps failing; none by default (as OTP). */
  backoff?: BackoffOptions;
}

export interface ResolvedSupervisor {
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  backoff: Required<BackoffOptions> | undefined;
}

export const kSupervisorDefaults: Readonly<ResolvedSupervisor> = Object.freeze({
  strategy: 'one_for_one',
  maxRestarts: 1,
  withinMs: 5000,
  backoff: undefined,
});

/**
 * The root supervisor (parent of every system.spawn actor) is more lenient
 * than OTP's 1 in 5 s: one worker death restarts every top-level actor it
 * hosted at once, and each counts.
 */
export const kRootSupervisorDefaults: Readonly<ResolvedSupervisor> = Object.freeze({
  strategy: 'one_for_one',
  maxRestarts: 100,
  withinMs: 5000,
  backoff: undefined,
});

const kStrategies = new Set<Strategy>(['one_for_one', 'one_for_all', 'rest_for_one']);

export function resolveSupervisor(options: SupervisorOptions | undefined, where: string, defaults: ResolvedSupervisor = kSupervisorDefaults): ResolvedSupervisor {
  if (options === undefined) return defaults;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`${where} must be an object`);
  for (const key of Object.keys(options)) {
    if (!['strategy', 'maxRestarts', 'withinMs', 'backoff'].includes(key)) {
      throw new InvalidArgumentError(`${where}: unknown key "${key}" (expected strategy, maxRestarts, withinMs, backoff)`);
    }
  }
  const strategy = options.strategy ?? defaults.strategy;
  if (!kStrategies.has(strategy)) throw new InvalidArgumentError(`${where}.strategy must be one_for_one, one_for_all or rest_for_one, received ${String(strategy)}`);
  const maxRestarts = options.maxRestarts ?? defaults.maxRestarts;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new InvalidArgumentError(`${where}.maxRestarts must be an integer ≥ 0, received ${String(maxRestarts)}`);
  const withinMs = options.withinMs ?? defaults.withinMs;
  if (typeof withinMs !== 'number' || !(withinMs > 0) || !Number.isFinite(withinMs)) throw new InvalidArgumentError(`${where}.withinMs must be a positive number, received ${String(withinMs)}`);
  let backoff: Required<BackoffOptions> | undefined;
  if (options.backoff !== undefined) {
    const { minMs, maxMs, jitter = 0 } = options.backoff;
    if (typeof minMs !== 'number' || minMs < 0 || typeof maxMs !== 'number' || maxMs < minMs || typeof jitter !== 'number' || jitter < 0 || jitter > 1) {
      throw new InvalidArgumentError(`${where}.backoff must be { minMs ≥ 0, maxMs ≥ minMs, jitter 0..1 }`);
    }
    backoff = { minMs, maxMs, jitter };
  }
  return { strategy, maxRestarts, withinMs, backoff };
}
