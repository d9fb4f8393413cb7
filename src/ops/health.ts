/**
 * Liveness and readiness of a system, for `/healthz` and `/readyz`.
 *
 * A worker's own word cannot be trusted when it is stuck, so liveness is read
 * from outside: a worker host is fresh if it is parked (idle, waiting on its
 * doorbell) or its shared stats moved within `staleAfterMs`. A running host
 * rewrites them at least every 250 ms (heap, event-loop utilisation), so a
 * host that is neither parked nor moving is stuck in a handler. The runtime's
 * own heartbeat watch ends such a worker after `stallTimeoutMs`
 * (`worker.stalled`, then `worker.exited` and `worker.replaced`); those
 * events are tracked here too.
 *
 * - live: the system is running (`system.state`), every worker is fresh,
 *   none is stalled and not yet replaced, and none has stayed down (exited,
 *   not replaced) longer than `staleAfterMs`;
 * - ready: live, every worker up (a worker between exit and replacement is
 *   not), and the system not shutting down.
 *
 * A stopped system's workers are gone but their last stats say "parked", so
 * the system's state is read first: nothing else tells a stopped system from
 * an idle one. It turns from `running` the moment shutdown begins or the root
 * supervisor decides to give up.
 */
import type { HostName } from '../actor/context.js';
import type { HostStats } from '../metrics/stats.js';
import type { ActorSystem } from '../system/actor-system.js';

export interface HealthOptions {
  /** How long a worker that is not parked may leave its stats unchanged before it counts as stuck. @default 10000 (the runtime's default stallTimeoutMs) */
  staleAfterMs?: number;
  /** Monotonic milliseconds; injected by tests. @default performance.now */
  now?: () => number;
}

export type WorkerState = 'up' | 'stale' | 'stalled' | 'exited';

export interface WorkerHealth {
  host: HostName;
  state: WorkerState;
  parked: boolean;
  /** Milliseconds since the worker was last seen parked or its stats moved. */
  quietMs: number;
}

export interface HealthReport {
  status: 'ok' | 'fail';
  /** Why not, when `status` is `fail`. */
  reasons: string[];
  workers: WorkerHealth[];
}

interface Tracked {
  event: 'up' | 'stalled' | 'exited';
  /** When the event state began. */
  since: number;
  fingerprint: string | undefined;
  movedAt: number;
  parked: boolean;
}

export class HealthMonitor {
  readonly #system: ActorSystem;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  readonly #workers = new Map<number, Tracked>();
  readonly #offs: (() => void)[];
  readonly #timer: NodeJS.Timeout;
  #stopping: string | undefined;

  constructor(system: ActorSystem, options: HealthOptions = {}) {
    const staleAfterMs = options.staleAfterMs ?? 10_000;
    if (!Number.isFinite(staleAfterMs) || staleAfterMs <= 0) throw new TypeError(`health option "staleAfterMs" must be a positive number, received ${String(staleAfterMs)}`);
    this.#system = system;
    this.#staleAfterMs = staleAfterMs;
    this.#now = options.now ?? (() => performance.now());
    const at = this.#now();
    for (let worker = 0; worker < system.workers; worker++) this.#workers.set(worker, fresh(at));
    const set = (host: HostName, event: Tracked['event']): void => {
      if (typeof host === 'number') this.#workers.set(host, { ...fresh(this.#now()), event });
    };
    this.#offs = [
      system.events.on('worker.stalled', (e) => set(e.host, 'stalled')),
      // A stalled worker is terminated next; its exit must not hide the stall.
      system.events.on('worker.exited', (e) => {
        if (this.#workers.get(e.host as number)?.event !== 'stalled') set(e.host, 'exited');
      }),
      system.events.on('worker.replaced', (e) => set(e.host, 'up')),
      system.events.on('system.stopped', () => this.markStopping('system stopped')),
    ];
    // Sample often enough that a stuck worker is seen within about staleAfterMs.
    this.#timer = setInterval(() => this.#sample(), Math.max(20, Math.min(1000, staleAfterMs / 4)));
    this.#timer.unref();
  }

  /** Readiness fails from now on (shutdown began). */
  markStopping(reason: string): void {
    this.#stopping ??= reason;
  }

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  liveness(): HealthReport {
    const workers = this.#sample();
    const reasons: string[] = [];
    const state = this.#system.state;
    if (state !== 'running') reasons.push(`the system is ${state}`);
    const at = this.#now();
    for (const worker of workers) {
      if (worker.state === 'stale') reasons.push(`worker ${worker.host} is busy and silent for ${Math.round(worker.quietMs)} ms`);
      if (worker.state === 'stalled') reasons.push(`worker ${worker.host} stalled and is not replaced yet`);
      const tracked = this.#workers.get(worker.host as number);
      if (worker.state === 'exited' && tracked !== undefined && at - tracked.since > this.#staleAfterMs) {
        reasons.push(`worker ${worker.host} exited ${Math.round(at - tracked.since)} ms ago and is not replaced`);
      }
    }
    return { status: reasons.length === 0 ? 'ok' : 'fail', reasons, workers };
  }

  readiness(): HealthReport {
    const live = this.liveness();
    const reasons = [...live.reasons];
    if (this.#stopping !== undefined) reasons.push(`shutting down (${this.#stopping})`);
    for (const worker of live.workers) if (worker.state === 'exited') reasons.push(`worker ${worker.host} is down`);
    return { status: reasons.length === 0 ? 'ok' : 'fail', reasons, workers: live.workers };
  }

  /** Per-worker states for the admin API. */
  workers(): WorkerHealth[] {
    return this.#sample();
  }

  close(): void {
    clearInterval(this.#timer);
    for (const off of this.#offs.splice(0)) off();
  }

  #sample(): WorkerHealth[] {
    const at = this.#now();
    const hosts = new Map<HostName, HostStats>(this.#system.stats().hosts.map((h) => [h.host, h]));
    const out: WorkerHealth[] = [];
    for (const [worker, tracked] of this.#workers) {
      const stats = hosts.get(worker);
      if (tracked.event === 'up' && stats !== undefined) {
        const fingerprint = fingerprintOf(stats);
        if (stats.parked || fingerprint !== tracked.fingerprint) tracked.movedAt = at;
        tracked.fingerprint = fingerprint;
        tracked.parked = stats.parked;
      }
      const quietMs = at - tracked.movedAt;
      const state: WorkerState = tracked.event !== 'up' ? tracked.event : quietMs > this.#staleAfterMs ? 'stale' : 'up';
      out.push({ host: worker, state, parked: tracked.parked, quietMs });
    }
    return out;
  }
}

function fresh(at: number): Tracked {
  return { event: 'up', since: at, fingerprint: undefined, movedAt: at, parked: false };
}

/**
 * What a running host rewrites every stats interval. `updatedAt` is not in
 * the public `HostStats` yet; when it is, it alone says the host is moving.
 */
function fingerprintOf(h: HostStats): string {
  const updatedAt = (h as HostStats & { updatedAt?: number }).updatedAt ?? '';
  return `${updatedAt}|${h.messagesIn}|${h.messagesOut}|${h.busyMs}|${h.heapUsedBytes}|${h.heapTotalBytes}|${h.utilisation}`;
}
