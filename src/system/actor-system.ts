import type { HostName, SpawnOptions } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import type { EntityRef } from '../actor/entity-ref.js';
import type { EntityOptions } from './entities.js';
import type { SystemStats } from '../metrics/stats.js';
import type { SystemOptions } from '../options.js';
import { kRunDetached, schedule, type Schedule, type ScheduleOptions } from './schedule.js';
import { Engine } from './engine.js';
import type { SystemInternals } from './internals.js';

/** @internal Key of the hooks the chaos harness and tests use; `Symbol.for` so any copy of troupe finds them. */
export const kInternals = Symbol.for('troupe.internals');
import type { SystemEvents } from './events.js';
import type { Cluster } from '../cluster/cluster.js';

/**
 * One runtime instance: the main thread plus `workers` worker threads, the
 * shared-memory lanes between every pair of them, and the actors they run.
 *
 * @example
 * const system = await ActorSystem.start({ workers: 2 });
 * const counter = await system.spawn(new URL('./actors/counter.js', import.meta.url), { name: 'counter', args: { start: 0 } });
 * counter.tell({ type: 'inc' });
 * console.log(await counter.ask({ type: 'get' }, { timeoutMs: 1000 })); // 1
 * await system.shutdown();
 */
export class ActorSystem {
  readonly #engine: Engine;

  private constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** Starts the threads; rejects with `TROUPE_ERR_INVALID_OPTION` naming a bad option. */
  static async start(options?: SystemOptions): Promise<ActorSystem> {
    return new ActorSystem(await Engine.start(options));
  }

  /** A random id of this system, bound into its logs. */
  get id(): string {
    return this.#engine.systemId;
  }

  /** @internal A schedule's tick: sent as the root of a trace of its own. */
  [kRunDetached](send: () => void): void {
    const tracing = this.#engine.host.tracing;
    if (tracing === undefined) send();
    else tracing.detached(send);
  }

  /** Whether the system was started with `tracing` (OpenTelemetry spans and trace context on every message). */
  get tracing(): boolean {
    return this.#engine.options.tracing;
  }

  get workers(): number {
    return this.#engine.workers;
  }

  /** Lifecycle events: actors started, crashed, restarted, stopped; workers exited, replaced, stalled; dead letters; backpressure. */
  get events(): SystemEvents {
    return this.#engine.events;
  }

  /**
   * Starts a top-level actor from a module whose export (default: `default`)
   * is made by `defineActor`. Resolves once its `init` has run.
   */
  spawn<TMsg = any, TReply = any>(moduleUrl: URL | string, options?: SpawnOptions): Promise<ActorRef<TMsg, TReply>> {
    return this.#engine.spawn(moduleUrl, options);
  }

  /**
   * A virtual actor: the ref of entity `key` of the actor in `moduleUrl`, at
   * once, whether or not it runs. Its first message activates it (spawned
   * where placement picks, recovered from the journal `type/key` if its
   * definition has `persistence`); after `idleMs` without messages it is
   * passivated, and the next message activates it again. The same module,
   * export and key give the same ref.
   */
  entity<TMsg = any, TReply = any>(moduleUrl: URL | string, key: string | number, options?: EntityOptions): EntityRef<TMsg, TReply> {
    return this.#engine.entity(moduleUrl, key, options) as EntityRef<TMsg, TReply>;
  }

  /**
   * This node's view of its cluster (a system started with the `cluster`
   * option): `nodes()`, `events` (nodeUp / nodeDown / nodeUnreachable /
   * nodeReachable), `lookup(name)` across nodes. Throws
   * `TROUPE_ERR_INVALID_ARGUMENT` for a system without a cluster.
   */
  get cluster(): Cluster {
    return this.#engine.cluster;
  }

  /** The running actor registered under `name`, if any. */
  lookup<TMsg = any, TReply = any>(name: string): ActorRef<TMsg, TReply> | undefined {
    return this.#engine.lookup(name);
  }

  /** `running`, then `stopping` once shutdown began or the root supervisor decided to give up, then `stopped`. */
  get state(): 'running' | 'stopping' | 'stopped' {
    return this.#engine.state;
  }

  /** Every running actor that has a name. */
  names(): { name: string; ref: ActorRef }[] {
    return this.#engine.names();
  }

  /**
   * Restarts an actor through its supervisor, as if it had failed (the
   * supervisor applies its strategy and counts it against its intensity).
   * Resolves once it has restarted.
   */
  restart(ref: ActorRef, options?: { timeoutMs?: number }): Promise<void> {
    return this.#engine.restart(ref, options?.timeoutMs ?? 10_000);
  }

  /**
   * Tells `msg` to `ref` on a cron expression (node-cron, seconds allowed) or
   * every `when` milliseconds; cancellable, and it survives the target's
   * restarts (refs do). Same as `schedule(system, ...)` from `troupe/http`.
   */
  schedule(when: string | number, ref: ActorRef, msg: unknown, options?: ScheduleOptions): Schedule {
    return schedule(this, when, ref, msg, options);
  }

  /** Where an actor runs now, or undefined if it is not running. */
  hostOf(ref: ActorRef): HostName | undefined {
    return this.#engine.hostOf(ref);
  }

  /** Stops an actor (its children first); resolves when it has stopped. */
  stop(ref: ActorRef): Promise<void> {
    return this.#engine.stop(ref);
  }

  /** Per host and total counters, read from shared memory. */
  stats(): SystemStats {
    return this.#engine.stats();
  }

  /**
   * Graceful stop: refuses new messages from outside actors, waits for the
   * lanes and mailboxes to drain, stops actors (children first), then ends the
   * worker threads. Bounded by `shutdownTimeoutMs`, after which it forces.
   */
  shutdown(): Promise<void> {
    return this.#engine.shutdown();
  }

  /** @internal */
  get [kInternals](): SystemInternals {
    return this.#engine.internals();
  }

  /** `await using system = await ActorSystem.start()` shuts down at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}
