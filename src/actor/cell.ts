import type { Logger } from 'pino';
import type { SpawnSpec } from '../codec/envelope.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { ActorId } from '../lane/directory.js';
import type { ActorContext, HostName, ReplyHandle, SpawnOptions } from './context.js';
import type { ActorDefinition } from './define-actor.js';
import { Mailbox } from './mailbox.js';
import type { ActorRef, AskOptions } from './ref.js';

/**
 * `pending`: messages arrived before the spawn record (buffered);
 * `starting`: module loading / init running; `running`;
 * `halting`: it exited or failed, children and onStop running;
 * `halted`: waiting for its supervisor's decision (messages queue);
 * `stopping`: stopping for good; `stopped`: gone.
 */
export type CellStatus = 'pending' | 'starting' | 'running' | 'halting' | 'halted' | 'stopping' | 'stopped';

/** @internal What a cell needs from its host. */
export interface CellHost {
  readonly hostName: HostName;
  readonly log: Logger;
  refFor(id: number, name: string | undefined): ActorRef;
  reply(cell: Cell, value: unknown): void;
  deferReply(cell: Cell): ReplyHandle<any>;
  forward(cell: Cell, target: ActorRef, msg: unknown): boolean;
  spawnChild(cell: Cell, moduleUrl: URL | string, options: SpawnOptions | undefined): Promise<ActorRef>;
  stopActor(id: number, reason: string): Promise<void>;
  exitActor(cell: Cell): void;
  watch(watcher: number, target: number): Promise<void>;
  unwatch(watcher: number, target: number): void;
}

/** One actor: behaviour, state, mailbox and lifecycle bookkeeping. */
export class Cell {
  readonly id: ActorId;
  name: string | undefined = undefined;
  spec: SpawnSpec | undefined = undefined;
  def: ActorDefinition | undefined = undefined;
  state: unknown = undefined;
  status: CellStatus = 'pending';
  /** An async handler of this actor is awaiting; later messages wait. */
  busy = false;
  /** In the host's run queue. */
  scheduled = false;
  mailbox: Mailbox | undefined = undefined;
  parent = 0;
  /** Present once this actor has children: it supervises them. */
  supervisor: Supervisor | undefined = undefined;
  watchers: Set<number> | undefined = undefined;
  /** What this actor watches, so its watches are dropped when it ends. */
  watching: Set<number> | undefined = undefined;
  /** Recreated after its worker died: watchers registered before are unknown here, so its end is broadcast. */
  watchersUnknown = false;
  ctx: Context | undefined = undefined;
  // The message being handled; ctx.reply and ctx.sender read these, also after an await.
  curKindWord = 0;
  curSender = 0;
  curCorr = 0;
  curTrace = 0;
  curMessage: unknown = undefined;
  replied = false;
  stopping: Promise<void> | undefined = undefined;
  halting: Promise<void> | undefined = undefined;
  /** While a start (or restart) is under way: settles when it has finished, one way or the other. */
  starting: Promise<void> | undefined = undefined;
  /**
   * Bumped when an incarnation is left behind (halted, stopped): an async
   * handler of an older one that settles late must not touch the new one.
   */
  incarnation = 0;
  /** Fault injection: the next message crashes it (troupe/chaos). */
  crashNext = false;
  /** Reached `running` at least once (counted as spawned). */
  started = false;
  #idleWaiters: (() => void)[] | undefined = undefined;

  constructor(id: ActorId) {
    this.id = id;
  }

  get label(): string {
    return this.name === undefined ? `#${this.id}` : `#${this.id}(${this.name})`;
  }

  enqueue(kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    (this.mailbox ??= new Mailbox()).push(kindWord, sender, corr, trace, msg);
  }

  get queued(): number {
    return this.mailbox === undefined ? 0 : this.mailbox.length;
  }

  /** Resolves once no handler of this actor is running. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  markIdle(): void {
    this.busy = false;
    const waiters = this.#idleWaiters;
    if (waiters !== undefined) {
      this.#idleWaiters = undefined;
      for (const resolve of waiters) resolve();
    }
  }
}

/** The `ctx` handed to an actor's handlers. */
export class Context implements ActorContext {
  readonly #host: CellHost;
  readonly #cell: Cell;
  #self: ActorRef | undefined;
  #log: Logger | undefined;
  #tracedLog: Logger | undefined;
  #tracedLogFor = 0;

  constructor(host: CellHost, cell: Cell) {
    this.#host = host;
    this.#cell = cell;
  }

  get self(): ActorRef {
    return (this.#self ??= this.#host.refFor(this.#cell.id, this.#cell.name));
  }

  get sender(): ActorRef | undefined {
    const sender = this.#cell.curSender;
    return sender === 0 ? undefined : this.#host.refFor(sender, undefined);
  }

  get host(): HostName {
    return this.#host.hostName;
  }

  get log(): Logger {
    const base = (this.#log ??= this.#host.log.child(this.#cell.name === undefined ? { actor: this.#cell.id } : { actor: this.#cell.id, actorName: this.#cell.name }));
    const trace = this.#cell.curTrace;
    if (trace === 0) return base;
    if (this.#tracedLogFor !== trace) {
      this.#tracedLog = base.child({ correlationId: trace });
      this.#tracedLogFor = trace;
    }
    return this.#tracedLog!;
  }

  get correlationId(): number | undefined {
    return this.#cell.curTrace === 0 ? undefined : this.#cell.curTrace;
  }

  reply(value: unknown): void {
    this.#host.reply(this.#cell, value);
  }

  deferReply<TReply = unknown>(): ReplyHandle<TReply> {
    return this.#host.deferReply(this.#cell);
  }

  forward(ref: ActorRef, msg?: unknown): boolean {
    return this.#host.forward(this.#cell, ref, arguments.length < 2 ? this.#cell.curMessage : msg);
  }

  tell(ref: ActorRef, msg: unknown): boolean {
    return ref.tellAs(msg, this.#cell.id, this.#cell.curTrace);
  }

  ask<TReply = any>(ref: ActorRef, msg: unknown, options?: AskOptions): Promise<TReply> {
    return ref.askAs(msg, this.#cell.id, this.#cell.curTrace, options) as Promise<TReply>;
  }

  spawn<TChildMsg = any>(moduleUrl: URL | string, options?: SpawnOptions): Promise<ActorRef<TChildMsg>> {
    return this.#host.spawnChild(this.#cell, moduleUrl, options);
  }

  stop(ref?: ActorRef): Promise<void> {
    if (ref === undefined || ref.id === this.#cell.id) {
      // Stopping itself: the stop waits for this very handler to finish, so the
      // promise resolves once the stop is under way, not once it is done (an
      // `await ctx.stop()` would otherwise wait on itself until the timeout).
      const stopping = this.#host.stopActor(this.#cell.id, 'stopped-itself');
      stopping.catch(() => undefined);
      return Promise.resolve();
    }
    return this.#host.stopActor(ref.id, 'stopped');
  }

  exit(): void {
    this.#host.exitActor(this.#cell);
  }

  watch(ref: ActorRef): Promise<void> {
    return this.#host.watch(this.#cell.id, ref.id);
  }

  unwatch(ref: ActorRef): void {
    this.#host.unwatch(this.#cell.id, ref.id);
  }
}
