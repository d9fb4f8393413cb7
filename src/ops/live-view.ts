/**
 * What the live view (`<admin>/ui`) shows, gathered on the main thread from
 * what the system already publishes: `system.stats()` (read from shared
 * memory, never by messaging a worker; one read per frame), `system.names()`,
 * and the lifecycle events of failures (the gateway's health monitor seeds
 * the worker states when watching starts).
 *
 * It costs nothing while nobody watches: the timer runs and the event
 * listeners are subscribed only while at least one viewer is attached. A
 * listener is not free even when idle (every host sends its events of a
 * listened-to type to the main thread), so only the failure events are
 * taken (crashes, supervisor decisions, restarts, worker exits and stalls):
 * rare by nature. `actor.started`, `actor.stopped` and `deadLetter` would
 * cost every spawn, stop or undeliverable message a record, so the view
 * reads their counts from the stats instead; a dead letter's payload (user
 * data) never reaches a viewer.
 *
 * Like Erlang's observer, the charts start when the first viewer opens the
 * page: history is kept from then on (also between viewers) for `historyMs`.
 *
 * The supervision tree is what the runtime exposes without a new hot-path
 * hook: named actors by host (from the name registry), each actor seen in a
 * failure (named or not), and supervisor → child links learned from
 * `supervisor.decided`.
 */
import type { HostName } from '../actor/context.js';
import type { WireError } from '../errors.js';
import type { Percentiles } from '../metrics/shared-histogram.js';
import type { HostStats } from '../metrics/stats.js';
import type { ActorSystem } from '../system/actor-system.js';
import type { SystemEvent, SystemEventType } from '../system/events.js';
import type { HealthMonitor } from './health.js';

export interface LiveViewOptions {
  /** Time between frames. @default 1000 */
  intervalMs?: number;
  /** How far back the charts reach. @default 300000 (5 minutes) */
  historyMs?: number;
  /** Applied to every error text before it is shown, e.g. `(text) => secrets.redact(text)` to blank the values a secrets provider has read. */
  redact?: (text: string) => string;
}

/** One host's figures in a frame. Rates are over the time since the previous frame. */
export interface HostFrame {
  host: HostName;
  /** `up`, `stale` (busy and silent), `stalled`, `exited`; the main thread is `up` while it answers. */
  state: string;
  parked: boolean;
  actors: number;
  messagesIn: number;
  messagesOut: number;
  inPerSec: number;
  outPerSec: number;
  deadLetters: number;
  errors: number;
  restarts: number;
  backpressure: number;
  mailboxQueued: number;
  busyActors: number;
  pendingAsks: number;
  utilisation: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  p50Us: number;
  p99Us: number;
  /** Over the lanes into this host. */
  laneDepthBytes: number;
  laneDepthRecords: number;
  laneHighWaterBytes: number;
  laneCapacityBytes: number;
}

/** One point of the charts. */
export interface HistoryPoint {
  at: number;
  inPerSec: number;
  /** Over the interval before this point (null: no message was timed in it). */
  p50Us: number | null;
  p99Us: number | null;
  hosts: { inPerSec: number; utilisation: number; heapUsedBytes: number; laneDepthBytes: number }[];
}

export type ActorStatus = 'live' | 'crashed' | 'restarting' | 'removed' | 'escalated';

export interface TreeActor {
  id: number;
  name: string | undefined;
  host: HostName | undefined;
  status: ActorStatus;
  /** Restarts seen since the view started watching. */
  restarts: number;
  /** The supervising actor, when a supervisor decision named it (0: the root). */
  supervisor: number | undefined;
  lastError: string | undefined;
}

export interface CrashRecord {
  at: number;
  id: number;
  name: string | undefined;
  host: HostName;
  error: { code: string; name: string; message: string; stack: string | undefined };
  outcome: 'pending' | 'restarting' | 'restarted' | 'removed' | 'escalated';
  /** Backoff the supervisor chose, ms. */
  delayMs: number | undefined;
  restartedAt: number | undefined;
}

export interface LogLine {
  at: number;
  type: SystemEventType;
  host: HostName;
  text: string;
}

export interface LiveFrame {
  at: number;
  uptimeMs: number;
  state: ActorSystem['state'];
  workers: number;
  total: Omit<HostFrame, 'host' | 'state' | 'parked' | 'busyActors' | 'pendingAsks' | 'utilisation' | 'heapTotalBytes' | 'laneDepthRecords' | 'laneCapacityBytes' | 'mailboxQueued' | 'backpressure'> & {
    rssBytes: number;
    cpuPercent: number;
  };
  hosts: HostFrame[];
  point: HistoryPoint;
  tree: TreeActor[];
  /** Named actors left out of `tree` (it holds at most kMaxTreeActors). */
  treeOmitted: number;
  /** Newest first; only in frames where it changed (and in the first). */
  crashes?: CrashRecord[];
  /** Lifecycle events since the previous frame, oldest first. */
  log: LogLine[];
  /** Events left out of `log` since the previous frame (more than kMaxLogPerFrame). */
  logOmitted: number;
}

export interface Hello {
  intervalMs: number;
  historyMs: number;
  history: HistoryPoint[];
  log: LogLine[];
}

const kDefaults = { intervalMs: 1000, historyMs: 300_000 } as const;
const kMaxTreeActors = 300;
const kMaxCrashes = 30;
/** Actors followed for their failures; the oldest quiet ones are forgotten past this. */
const kMaxTracked = 1000;
const kMaxLogKept = 200;
const kMaxLogPerFrame = 100;
const kMaxMessageChars = 500;
const kMaxStackLines = 12;
/** A host that is not parked and has not published its stats for this long is busy in a handler (it publishes every 250 ms). */
const kStaleMs = 2000;
const kWatched: readonly SystemEventType[] = [
  'actor.crashed',
  'supervisor.decided',
  'actor.restarted',
  'worker.exited',
  'worker.replaced',
  'worker.stalled',
  'system.escalated',
  'system.stopped',
];

/**
 * Credentials an error text might carry by accident (a handler that threw
 * with a request's header in its message): troupe API keys, compact JWS
 * tokens, `Bearer <x>`. The view never reads credentials itself; this is
 * defence in depth for user-supplied text.
 */
const kCredentialPatterns: readonly RegExp[] = [
  /trp_[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{8,}/g,
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{12,}/g,
];

/** Error texts as the view shows them: the application's redaction, then credential shapes blanked, then length bounded. */
export function scrub(text: string, max = kMaxMessageChars, redact: (text: string) => string = (t) => t): string {
  let out = redact(text);
  for (const pattern of kCredentialPatterns) out = out.replace(pattern, (match, scheme: unknown) => (typeof scheme === 'string' && /^(bearer|basic)$/i.test(scheme) ? `${scheme} [redacted]` : '[redacted]'));
  return out.length <= max ? out : `${out.slice(0, max)}…`;
}

function shownError(error: WireError | undefined, redact: (text: string) => string): CrashRecord['error'] {
  if (error === undefined) return { code: '', name: 'Error', message: '(no error given)', stack: undefined };
  const stack = error.stack === undefined ? undefined : scrub(error.stack.split('\n').slice(0, kMaxStackLines).join('\n'), 4000, redact);
  return { code: scrub(String(error.code ?? ''), 80, redact), name: scrub(String(error.name ?? 'Error'), 80, redact), message: scrub(String(error.message ?? ''), kMaxMessageChars, redact), stack };
}

const label = (host: HostName): string => (host === 'main' ? 'main' : `worker ${host}`);
const who = (id: number, name: string | undefined): string => (name === undefined ? `actor ${id}` : `${name} (${id})`);

interface Tracked {
  id: number;
  name: string | undefined;
  host: HostName;
  status: ActorStatus;
  restarts: number;
  supervisor: number | undefined;
  lastError: string | undefined;
}

export class LiveView {
  readonly #system: ActorSystem;
  readonly #health: HealthMonitor;
  readonly #intervalMs: number;
  readonly #historyMs: number;
  readonly #redact: (text: string) => string;
  readonly #viewers = new Set<(frame: LiveFrame) => void>();
  readonly #history: HistoryPoint[] = [];
  readonly #log: LogLine[] = [];
  readonly #tracked = new Map<number, Tracked>();
  readonly #crashes: CrashRecord[] = [];
  /** Worker states from the worker events, seeded from the health monitor when watching starts. */
  readonly #workerStates = new Map<HostName, 'up' | 'stalled' | 'exited'>();
  #pending: LogLine[] = [];
  #pendingOmitted = 0;
  #crashesChanged = true;
  #offs: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Set while nobody watches but watching has not stopped yet (see #linger). */
  #lingering: NodeJS.Timeout | undefined;
  #previous: { at: number; counts: { in: number; out: number }[]; timed: number; buckets: number[] } | undefined;
  #closed = false;

  constructor(system: ActorSystem, health: HealthMonitor, options: LiveViewOptions = {}) {
    this.#system = system;
    this.#health = health;
    this.#intervalMs = options.intervalMs ?? kDefaults.intervalMs;
    this.#historyMs = options.historyMs ?? kDefaults.historyMs;
    this.#redact = options.redact ?? ((text) => text);
  }

  get viewers(): number {
    return this.#viewers.size;
  }

  /** The recent crashes, newest first (a frame carries them only when they changed). */
  crashes(): CrashRecord[] {
    return [...this.#crashes];
  }

  /**
   * Adds a viewer: it gets the history now and a frame every interval (the
   * first at once). `detach` when its connection ends.
   */
  attach(viewer: (frame: LiveFrame) => void): { hello: Hello; first: LiveFrame; detach(): void } {
    if (this.#closed) throw new TypeError('the live view is closed');
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    if (this.#timer === undefined) this.#start();
    const hello: Hello = { intervalMs: this.#intervalMs, historyMs: this.#historyMs, history: [...this.#history], log: [...this.#log] };
    // Its own first frame: the others' next frame is not due yet, and the crashes it lists are news to this viewer only.
    const first = { ...this.#frame(false), crashes: [...this.#crashes] };
    this.#viewers.add(viewer);
    let attached = true;
    return {
      hello,
      first,
      detach: () => {
        if (!attached) return;
        attached = false;
        this.#viewers.delete(viewer);
        if (this.#viewers.size === 0 && !this.#closed) this.#linger();
      },
    };
  }

  close(): void {
    this.#closed = true;
    this.#viewers.clear();
    clearTimeout(this.#lingering);
    this.#stop();
  }

  /**
   * Keeps watching a little after the last viewer left: a page reconnects at
   * once when its stream ends (every streamMaxMs), and in between neither a
   * crash nor a point of the charts should be lost.
   */
  #linger(): void {
    this.#lingering = setTimeout(() => {
      this.#lingering = undefined;
      if (this.#viewers.size === 0) this.#stop();
    }, Math.max(500, 3 * this.#intervalMs));
    this.#lingering.unref();
  }

  #start(): void {
    // Asked once here, not per frame: the monitor reads system.stats() again, the frame's largest cost.
    for (const w of this.#health.workers()) this.#workerStates.set(w.host, w.state === 'stalled' || w.state === 'exited' ? w.state : 'up');
    this.#offs = kWatched.map((type) => this.#system.events.on(type, (event: SystemEvent) => this.#onEvent(event)));
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // A viewer's socket keeps the process up as long as it matters; the timer must not.
    this.#timer.unref();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const off of this.#offs.splice(0)) off();
    // Rates restart from the next frame: a gap must not read as one long interval.
    this.#previous = undefined;
  }

  #tick(): void {
    let frame: LiveFrame;
    try {
      frame = this.#frame(true);
    } catch (error) {
      // The system may be gone (shutdown) while a viewer is still attached; the stream ends when the gateway closes.
      process.emitWarning(`troupe live view: a frame failed: ${String(error)}`);
      return;
    }
    for (const viewer of [...this.#viewers]) viewer(frame);
  }

  /** A frame of the system now; `advance`: it is the interval's frame (records history, hands out the pending log). */
  #frame(advance: boolean): LiveFrame {
    const stats = this.#system.stats();
    const now = performance.now();
    const wallNow = Date.now();
    const counts = stats.hosts.map((h) => ({ in: h.messagesIn, out: h.messagesOut }));
    const previous = this.#previous;
    const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
    const hosts = stats.hosts.map((h, i) => {
      const before = previous?.counts[i];
      const rate = (value: number, prior: number | undefined, fallback: number): number => (seconds > 0 && prior !== undefined ? Math.max(0, (value - prior) / seconds) : fallback);
      const known = this.#workerStates.get(h.host) ?? 'up';
      const state = known === 'up' && !h.parked && wallNow - h.updatedAt > kStaleMs ? 'stale' : known;
      return hostFrame(h, state, rate(h.messagesIn, before?.in, h.messagesInPerSec), rate(h.messagesOut, before?.out, h.messagesOutPerSec));
    });
    const timed = stats.total.processingUs;
    if (advance) this.#previous = { at: now, counts, timed: timed.count, buckets: timed.buckets };
    const sum = (pick: (h: HostFrame) => number): number => hosts.reduce((acc, h) => acc + pick(h), 0);
    const total: LiveFrame['total'] = {
      actors: stats.total.actors,
      messagesIn: stats.total.messagesIn,
      messagesOut: stats.total.messagesOut,
      inPerSec: sum((h) => h.inPerSec),
      outPerSec: sum((h) => h.outPerSec),
      deadLetters: stats.total.deadLetters,
      errors: stats.total.errors,
      restarts: stats.total.restarts,
      heapUsedBytes: stats.total.heapUsedBytes,
      rssBytes: stats.total.rssBytes,
      cpuPercent: stats.total.cpuPercent,
      p50Us: stats.total.processingUs.p50,
      p99Us: stats.total.processingUs.p99,
      laneDepthBytes: stats.total.laneDepthBytes,
      laneHighWaterBytes: stats.total.laneHighWaterBytes,
    };
    const point: HistoryPoint = {
      at: stats.at,
      inPerSec: total.inPerSec,
      p50Us: previous === undefined ? null : windowQuantile(previous, timed, 0.5),
      p99Us: previous === undefined ? null : windowQuantile(previous, timed, 0.99),
      hosts: hosts.map((h) => ({ inPerSec: h.inPerSec, utilisation: h.utilisation, heapUsedBytes: h.heapUsedBytes, laneDepthBytes: h.laneDepthBytes })),
    };
    const { tree, omitted } = this.#tree();
    const frame: LiveFrame = {
      at: stats.at,
      uptimeMs: stats.uptimeMs,
      state: this.#system.state,
      workers: stats.workers,
      total,
      hosts,
      point,
      tree,
      treeOmitted: omitted,
      log: [],
      logOmitted: 0,
    };
    if (advance) {
      this.#history.push(point);
      while (this.#history.length > 0 && this.#history[0].at < point.at - this.#historyMs) this.#history.shift();
      frame.log = this.#pending;
      frame.logOmitted = this.#pendingOmitted;
      this.#pending = [];
      this.#pendingOmitted = 0;
      if (this.#crashesChanged) frame.crashes = [...this.#crashes];
      this.#crashesChanged = false;
    }
    return frame;
  }

  /** Named actors where they run, then the actors followed for their failures (those not named, or not running now). */
  #tree(): { tree: TreeActor[]; omitted: number } {
    const tree: TreeActor[] = [];
    const seen = new Set<number>();
    let omitted = 0;
    for (const { name, ref } of this.#system.names()) {
      if (tree.length >= kMaxTreeActors) {
        omitted++;
        continue;
      }
      const tracked = this.#tracked.get(ref.id);
      seen.add(ref.id);
      tree.push({
        id: ref.id,
        name,
        host: this.#system.hostOf(ref) ?? tracked?.host,
        status: tracked?.status ?? 'live',
        restarts: tracked?.restarts ?? 0,
        supervisor: tracked?.supervisor,
        lastError: tracked?.lastError,
      });
    }
    for (const t of this.#tracked.values()) {
      if (seen.has(t.id)) continue;
      if (tree.length >= kMaxTreeActors) {
        omitted++;
        continue;
      }
      tree.push({ id: t.id, name: t.name, host: t.host, status: t.status, restarts: t.restarts, supervisor: t.supervisor, lastError: t.lastError });
    }
    return { tree, omitted };
  }

  #track(id: number, name: string | undefined, host: HostName): Tracked {
    let tracked = this.#tracked.get(id);
    if (tracked === undefined) {
      tracked = { id, name, host, status: 'live', restarts: 0, supervisor: undefined, lastError: undefined };
      if (this.#tracked.size >= kMaxTracked) this.#tracked.delete(this.#tracked.keys().next().value!);
    } else this.#tracked.delete(id);
    // Map order is recency: re-inserted on every failure, so the quiet ones go first.
    this.#tracked.set(id, tracked);
    if (name !== undefined) tracked.name = name;
    tracked.host = host;
    return tracked;
  }

  #crashOf(id: number): CrashRecord | undefined {
    return this.#crashes.find((c) => c.id === id && (c.outcome === 'pending' || c.outcome === 'restarting'));
  }

  #onEvent(event: SystemEvent): void {
    let text: string;
    switch (event.type) {
      case 'actor.crashed': {
        const tracked = this.#track(event.id, event.name, event.host);
        const error = shownError(event.error, this.#redact);
        tracked.status = 'crashed';
        tracked.lastError = `${error.name}: ${error.message}`;
        this.#crashes.unshift({ at: event.at, id: event.id, name: tracked.name, host: event.host, error, outcome: 'pending', delayMs: undefined, restartedAt: undefined });
        if (this.#crashes.length > kMaxCrashes) this.#crashes.pop();
        this.#crashesChanged = true;
        text = `${who(event.id, tracked.name)} crashed on ${label(event.host)}: ${tracked.lastError}`;
        break;
      }
      case 'supervisor.decided': {
        const outcome = event.directive === 'restart' ? 'restarting' : event.directive === 'remove' ? 'removed' : 'escalated';
        const affected = event.directive === 'restart' ? event.restarted : event.directive === 'remove' ? event.removed : [event.child];
        for (const id of affected.length > 0 ? affected : [event.child]) {
          const tracked = this.#track(id, undefined, this.#tracked.get(id)?.host ?? event.host);
          tracked.status = outcome;
          if (id === event.child) tracked.supervisor = event.supervisor;
          const crash = this.#crashOf(id);
          if (crash !== undefined) {
            crash.outcome = outcome;
            crash.delayMs = event.delayMs;
            this.#crashesChanged = true;
          }
        }
        const whom = event.supervisor === 0 ? 'the root supervisor' : `supervisor ${event.supervisor}`;
        text = `${whom} chose ${event.directive} for ${who(event.child, this.#tracked.get(event.child)?.name)} (${event.exit}: ${scrub(event.reason, 200, this.#redact)})${event.delayMs > 0 ? ` after ${event.delayMs} ms` : ''}`;
        break;
      }
      case 'actor.restarted': {
        const tracked = this.#track(event.id, event.name, event.host);
        tracked.status = 'live';
        tracked.restarts++;
        const crash = this.#crashOf(event.id);
        if (crash !== undefined) {
          crash.outcome = 'restarted';
          crash.restartedAt = event.at;
          this.#crashesChanged = true;
        }
        text = `${who(event.id, tracked.name)} restarted on ${label(event.host)}`;
        break;
      }
      case 'worker.exited':
        // A stalled worker is terminated next; its exit must not hide the stall (as in health.ts).
        if (this.#workerStates.get(event.host) !== 'stalled') this.#workerStates.set(event.host, 'exited');
        text = `${label(event.host)} exited with code ${event.exitCode}${event.error === undefined ? '' : `: ${scrub(event.error.message, 200, this.#redact)}`}`;
        break;
      case 'worker.replaced':
        this.#workerStates.set(event.host, 'up');
        text = `${label(event.host)} replaced from the spare`;
        break;
      case 'worker.stalled':
        this.#workerStates.set(event.host, 'stalled');
        text = `${label(event.host)} stalled for ${Math.round(event.stalledForMs)} ms (limit ${event.stallTimeoutMs} ms)`;
        break;
      case 'system.escalated':
        text = `the root supervisor gave up: ${scrub(event.reason, 200, this.#redact)}; the system stops`;
        break;
      case 'system.stopped':
        text = `the system stopped${event.forced ? ' (forced)' : ''}`;
        break;
      default:
        return;
    }
    const line: LogLine = { at: event.at, type: event.type, host: event.host, text };
    this.#log.push(line);
    if (this.#log.length > kMaxLogKept) this.#log.shift();
    if (this.#pending.length < kMaxLogPerFrame) this.#pending.push(line);
    else this.#pendingOmitted++;
  }
}

/**
 * A quantile of the handler times recorded between two readings, from the
 * difference of their cumulative buckets, interpolated linearly inside the
 * bucket as Prometheus' histogram_quantile does. The stats' own p50/p99 are
 * since start, which a chart over minutes would show as a flat line.
 */
function windowQuantile(before: { timed: number; buckets: number[] }, now: Percentiles, q: number): number | null {
  const count = now.count - before.timed;
  if (count <= 0) return null;
  const rank = q * count;
  let below = 0;
  for (let b = 0; b < now.boundsUs.length; b++) {
    const upTo = now.buckets[b] - (before.buckets[b] ?? 0);
    if (upTo >= rank) {
      const lower = b === 0 ? 0 : now.boundsUs[b - 1];
      const share = upTo === below ? 1 : (rank - below) / (upTo - below);
      return Math.round((lower + (now.boundsUs[b] - lower) * share) * 100) / 100;
    }
    below = upTo;
  }
  // Above the last bound: say at least that much.
  return now.boundsUs[now.boundsUs.length - 1];
}

function hostFrame(h: HostStats, state: string, inPerSec: number, outPerSec: number): HostFrame {
  let depthBytes = 0;
  let depthRecords = 0;
  let highWater = 0;
  let capacity = 0;
  for (const lane of h.lanesIn) {
    depthBytes += lane.depthBytes;
    depthRecords += lane.depthRecords;
    highWater = Math.max(highWater, lane.highWaterBytes);
    capacity += lane.capacityBytes;
  }
  return {
    host: h.host,
    state,
    parked: h.parked,
    actors: h.actors,
    messagesIn: h.messagesIn,
    messagesOut: h.messagesOut,
    inPerSec: Math.round(inPerSec),
    outPerSec: Math.round(outPerSec),
    deadLetters: h.deadLetters,
    errors: h.errors,
    restarts: h.restarts,
    backpressure: h.backpressure,
    mailboxQueued: h.mailboxQueued,
    busyActors: h.busyActors,
    pendingAsks: h.pendingAsks,
    utilisation: h.utilisation,
    heapUsedBytes: h.heapUsedBytes,
    heapTotalBytes: h.heapTotalBytes,
    p50Us: h.processingUs.p50,
    p99Us: h.processingUs.p99,
    laneDepthBytes: depthBytes,
    laneDepthRecords: depthRecords,
    laneHighWaterBytes: highWater,
    laneCapacityBytes: capacity,
  };
}
