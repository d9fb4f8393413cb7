import type { Logger } from 'pino';
import type { ActorRef, AskOptions } from './ref.js';

/** Where an actor runs: `'main'` or the index of a worker. */
export type HostName = 'main' | number;

export interface SpawnOptions<TArgs = unknown> {
  /** A name unique in the system, for `system.lookup`. */
  name?: string;
  /** Passed to the actor's `init`; must be encodable like any message. */
  args?: TArgs;
  /**
   * Where to run: a worker index, `'main'`, or `'local'` (the spawner's own
   * host). Default: the next worker in round-robin order.
   */
  host?: HostName | 'local';
  /** Which export of the module holds the definition. @default 'default' */
  export?: string;
  /**
   * OTP restart type, applied by the actor's supervisor (its parent, or the
   * root for `system.spawn`): `permanent` is always restarted, `transient` only
   * after an abnormal exit, `temporary` never (not even when a sibling's
   * failure takes it down), so its supervisor keeps no spec for it: a
   * temporary child costs its supervisor one map entry. @default 'permanent'
   */
  restart?: 'permanent' | 'transient' | 'temporary';
  /**
   * The journal of a durable actor (one whose definition has `persistence`):
   * spawning it recovers the state written under this id. @default its `name`
   */
  persistenceId?: string;
  /**
   * The cluster node to start it on (a system with the `cluster` option): it
   * runs there, under that node's root supervisor (supervision stays per
   * node), and the ref answers from anywhere. From `ctx.spawn` the spawning
   * actor also watches it: a `down` comes when it ends, with reason
   * `nodedown` if its node is lost. It is not stopped with the spawning
   * actor (stop it with `system.stop`). @default this node
   */
  node?: string;
}

/** What a handler sees besides its state and message. */
export interface ActorContext<TMsg = any> {
  readonly self: ActorRef<TMsg>;
  /** The actor that sent the current message, if an actor sent it. */
  readonly sender: ActorRef | undefined;
  /** The host this actor runs on. */
  readonly host: HostName;
  /** pino logger bound to system, host and actor, and to the correlation id of the current message. */
  readonly log: Logger;
  /**
   * The correlation id of the message being handled, if it has one. Every
   * tell and ask the handler makes carries it on (the synchronous part of the
   * handler through `ref.tell`, any part through `ctx.tell` / `ctx.ask`), so
   * one id follows a request through every message it causes.
   */
  readonly correlationId: number | undefined;
  /**
   * Answers the current message: resolves the caller's `ask`, or, for a `tell`
   * from an actor, tells the sender. Works after an `await` too, while the
   * handler is still running. Without anyone to answer, the value is a dead letter.
   */
  reply(value: unknown): void;
  /**
   * Takes over the reply to the current message, to answer it later (after
   * other messages have been handled). The handle works once; it is local to
   * this actor and cannot be sent to another.
   */
  deferReply<TReply = unknown>(): ReplyHandle<TReply>;
  /**
   * Passes the current message (or `msg` instead) to `ref`, keeping the
   * original sender; if the message is an ask, `ref`'s reply answers it.
   */
  forward(ref: ActorRef, msg?: unknown): boolean;
  /** `ref.tell(msg)` with this actor as the sender (safe after an `await`). */
  tell(ref: ActorRef, msg: unknown): boolean;
  /** `ref.ask(msg)` with this actor as the sender (safe after an `await`). */
  ask<TReply = any>(ref: ActorRef, msg: unknown, options?: AskOptions): Promise<TReply>;
  /** Starts a child of this actor; it stops when this actor stops or restarts. With `node`, see SpawnOptions.node. */
  spawn<TChildMsg = any>(moduleUrl: URL | string, options?: SpawnOptions): Promise<ActorRef<TChildMsg>>;
  /**
   * Stops `ref` (default: this actor) for good after its current message:
   * children first, then `onStop`; its supervisor does not restart it.
   * Resolves when it has stopped.
   */
  stop(ref?: ActorRef): Promise<void>;
  /**
   * Ends this actor normally (OTP's `exit(normal)`) once the current message
   * is handled: its supervisor restarts it if it is `permanent`, and forgets it
   * if it is `transient` or `temporary`.
   */
  exit(): void;
  /**
   * Delivers `{ type: 'down', ref, reason }` to this actor when `ref` ends for
   * good (at once, reason `noproc`, if it already has). Resolves once the watch
   * is registered where `ref` runs: an end after that always reports its real reason.
   */
  watch(ref: ActorRef): Promise<void>;
  unwatch(ref: ActorRef): void;
  /**
   * Durable actors: appends `event` (or each of an array of events) to this
   * actor's journal. Applies them to the state at once (through
   * `persistence.apply`) and resolves once they are durable. Rejects typed
   * (`TROUPE_ERR_PERSISTENCE_CONFLICT`, `TROUPE_ERR_PERSISTENCE_STORE`) when
   * nothing was written; the actor has then crashed, and its supervisor
   * restarts it from the journal.
   */
  persist(event: unknown): Promise<void>;
}

export interface ReplyHandle<TReply = unknown> {
  /** Answers with a value (resolves the caller's ask). */
  send(value: TReply): void;
  /** Answers with an error (rejects the caller's ask; the code survives, as `TroupeError`). */
  fail(error: unknown): void;
}

/** The message a watcher receives when a watched actor terminates. */
export interface DownMessage {
  type: 'down';
  ref: ActorRef;
  reason: string;
}
