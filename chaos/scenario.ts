import { seededRandom as mulberry32 } from '../examples/actors/random.js';

/**
 * Scenarios: small declarative files in chaos/scenarios/, one fault schedule
 * each. Times are a share of the run ('30%') or absolute ('1.5s', '400ms'),
 * so one scenario serves a 3-second CI run and a 30-second measurement.
 * Anything random in a scenario ('random-worker') is drawn from the run's
 * seed: the same seed gives the same schedule.
 */

/** A host: 'main' or a worker index; 'random-worker' is drawn from the seed. */
export type HostRef = 'main' | number | 'random-worker';
export type WorkerRef = number | 'random-worker';
/** A cluster node other than the front one the client talks to (1 to nodes − 1); 'random-node' is drawn from the seed. */
export type NodeRef = number | 'random-node';
export type Lanes = HostRef | '*';

export interface LinkFaults {
  dropRate?: number;
  duplicateRate?: number;
  corruptRate?: number;
  delayMs?: number;
  jitterMs?: number;
}

export type FaultAction =
  /** Hosts in different groups cannot reach each other (both ways). */
  | { kind: 'partition'; groups: HostRef[][] }
  /** Every lane from `a` to `b` cut (and back, unless oneWay). */
  | { kind: 'split'; a: HostRef[]; b: HostRef[]; oneWay?: boolean }
  /** One lane. */
  | { kind: 'cut'; from: HostRef; to: HostRef }
  | { kind: 'isolate'; host: HostRef }
  /** Two sides that cannot reach each other and a host that reaches both. */
  | { kind: 'bridge'; a: HostRef[]; b: HostRef[]; bridge: HostRef }
  | { kind: 'ring-of-majorities' }
  /** Link faults on the lanes from → to ('*': every host). */
  | ({ kind: 'link'; from: Lanes; to: Lanes } & LinkFaults)
  /** Slow consumer: the host reads at most this many records a millisecond. */
  | { kind: 'throttle'; host: HostRef; recordsPerMs: number }
  | { kind: 'kill-worker'; worker: WorkerRef }
  | { kind: 'exit-worker'; worker: WorkerRef; code?: number }
  /** A synchronous loop: `ms` (forever if absent, until the stall detector replaces the worker). */
  | { kind: 'stall-worker'; worker: WorkerRef; ms?: number }
  | { kind: 'exhaust-heap'; worker: WorkerRef }
  /** The actor's next message throws. */
  | { kind: 'crash-actor'; actor: 'consumer' | 'producer'; host: HostRef }
  /** A message the consumer always throws on, told once (at-most-once: it is not redelivered). */
  | { kind: 'poison'; host: HostRef }
  /** SIGKILL the whole process the system runs in, then start it again on the same journal (a process scenario). */
  | { kind: 'kill-process' }
  /** SIGKILL a cluster node's process; it starts again, as a new incarnation, `for` later (a cluster scenario). */
  | { kind: 'kill-node'; node: NodeRef }
  /** Cut a cluster node off from NATS (no heartbeats, frames or requests either way) for `for`; restarted after the heal if it was declared down meanwhile. */
  | { kind: 'isolate-node'; node: NodeRef }
  /** SIGKILL one server of the NATS cluster (0-based), started again `for` later; the nodes on it move to the others. */
  | { kind: 'kill-nats'; server: number };

export interface FaultStep {
  /** When, from the start of the workload: '30%' of the run, or '1.5s', '400ms'. */
  at: string;
  /** How long until it is healed (lane faults, throttles); for one-off faults, how long the recovery is watched. @default '20%' */
  for?: string;
  /** Repeat the step this many times, `every` apart. @default 1 */
  repeat?: number;
  every?: string;
  do: FaultAction;
}

export interface Scenario {
  name: string;
  description: string;
  /** Worker threads (hosts are main plus the workers). @default 2 */
  workers?: number;
  /** Messages per second per producer→consumer pair and mode. @default 200 */
  rate?: number;
  /** A message later than this counts as unavailable. @default 1000 */
  sloMs?: number;
  faults: FaultStep[];
  /**
   * A runtime defect this scenario demonstrates: the run is expected to fail
   * (XFAIL, not a suite failure) and a pass is reported as XPASS, a failure,
   * so the scenario is revisited once the runtime is fixed.
   */
  knownIssue?: string;
  /**
   * A process scenario (its faults are `kill-process`): the system runs in a
   * child process over a SQLite journal, and the workload is durable ledgers
   * (see chaos/process/).
   */
  process?: ProcessWorkload;
  /**
   * A cluster scenario (its faults are kill-node, isolate-node, kill-nats):
   * node processes over nats-server and one PostgreSQL journal, the workload
   * durable ledgers as entities on the ring (see chaos/cluster/).
   */
  cluster?: ClusterWorkload;
  /** Runtime options for the system under test (e.g. workerResourceLimits for heap exhaustion). */
  system?: {
    stallTimeoutMs?: number;
    spawnTimeoutMs?: number;
    workerResourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
    /** The record checksum (SystemOptions.checksum); with it on, a damaged message delivered fails the run. @default true */
    checksum?: boolean;
  };
}

export interface ProcessWorkload {
  /** Durable ledger actors, each appended to by the client outside the process. @default 16 */
  ledgers?: number;
  /** Appends in flight per ledger (pipelined; each is acknowledged once its persist resolved). @default 4 */
  inflight?: number;
  /** How the ledgers come to life: spawned by name at start, or virtual actors (`system.entity`) activated by their first message. @default 'spawn' */
  activation?: 'spawn' | 'entity';
}

export interface ClusterWorkload {
  /** Node processes; node 0 is the front the client sends through, never a fault's target. @default 3 */
  nodes?: number;
  /** Worker threads per node. @default 1 */
  workers?: number;
  /** Durable ledger entities, placed on the ring over every node. @default 24 */
  ledgers?: number;
  /** Appends in flight per ledger. @default 2 */
  inflight?: number;
  /** nats-servers: 1, or 3 routed into a NATS cluster (kill-nats needs 3). @default 1 */
  natsServers?: 1 | 3;
}

const kClusterKinds = new Set(['kill-node', 'isolate-node', 'kill-nats']);

/** Whether a scenario runs the system in a child process that its faults kill (chaos/process/runner.ts). */
export function isProcessScenario(scenario: Scenario): boolean {
  return scenario.process !== undefined || scenario.faults.some((f) => f?.do?.kind === 'kill-process');
}

/** Whether a scenario runs a cluster of node processes (chaos/cluster/runner.ts). */
export function isClusterScenario(scenario: Scenario): boolean {
  return scenario.cluster !== undefined || scenario.faults.some((f) => kClusterKinds.has(f?.do?.kind));
}

/** Marks a scenario file's default export (and checks its shape when the file is loaded). */
export function defineScenario(scenario: Scenario): Scenario {
  return Object.freeze(scenario);
}

/** Bad input from the command line or a scenario file: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const kUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** '30s', '1.5s', '400ms', '2m', '1h' (a bare number is seconds) → ms. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (match === null) throw new UsageError(`${what} must be a duration such as 30s, 1.5s, 400ms or 2m, received ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * kUnits[match[2] ?? 's']);
}

/** A time in a scenario: a share of the run or a duration. */
export function parseTime(text: string, runMs: number, what: string): number {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(String(text).trim());
  if (pct !== null) return Math.round((Number(pct[1]) / 100) * runMs);
  return parseDuration(text, what);
}

export function parseSeed(text: string): number {
  if (!/^\d+$/.test(String(text).trim())) throw new UsageError(`--seed must be a whole number from 0 to 2147483647, received ${JSON.stringify(text)}`);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed > 0x7fffffff) throw new UsageError(`--seed must be a whole number from 0 to 2147483647, received ${JSON.stringify(text)}`);
  return seed;
}

/** The scenario's own random draws (which worker, and nothing else); the seed is mixed so seed 0 draws well too. */
export function seededRandom(seed: number): () => number {
  return mulberry32((seed ^ 0x6d2b79f5) >>> 0);
}

/** A host as the runtime's Chaos API names it. */
export type HostName = 'main' | number;

/** One fault of a run, everything resolved: concrete hosts and times in ms from the workload's start. */
export interface ResolvedFault {
  id: number;
  /** A short human label, e.g. "partition [main,0] | [1]". */
  label: string;
  at: number;
  for: number;
  action: ResolvedAction;
}

export type ResolvedAction =
  | { kind: 'partition'; groups: HostName[][] }
  | { kind: 'split'; a: HostName[]; b: HostName[]; oneWay: boolean }
  | { kind: 'cut'; from: HostName; to: HostName }
  | { kind: 'isolate'; host: HostName }
  | { kind: 'bridge'; a: HostName[]; b: HostName[]; bridge: HostName }
  | { kind: 'ring-of-majorities' }
  | ({ kind: 'link'; from: HostName | '*'; to: HostName | '*' } & LinkFaults)
  | { kind: 'throttle'; host: HostName; recordsPerMs: number }
  | { kind: 'kill-worker'; worker: number }
  | { kind: 'exit-worker'; worker: number; code: number }
  | { kind: 'stall-worker'; worker: number; ms: number | undefined }
  | { kind: 'exhaust-heap'; worker: number }
  | { kind: 'crash-actor'; actor: 'consumer' | 'producer'; host: HostName }
  | { kind: 'poison'; host: HostName }
  | { kind: 'kill-process' }
  | { kind: 'kill-node'; node: number }
  | { kind: 'isolate-node'; node: number }
  | { kind: 'kill-nats'; server: number };

const kKinds = new Set([
  'partition',
  'split',
  'cut',
  'isolate',
  'bridge',
  'ring-of-majorities',
  'link',
  'throttle',
  'kill-worker',
  'exit-worker',
  'stall-worker',
  'exhaust-heap',
  'crash-actor',
  'poison',
  'kill-process',
  'kill-node',
  'isolate-node',
  'kill-nats',
]);

/**
 * Checks a scenario against the system it will run on and resolves its
 * schedule. Throws UsageError naming the scenario and what is wrong (an
 * unknown fault, a host index the system does not have, a time past the run).
 */
export function resolveScenario(scenario: Scenario, options: { seed: number; durationMs: number; workers?: number }): { workers: number; faults: ResolvedFault[] } {
  const where = `scenario ${JSON.stringify(scenario?.name)}`;
  if (scenario === null || typeof scenario !== 'object' || typeof scenario.name !== 'string' || !Array.isArray(scenario.faults)) {
    throw new UsageError(`${where}: expected { name, description, faults: [...] }`);
  }
  const workers = options.workers ?? scenario.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new UsageError(`${where}: workers must be from 1 to 16, received ${String(workers)}`);
  const random = seededRandom(options.seed ^ hashName(scenario.name));
  const host = (ref: HostRef | undefined, field: string): HostName => {
    if (ref === 'main') return 'main';
    if (ref === 'random-worker') return Math.floor(random() * workers);
    if (typeof ref === 'number' && Number.isInteger(ref) && ref >= 0 && ref < workers) return ref;
    throw new UsageError(`${where}: ${field} names host ${JSON.stringify(ref)}, which a system of ${workers} worker${workers === 1 ? '' : 's'} does not have (hosts: 'main', 0 to ${workers - 1})`);
  };
  const worker = (ref: WorkerRef | undefined, field: string): number => {
    const h = host(ref as HostRef, field);
    if (h === 'main') throw new UsageError(`${where}: ${field} must be a worker, not main (the main thread cannot be killed)`);
    return h;
  };
  const lanes = (ref: Lanes, field: string): HostName | '*' => (ref === '*' ? '*' : host(ref, field));
  const probability = (p: number | undefined, field: string): void => {
    if (p !== undefined && !(typeof p === 'number' && p >= 0 && p <= 1)) throw new UsageError(`${where}: ${field} must be from 0 to 1, received ${String(p)}`);
  };
  const faults: ResolvedFault[] = [];
  // First: a scenario with cluster faults among others is refused as a cluster scenario, whatever the others are.
  const cluster = resolveCluster(scenario, where);
  if (isProcessScenario(scenario)) {
    const other = scenario.faults.find((f) => f?.do?.kind !== 'kill-process');
    if (other !== undefined) throw new UsageError(`${where}: a process scenario's faults are all kill-process (the system runs in a child process the harness kills), received ${JSON.stringify(other?.do?.kind)}`);
    const p = scenario.process ?? {};
    const count = (v: number | undefined, field: string, max: number) => {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= max)) throw new UsageError(`${where}: process.${field} must be a whole number from 1 to ${max}, received ${String(v)}`);
    };
    count(p.ledgers, 'ledgers', 1024);
    count(p.inflight, 'inflight', 64);
    if (p.activation !== undefined && p.activation !== 'spawn' && p.activation !== 'entity') throw new UsageError(`${where}: process.activation must be 'spawn' or 'entity', received ${JSON.stringify(p.activation)}`);
  }
  const node = (ref: NodeRef | undefined, field: string): number => {
    if (cluster === undefined) throw new UsageError(`${where}: ${field}: node faults need a cluster scenario`);
    if (ref === 'random-node') return 1 + Math.floor(random() * (cluster.nodes - 1));
    if (typeof ref === 'number' && Number.isInteger(ref) && ref >= 1 && ref < cluster.nodes) return ref;
    throw new UsageError(`${where}: ${field} names node ${JSON.stringify(ref)}; a fault's node is from 1 to ${cluster.nodes - 1} (node 0 is the front the client talks to) or 'random-node'`);
  };
  scenario.faults.forEach((step, index) => {
    const field = `faults[${index}]`;
    const a = step?.do as FaultAction | undefined;
    if (a === undefined || !kKinds.has(a.kind)) throw new UsageError(`${where}: ${field}.do.kind must be one of ${[...kKinds].join(', ')}, received ${JSON.stringify(a?.kind)}`);
    const at = parseTime(step.at, options.durationMs, `${where}: ${field}.at`);
    const span = parseTime(step.for ?? '20%', options.durationMs, `${where}: ${field}.for`);
    const repeat = step.repeat ?? 1;
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) throw new UsageError(`${where}: ${field}.repeat must be from 1 to 100`);
    const every = repeat > 1 ? parseTime(step.every ?? step.for ?? '20%', options.durationMs, `${where}: ${field}.every`) : 0;
    for (let r = 0; r < repeat; r++) {
      let action: ResolvedAction;
      switch (a.kind) {
        case 'partition':
          action = { kind: 'partition', groups: a.groups.map((g, i) => g.map((h, j) => host(h, `${field}.do.groups[${i}][${j}]`))) };
          break;
        case 'split':
          action = { kind: 'split', a: a.a.map((h) => host(h, `${field}.do.a`)), b: a.b.map((h) => host(h, `${field}.do.b`)), oneWay: a.oneWay === true };
          break;
        case 'cut':
          action = { kind: 'cut', from: host(a.from, `${field}.do.from`), to: host(a.to, `${field}.do.to`) };
          break;
        case 'isolate':
          action = { kind: 'isolate', host: host(a.host, `${field}.do.host`) };
          break;
        case 'bridge':
          action = { kind: 'bridge', a: a.a.map((h) => host(h, `${field}.do.a`)), b: a.b.map((h) => host(h, `${field}.do.b`)), bridge: host(a.bridge, `${field}.do.bridge`) };
          break;
        case 'ring-of-majorities':
          action = { kind: 'ring-of-majorities' };
          break;
        case 'link': {
          for (const key of ['dropRate', 'duplicateRate', 'corruptRate'] as const) probability(a[key], `${field}.do.${key}`);
          const { kind: _kind, from, to, ...rest } = a;
          action = { kind: 'link', from: lanes(from, `${field}.do.from`), to: lanes(to, `${field}.do.to`), ...rest };
          break;
        }
        case 'throttle':
          action = { kind: 'throttle', host: host(a.host, `${field}.do.host`), recordsPerMs: a.recordsPerMs };
          break;
        case 'kill-worker':
          action = { kind: 'kill-worker', worker: worker(a.worker, `${field}.do.worker`) };
          break;
        case 'exit-worker':
          action = { kind: 'exit-worker', worker: worker(a.worker, `${field}.do.worker`), code: a.code ?? 1 };
          break;
        case 'stall-worker':
          action = { kind: 'stall-worker', worker: worker(a.worker, `${field}.do.worker`), ms: a.ms };
          break;
        case 'exhaust-heap':
          action = { kind: 'exhaust-heap', worker: worker(a.worker, `${field}.do.worker`) };
          break;
        case 'crash-actor':
          action = { kind: 'crash-actor', actor: a.actor, host: host(a.host, `${field}.do.host`) };
          break;
        case 'poison':
          action = { kind: 'poison', host: host(a.host, `${field}.do.host`) };
          break;
        case 'kill-process':
          action = { kind: 'kill-process' };
          break;
        case 'kill-node':
          action = { kind: 'kill-node', node: node(a.node, `${field}.do.node`) };
          break;
        case 'isolate-node':
          action = { kind: 'isolate-node', node: node(a.node, `${field}.do.node`) };
          break;
        case 'kill-nats':
          if (cluster === undefined || !(Number.isInteger(a.server) && a.server >= 0 && a.server < cluster.natsServers)) {
            throw new UsageError(`${where}: ${field}.do.server must be from 0 to ${(cluster?.natsServers ?? 1) - 1} (cluster.natsServers: 3 for a NATS cluster), received ${JSON.stringify(a.server)}`);
          }
          if (cluster.natsServers === 1) throw new UsageError(`${where}: ${field}: kill-nats needs cluster.natsServers: 3 (with one server, every node loses every other)`);
          action = { kind: 'kill-nats', server: a.server };
          break;
      }
      const start = at + r * every;
      if (start >= options.durationMs) throw new UsageError(`${where}: ${field} starts at ${start} ms, past the end of a ${options.durationMs} ms run`);
      faults.push({ id: faults.length + 1, label: label(action), at: start, for: Math.min(span, options.durationMs - start), action });
    }
  });
  return { workers, faults: faults.sort((x, y) => x.at - y.at).map((f, i) => ({ ...f, id: i + 1 })) };
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const list = (hosts: HostName[]): string => `[${hosts.join(',')}]`;

export function label(a: ResolvedAction): string {
  switch (a.kind) {
    case 'partition':
      return `partition ${a.groups.map(list).join(' | ')}`;
    case 'split':
      return `split ${list(a.a)} ${a.oneWay ? '→' : '↔'} ${list(a.b)}`;
    case 'cut':
      return `cut ${a.from}→${a.to}`;
    case 'isolate':
      return `isolate ${a.host}`;
    case 'bridge':
      return `bridge ${list(a.a)} ~${a.bridge}~ ${list(a.b)}`;
    case 'ring-of-majorities':
      return 'ring of majorities';
    case 'link': {
      const parts = [
        a.dropRate ? `drop ${a.dropRate * 100}%` : '',
        a.duplicateRate ? `dup ${a.duplicateRate * 100}%` : '',
        a.corruptRate ? `corrupt ${a.corruptRate * 100}%` : '',
        a.delayMs || a.jitterMs ? `delay ${a.delayMs ?? 0}+${a.jitterMs ?? 0}ms` : '',
      ].filter(Boolean);
      return `link ${a.from}→${a.to} ${parts.join(', ')}`;
    }
    case 'throttle':
      return `throttle ${a.host} to ${a.recordsPerMs}/ms`;
    case 'kill-worker':
      return `kill worker ${a.worker}`;
    case 'exit-worker':
      return `exit worker ${a.worker} (code ${a.code})`;
    case 'stall-worker':
      return `stall worker ${a.worker} ${a.ms === undefined ? 'forever' : `${a.ms} ms`}`;
    case 'exhaust-heap':
      return `exhaust heap of worker ${a.worker}`;
    case 'crash-actor':
      return `crash ${a.actor}@${a.host}`;
    case 'poison':
      return `poison consumer@${a.host}`;
    case 'kill-process':
      return 'SIGKILL the process';
    case 'kill-node':
      return `SIGKILL node ${a.node}`;
    case 'isolate-node':
      return `isolate node ${a.node}`;
    case 'kill-nats':
      return `SIGKILL nats-server ${a.server}`;
  }
}

/** A cluster scenario's workload with its defaults, checked; undefined for other scenarios. Its faults must all be cluster faults. */
export function resolveCluster(scenario: Scenario, where = `scenario ${JSON.stringify(scenario?.name)}`): Required<ClusterWorkload> | undefined {
  if (!isClusterScenario(scenario)) return undefined;
  const other = scenario.faults.find((f) => !kClusterKinds.has(f?.do?.kind));
  if (other !== undefined) throw new UsageError(`${where}: a cluster scenario's faults are kill-node, isolate-node or kill-nats, received ${JSON.stringify(other?.do?.kind)}`);
  if (scenario.process !== undefined) throw new UsageError(`${where}: a scenario is a process scenario or a cluster scenario, not both`);
  const c = scenario.cluster ?? {};
  const count = (v: number | undefined, field: string, min: number, max: number, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!(Number.isInteger(v) && v >= min && v <= max)) throw new UsageError(`${where}: cluster.${field} must be a whole number from ${min} to ${max}, received ${String(v)}`);
    return v;
  };
  const natsServers = c.natsServers ?? 1;
  if (natsServers !== 1 && natsServers !== 3) throw new UsageError(`${where}: cluster.natsServers must be 1 or 3, received ${String(c.natsServers)}`);
  return {
    nodes: count(c.nodes, 'nodes', 2, 8, 3),
    workers: count(c.workers, 'workers', 1, 4, 1),
    ledgers: count(c.ledgers, 'ledgers', 1, 1024, 24),
    inflight: count(c.inflight, 'inflight', 1, 64, 2),
    natsServers,
  };
}
