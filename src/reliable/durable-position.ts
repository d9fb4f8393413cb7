/**
 * Exactly-once effect on a durable consumer's state: when a reliable
 * consumer's behaviour has `persistence`, every `ctx.persist` of a delivered
 * message carries one more event, a position mark (channel, session, the
 * next sequence number), in the same array and so in the same commit. The
 * mark is applied to the consumer's state like any event, so a recovered
 * consumer knows which messages of a session it already committed and drops
 * their redelivery as duplicates.
 *
 * What it covers: a message whose handler persists in one `ctx.persist` call
 * (one commit). A handler that persists in several calls commits its message
 * as handled with the first; a crash before the later ones loses them.
 */
import type { ActorContext, ReplyHandle, SpawnOptions } from '../actor/context.js';
import type { PersistenceOptions } from '../actor/define-actor.js';
import type { ActorRef, AskOptions } from '../actor/ref.js';

/** A channel's position in the journal: its session and the next sequence number to deliver. */
export type Position = [session: number, next: number];

/** The mark's one key: reserved, so a user's event never looks like one. */
const kMarkKey = '$troupe.reliable.position';

interface Mark {
  [kMarkKey]: [channel: string, session: number, next: number];
}

function isMark(event: unknown): event is Mark {
  return event !== null && typeof event === 'object' && kMarkKey in event;
}

/** The part of a consumer's state that is journaled: the user's state and the committed positions. */
export interface DurableConsumerState<TState> {
  user: TState;
  positions: Record<string, Position>;
}

/**
 * The consumer's persistence: the user's, over `{ user, positions }`. Marks
 * move a position; every other event (and a snapshot's `user`) goes through
 * the user's `apply` and `upcast`.
 */
export function consumerPersistence<TState>(user: PersistenceOptions<TState, any>): PersistenceOptions<DurableConsumerState<TState>, any> {
  const wrapped: PersistenceOptions<DurableConsumerState<TState>, any> = {
    apply(state, event) {
      if (isMark(event)) {
        const [channel, session, next] = event[kMarkKey];
        state.positions[channel] = [session, next];
      } else {
        const next = user.apply(state.user, event);
        if (next !== undefined) state.user = next;
      }
      return state;
    },
  };
  if (user.snapshotEvery !== undefined) wrapped.snapshotEvery = user.snapshotEvery;
  if (user.version !== undefined) wrapped.version = user.version;
  if (user.retention !== undefined) wrapped.retention = user.retention;
  const upcast = user.upcast;
  if (upcast !== undefined) {
    wrapped.upcast = (value, fromVersion, kind) => {
      if (kind === 'event') return isMark(value) ? value : upcast(value, fromVersion, kind);
      const snapshot = value as DurableConsumerState<unknown>;
      return { user: upcast(snapshot.user, fromVersion, kind), positions: snapshot.positions ?? {} };
    };
  }
  return wrapped;
}

/**
 * The context a durable consumer's handler sees for one delivered message:
 * the actor's own, with `persist` adding the message's position mark.
 */
export class PositionContext implements ActorContext {
  #mark: Mark | undefined = undefined;

  constructor(readonly inner: ActorContext) {}

  /** The message about to be handled: `next` is the position after it. */
  delivering(channel: string, session: number, next: number): this {
    this.#mark = { [kMarkKey]: [channel, session, next] };
    return this;
  }

  persist(event: unknown): Promise<void> {
    const events = Array.isArray(event) ? event : [event];
    if (this.#mark === undefined || events.length === 0) return this.inner.persist(event);
    return this.inner.persist([...events, this.#mark]);
  }

  get self(): ActorRef {
    return this.inner.self;
  }
  get sender(): ActorRef | undefined {
    return this.inner.sender;
  }
  get host(): ActorContext['host'] {
    return this.inner.host;
  }
  get log(): ActorContext['log'] {
    return this.inner.log;
  }
  get correlationId(): number | undefined {
    return this.inner.correlationId;
  }
  reply(value: unknown): void {
    this.inner.reply(value);
  }
  deferReply<TReply = unknown>(): ReplyHandle<TReply> {
    return this.inner.deferReply<TReply>();
  }
  forward(ref: ActorRef, msg?: unknown): boolean {
    return arguments.length < 2 ? this.inner.forward(ref) : this.inner.forward(ref, msg);
  }
  tell(ref: ActorRef, msg: unknown): boolean {
    return this.inner.tell(ref, msg);
  }
  ask<TReply = any>(ref: ActorRef, msg: unknown, options?: AskOptions): Promise<TReply> {
    return this.inner.ask<TReply>(ref, msg, options);
  }
  spawn<TChildMsg = any>(moduleUrl: URL | string, options?: SpawnOptions): Promise<ActorRef<TChildMsg>> {
    return this.inner.spawn<TChildMsg>(moduleUrl, options);
  }
  stop(ref?: ActorRef): Promise<void> {
    return this.inner.stop(ref);
  }
  exit(): void {
    this.inner.exit();
  }
  watch(ref: ActorRef): Promise<void> {
    return this.inner.watch(ref);
  }
  unwatch(ref: ActorRef): void {
    this.inner.unwatch(ref);
  }
}
