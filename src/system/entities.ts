/**
 * Virtual actors (`system.entity(moduleUrl, key)`), as Orleans grains: a ref
 * that is valid whether or not its actor runs. The first message activates
 * the entity (spawned where placement picks, `temporary` under the root so
 * its crashes spend no restart budget, recovered from its journal `type/key`
 * before that message is handled); `idleMs` without messages passivates it
 * (stopped only if idle where it runs, so nothing sent before is lost), and
 * the next message activates it again. A crashed activation is simply gone:
 * the next message activates a fresh one from the journal.
 *
 * Messages to an entity that is not running wait here, in order, bounded per
 * entity (`entities.maxWaiting`); activations in progress are bounded across
 * the system (`entities.maxActivating`, the permit limit that keeps 100,000
 * activations at once from exhausting memory or the store), and each host's
 * recoveries by its own journal permits. All of it lives on the main thread.
 */
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { HostName } from '../actor/context.js';
import { EntityRef, type EntityHost } from '../actor/entity-ref.js';
import type { ActorRef, AskOptions, TellOptions } from '../actor/ref.js';
import { assertEncodable } from '../codec/validate.js';
import { AskTimeoutError, InvalidArgumentError, MailboxFullError, SystemStoppedError } from '../errors.js';
import { askTimeoutOf, moduleHref } from '../host/arguments.js';
import type { Host } from '../host/host.js';
import type { WireSpanContext } from '../codec/trace-context.js';
import type { ActorId } from '../lane/directory.js';
import type { ResolvedEntityOptions } from '../options.js';
import type { SystemEvents } from './events.js';
import type { EntitySpec } from '../cluster/frames.js';

export interface EntityOptions<TArgs = unknown> {
  /**
   * The entity type: with the key, the persistence id `type/key`. Keep it
   * stable across deploys (the journal is found by it). @default the module's file name without extension
   */
  type?: string;
  /** @default 'default' */
  export?: string;
  /** Passed to `init` at every activation. @default `{ key }` */
  args?: TArgs;
  /** Passivate after this long without messages. @default the system's `entities.idleMs` */
  idleMs?: number;
  /** Where its activations run. @default placement's choice, per activation */
  host?: HostName;
}

/** Where entities live when the system is a cluster node (the cluster link): undefined for this node. */
export interface EntityPlacement {
  ownerOf(persistenceId: string): string | undefined;
  tellEntity(owner: string, spec: EntitySpec, msg: unknown, sender: number): boolean;
  askEntity(owner: string, spec: EntitySpec, msg: unknown, sender: number, timeoutMs: number): Promise<unknown>;
}

/** What the entity table needs of the engine. */
export interface EntitiesEngine {
  readonly host: Host;
  readonly events: SystemEvents;
  readonly running: boolean;
}

const kKeys = new Set(['type', 'export', 'args', 'idleMs', 'host']);
const kMaxKeyLength = 1024;
/** What spawn accepts as a persistenceId (src/host/starting.ts). */
const kMaxPersistenceIdLength = 512;

interface Waiting {
  msg: unknown;
  sender: number;
  trace: number;
  /** With the `tracing` option: the span context it was sent in, restored when it is sent on to the activation. */
  context?: WireSpanContext | undefined;
  /** An ask's settlement and deadline; undefined for a tell. */
  ask: { resolve(value: unknown): void; reject(error: unknown): void; deadline: number; timer: NodeJS.Timeout; options: AskOptions | undefined } | undefined;
}

class Entity {
  state: 'passive' | 'activating' | 'active' | 'passivating' = 'passive';
  /** The running activation's ref while active or passivating. */
  actor: ActorRef | undefined = undefined;
  /** Messages that arrived while it was not active, in order. */
  waiting: Waiting[] = [];
  /** Asks sent to the activation and not settled: it is not idle. */
  asks = 0;
  lastUsed = 0;
  writable: (() => void)[] | undefined = undefined;

  constructor(
    readonly ref: EntityRef,
    readonly module: string,
    readonly exportName: string,
    readonly args: unknown,
    readonly idleMs: number,
    readonly host: HostName | undefined,
  ) {}
}

export class Entities implements EntityHost {
  readonly #engine: EntitiesEngine;
  readonly #options: ResolvedEntityOptions;
  /**
   * The ref of each key, held weakly: a passive entity nobody holds a ref to
   * is forgotten (its journal keeps it). While it runs or has messages
   * waiting, the table's own structures hold it, and with it its ref.
   */
  readonly #byKey = new Map<string, WeakRef<EntityRef>>();
  readonly #forget = new FinalizationRegistry<string>((mapKey) => {
    if (this.#byKey.get(mapKey)?.deref() === undefined) this.#byKey.delete(mapKey);
  });
  /** The module (and export) each type stands for: one type, one journal namespace. */
  readonly #types = new Map<string, string>();
  /** Running activations by actor id, to hear of their end. */
  readonly #byActor = new Map<number, Entity>();
  readonly #refs = new WeakMap<EntityRef, Entity>();
  /** Active entities by idle timeout, least recently used first (a Set keeps insertion order). */
  readonly #idle = new Map<number, Set<Entity>>();
  /** Entities waiting for an activation permit, in arrival order. */
  #queue: Entity[] = [];
  #queueHead = 0;
  #activating = 0;
  #sweep: NodeJS.Timeout | undefined = undefined;
  #off: (() => void) | undefined = undefined;
  #closed = false;
  /** Set on a cluster node: keys the ring gives another node go there. */
  placement: EntityPlacement | undefined;

  constructor(engine: EntitiesEngine, options: ResolvedEntityOptions) {
    this.#engine = engine;
    this.#options = options;
  }

  /** The ref of `key` of the entity type in `moduleUrl`: the same object for the same module, export and key. */
  entity(moduleUrl: URL | string, key: string | number, options: EntityOptions | undefined): EntityRef {
    if (this.#closed || !this.#engine.running) throw new SystemStoppedError();
    const module = moduleHref(moduleUrl);
    const name = keyOf(key);
    const opts = validate(options);
    const exportName = opts.export ?? 'default';
    const type = opts.type ?? defaultType(module, exportName);
    // Its journal is `type/key`: a persistence id too long to spawn is refused here, not at every activation.
    if (type.length + 1 + name.length > kMaxPersistenceIdLength) {
      throw new InvalidArgumentError(`entity(): the persistence id "type/key" must be at most ${kMaxPersistenceIdLength} characters, received ${type.length + 1 + name.length} (a shorter key, or a shorter { type })`);
    }
    const owner = `${module}#${exportName}`;
    const claimed = this.#types.get(type);
    if (claimed !== undefined && claimed !== owner) {
      throw new InvalidArgumentError(`entity(): type ${JSON.stringify(type)} already stands for ${claimed}; give this module a type of its own ({ type })`);
    }
    const mapKey = `${type}\u0000${name}`;
    const knownRef = this.#byKey.get(mapKey)?.deref();
    const known = knownRef === undefined ? undefined : this.#refs.get(knownRef);
    if (known !== undefined) {
      sameOptions(known, opts, type, name);
      return known.ref;
    }
    const args = opts.args === undefined ? { key: name } : opts.args;
    assertEncodable(args, this.#engine.host.limits);
    this.#types.set(type, owner);
    const ref = new EntityRef(this, type, name);
    const entity = new Entity(ref, module, exportName, args, opts.idleMs ?? this.#options.idleMs, opts.host);
    this.#byKey.set(mapKey, new WeakRef(ref));
    this.#forget.register(ref, mapKey);
    this.#refs.set(ref, entity);
    this.#off ??= this.#engine.events.on('actor.stopped', (e) => this.#ended(e.id));
    return ref;
  }

  /** How many entities have a ref, run, and wait for a permit; for stats and tests. */
  counts(): { known: number; active: number; activating: number; queued: number } {
    return { known: this.#byKey.size, active: this.#byActor.size, activating: this.#activating, queued: this.#queue.length - this.#queueHead };
  }

  // ---------------------------------------------------------------- sends ---

  tell(ref: EntityRef, msg: unknown, options: TellOptions | undefined): boolean {
    const entity = this.#live(ref);
    const host = this.#engine.host;
    const trace = options === undefined ? host.currentTrace() : host.traceOf(options);
    const sender = host.currentSender();
    const owner = this.placement?.ownerOf(ref.persistenceId);
    if (owner !== undefined) return this.placement!.tellEntity(owner, specOf(entity), msg, sender);
    return this.#tellHere(entity, msg, sender, trace);
  }

  #tellHere(entity: Entity, msg: unknown, sender: number, trace: number): boolean {
    const host = this.#engine.host;
    this.#touch(entity);
    // The activation's send path checks the message; one that waits here is checked now, as a send would.
    if (this.#ready(entity)) return entity.actor!.tellAs(msg, sender, trace);
    assertEncodable(msg, host.limits);
    this.#hold(entity, { msg, sender, trace, ask: undefined, context: this.#engine.host.tracing?.current(undefined) });
    return false;
  }

  ask(ref: EntityRef, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    let entity: Entity;
    const host = this.#engine.host;
    let timeoutMs: number;
    try {
      entity = this.#live(ref);
      timeoutMs = askTimeoutOf(options, host.options.askTimeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const trace = options?.correlationId === undefined ? host.currentTrace() : host.traceOf(options);
    const owner = this.placement?.ownerOf(ref.persistenceId);
    if (owner !== undefined) return this.placement!.askEntity(owner, specOf(entity), msg, host.currentSender(), timeoutMs);
    return this.#ask(entity, msg, host.currentSender(), trace, options, timeoutMs);
  }

  /** A tell from another node for an entity this node owns (by that node's view of the ring): handled here. */
  tellFromNode(spec: EntitySpec, msg: unknown, sender: number): void {
    this.#tellHere(this.#fromSpec(spec), msg, sender, 0);
  }

  askFromNode(spec: EntitySpec, msg: unknown, sender: number, timeoutMs: number): Promise<unknown> {
    let entity: Entity;
    try {
      entity = this.#fromSpec(spec);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ask(entity, msg, sender, 0, { timeoutMs }, timeoutMs);
  }

  #fromSpec(spec: EntitySpec): Entity {
    const ref = this.entity(spec.module, spec.key, { type: spec.type, export: spec.export, args: spec.args, idleMs: spec.idleMs });
    return this.#refs.get(ref)!;
  }

  /**
   * The ring changed: active entities another node owns now are passivated when idle (the next
   * message activates them there; a durable one recovers there from the shared journal).
   */
  rebalance(): void {
    if (this.placement === undefined) return;
    for (const entity of this.#byActor.values()) {
      if (entity.state !== 'active' || entity.asks > 0 || entity.waiting.length > 0) continue;
      if (this.placement.ownerOf(entity.ref.persistenceId) !== undefined) this.#passivate(entity);
    }
  }

  /** An ask on behalf of `sender` (read when it was sent: a retry runs later, in a promise callback). */
  #ask(entity: Entity, msg: unknown, sender: number, trace: number, options: AskOptions | undefined, timeoutMs: number): Promise<unknown> {
    const ref = entity.ref;
    this.#touch(entity);
    if (this.#ready(entity)) return this.#askActivation(entity, msg, sender, trace, options);
    try {
      assertEncodable(msg, this.#engine.host.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { msg, sender, trace, ask: undefined, context: this.#engine.host.tracing?.current(undefined) };
      const timer = setTimeout(() => {
        const at = entity.waiting.indexOf(waiting);
        if (at >= 0) entity.waiting.splice(at, 1);
        reject(new AskTimeoutError(String(ref), timeoutMs));
      }, timeoutMs);
      waiting.ask = { resolve, reject, deadline: performance.now() + timeoutMs, timer, options };
      try {
        this.#hold(entity, waiting);
      } catch (error) {
        clearTimeout(timer);
        reject(error);
      }
    });
  }

  whenWritable(ref: EntityRef): Promise<void> {
    const entity = this.#refs.get(ref);
    if (entity === undefined || this.#closed) return Promise.resolve();
    if (this.#ready(entity)) return entity.actor!.whenWritable();
    return new Promise<void>((resolve) => (entity.writable ??= []).push(resolve));
  }

  /** Shutdown: what waits here is answered (asks reject, tells are dead letters); no more activations. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#off?.();
    for (const weak of this.#byKey.values()) {
      const ref = weak.deref();
      const entity = ref === undefined ? undefined : this.#refs.get(ref);
      if (entity !== undefined) this.#fail(entity, new SystemStoppedError(), 'system-stopped');
    }
  }

  // ------------------------------------------------------------ lifecycle ---

  #live(ref: EntityRef): Entity {
    const entity = this.#refs.get(ref);
    if (entity === undefined) throw new InvalidArgumentError(`${String(ref)} belongs to another actor system`);
    if (this.#closed || !this.#engine.running) throw new SystemStoppedError();
    return entity;
  }

  /** Active with nothing waiting ahead, and its activation still placed (an end not heard of yet counts as passive). */
  #ready(entity: Entity): boolean {
    if (entity.state !== 'active' || entity.waiting.length > 0) return false;
    if (this.#engine.host.directory.hostOf(entity.actor!.id) >= 0) return true;
    this.#passive(entity);
    return false;
  }

  #hold(entity: Entity, waiting: Waiting): void {
    if (entity.waiting.length >= this.#options.maxWaiting) throw new MailboxFullError(String(entity.ref), this.#options.maxWaiting, 'entity');
    entity.waiting.push(waiting);
    if (entity.state === 'passive') this.#activate(entity);
  }

  #activate(entity: Entity): void {
    entity.state = 'activating';
    if (this.#activating < this.#options.maxActivating) this.#start(entity);
    else this.#queue.push(entity);
  }

  #start(entity: Entity): void {
    this.#activating++;
    const { host } = this.#engine;
    const spawned = host.spawn(entity.module, {
      args: entity.args,
      export: entity.exportName,
      restart: 'temporary',
      persistenceId: entity.ref.persistenceId,
      ...(entity.host === undefined ? {} : { host: entity.host }),
    }, 0);
    spawned.then(
      (actor) => {
        if (this.#closed) return;
        entity.actor = actor;
        entity.state = 'active';
        this.#byActor.set(actor.id, entity);
        this.#touch(entity);
        this.#flush(entity);
      },
      (error: unknown) => {
        entity.state = 'passive';
        this.#fail(entity, error, 'activation-failed');
      },
    ).finally(() => {
      this.#activating--;
      this.#next();
    });
  }

  #next(): void {
    while (this.#activating < this.#options.maxActivating && this.#queueHead < this.#queue.length) {
      const entity = this.#queue[this.#queueHead++];
      if (this.#closed) break;
      if (entity.state === 'activating') this.#start(entity);
    }
    if (this.#queueHead === this.#queue.length || this.#queueHead > 4096) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Sends what waited to the activation, in order. */
  #flush(entity: Entity): void {
    const waiting = entity.waiting;
    entity.waiting = [];
    const actor = entity.actor!;
    const host = this.#engine.host;
    const tracing = host.tracing;
    for (const w of waiting) {
      // Each in the context it was sent in, not in the one that happened to start the activation.
      if (tracing === undefined) this.#sendOn(entity, actor, w);
      else if (w.context === undefined) tracing.detached(() => this.#sendOn(entity, actor, w));
      else tracing.within(w.context, () => this.#sendOn(entity, actor, w));
    }
    const writable = entity.writable;
    entity.writable = undefined;
    if (writable !== undefined) for (const resolve of writable) resolve();
  }

  #sendOn(entity: Entity, actor: ActorRef, w: Waiting): void {
    if (w.ask === undefined) {
      try {
        actor.tellAs(w.msg, w.sender, w.trace);
      } catch (error) {
        // Accepted when it was told: what cannot be delivered now is reported, never dropped in silence.
        this.#engine.host.deadLetters.report(actor.id, w.sender, w.msg, 'mailbox-full', undefined, w.trace);
      }
      return;
    }
    const { resolve, reject, deadline, timer, options } = w.ask;
    clearTimeout(timer);
    const timeoutMs = Math.max(1, Math.ceil(deadline - performance.now()));
    this.#askActivation(entity, w.msg, w.sender, w.trace, { ...options, timeoutMs }).then(resolve, reject);
  }

  #askActivation(entity: Entity, msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown> {
    entity.asks++;
    const actor = entity.actor!;
    const deadline = performance.now() + askTimeoutOf(options, this.#engine.host.options.askTimeoutMs);
    return actor.askAs(msg, sender, trace, options).then(
      (value) => {
        entity.asks--;
        this.#touch(entity);
        return value;
      },
      (error: unknown) => {
        entity.asks--;
        const code = (error as { code?: unknown }).code;
        // A temporary activation that crashed or stopped is gone, whether or not its stop was heard of yet.
        if (entity.actor === actor && (code === 'TROUPE_ERR_ACTOR_CRASHED' || code === 'TROUPE_ERR_ACTOR_STOPPED' || code === 'TROUPE_ERR_ACTOR_NOT_FOUND')) this.#passive(entity);
        // Not found: it ended before this message reached it, so nothing handled it; the next activation does.
        if (code !== 'TROUPE_ERR_ACTOR_NOT_FOUND' || this.#closed || !this.#engine.running) throw error;
        const timeoutMs = Math.ceil(deadline - performance.now());
        if (timeoutMs < 1) throw error;
        return this.#ask(entity, msg, sender, trace, { ...options, timeoutMs }, timeoutMs);
      },
    );
  }

  /** Asks and tells that waited and will not run: asks reject with `error`, tells are dead letters. */
  #fail(entity: Entity, error: unknown, reason: string): void {
    const waiting = entity.waiting;
    entity.waiting = [];
    for (const w of waiting) {
      if (w.ask === undefined) {
        this.#engine.host.deadLetters.report(0, w.sender, w.msg, reason, undefined, w.trace);
      } else {
        clearTimeout(w.ask.timer);
        w.ask.reject(error);
      }
    }
    const writable = entity.writable;
    entity.writable = undefined;
    if (writable !== undefined) for (const resolve of writable) resolve();
  }

  #touch(entity: Entity): void {
    entity.lastUsed = performance.now();
    if (entity.state !== 'active') return;
    let group = this.#idle.get(entity.idleMs);
    if (group === undefined) {
      group = new Set();
      this.#idle.set(entity.idleMs, group);
      this.#armSweep();
    }
    group.delete(entity);
    group.add(entity);
  }

  /** One timer for every entity: a quarter of the shortest idle timeout (10 ms to 1 s), unref'd. */
  #armSweep(): void {
    const shortest = Math.min(...this.#idle.keys());
    const every = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    clearInterval(this.#sweep);
    this.#sweep = setInterval(() => this.#passivateIdle(), every);
    this.#sweep.unref();
  }

  #passivateIdle(): void {
    const t = performance.now();
    for (const [idleMs, group] of this.#idle) {
      for (const entity of group) {
        if (entity.lastUsed + idleMs > t) break;
        group.delete(entity);
        if (entity.state === 'active' && entity.asks === 0 && entity.waiting.length === 0) this.#passivate(entity);
      }
    }
  }

  #passivate(entity: Entity): void {
    const actor = entity.actor!;
    entity.state = 'passivating';
    this.#engine.host.passivate(actor.id).then(
      (outcome) => {
        if (entity.actor !== actor) return;
        if (outcome === 'busy') this.#resume(entity);
        else this.#passive(entity);
      },
      // It did not answer (a stalled worker, a stopping system): still running as far as anyone knows.
      () => {
        if (entity.actor === actor) this.#resume(entity);
      },
    );
  }

  #resume(entity: Entity): void {
    entity.state = 'active';
    this.#touch(entity);
    this.#flush(entity);
  }

  /** Its activation is gone; what waited meanwhile activates the next one. */
  #passive(entity: Entity): void {
    if (entity.actor !== undefined) this.#byActor.delete(entity.actor.id);
    this.#idle.get(entity.idleMs)?.delete(entity);
    entity.actor = undefined;
    entity.state = 'passive';
    if (entity.waiting.length > 0 && !this.#closed) this.#activate(entity);
  }

  /** An activation ended on its own (crashed, its worker died, stopped by hand). */
  #ended(id: ActorId): void {
    const entity = this.#byActor.get(id);
    // Passivating included: the stop is heard of before the host's answer, which then finds the entity moved on.
    if (entity === undefined || entity.actor?.id !== id) return;
    this.#passive(entity);
  }
}

/** A second ref to a key must not ask for other options than the first, still held, was given: they would be silently ignored. */
function sameOptions(known: Entity, opts: EntityOptions, type: string, key: string): void {
  const differs = (what: string): never => {
    throw new InvalidArgumentError(`entity(): ${type}/${key} already has a ref with other ${what}; ask for it with the same options, or none`);
  };
  if (opts.idleMs !== undefined && opts.idleMs !== known.idleMs) differs('idleMs');
  if (opts.host !== undefined && opts.host !== known.host) differs('host');
  if (opts.args !== undefined && !isDeepStrictEqual(opts.args, known.args)) differs('args');
}

function keyOf(key: string | number): string {
  const text = typeof key === 'number' && Number.isSafeInteger(key) ? String(key) : key;
  if (typeof text !== 'string' || text.length === 0 || text.length > kMaxKeyLength || !text.isWellFormed()) {
    throw new InvalidArgumentError(`entity(): the key must be a non-empty string of at most ${kMaxKeyLength} characters or a safe integer, received ${typeof key === 'string' ? JSON.stringify(key.slice(0, 40)) : String(key)}`);
  }
  return text;
}

function validate(options: EntityOptions | undefined): EntityOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('entity(moduleUrl, key, options): options must be an object');
  for (const key of Object.keys(options)) {
    if (!kKeys.has(key)) throw new InvalidArgumentError(`entity(): unknown option "${key}" (expected ${[...kKeys].join(', ')})`);
  }
  const { type, idleMs } = options;
  if (type !== undefined && (typeof type !== 'string' || type.length === 0 || type.includes('/'))) {
    throw new InvalidArgumentError(`entity(): option "type" must be a non-empty string without "/", received ${JSON.stringify(type)}`);
  }
  if (options.export !== undefined && typeof options.export !== 'string') throw new InvalidArgumentError('entity(): option "export" must be a string');
  if (idleMs !== undefined && (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs < 1 || idleMs > 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`entity(): option "idleMs" must be a number of milliseconds from 1 to 2^31-1, received ${String(idleMs)}`);
  }
  return options;
}

/** `.../actors/account.js` → `account`; a named export adds itself: `account.Savings`. */
function specOf(entity: Entity): EntitySpec {
  return { module: entity.module, export: entity.exportName, key: entity.ref.key, type: entity.ref.type, args: entity.args, idleMs: entity.idleMs };
}

function defaultType(module: string, exportName: string): string {
  let file: string;
  try {
    file = module.startsWith('file:') ? fileURLToPath(module) : new URL(module).pathname;
  } catch {
    file = module;
  }
  const base = basename(file, extname(file)) || 'entity';
  return exportName === 'default' ? base : `${base}.${exportName}`;
}
