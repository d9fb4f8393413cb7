/**
 * How actors end on a host: a crash or exit halts the actor (children
 * stopped, onStop run, state dropped, mailbox kept) and its supervisor
 * decides; a stop ends it for good (slot freed, queued messages
 * dead-lettered, watchers and supervisor told). OTP's shutdown: each wait on
 * user code is bounded by shutdownTimeoutMs.
 */
import { Context, ContextCache, type Cell, type CellHost, type CellStatus } from '../actor/cell.js';
import { kindOf, Kind, srcHostOf } from '../codec/envelope.js';
import { ActorCrashedError, errorToWire } from '../errors.js';
import { generationOf, slotOf, type ActorId, type Directory } from '../lane/directory.js';
import { GENERATION_MASK, SLOT_MASK } from '../lane/layout.js';
import type { HostOptions } from '../options.js';
import type { ExitKind } from '../supervision/strategy.js';
import type { SystemEvent, SystemEventType } from './lifecycle-events.js';
import { now, withTimeout } from './clock.js';
import type { HostCounters } from './counters.js';
import type { DeadLetters } from './dead-letters.js';
import type { MainDuties } from './main-duties.js';
import type { Outbound } from './outbound.js';
import type { PendingTable } from './pending.js';
import type { SupervisionLink } from './supervision-link.js';
import type { Watches } from './watches.js';

/** What ending actors needs of its host (a CellHost too: init and onStop get a ctx). */
export interface StoppingHost extends CellHost {
  readonly index: number;
  readonly options: HostOptions;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly freeSlots: number[];
  readonly queuedBySlot: Int32Array;
  readonly pending: PendingTable;
  readonly counters: HostCounters;
  readonly out: Outbound;
  readonly main: MainDuties | undefined;
  readonly supervision: SupervisionLink;
  readonly watches: Watches;
  readonly journaling: { forget(id: number): void };
  detach(work: Promise<unknown>, what: string): void;
  wants(type: SystemEventType): boolean;
  emit(event: SystemEvent): void;
  readonly deadLetters: DeadLetters;
  replyErrorTo(host: number, corr: number, error: unknown): void;
}

/** What a passivation request found: stopped it, left it (it has work), or nothing to stop. */
export type PassivateOutcome = 'passivated' | 'busy' | 'gone';

export class Stopping {
  readonly #host: StoppingHost;

  constructor(host: StoppingHost) {
    this.#host = host;
  }

  /** A handler threw (or returned a rejected promise): reported, then the actor exits abnormally. Never throws. */
  crashed(cell: Cell, error: unknown): void {
    const host = this.#host;
    try {
      host.counters.errors++;
      const wire = errorToWire(error);
      host.log.warn({ actor: cell.id, actorName: cell.name, correlationId: cell.curTrace === 0 ? undefined : cell.curTrace, err: error }, 'actor crashed');
      const kindWord = cell.curKindWord;
      if (kindOf(kindWord) === Kind.ask && !cell.replied) {
        cell.replied = true;
        host.replyErrorTo(srcHostOf(kindWord), cell.curCorr, new ActorCrashedError(cell.label, error));
      }
      host.deadLetters.report(cell.id, cell.curSender, cell.curMessage, 'crashed', wire, cell.curTrace);
      cell.curMessage = undefined;
      if (host.wants('actor.crashed')) {
        const event: SystemEvent = { type: 'actor.crashed', at: now(), host: host.hostName, id: cell.id, error: wire };
        if (cell.name !== undefined) event.name = cell.name;
        host.emit(event);
      }
      host.detach(this.exit(cell, 'abnormal', `crashed: ${wire.message}`), 'exit');
    } catch (failure) {
      host.counters.errors++;
      host.log.error({ actor: cell.id, err: failure }, 'reporting a crash failed');
    }
  }

  /**
   * The actor ended or failed (crash, exit(), escalation, failed restart):
   * it halts (children stopped, onStop run, state dropped, mailbox kept) and
   * its supervisor decides what happens next.
   */
  async exit(cell: Cell, kind: ExitKind, reason: string): Promise<void> {
    if (cell.status !== 'running') return;
    const at = now();
    await this.halt(cell);
    if ((cell.status as CellStatus) === 'halted') this.#host.supervision.reportExit(cell, kind, reason, at);
  }

  halt(cell: Cell): Promise<void> {
    if (cell.halting !== undefined) return cell.halting;
    cell.status = 'halting';
    cell.halting = (async () => {
      await this.#stopChildren(cell, 'parent-restarting');
      await this.#awaitHandler(cell);
      if (cell.def?.onStop !== undefined) await withTimeout(this.runOnStop(cell, cell.state), this.#host.options.shutdownTimeoutMs);
      cell.state = undefined;
      cell.supervisor = undefined;
      if (cell.status === 'halting') cell.status = 'halted';
    })();
    void cell.halting.finally(() => (cell.halting = undefined));
    return cell.halting;
  }

  /** Stops actor `id` wherever it runs. */
  stopActor(id: number, reason: string): Promise<void> {
    const host = this.#host;
    const where = host.directory.hostOf(id);
    if (where < 0) return Promise.resolve();
    if (where === host.index) return this.stopLocal(id as ActorId, reason);
    const { options } = host;
    const { corr, promise } = host.pending.open(where, `stop #${id}`, 2 * options.shutdownTimeoutMs + options.askTimeoutMs);
    host.out.sendValue(where, Kind.stop, id, 0, corr, reason);
    return promise.then(() => undefined);
  }

  /**
   * Stops actor `id` wherever it runs if it is idle there: nothing in its
   * mailbox, no handler running, started. Whatever its host read before this
   * request (every message sent to it earlier on the same lane) has then been
   * handled, so passivating loses nothing the asker sent.
   */
  passivate(id: number): Promise<PassivateOutcome> {
    const host = this.#host;
    const where = host.directory.hostOf(id);
    if (where < 0) return Promise.resolve('gone');
    if (where === host.index) return this.passivateLocal(id as ActorId);
    const { options } = host;
    const { corr, promise } = host.pending.open(where, `passivate #${id}`, 2 * options.shutdownTimeoutMs + options.askTimeoutMs);
    host.out.sendEmpty(where, Kind.passivate, id, 0, corr, false);
    return promise as Promise<PassivateOutcome>;
  }

  passivateLocal(id: ActorId): Promise<PassivateOutcome> {
    const cell = this.#host.cells.get(id);
    if (cell === undefined || cell.status === 'stopped' || cell.stopping !== undefined) return Promise.resolve('gone');
    if (cell.status !== 'running' || cell.busy || cell.queued > 0) return Promise.resolve('busy');
    return this.stopLocal(id, 'passivated').then(() => 'passivated' as const);
  }

  /** Stops an actor for good: children first, then onStop (each bounded by shutdownTimeoutMs, OTP's shutdown), then gone. */
  stopLocal(id: ActorId, reason: string): Promise<void> {
    const host = this.#host;
    const cell = host.cells.get(id);
    if (cell === undefined) {
      // Placed here but no cell: its worker died before this replacement heard of it.
      const started = host.directory.isStarted(id);
      if (host.directory.release(id)) this.recycle(id);
      if (started) {
        host.watches.announceGone(id, undefined, reason, undefined);
        // Its name, if it had one, is known on the main thread, which adds it.
        if (host.wants('actor.stopped')) host.emit({ type: 'actor.stopped', at: now(), host: host.hostName, id, reason });
      }
      return Promise.resolve();
    }
    if (cell.stopping !== undefined) return cell.stopping;
    if (cell.status === 'stopped') return Promise.resolve();
    const wasRunning = cell.status === 'running';
    const halting = cell.halting;
    cell.status = 'stopping';
    cell.stopping = (async () => {
      if (halting !== undefined) await halting;
      if (wasRunning) {
        await this.#stopChildren(cell, 'parent-stopped');
        await this.#awaitHandler(cell);
        if (cell.def?.onStop !== undefined) await withTimeout(this.runOnStop(cell, cell.state), host.options.shutdownTimeoutMs);
      }
      this.terminate(cell, reason, true);
    })();
    return cell.stopping;
  }

  /**
   * Waits (up to shutdownTimeoutMs, OTP's shutdown) for a running async
   * handler, then leaves it behind: the incarnation moves on, so whatever
   * that handler does when it finally settles is ignored.
   */
  async #awaitHandler(cell: Cell): Promise<void> {
    if (cell.busy) await withTimeout(cell.whenIdle(), this.#host.options.shutdownTimeoutMs);
    if (cell.busy) {
      this.#host.counters.busyActors--;
      cell.markIdle();
    }
    cell.incarnation++;
  }

  async #stopChildren(cell: Cell, reason: string): Promise<void> {
    const supervisor = cell.supervisor;
    if (supervisor === undefined || supervisor.size === 0) return;
    // Reverse start order, as OTP stops a supervisor's children.
    for (const child of supervisor.childIds().reverse()) {
      supervisor.forget(child);
      try {
        await this.stopActor(child, reason);
      } catch (error) {
        this.#host.log.warn({ actor: cell.id, child, err: error }, 'child did not stop cleanly');
      }
    }
  }

  /** The end of an actor: slot freed, queued messages dead-lettered, watchers and supervisor told. */
  terminate(cell: Cell, reason: string, tellSupervisor: boolean): void {
    const host = this.#host;
    if (cell.status === 'stopped') return;
    const wasLive = cell.started;
    cell.status = 'stopped';
    host.cells.delete(cell.id);
    host.journaling.forget(cell.id);
    if (host.directory.release(cell.id)) this.recycle(cell.id);
    if (wasLive) {
      host.counters.stopped++;
      host.counters.liveActors--;
    }
    const mailbox = cell.mailbox;
    if (mailbox !== undefined) {
      while (mailbox.length > 0) {
        const kindWord = mailbox.headKindWord();
        const sender = mailbox.headSender();
        const corr = mailbox.headCorr();
        const trace = mailbox.headTrace();
        const msg = mailbox.headMessage();
        mailbox.shift();
        host.deadLetters.undeliverable(kindOf(kindWord), cell.id, sender, corr, trace, msg, 'stopped', srcHostOf(kindWord));
      }
      host.queuedBySlot[cell.id & SLOT_MASK] = 0;
    }
    host.watches.announceGone(cell.id, cell.name, reason, cell.watchersUnknown ? undefined : cell.watchers);
    // Its own watches end with it, on both sides.
    if (cell.watching !== undefined) for (const target of [...cell.watching]) host.watches.unwatch(cell.id, target);
    if (tellSupervisor) host.supervision.reportExit(cell, 'stopped', reason, now());
    if (cell.name !== undefined && host.index === 0) host.main!.releaseName(cell.name, cell.id);
    if (wasLive && (host.wants('actor.stopped') || (cell.name !== undefined && host.index !== 0))) {
      const event: SystemEvent = { type: 'actor.stopped', at: now(), host: host.hostName, id: cell.id, reason };
      if (cell.name !== undefined) event.name = cell.name;
      host.emit(event);
    }
  }

  /**
   * Returns a freed id's slot for reuse, unless its generation is the last:
   * then the slot retires, so a stale ref can never wrap around to a stranger.
   */
  recycle(id: number): void {
    if (generationOf(id) < GENERATION_MASK) this.returnSlot(slotOf(id));
  }

  returnSlot(slot: number): void {
    this.#host.freeSlots.push(slot);
    this.#host.directory.keep(slot, this.#host.index);
  }

  /**
   * The ctx of init and onStop: the actor's own, answering no message. Its
   * cache is not kept if the cell has none yet: an actor that has only been
   * spawned keeps no ctx state (a million idle actors stay small).
   */
  outsideContext(cell: Cell): Context {
    return new Context(this.#host, cell, cell.ctx ?? new ContextCache(), false);
  }

  async runOnStop(cell: Cell, state: unknown): Promise<void> {
    const onStop = cell.def?.onStop;
    if (onStop === undefined) return;
    try {
      await onStop(state, this.outsideContext(cell));
    } catch (error) {
      this.#host.log.warn({ actor: cell.id, err: error }, 'onStop threw');
    }
  }
}
