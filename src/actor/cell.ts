import type { WireSpanContext } from '../codec/trace-context.js';
import type { Logger } from 'pino';
import type { RestartType } from '../supervision/strategy.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { ActorId } from '../lane/directory.js';
import type { ActorContext, HostName, ReplyHandle, SpawnOptions } from './context.js';
import type { ActorDefinition } from './define-actor.js';
import { ActorStoppedError, InvalidArgumentError } from '../errors.js';
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
  /** Whether `cell`'s handler is running synchronously right now (this host's current cell). */
  isHandling(cell: Cell): boolean;
  /** A reply, deferral or forward through a ctx whose message has been handled: a dead letter. */
  answerAfterHandler(cell: Cell, what: 'reply' | 'forward', value: unknown): void;
  spawnChild(cell: Cell, moduleUrl: URL | string, options: SpawnOptions | undefined): Promise<ActorRef>;
  stopActor(id: number, reason: string): Promise<void>;
  exitActor(cell: Cell): void;
  watch(watcher: number, target: number): Promise<void>;
  unwatch(watcher: number, target: number): void;
  /** A watch of an actor on another cluster node. */
  watchRemote(watcher: number, ref: ActorRef): Promise<void>;
  unwatchRemote(watcher: number, ref: ActorRef): void;
  persist(cell: Cell, events: unknown): Promise<void>;
}

const kBusy = 1;
const kScheduled = 2;
const kReplied = 4;
const kStarted = 8;
const kTransient = 16;
const kTemporary = 32;
const kFlagBits = 63;
const kIncarnationShift = 6;
/** 24 bits: the flags stay a small integer (31 bits). */
const kIncarnationMask = 0xffffff;

/** One actor: behaviour, state, mailbox and lifecycle bookkeeping. */
export class Cell {
  readonly id: ActorId;
  name: string | undefined = undefined;
  def: ActorDefinition | undefined = undefined;
  state: unknown = undefined;
  status: CellStatus = 'pending';
  mailbox: Mailbox | undefined = undefined;
  parent = 0;
  /** What its ctxs share (ContextCache), made by its first message. */
  ctx: ContextCache | undefined = undefined;
  // The message being handled; a live ctx reads these, also after an await
  // (the cell handles one message at a time, so they stay its message's).
  curKindWord = 0;
  curSender = 0;
  curCorr = 0;
  curTrace = 0;
  curMessage: unknown = undefined;
  /** With the `tracing` option: the span context of the message being handled (what it sends carries, where no context manager says). */
  curSpanContext: WireSpanContext | undefined = undefined;
  /**
   * A top-level actor's init args as spawned (`keepCopy`), on a worker that
   * restarts it itself: a field, not a map entry, at a million actors.
   */
  keptArgs: string | undefined = undefined;
  /** busy, scheduled, replied, started, restart type and incarnation: one small integer, not a field each. */
  #flags = 0;
  /** What most actors never need, allocated by the first that does: a million idle actors stay small. */
  #rare: RareCellState | undefined = undefined;

  constructor(id: ActorId) {
    this.id = id;
  }

  /** An async handler of this actor is awaiting; later messages wait. */
  get busy(): boolean {
    return (this.#flags & kBusy) !== 0;
  }
  set busy(value: boolean) {
    this.#flags = value ? this.#flags | kBusy : this.#flags & ~kBusy;
  }

  /** In the host's run queue. */
  get scheduled(): boolean {
    return (this.#flags & kScheduled) !== 0;
  }
  set scheduled(value: boolean) {
    this.#flags = value ? this.#flags | kScheduled : this.#flags & ~kScheduled;
  }

  /** The message being handled has been answered. */
  get replied(): boolean {
    return (this.#flags & kReplied) !== 0;
  }
  set replied(value: boolean) {
    this.#flags = value ? this.#flags | kReplied : this.#flags & ~kReplied;
  }

  /** Reached `running` at least once (counted as spawned). */
  get started(): boolean {
    return (this.#flags & kStarted) !== 0;
  }
  set started(value: boolean) {
    this.#flags = value ? this.#flags | kStarted : this.#flags & ~kStarted;
  }

  /**
   * Bumped when an incarnation is left behind (halted, stopped): an async
   * handler of an older one that settles late must not touch the new one.
   * It wraps after 16.7 M restarts, which a handler would have to outlive
   * exactly to be mistaken for the current one.
   */
  get incarnation(): number {
    return this.#flags >>> kIncarnationShift;
  }
  set incarnation(value: number) {
    this.#flags = (this.#flags & kFlagBits) | ((value & kIncarnationMask) << kIncarnationShift);
  }

  /** Its restart type (spawn option `restart`), for a worker that restarts a top-level actor itself. */
  get restartType(): RestartType {
    return (this.#flags & kTemporary) !== 0 ? 'temporary' : (this.#flags & kTransient) !== 0 ? 'transient' : 'permanent';
  }
  set restartType(value: RestartType) {
    this.#flags = (this.#flags & ~(kTransient | kTemporary)) | (value === 'transient' ? kTransient : value === 'temporary' ? kTemporary : 0);
  }

  #rareState(): RareCellState {
    return (this.#rare ??= new RareCellState());
  }

  /** A field at its default (undefined, false) takes no object: the last one cleared drops it. */
  #setRare<K extends Exclude<keyof RareCellState, 'isEmpty'>>(key: K, value: RareCellState[K]): void {
    if (value !== undefined && value !== false) this.#rareState()[key] = value;
    else if (this.#rare !== undefined) {
      this.#rare[key] = value;
      this.#dropRareIfEmpty();
    }
  }

  /**
   * Every halt sets `halting` for a moment: without this, each actor that was
   * ever restarted would keep an empty RareCellState (~100 B) for good.
   */
  #dropRareIfEmpty(): void {
    if (this.#rare?.isEmpty() === true) this.#rare = undefined;
  }

  /** Present once this actor has children: it supervises them. */
  get supervisor(): Supervisor | undefined {
    return this.#rare?.supervisor;
  }
  set supervisor(value: Supervisor | undefined) {
    this.#setRare('supervisor', value);
  }

  get watchers(): Set<number> | undefined {
    return this.#rare?.watchers;
  }
  set watchers(value: Set<number> | undefined) {
    this.#setRare('watchers', value);
  }

  /** What this actor watches, so its watches are dropped when it ends. */
  get watching(): Set<number> | undefined {
    return this.#rare?.watching;
  }
  set watching(value: Set<number> | undefined) {
    this.#setRare('watching', value);
  }

  /** Recreated after its worker died: watchers registered before are unknown here, so its end is broadcast. */
  get watchersUnknown(): boolean {
    return this.#rare?.watchersUnknown ?? false;
  }
  set watchersUnknown(value: boolean) {
    this.#setRare('watchersUnknown', value);
  }

  get stopping(): Promise<void> | undefined {
    return this.#rare?.stopping;
  }
  set stopping(value: Promise<void> | undefined) {
    this.#setRare('stopping', value);
  }

  get halting(): Promise<void> | undefined {
    return this.#rare?.halting;
  }
  set halting(value: Promise<void> | undefined) {
    this.#setRare('halting', value);
  }

  /** Fault injection: the next message crashes it (troupe/chaos). */
  get crashNext(): boolean {
    return this.#rare?.crashNext ?? false;
  }
  set crashNext(value: boolean) {
    this.#setRare('crashNext', value);
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
    return new Promise((resolve) => (this.#rareState().idleWaiters ??= []).push(resolve));
  }

  markIdle(): void {
    this.busy = false;
    const waiters = this.#rare?.idleWaiters;
    if (waiters !== undefined) {
      this.#rare!.idleWaiters = undefined;
      this.#dropRareIfEmpty();
      for (const resolve of waiters) resolve();
    }
  }
}

class RareCellState {
  supervisor: Supervisor | undefined = undefined;
  watchers: Set<number> | undefined = undefined;
  watching: Set<number> | undefined = undefined;
  watchersUnknown = false;
  stopping: Promise<void> | undefined = undefined;
  halting: Promise<void> | undefined = undefined;
  crashNext = false;
  idleWaiters: (() => void)[] | undefined = undefined;

  isEmpty(): boolean {
    return (
      this.supervisor === undefined &&
      this.watchers === undefined &&
      this.watching === undefined &&
      !this.watchersUnknown &&
      this.stopping === undefined &&
      this.halting === undefined &&
      !this.crashNext &&
      this.idleWaiters === undefined
    );
  }
}

/** What every ctx of one actor shares, made by its first message: its own ref and loggers. */
export class ContextCache {
  self: ActorRef | undefined = undefined;
  /** Made by the first ctx.log: most actors never log. */
  logs: { base: Logger; traced: Logger | undefined; tracedFor: number } | undefined = undefined;
}

/**
 * The `ctx` handed to an actor's handlers. A reply is bound to the message it
 * answers: every message gets a ctx of its own, live while its handler runs
 * (until it returns, or until the promise it returned settles) and only in
 * the incarnation that handled it. A ctx whose handler has settled, and the
 * ctx of init and onStop, act only for a message whose handler is running
 * synchronously at the moment (see #live): from a timer or from another
 * handler's continuation, `reply`, `deferReply` and `forward` through them
 * answer nothing, and their value is a dead letter.
 * A ctx is four fields; what is worth keeping between messages (the actor's
 * ref, its loggers) lives in the cell's ContextCache.
 */
export class Context implements ActorContext {
  readonly #host: CellHost;
  readonly #cell: Cell;
  readonly #cache: ContextCache;
  /** The incarnation the message belongs to, or -1 once its handler settled (and for init and onStop). */
  #incarnation: number;

  constructor(host: CellHost, cell: Cell, cache: ContextCache, handling: boolean) {
    this.#host = host;
    this.#cell = cell;
    this.#cache = cache;
    this.#incarnation = handling ? cell.incarnation : -1;
  }

  /** @internal Its handler settled (or was left behind): the ctx answers nothing any more. */
  finish(): void {
    this.#incarnation = -1;
  }

  /**
   * A message is current for this ctx: its own, while its handler runs (a
   * restart that gave up on the handler bumped the incarnation); or, for any
   * other ctx of the actor (kept from init or an earlier message, as
   * `reliableProducer` keeps one), the message whose handler is running
   * synchronously right now. A timer or another handler's continuation runs
   * outside any handler's synchronous part: there, such a ctx answers nothing.
   */
  #live(): boolean {
    return this.#incarnation === this.#cell.incarnation || this.#host.isHandling(this.#cell);
  }

  get self(): ActorRef {
    return (this.#cache.self ??= this.#host.refFor(this.#cell.id, this.#cell.name));
  }

  get sender(): ActorRef | undefined {
    const sender = this.#live() ? this.#cell.curSender : 0;
    return sender === 0 ? undefined : this.#host.refFor(sender, undefined);
  }

  get host(): HostName {
    return this.#host.hostName;
  }

  get log(): Logger {
    const logs = (this.#cache.logs ??= {
      base: this.#host.log.child(this.#cell.name === undefined ? { actor: this.#cell.id } : { actor: this.#cell.id, actorName: this.#cell.name }),
      traced: undefined,
      tracedFor: 0,
    });
    const trace = this.#trace();
    if (trace === 0) return logs.base;
    if (logs.tracedFor !== trace) {
      logs.traced = logs.base.child({ correlationId: trace });
      logs.tracedFor = trace;
    }
    return logs.traced!;
  }

  get correlationId(): number | undefined {
    const trace = this.#trace();
    return trace === 0 ? undefined : trace;
  }

  #trace(): number {
    return this.#live() ? this.#cell.curTrace : 0;
  }

  reply(value: unknown): void {
    if (this.#live()) this.#host.reply(this.#cell, value);
    else this.#host.answerAfterHandler(this.#cell, 'reply', value);
  }

  deferReply<TReply = unknown>(): ReplyHandle<TReply> {
    if (this.#live()) return this.#host.deferReply(this.#cell);
    const late = (value: unknown): void => this.#host.answerAfterHandler(this.#cell, 'reply', value);
    return { send: late, fail: late };
  }

  forward(ref: ActorRef, msg?: unknown): boolean {
    if (this.#live()) return this.#host.forward(this.#cell, ref, arguments.length < 2 ? this.#cell.curMessage : msg);
    this.#host.answerAfterHandler(this.#cell, 'forward', msg);
    return false;
  }

  tell(ref: ActorRef, msg: unknown): boolean {
    return ref.tellAs(msg, this.#cell.id, this.#trace());
  }

  ask<TReply = any>(ref: ActorRef, msg: unknown, options?: AskOptions): Promise<TReply> {
    return ref.askAs(msg, this.#cell.id, this.#trace(), options) as Promise<TReply>;
  }

  spawn<TChildMsg = any>(moduleUrl: URL | string, options?: SpawnOptions): Promise<ActorRef<TChildMsg>> {
    return this.#host.spawnChild(this.#cell, moduleUrl, options);
  }

  stop(ref?: ActorRef): Promise<void> {
    if (ref?.address !== undefined) {
      // Its id is another node's: stopping it here would stop whichever local actor has that id.
      return Promise.reject(new InvalidArgumentError(`ctx.stop(${String(ref)}): an actor on another node is stopped with system.stop(ref) on any node`));
    }
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
    if (ref.address !== undefined) return this.#host.watchRemote(this.#cell.id, ref);
    return this.#host.watch(this.#cell.id, ref.id);
  }

  unwatch(ref: ActorRef): void {
    if (ref.address !== undefined) this.#host.unwatchRemote(this.#cell.id, ref);
    else this.#host.unwatch(this.#cell.id, ref.id);
  }

  persist(event: unknown): Promise<void> {
    if (!this.#live()) return Promise.reject(new ActorStoppedError(this.#cell.label, 'its message was handled before it persisted'));
    return this.#host.persist(this.#cell, event);
  }
}
