import type { AskOptions, TellOptions } from './ref.js';

/** @internal What an entity ref forwards to: the system's entity table on the main thread. */
export interface EntityHost {
  tell(entity: EntityRef, msg: unknown, options: TellOptions | undefined): boolean;
  ask(entity: EntityRef, msg: unknown, options: AskOptions | undefined): Promise<unknown>;
  whenWritable(entity: EntityRef): Promise<void>;
}

/**
 * The address of a virtual actor (`system.entity(moduleUrl, key)`): valid
 * whether or not the actor runs. Its first message activates it (spawned on
 * the worker placement picks, recovered from its journal if it is durable);
 * after `idleMs` without messages it is passivated (stopped, its memory freed,
 * its journal kept), and the next message activates it again. One ref per
 * module, export and key: asking for it twice gives the same object.
 *
 * It lives on the main thread, where `system.entity` made it: it cannot
 * travel inside messages (send the key, and look the entity up where it is
 * needed); `ctx.self` inside the actor is the current activation's ref.
 */
export class EntityRef<TMsg = any, TReply = any> {
  /** The entity's key, as given. */
  readonly key: string;
  /** The entity type: the module's file name (without extension) unless given; with the key, its persistence id `type/key`. */
  readonly type: string;
  readonly #host: EntityHost;

  /** @internal */
  constructor(host: EntityHost, type: string, key: string) {
    this.#host = host;
    this.type = type;
    this.key = key;
  }

  /** The journal it recovers from and persists to. */
  get persistenceId(): string {
    return `${this.type}/${this.key}`;
  }

  /**
   * Fire and forget, in order with every other message to this entity.
   * Returns `true` when the message went to the running activation, `false`
   * when it waits (for the activation to start, or in an overflow): accepted
   * either way. Throws `TROUPE_ERR_MAILBOX_FULL` past the entity's bound of
   * waiting messages, and for bad messages as `ActorRef#tell` does.
   */
  tell(msg: TMsg, options?: TellOptions): boolean {
    return this.#host.tell(this, msg, options);
  }

  /** Request/response; the timeout counts from this call, activation included. */
  ask<TAnswer = TReply>(msg: TMsg, options?: AskOptions): Promise<TAnswer> {
    return this.#host.ask(this, msg, options) as Promise<TAnswer>;
  }

  /** Resolves when a `tell` would go straight to a running activation again. */
  whenWritable(): Promise<void> {
    return this.#host.whenWritable(this);
  }

  toString(): string {
    return `entity(${this.persistenceId})`;
  }

  toJSON(): { entity: string; key: string } {
    return { entity: this.type, key: this.key };
  }
}
