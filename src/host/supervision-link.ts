/**
 * Where supervision meets the host: the supervisors of this host's actors
 * (the root's too, on the main thread), their directives carried out as
 * records wherever a child runs, exits reported to wherever its supervisor
 * runs, and top-level actors restarted on their own worker when the root's
 * shared restart window admits it. The decisions themselves are
 * supervision/'s; this file only moves them between threads.
 */
import type { Cell } from '../actor/cell.js';
import type { HostName } from '../actor/context.js';
import { fromKeptCopy, keepCopy, type RefFactory } from '../codec/codec.js';
import { Kind, type SpawnSpec } from '../codec/envelope.js';
import type { ActorId, Directory } from '../lane/directory.js';
import type { RestartLedger } from '../lane/restart-ledger.js';
import type { HostOptions } from '../options.js';
import { monotonicMs, type RestartWindow } from '../supervision/restart-window.js';
import { isRestartable, resolveSupervisor, type ExitKind, type ResolvedSupervisor } from '../supervision/strategy.js';
import { Supervisor, type ChildExit, type DecisionReport } from '../supervision/supervisor.js';
import type { SystemEvent, SystemEventType } from './lifecycle-events.js';
import { now, withTimeout } from './clock.js';
import { internIn, type Definitions } from './definitions.js';
import type { MainDuties } from './main-duties.js';
import type { Outbound } from './outbound.js';
import type { PendingTable } from './pending.js';

/** What the supervision glue needs of its host. */
export interface SupervisionHost {
  readonly index: number;
  readonly journaling: { persistenceIdOf(id: number): string | undefined };
  readonly hostName: HostName;
  readonly closed: boolean;
  readonly options: HostOptions;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly pending: PendingTable;
  readonly out: Outbound;
  readonly main: MainDuties | undefined;
  readonly definitions: Definitions;
  readonly refFactory: RefFactory;
  detach(work: Promise<unknown>, what: string): void;
  wants(type: SystemEventType): boolean;
  emit(event: SystemEvent): void;
  replyTo(host: number, corr: number, value: unknown): void;
  readonly starting: {
    startActor(id: ActorId, spec: SpawnSpec, corr: number, replyHost: number, restart: boolean): Promise<void>;
    /** The start of `id` under way on this host, settling when it has finished either way. */
    startUnderWay(id: number): Promise<void> | undefined;
  };
  readonly stopping: {
    halt(cell: Cell): Promise<void>;
    exit(cell: Cell, kind: ExitKind, reason: string): Promise<void>;
    stopLocal(id: ActorId, reason: string): Promise<void>;
    stopActor(id: number, reason: string): Promise<void>;
  };
}

/** Longest kept args copy shared between actors: the table of them holds at most 4096 × 128 characters. */
const kInternedArgsLength = 128;

export class SupervisionLink {
  readonly #host: SupervisionHost;
  /**
   * The root supervisor's restart window, when it is shared (one_for_one, no
   * backoff): a worker then restarts its crashed top-level actors itself.
   */
  readonly #rootWindow: RestartLedger | undefined;
  /** The root supervisor (main thread only): supervises every actor started by system.spawn. */
  #root: Supervisor | undefined;
  /** Kept init args (Cell.keptArgs), one copy of each: actors spawned alike share their args' copy. */
  readonly #internedArgs = new Map<string, string>();

  constructor(host: SupervisionHost, rootWindow: RestartLedger | undefined) {
    this.#host = host;
    this.#rootWindow = rootWindow;
  }

  /** Main thread only: the root supervisor. */
  attachRoot(options: ResolvedSupervisor): void {
    this.#root = this.#newSupervisor(options, undefined, this.#rootWindow);
  }

  /** Children of the root supervisor (top-level actors), in start order. */
  rootChildren(): number[] {
    return this.#root?.childIds() ?? [];
  }

  /** Another host died: a claim on the root's window it held would keep every thread waiting. */
  hostDown(host: number): void {
    this.#rootWindow?.releaseHeldBy(host);
  }

  /** The supervisor of actor `id` if it lives on this host (the root, for 0, on the main thread). */
  supervisorOf(id: number): Supervisor | undefined {
    if (id === 0) return this.#root;
    const cell = this.#host.cells.get(id);
    if (cell === undefined || cell.status === 'stopped' || cell.def === undefined) return undefined;
    return (cell.supervisor ??= this.#newSupervisor(resolveSupervisor(cell.def.supervisor, 'supervisor'), cell));
  }

  /** A child exit reported to a supervisor on this host (a childExit record). */
  childExited(supervisor: number, child: number, exit: ChildExit, reason: string, at: number): void {
    const local = this.supervisorOf(supervisor);
    if (local !== undefined) this.#host.detach(local.childExited(child, exit, reason, at), 'supervision');
  }

  /** A supervisor whose directives travel as records; `owner` undefined is the root. */
  #newSupervisor(options: ResolvedSupervisor, owner: Cell | undefined, window?: RestartWindow): Supervisor {
    const host = this.#host;
    return new Supervisor(
      options,
      {
        halt: (child) => this.#directive(Kind.halt, child, undefined),
        restart: (child, spec) => this.#directive(Kind.restart, child, spec),
        remove: (child, reason) => host.stopping.stopActor(child, reason),
        escalate: (reason) => {
          if (owner === undefined) host.main!.escalated(reason);
          else host.detach(host.stopping.exit(owner, 'abnormal', `escalated: ${reason}`), 'escalation');
        },
        givingUp: owner === undefined ? () => host.main!.rootGivingUp?.() : undefined,
        decided: (report) => this.#emitDecided(owner?.id ?? 0, report),
        now: monotonicMs,
        epochNow: now,
      },
      window,
    );
  }

  #emitDecided(supervisor: number, report: DecisionReport): void {
    const host = this.#host;
    if (!host.wants('supervisor.decided')) return;
    const { decision } = report;
    host.emit({
      type: 'supervisor.decided',
      at: now(),
      host: host.hostName,
      supervisor: supervisor as ActorId,
      child: report.child as ActorId,
      exit: report.exit,
      reason: report.reason,
      directive: decision.escalate ? 'escalate' : decision.restart.length > 0 ? 'restart' : 'remove',
      restarted: decision.restart as ActorId[],
      removed: decision.remove as ActorId[],
      delayMs: report.delayMs,
    });
  }

  /** Sends a halt or restart directive to a child wherever it runs; resolves when the child has carried it out. */
  #directive(kind: number, child: number, spec: SpawnSpec | undefined): Promise<void> {
    const host = this.#host;
    const where = host.directory.hostOf(child);
    if (where < 0) return Promise.resolve();
    const { corr, promise } = host.pending.open(where, `${kind === Kind.halt ? 'halt' : 'restart'} #${child}`, host.options.spawnTimeoutMs);
    if (where === host.index) {
      this.onDirective(kind, child as ActorId, spec === undefined ? spec : this.withOwnArgs(spec), corr, host.index);
    } else {
      host.out.sendValue(where, kind, child, 0, corr, spec ?? null);
    }
    return promise.then(() => undefined);
  }

  /** A halt or restart directive for an actor of this host, from its supervisor here or elsewhere. */
  onDirective(kind: number, id: ActorId, spec: SpawnSpec | undefined, corr: number, replyHost: number): void {
    const host = this.#host;
    const cell = host.cells.get(id);
    const starting = host.starting.startUnderWay(id);
    if (kind === Kind.restart) {
      // Restart orders can queue up for a worker that keeps dying (one per death):
      // the next waits for the start before it, then halts what that started, so
      // two inits never run side by side (each would leave an incarnation behind).
      if (starting !== undefined) {
        host.detach(starting.then(() => this.onDirective(kind, id, spec, corr, replyHost)), 'restart');
      } else {
        host.detach(host.starting.startActor(id, spec!, corr, replyHost, true), 'restart');
      }
      return;
    }
    if (cell?.status === 'starting' && starting !== undefined) {
      // A group restart reached it mid-start: let the start finish, then halt it,
      // rather than run a second init beside the first.
      host.detach(starting.then(() => this.onDirective(kind, id, spec, corr, replyHost)), 'halt');
      return;
    }
    if (cell === undefined || cell.status !== 'running') {
      const halting = cell?.halting;
      if (halting === undefined) host.replyTo(replyHost, corr, null);
      else void halting.then(() => host.replyTo(replyHost, corr, null));
      return;
    }
    host.detach(host.stopping.halt(cell).then(() => host.replyTo(replyHost, corr, null)), 'halt');
  }

  /** Tells an actor's supervisor how it ended, wherever that supervisor runs. */
  reportExit(cell: Cell, exit: ChildExit, reason: string, at: number): void {
    const host = this.#host;
    const parent = cell.parent;
    if (parent === 0 && exit !== 'stopped' && this.#restartHere(cell, exit, reason)) return;
    const supervisorHost = parent === 0 ? 0 : host.directory.hostOf(parent);
    if (supervisorHost < 0) {
      // Its supervisor is gone (it died with its worker, say): an orphan ends.
      if (exit !== 'stopped') host.detach(host.stopping.stopLocal(cell.id, 'supervisor-gone'), 'stop');
      return;
    }
    if (supervisorHost === host.index) {
      const supervisor = this.supervisorOf(parent);
      if (supervisor === undefined) {
        if (exit !== 'stopped') host.detach(host.stopping.stopLocal(cell.id, 'supervisor-gone'), 'stop');
        return;
      }
      host.detach(supervisor.childExited(cell.id, exit, reason, at), 'supervision');
      return;
    }
    host.out.sendValue(supervisorHost, Kind.childExit, parent, cell.id, 0, { k: exit, r: reason, t: at });
  }

  /** @internal the main thread reports the exits of the actors a dead worker hosted, those of one supervisor together. */
  childrenExitedRemotely(supervisor: number, children: readonly number[], exit: ChildExit, reason: string, at: number): void {
    const host = this.#host;
    const where = supervisor === 0 ? 0 : host.directory.hostOf(supervisor);
    if (where < 0) return;
    if (where === host.index) {
      const local = this.supervisorOf(supervisor);
      if (local !== undefined) host.detach(local.childrenExited(children, exit, reason, at), 'supervision');
      return;
    }
    for (const child of children) host.out.sendValue(where, Kind.childExit, supervisor, child, 0, { k: exit, r: reason, t: at });
  }

  /**
   * A spec for a start on this host whose args are a copy, not the object its
   * supervisor keeps: an init that changes its args (returns them as its
   * state, say) must not change the next incarnation's. A start on another
   * host gets its copy from the lane.
   */
  withOwnArgs(spec: SpawnSpec): SpawnSpec {
    // A temporary actor is never restarted: no next incarnation to protect.
    if (typeof spec.a !== 'object' || spec.a === null || spec.r === 'temporary') return spec;
    return { ...spec, a: fromKeptCopy(keepCopy(spec.a), this.#host.refFactory) };
  }

  /** Whether this worker restarts its crashed top-level actors itself (see #restartHere). */
  get restartsTopLevel(): boolean {
    return this.#rootWindow !== undefined && this.#host.index !== 0;
  }

  /**
   * The copy of a top-level actor's args this worker restarts it with. Equal
   * small args share one copy (a million actors spawned alike cost one); a
   * large one is its actor's own, so the table stays small.
   */
  keptArgsOf(spec: SpawnSpec): string | undefined {
    if (spec.r === 'temporary' || spec.a === undefined) return undefined;
    const copy = keepCopy(spec.a);
    return copy.length <= kInternedArgsLength ? internIn(this.#internedArgs, copy) : copy;
  }

  /**
   * A top-level actor that the root would restart (one_for_one, no backoff:
   * its own restart, now) is restarted here, on its worker, when the root's
   * shared window admits it: the decision the main thread would take, without
   * the two thread hand-offs of a round trip. Otherwise (past the limit, a
   * removal, no spec here) it returns false and the exit goes to the root,
   * which decides as it always does: past the limit, it gives up.
   */
  #restartHere(cell: Cell, exit: ExitKind, reason: string): boolean {
    if (!this.restartsTopLevel) return false;
    const host = this.#host;
    const restart = cell.restartType;
    if (!isRestartable(restart, exit)) return false;
    const source = cell.def === undefined ? undefined : host.definitions.sourceOf(cell.def);
    if (source === undefined || host.directory.hostOf(cell.id) !== host.index) return false;
    const kept = cell.keptArgs;
    let args: unknown;
    try {
      args = kept === undefined ? undefined : fromKeptCopy(kept, host.refFactory);
    } catch {
      // Bytes this host wrote itself; should they not decode, the root still has the spec.
      return false;
    }
    const spec: SpawnSpec = { u: source.u, e: source.e, a: args, p: 0 };
    if (cell.name !== undefined) spec.n = cell.name;
    if (restart === 'transient') spec.r = restart;
    const persistenceId = host.journaling.persistenceIdOf(cell.id);
    if (persistenceId !== undefined && persistenceId !== cell.name) spec.i = persistenceId;
    // Refused (past the limit), or another thread holds the window: the root decides.
    if (this.#rootWindow!.tryAdmit(monotonicMs()) !== true) return false;
    this.#emitDecided(0, { child: cell.id, exit, reason, decision: { restart: [cell.id], remove: [], escalate: false }, delayMs: 0 });
    host.detach(this.#confirmRestart(cell, host.starting.startActor(cell.id, spec, 0, host.index, true)), 'restart');
    return true;
  }

  /**
   * The root counts a restart order unanswered within spawnTimeoutMs as one
   * more abnormal exit, so a restarted child is never forgotten; a restart a
   * worker ordered itself is held to the same, or an init that never ends
   * would leave its actor starting for good.
   */
  async #confirmRestart(cell: Cell, started: Promise<void>): Promise<void> {
    const host = this.#host;
    const timeoutMs = host.options.spawnTimeoutMs;
    // unref'd: a closed worker's thread must not wait for it to end
    const inTime = await withTimeout(started, timeoutMs, false);
    if (!inTime && !host.closed && cell.status === 'starting' && host.cells.get(cell.id) === cell) {
      this.reportExit(cell, 'abnormal', `restart-unconfirmed: init did not finish within spawnTimeoutMs (${timeoutMs} ms)`, now());
    }
  }
}
