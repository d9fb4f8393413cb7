/**
 * Actors the gateway starts for its routes (`gateway.spawn`), each under a
 * supervisor of its own (route-supervisor.ts) with its own restart budget.
 *
 * Why: a route turns any permitted client's input into messages. If the
 * actor behind it throws on some input and runs under the root, a client
 * that repeats that input spends the root's restart intensity, and past it
 * the root gives up and the whole system stops (OTP semantics, unsafe behind
 * a gateway). Under its own supervisor, the same client exhausts only that
 * actor's budget: its supervisor stops it and fails, the root forgets the
 * supervisor (a `temporary` child: removed, no restart counted), and the
 * routes to that name answer 503 `TROUPE_ERR_ROUTE_UNAVAILABLE` until the
 * gateway starts the pair again after `reviveAfterMs`, with a fresh budget.
 * Every other actor and route goes on as before.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { HostName } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import type { ActorStoppedEvent } from '../system/events.js';
import type { ActorSystem } from '../system/actor-system.js';
import { HttpError, truncate } from './errors.js';
import { kChildQuery, type RouteSupervisorArgs } from './route-supervisor.js';

export interface RouteActorOptions<TArgs = unknown> {
  /** Required: the name routes target it by. A revived actor is a new actor (new ref) under the same name. */
  name: string;
  /** To its `init`, at every start. */
  args?: TArgs;
  /** @default 'default' */
  export?: string;
  /** Where it and its supervisor run: a worker index or `'main'`. @default the next worker, round-robin */
  host?: HostName;
  /** Restarts its supervisor allows within `withinMs`; one more crash and it gives up. @default 10 */
  maxRestarts?: number;
  /** @default 5000 */
  withinMs?: number;
  /** How long its routes answer 503 after it ended before the gateway starts it again; `false`: never. @default 5000 */
  reviveAfterMs?: number | false;
}

const kDefaults = { maxRestarts: 10, withinMs: 5000, reviveAfterMs: 5000 } as const;
const kKeys = new Set(['name', 'args', 'export', 'host', 'maxRestarts', 'withinMs', 'reviveAfterMs']);
const kSupervisorModule = new URL('./route-supervisor.js', import.meta.url);
/** A supervisor answers at once once its init ran; past this it counts as down. */
const kChildQueryTimeoutMs = 10_000;
/** Stops of strangers kept while pairs start: enough for any burst a start overlaps, bounded against a stopping storm. */
const kEarlyStopsLimit = 4096;

interface Guarded {
  readonly name: string;
  readonly module: string;
  readonly options: RouteActorOptions;
  readonly reviveAfterMs: number | false;
  readonly supervisorUrl: URL;
  supervisor: number | undefined;
  child: number | undefined;
  /** Set while it is down: why, and when it comes back (undefined: never). */
  down: { why: string; reviveAt: number | undefined; timer: NodeJS.Timeout | undefined } | undefined;
}

export class RouteActors {
  readonly #system: ActorSystem;
  readonly #log: Logger;
  readonly #byName = new Map<string, Guarded>();
  /** Supervisor and child ids of every guarded actor that runs. */
  readonly #byId = new Map<number, Guarded>();
  #off: (() => void) | undefined;
  #closed = false;
  /** Pairs being started, and the stops seen meanwhile of ids no pair owns yet (see #start). */
  #starting = 0;
  readonly #earlyStops = new Map<number, ActorStoppedEvent>();

  constructor(system: ActorSystem, log: Logger) {
    this.#system = system;
    this.#log = log;
  }

  async spawn(moduleUrl: URL | string, options: RouteActorOptions): Promise<ActorRef> {
    if (this.#closed) throw new TypeError('gateway.spawn(): the gateway is closed');
    const guarded = this.#validate(moduleUrl, options);
    if (this.#byName.has(guarded.name)) throw new TypeError(`gateway.spawn(): an actor named ${JSON.stringify(guarded.name)} is already spawned through this gateway`);
    // Listening costs every actor's stop a record to the main thread; only pay it once there is something to watch.
    this.#off ??= this.#system.events.on('actor.stopped', (e) => this.#stopped(e));
    this.#byName.set(guarded.name, guarded);
    let child: ActorRef | undefined;
    try {
      child = await this.#start(guarded);
    } catch (error) {
      this.#byName.delete(guarded.name);
      throw error;
    }
    if (child === undefined) {
      this.#byName.delete(guarded.name);
      clearTimeout(guarded.down?.timer);
      throw new HttpError(503, 'TROUPE_ERR_ROUTE_UNAVAILABLE', `the actor ${JSON.stringify(truncate(guarded.name))} ended as soon as it started`);
    }
    return child;
  }

  /** The refusal for a request to `name` while it is down, if it is one of these actors and down. */
  unavailable(name: string | undefined): HttpError | undefined {
    const down = name === undefined ? undefined : this.#byName.get(name)?.down;
    if (down === undefined) return undefined;
    const headers: Record<string, string> = {};
    if (down.reviveAt !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil((down.reviveAt - performance.now()) / 1000)));
    return new HttpError(503, 'TROUPE_ERR_ROUTE_UNAVAILABLE', `the actor ${JSON.stringify(truncate(name!))} behind this route is down${down.why}`, { headers });
  }

  /** Stops reviving and watching; the actors keep running. */
  close(): void {
    this.#closed = true;
    this.#off?.();
    for (const guarded of this.#byName.values()) clearTimeout(guarded.down?.timer);
  }

  #validate(moduleUrl: URL | string, options: RouteActorOptions): Guarded {
    if (options === null || typeof options !== 'object') throw new TypeError('gateway.spawn(moduleUrl, options): options must be an object with at least "name"');
    for (const key of Object.keys(options)) {
      if (!kKeys.has(key)) throw new TypeError(`gateway.spawn(): unknown option "${key}" (expected ${[...kKeys].join(', ')})`);
    }
    const { name } = options;
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`gateway.spawn(): option "name" must be a non-empty string (routes target the actor by it), received ${typeof name}`);
    const maxRestarts = options.maxRestarts ?? kDefaults.maxRestarts;
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new TypeError(`gateway.spawn(): option "maxRestarts" must be an integer ≥ 0, received ${String(maxRestarts)}`);
    const withinMs = options.withinMs ?? kDefaults.withinMs;
    if (typeof withinMs !== 'number' || !Number.isFinite(withinMs) || withinMs <= 0) throw new TypeError(`gateway.spawn(): option "withinMs" must be a positive number, received ${String(withinMs)}`);
    const reviveAfterMs = options.reviveAfterMs ?? kDefaults.reviveAfterMs;
    if (reviveAfterMs !== false && (typeof reviveAfterMs !== 'number' || !Number.isFinite(reviveAfterMs) || reviveAfterMs < 0 || reviveAfterMs > 2 ** 31 - 1)) {
      throw new TypeError(`gateway.spawn(): option "reviveAfterMs" must be a number of milliseconds ≥ 0 or false, received ${String(reviveAfterMs)}`);
    }
    let module: string;
    try {
      module = moduleUrl instanceof URL ? moduleUrl.href : isAbsolute(moduleUrl) ? pathToFileURL(moduleUrl).href : new URL(moduleUrl).href;
    } catch {
      throw new TypeError(`gateway.spawn(): the actor module must be a URL or an absolute path, received ${JSON.stringify(String(moduleUrl))}`);
    }
    const supervisorUrl = new URL(kSupervisorModule);
    supervisorUrl.search = new URLSearchParams({ maxRestarts: String(maxRestarts), withinMs: String(withinMs) }).toString();
    return { name, module, options, reviveAfterMs, supervisorUrl, supervisor: undefined, child: undefined, down: undefined };
  }

  /** Starts the pair; undefined if it ended before this could tell (it is then down). */
  async #start(guarded: Guarded): Promise<ActorRef | undefined> {
    const { options } = guarded;
    const args: RouteSupervisorArgs = { module: guarded.module, name: guarded.name, args: options.args };
    if (options.export !== undefined) args.export = options.export;
    // Stops of ids not yet known here are kept until the pair's ids are: the child's name reaches main's
    // table on its own schedule, and either may stop before this learns who they are.
    this.#starting++;
    let supervisor: ActorRef | undefined;
    let child: ActorRef | undefined;
    try {
      supervisor = await this.#system.spawn(guarded.supervisorUrl, { args, restart: 'temporary', ...(options.host === undefined ? {} : { host: options.host }) });
      child = (await supervisor.ask({ type: kChildQuery }, { timeoutMs: kChildQueryTimeoutMs }).catch(() => undefined)) as ActorRef | undefined;
    } finally {
      this.#starting--;
    }
    const early = [supervisor.id, child?.id].map((id) => (id === undefined ? undefined : this.#earlyStops.get(id)));
    if (this.#starting === 0) this.#earlyStops.clear();
    guarded.supervisor = supervisor.id;
    this.#byId.set(supervisor.id, guarded);
    if (child !== undefined) {
      guarded.child = child.id;
      this.#byId.set(child.id, guarded);
    }
    guarded.down = undefined;
    for (const event of early) if (event !== undefined) this.#stopped(event);
    if (guarded.down !== undefined) return undefined;
    // A supervisor that did not answer ended without a stop this saw (or hangs): down either way.
    if (child === undefined) {
      this.#wentDown(guarded, '');
      return undefined;
    }
    return child;
  }

  #stopped(event: ActorStoppedEvent): void {
    const guarded = this.#byId.get(event.id);
    if (guarded === undefined) {
      if (this.#starting > 0 && this.#earlyStops.size < kEarlyStopsLimit) this.#earlyStops.set(event.id, event);
      return;
    }
    if (guarded.down !== undefined) return;
    // Its supervisor stops it first when it gives up, then escalates. The two
    // words travel apart (the child's stop from its worker, the supervisor's
    // from the root on main), so either can arrive first: both mean the budget ran out.
    const gaveUp = event.id === guarded.child ? event.reason === 'supervisor-gave-up' : event.reason.startsWith('escalated:');
    if (event.id === guarded.child && !gaveUp) return;
    if (gaveUp) {
      this.#log.warn({ name: guarded.name, maxRestarts: guarded.options.maxRestarts ?? kDefaults.maxRestarts, withinMs: guarded.options.withinMs ?? kDefaults.withinMs }, 'route actor given up');
      this.#wentDown(guarded, ' after too many crashes');
      return;
    }
    // The supervisor itself ended otherwise: its worker died, an operator stopped it, the system stops.
    this.#log.warn({ name: guarded.name, reason: event.reason }, 'route actor down');
    this.#wentDown(guarded, '');
  }

  #wentDown(guarded: Guarded, why: string): void {
    // Nothing of it is left: a supervisor that gives up fails after stopping its child, and one that ends otherwise takes its child along.
    for (const id of [guarded.supervisor, guarded.child]) if (id !== undefined) this.#byId.delete(id);
    guarded.supervisor = guarded.child = undefined;
    const revive = guarded.reviveAfterMs !== false && !this.#closed && this.#system.state === 'running';
    const delay = revive ? (guarded.reviveAfterMs as number) : undefined;
    guarded.down = { why, reviveAt: delay === undefined ? undefined : performance.now() + delay, timer: undefined };
    if (delay === undefined) return;
    guarded.down.timer = setTimeout(() => void this.#revive(guarded), delay);
    guarded.down.timer.unref();
  }

  async #revive(guarded: Guarded): Promise<void> {
    if (this.#closed || this.#system.state !== 'running' || this.#byName.get(guarded.name) !== guarded) return;
    try {
      if ((await this.#start(guarded)) !== undefined) this.#log.info({ name: guarded.name }, 'route actor revived');
    } catch (error) {
      // Its init fails, say: try again later rather than never.
      this.#log.error({ name: guarded.name, err: error }, 'route actor failed to start again');
      this.#wentDown(guarded, guarded.down?.why ?? '');
    }
  }
}
