/**
 * How actors begin on a host: a spawn is validated where it is asked for,
 * placed (round robin over workers unless a host is named), its name claimed
 * on the main thread, and started where it runs: the definition loaded, init
 * run with its args, then `running`, and the spawner answered. A restart
 * runs the same start again on the same cell (the mailbox is kept).
 */
import type { Cell, CellStatus } from '../actor/cell.js';
import type { SpawnOptions } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { Kind, type SpawnSpec } from '../codec/envelope.js';
import { assertEncodable, type MessageLimits } from '../codec/validate.js';
import { ActorInitError, ActorStoppedError, InvalidArgumentError, NameTakenError, SystemStoppedError, TooManyActorsError, TroupeError, errorToWire } from '../errors.js';
import { slotOf, type ActorId, type Directory } from '../lane/directory.js';
import { MAX_SLOTS } from '../lane/layout.js';
import type { HostOptions } from '../options.js';
import { resolveRestartType } from '../supervision/strategy.js';
import type { ActorRestartedEvent, ActorStartedEvent, SystemEvent, SystemEventType } from './lifecycle-events.js';
import type { HostName } from '../actor/context.js';
import { moduleHref } from './arguments.js';
import { now, withTimeout } from './clock.js';
import type { HostCounters } from './counters.js';
import type { Journaling } from './journaling.js';
import type { Definitions } from './definitions.js';
import type { MainDuties } from './main-duties.js';
import type { Outbound } from './outbound.js';
import type { PendingTable } from './pending.js';
import type { Stopping } from './stopping.js';
import type { SupervisionLink } from './supervision-link.js';

/** What starting actors needs of its host. */
export interface StartingHost {
  readonly index: number;
  readonly hostName: HostName;
  readonly hostCount: number;
  readonly closed: boolean;
  readonly refusingOutside: boolean;
  readonly options: HostOptions;
  readonly limits: MessageLimits;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly freeSlots: number[];
  readonly pending: PendingTable;
  readonly counters: HostCounters;
  readonly out: Outbound;
  readonly main: MainDuties | undefined;
  readonly definitions: Definitions;
  readonly supervision: SupervisionLink;
  readonly stopping: Stopping;
  readonly journaling: Journaling;
  refFor(id: number, name: string | undefined): ActorRef;
  readonly runner: { placeholder(id: ActorId): Cell };
  readonly scheduler: { schedule(cell: Cell): void };
  detach(work: Promise<unknown>, what: string): void;
  wants(type: SystemEventType): boolean;
  emit(event: SystemEvent): void;
  replyTo(host: number, corr: number, value: unknown): void;
  replyErrorTo(host: number, corr: number, error: unknown): void;
}

export class Starting {
  readonly #host: StartingHost;
  #roundRobin = 0;
  /**
   * Starts under way, settling when each has finished either way: a directive
   * that reaches an actor mid-start waits for it. Kept here, not on the cell,
   * so that a spawn touches no per-cell lifecycle object.
   */
  readonly #starts = new Map<number, Promise<void>>();

  constructor(host: StartingHost) {
    this.#host = host;
  }

  startUnderWay(id: number): Promise<void> | undefined {
    return this.#starts.get(id);
  }

  /** system.spawn and ctx.spawn land here. */
  spawn(moduleUrl: URL | string, options: SpawnOptions | undefined, parent: number): Promise<ActorRef> {
    const host = this.#host;
    let request: { spec: SpawnSpec; host: number };
    try {
      request = this.#spawnRequest(moduleUrl, options, parent);
    } catch (error) {
      return Promise.reject(error);
    }
    if (host.closed || (parent === 0 && host.refusingOutside)) return Promise.reject(new SystemStoppedError());
    // Only modules bound for a worker: one kept on the main thread may do there, at import, what must not run twice.
    if (request.host !== 0) host.main?.moduleUsed(request.spec.u);
    if (request.spec.n !== undefined && host.index !== 0) {
      // Names are registered on the main thread: claim it there for an id
      // allocated here, then spawn from here as usual (so the supervisor knows
      // its child before the child can exist, let alone exit).
      const name = request.spec.n;
      const id = host.directory.allocate(host.freeSlots);
      if (id === undefined) return Promise.reject(new TooManyActorsError(MAX_SLOTS - 1));
      const { corr, promise } = host.pending.open(0, `claim name ${name}`, host.options.spawnTimeoutMs);
      host.out.sendValue(0, Kind.claimName, id, parent, corr, name);
      return promise.then(
        (claimed) => {
          if (claimed === true) return this.#spawnAt(request.spec, request.host, id);
          host.stopping.returnSlot(slotOf(id));
          throw new NameTakenError(name);
        },
        (error: unknown) => {
          host.stopping.returnSlot(slotOf(id));
          throw error;
        },
      );
    }
    return this.#spawnAt(request.spec, request.host);
  }

  #spawnRequest(moduleUrl: URL | string, options: SpawnOptions | undefined, parent: number): { spec: SpawnSpec; host: number } {
    const host = this.#host;
    const url = moduleHref(moduleUrl);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new InvalidArgumentError('spawn options must be an object');
    }
    if ((options as { node?: unknown } | undefined)?.node !== undefined) {
      // system.spawn and ctx.spawn take it off before it gets here (node-refs.ts spawnOnNode).
      throw new InvalidArgumentError('spawn: the node option reached a host spawn');
    }
    const name = options?.name;
    if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 256)) {
      throw new InvalidArgumentError(`spawn option "name" must be a non-empty string of at most 256 characters, received ${typeof name}`);
    }
    const exportName = options?.export ?? 'default';
    if (typeof exportName !== 'string') throw new InvalidArgumentError('spawn option "export" must be a string');
    const restart = resolveRestartType(options?.restart);
    const persistenceId = options?.persistenceId;
    if (persistenceId !== undefined && (typeof persistenceId !== 'string' || persistenceId.length === 0 || persistenceId.length > 512)) {
      throw new InvalidArgumentError(`spawn option "persistenceId" must be a non-empty string of at most 512 characters, received ${typeof persistenceId}`);
    }
    // Held to what is left of a lane once the spec around the args (url, export, name: ASCII or not) is written.
    assertEncodable(options?.args, host.limits, 64 + 3 * (url.length + exportName.length + (name?.length ?? 0)));
    const spec: SpawnSpec = { u: host.definitions.intern(url), e: host.definitions.intern(exportName), a: options?.args, p: parent };
    if (name !== undefined) spec.n = name;
    if (restart !== 'permanent') spec.r = restart;
    if (persistenceId !== undefined && persistenceId !== name) spec.i = persistenceId;
    return { spec, host: this.#placement(options?.host) };
  }

  /** -1 means "round robin over workers", decided where the spawn is executed. */
  #placement(where: SpawnOptions['host']): number {
    const host = this.#host;
    if (where === undefined) return -1;
    if (where === 'main') return 0;
    if (where === 'local') return host.index;
    if (typeof where === 'number' && Number.isInteger(where) && where >= 0 && where < host.hostCount - 1) return where + 1;
    throw new InvalidArgumentError(`spawn option "host" must be 'main', 'local' or a worker index from 0 to ${host.hostCount - 2}, received ${String(where)}`);
  }

  /** Places and starts an actor; `claimed` is an id whose name main already registered. */
  #spawnAt(spec: SpawnSpec, requestedHost: number, claimed?: ActorId): Promise<ActorRef> {
    const host = this.#host;
    let where = requestedHost;
    if (where < 0) {
      where = host.hostCount === 1 ? 0 : 1 + (this.#roundRobin++ % (host.hostCount - 1));
    }
    const id = claimed ?? host.directory.allocate(host.freeSlots);
    if (id === undefined) return Promise.reject(new TooManyActorsError(MAX_SLOTS - 1));
    if (claimed === undefined && spec.n !== undefined && !host.main!.claimName(spec.n, id)) {
      host.stopping.returnSlot(slotOf(id));
      return Promise.reject(new NameTakenError(spec.n));
    }
    host.directory.place(id, where, spec.p);
    host.supervision.supervisorOf(spec.p)?.add(id, spec);
    const { corr, promise } = host.pending.open(where, `spawn ${spec.u}`, host.options.spawnTimeoutMs);
    if (where === host.index) host.detach(this.startActor(id, host.supervision.withOwnArgs(spec), corr, host.index, false), 'spawn');
    else host.out.sendValue(where, Kind.spawn, id, spec.p, corr, spec);
    return promise.then(
      () => host.refFor(id, spec.n),
      (error: unknown) => {
        if (spec.n !== undefined) host.main?.releaseName(spec.n, id);
        host.supervision.supervisorOf(spec.p)?.forget(id);
        // Its worker died with the spawn in hand, or init outlasted spawnTimeoutMs:
        // free the id (a start still under way sees it and aborts), or stop what did start.
        if (!host.directory.isStarted(id)) {
          // A start still under way (or a spawn record still queued) finds the
          // slot no longer its own, whatever generation comes next, and aborts.
          if (host.directory.release(id)) host.stopping.recycle(id);
        } else host.detach(host.stopping.stopActor(id, 'spawn-failed'), 'stop');
        throw error;
      },
    );
  }

  /**
   * Starts (or, for a supervisor's restart, starts again) the actor `id` on
   * this host from its spec. A restart keeps the cell, hence the mailbox.
   */
  startActor(id: ActorId, spec: SpawnSpec, corr: number, replyHost: number, restart: boolean): Promise<void> {
    const run = this.#start(id, spec, corr, replyHost, restart);
    // A restart is registered from its first step (it may halt the running incarnation
    // before it starts): the next restart order for the same actor waits for all of it.
    if (restart || this.#host.cells.get(id)?.status === 'starting') {
      const settled = (): void => {
        if (this.#starts.get(id) === done) this.#starts.delete(id);
      };
      const done: Promise<void> = run.then(settled, settled);
      this.#starts.set(id, done);
    }
    return run;
  }

  async #start(id: ActorId, spec: SpawnSpec, corr: number, replyHost: number, restart: boolean): Promise<void> {
    const host = this.#host;
    const { stopping, options } = host;
    let cell = host.cells.get(id);
    if (!restart && cell !== undefined && cell.status !== 'pending') {
      // The same spawn record twice (a duplicating link): the actor exists.
      host.replyTo(replyHost, corr, null);
      return;
    }
    if (host.directory.hostOf(id) !== host.index) {
      // Stopped (or given up on by its spawner) before it could start: its
      // slot may already serve someone else. A stop that overtook this
      // record left the released directory entry as its tombstone.
      if (cell !== undefined && cell.status === 'pending') stopping.terminate(cell, 'stopped before it started', false);
      host.replyErrorTo(replyHost, corr, new ActorStoppedError(`#${id}`, 'stopped before it could start'));
      return;
    }
    // Restarted where no cell was left (its worker died): watchers are unknown here.
    const recreated = restart && (cell === undefined || cell.status === 'pending');
    cell ??= host.runner.placeholder(id);
    if (restart && (cell.status === 'running' || cell.status === 'halting')) await stopping.halt(cell);
    if (cell.status === 'stopping' || cell.status === 'stopped') {
      host.replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'stopped before it could start'));
      return;
    }
    if (recreated) cell.watchersUnknown = true;
    cell.name = spec.n;
    cell.parent = spec.p;
    cell.restartType = spec.r ?? 'permanent';
    cell.status = 'starting';
    try {
      // Kept before init can change them; a restart this worker ordered itself passes its own copy back.
      if (host.supervision.restartsTopLevel && spec.p === 0 && !(restart && cell.keptArgs !== undefined)) cell.keptArgs = host.supervision.keptArgsOf(spec);
      cell.def = await host.definitions.load(spec.u, spec.e);
      // init gets a ctx that is not kept: the cell makes its own with its first
      // message, so an actor that has only been spawned costs no Context (~56 B).
      let state = cell.def.init === undefined ? undefined : await cell.def.init(spec.a, stopping.outsideContext(cell));
      // A durable actor: its journal, replayed over what init built, before any message (they queue meanwhile).
      if (cell.def.persistence !== undefined && (cell.status as CellStatus) === 'starting') state = await host.journaling.recover(cell, spec, cell.def.persistence, state);
      if ((cell.status as CellStatus) === 'stopping' || (cell.status as CellStatus) === 'stopped') {
        // Stopped while init ran (a shutdown, or its supervisor giving up, during a restart): nothing
        // will run it, but onStop gets the state init built, to undo what init started.
        await withTimeout(stopping.runOnStop(cell, state), options.shutdownTimeoutMs);
      } else {
        cell.state = state;
      }
    } catch (error) {
      const typed = error instanceof TroupeError ? error : new ActorInitError(cell.label, error);
      host.replyErrorTo(replyHost, corr, typed);
      if (cell.status !== 'starting') return;
      if (restart) {
        // A restart that fails is one more exit for the supervisor to judge.
        cell.status = 'halted';
        host.supervision.reportExit(cell, 'abnormal', `init-failed: ${errorToWire(error).message}`, now());
      } else {
        stopping.terminate(cell, 'spawn-failed', false);
      }
      return;
    }
    if (cell.status !== 'starting') {
      host.replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'stopped while starting'));
      return;
    }
    if (host.directory.hostOf(id) !== host.index) {
      // Its spawner gave up (spawnTimeoutMs) while init ran: it never runs,
      // but onStop gets the state init built, to undo what init started.
      cell.status = 'stopping';
      await withTimeout(stopping.runOnStop(cell, cell.state), options.shutdownTimeoutMs);
      stopping.terminate(cell, 'spawn-abandoned', false);
      host.replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'abandoned by its spawner while starting'));
      return;
    }
    cell.status = 'running';
    host.directory.markStarted(id);
    if (restart) host.counters.restarts++;
    else host.counters.spawned++;
    // Live on this host from now on, also when it is a restart of an actor
    // whose worker died (a new cell here): stats().actors counts these.
    if (!cell.started) {
      cell.started = true;
      host.counters.liveActors++;
    }
    host.replyTo(replyHost, corr, null);
    const type = restart ? 'actor.restarted' : 'actor.started';
    if (host.wants(type)) {
      const event: ActorStartedEvent | ActorRestartedEvent = { type, at: now(), host: host.hostName, id };
      if (cell.name !== undefined) event.name = cell.name;
      host.emit(event);
    }
    if (cell.queued > 0) host.scheduler.schedule(cell);
  }
}
