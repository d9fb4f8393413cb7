/**
 * Running messages on a host: a message for a local cell is queued in its
 * mailbox (or run at once when the cell is free and the record comes off a
 * lane), run with a ctx of its own, and an async handler keeps its cell busy
 * until it settles. The per-message path: the host, inbound and scheduler
 * call it for every message.
 */
import { performance } from 'node:perf_hooks';
import { Cell, Context, ContextCache, type CellHost } from '../actor/cell.js';
import { kindOf, srcHostOf } from '../codec/envelope.js';
import { ChaosFaultError } from '../errors.js';
import type { ActorId, Directory } from '../lane/directory.js';
import { SLOT_MASK } from '../lane/layout.js';
import type { HistogramWriter } from '../metrics/shared-histogram.js';
import type { HostOptions } from '../options.js';
import type { HostCounters } from './counters.js';
import type { DeadLetters } from './dead-letters.js';
import type { Stopping } from './stopping.js';
import type { HandlerSpan, HostTracing } from './tracing.js';
import type { WireSpanContext } from '../codec/trace-context.js';

/** What running messages needs of its host (a CellHost: every message gets a ctx over it). */
export interface RunnerHost extends CellHost {
  readonly options: HostOptions;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  /** The directory's count of messages in each slot's mailbox (Directory.queued): what dies with this thread. */
  readonly queuedBySlot: Int32Array;
  readonly counters: HostCounters;
  readonly deadLetters: DeadLetters;
  readonly scheduler: { schedule(cell: Cell): void };
  readonly stopping: Stopping;
  /** With the `tracing` option; undefined (and never called) without. */
  readonly tracing: HostTracing | undefined;
}

export class Runner {
  readonly #host: RunnerHost;
  readonly #counters: HostCounters;
  readonly #queuedBySlot: Int32Array;
  readonly #histogram: HistogramWriter;
  #sampleCountdown: number;
  /** The cell whose handler runs synchronously right now. */
  current: Cell | undefined = undefined;

  constructor(host: RunnerHost, histogram: HistogramWriter) {
    this.#host = host;
    this.#counters = host.counters;
    this.#queuedBySlot = host.queuedBySlot;
    this.#histogram = histogram;
    this.#sampleCountdown = host.options.statsSampleEvery;
  }

  placeholder(id: ActorId): Cell {
    const cell = new Cell(id);
    // A placeholder for an actor that had started means its worker died and
    // this is the replacement: who watched it is not known here.
    if (this.#host.directory.isStarted(id)) cell.watchersUnknown = true;
    this.#host.cells.set(id, cell);
    return cell;
  }

  /** Queues a message for a local cell; the scheduler runs it when the cell is free. */
  accept(cell: Cell, kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    if (cell.status === 'stopped') {
      this.#host.deadLetters.undeliverable(kindOf(kindWord), cell.id, sender, corr, trace, msg, 'stopped', srcHostOf(kindWord));
      return;
    }
    cell.enqueue(kindWord, sender, corr, trace, msg);
    this.#queuedBySlot[cell.id & SLOT_MASK]++;
    if (cell.status === 'running' && !cell.busy) this.#host.scheduler.schedule(cell);
  }

  invoke(cell: Cell, kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    const tracing = this.#host.tracing;
    if (tracing === undefined) this.#run(cell, kindWord, sender, corr, trace, msg, undefined);
    else tracing.invoke(cell, kindWord, msg, (span, message, context) => this.#run(cell, kindWord, sender, corr, trace, message, span, context));
  }

  #run(cell: Cell, kindWord: number, sender: number, corr: number, trace: number, msg: unknown, span: HandlerSpan | undefined, context?: WireSpanContext): void {
    cell.curKindWord = kindWord;
    cell.curSender = sender;
    cell.curCorr = corr;
    cell.curTrace = trace;
    cell.curMessage = msg;
    cell.replied = false;
    this.#counters.messagesIn++;
    const sample = --this.#sampleCountdown === 0;
    let startedAt = 0;
    if (sample) {
      this.#sampleCountdown = this.#host.options.statsSampleEvery;
      startedAt = performance.now();
    }
    const previous = this.current;
    this.current = cell;
    // A ctx per message, so a reply is bound to it (see Context).
    const ctx = new Context(this.#host, cell, (cell.ctx ??= new ContextCache()), true);
    let result: unknown;
    try {
      if (cell.crashNext) {
        cell.crashNext = false;
        throw new ChaosFaultError(`actor ${cell.label} crashed by fault injection`);
      }
      result = cell.def!.receive(cell.state, msg, ctx);
    } catch (error) {
      ctx.finish();
      this.current = previous;
      this.#host.tracing?.settled(cell, span, context, error);
      this.#host.stopping.crashed(cell, error);
      return;
    }
    this.current = previous;
    if (result !== undefined && result !== null && typeof (result as PromiseLike<void>).then === 'function') {
      cell.busy = true;
      this.#counters.busyActors++;
      // Not handled until it settles: if this thread dies first, it is reported with the mailbox.
      const slot = cell.id & SLOT_MASK;
      this.#queuedBySlot[slot]++;
      const incarnation = cell.incarnation;
      (result as PromiseLike<void>).then(
        () => {
          ctx.finish();
          this.#host.tracing?.settled(cell, span, context);
          this.#queuedBySlot[slot]--;
          if (cell.incarnation === incarnation) this.#settled(cell, startedAt);
        },
        (error: unknown) => {
          ctx.finish();
          this.#host.tracing?.settled(cell, span, context, error);
          this.#queuedBySlot[slot]--;
          // Left behind by a restart or stop that gave up waiting for it: its
          // failure is no longer this actor's.
          if (cell.incarnation !== incarnation) return;
          this.#counters.busyActors--;
          cell.markIdle();
          this.#host.stopping.crashed(cell, error);
        },
      );
      return;
    }
    ctx.finish();
    this.#host.tracing?.settled(cell, span, context);
    if (sample) this.#histogram.recordNs((performance.now() - startedAt) * 1e6);
  }

  #settled(cell: Cell, startedAt: number): void {
    this.#counters.busyActors--;
    if (startedAt !== 0) this.#histogram.recordNs((performance.now() - startedAt) * 1e6);
    cell.markIdle();
    if (cell.status === 'running' && cell.queued > 0) this.#host.scheduler.schedule(cell);
  }

  /** Runs up to `budget` queued messages of one cell. */
  drainMailbox(cell: Cell, budget: number): number {
    const mailbox = cell.mailbox;
    if (mailbox === undefined) return 0;
    let handled = 0;
    while (handled < budget && mailbox.length > 0 && cell.status === 'running' && !cell.busy) {
      const kindWord = mailbox.headKindWord();
      const sender = mailbox.headSender();
      const corr = mailbox.headCorr();
      const trace = mailbox.headTrace();
      const msg = mailbox.headMessage();
      mailbox.shift();
      this.invoke(cell, kindWord, sender, corr, trace, msg);
      // Counted until its handler has run: a thread that dies inside it reports it with the mailbox.
      this.#queuedBySlot[cell.id & SLOT_MASK]--;
      handled++;
    }
    return handled;
  }
}
