/**
 * Exactly-once effect on a durable consumer's state: when a reliable
 * consumer's behaviour has `persistence`, the last event of every
 * `ctx.persist` of a delivered message carries a position mark (channel,
 * session, the next sequence number, the process it was written in), so the
 * position commits with the events and costs no row of its own. Applying the
 * event moves the consumer's committed position, so a recovered consumer
 * knows which messages of a session it already committed and drops their
 * redelivery as duplicates.
 *
 * Positions are kept only for the process that wrote them: its producers
 * (the only ones that can send a session again) live in it, and a session id
 * repeats across processes (a producer's id is a directory slot; its session
 * comes from its `random` option), so a position from a dead process could
 * only ever drop a new process's messages. Within a process they are bounded
 * by `positionsLimit`: the channels whose session started longest ago go first.
 *
 * What it covers: a message whose handler persists in one `ctx.persist` call
 * (one commit). A handler that persists in several calls commits its message
 * as handled with the first; a crash before the later ones loses them.
 */
import type { ActorContext, ReplyHandle, SpawnOptions } from '../actor/context.js';
import { kRestoreSnapshot, type PersistenceOptions } from '../actor/define-actor.js';
import { processOrigin } from '../actor/process-origin.js';
import type { ActorRef, AskOptions } from '../actor/ref.js';

/** A channel's position in the journal: its session and the next sequence number to deliver. */
export type Position = [session: number, next: number];

/** The mark's one key: reserved, so a user's event never looks like one. */
const kMarkKey = '$troupe.reliable.position';

type MarkFields = [channel: string, session: number, next: number, origin: string];

/**
 * A user's event `e` carrying its message's position. Without `e`: a mark
 * journaled as an event of its own (older journals), applied to nothing else.
 */
interface Marked {
  [kMarkKey]: MarkFields;
  e?: unknown;
}

function isMarked(event: unknown): event is Marked {
  return event !== null && typeof event === 'object' && kMarkKey in event;
}

/** The part of a consumer's state that is journaled: the user's state and this process's committed positions. */
export interface DurableConsumerState<TState> {
  user: TState;
  positions: Record<string, Position>;
  /** The process whose positions these are. */
  origin: string;
}

export function freshConsumerState<TState>(user: TState): DurableConsumerState<TState> {
  return { user, positions: {}, origin: processOrigin() };
}

/** A snapshot of a consumer's state (with or without `origin`, as older ones were), not a bare user state. */
function isConsumerState(value: unknown): value is DurableConsumerState<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const positions = (value as { positions?: unknown }).positions;
  return (keys.length === 2 || (keys.length === 3 && typeof (value as { origin?: unknown }).origin === 'string')) && 'user' in value && positions !== null && typeof positions === 'object';
}

/**
 * The consumer's persistence: the user's, over `{ user, positions, origin }`.
 * A marked event goes through the user's `apply` and then moves its
 * position; a snapshot written before the behaviour was wrapped is the
 * user's state, and is taken as such.
 */
export function consumerPersistence<TState>(user: PersistenceOptions<TState, any>, positionsLimit: number): PersistenceOptions<DurableConsumerState<TState>, any> {
  const applyUser = (state: DurableConsumerState<TState>, event: unknown): void => {
    const next = user.apply(state.user, event);
    if (next !== undefined) state.user = next;
  };
  const wrapped: PersistenceOptions<DurableConsumerState<TState>, any> = {
    apply(state, event) {
      if (!isMarked(event)) {
        applyUser(state, event);
        return state;
      }
      if ('e' in event) applyUser(state, event.e);
      const [channel, session, next, origin] = event[kMarkKey];
      if (origin === state.origin) advance(state.positions, channel, session, next, positionsLimit);
      return state;
    },
    [kRestoreSnapshot](snapshot) {
      if (!isConsumerState(snapshot)) return freshConsumerState(snapshot as TState);
      const state = snapshot as DurableConsumerState<TState>;
      return state.origin === processOrigin() ? state : { user: state.user, positions: {}, origin: processOrigin() };
    },
  };
  if (user.snapshotEvery !== undefined) wrapped.snapshotEvery = user.snapshotEvery;
  if (user.version !== undefined) wrapped.version = user.version;
  if (user.retention !== undefined) wrapped.retention = user.retention;
  const upcast = user.upcast;
  if (upcast !== undefined) {
    wrapped.upcast = (value, fromVersion, kind) => {
      if (kind === 'event') {
        if (!isMarked(value)) return upcast(value, fromVersion, kind);
        return 'e' in value ? { [kMarkKey]: value[kMarkKey], e: upcast(value.e, fromVersion, kind) } : value;
      }
      // A bare user state is upcast as the user's, then restored (kRestoreSnapshot).
      if (!isConsumerState(value)) return upcast(value, fromVersion, kind);
      return { ...value, user: upcast(value.user, fromVersion, kind) };
    };
  }
  return wrapped;
}

/**
 * Moves a channel's position forward (a mark of an earlier message of the
 * same session, from a persist not awaited, never moves it back). A new
 * session moves its channel to the end of the eviction order.
 */
function advance(positions: Record<string, Position>, channel: string, session: number, next: number, limit: number): void {
  const at = positions[channel];
  if (at !== undefined && at[0] === session) {
    if (next > at[1]) at[1] = next;
    return;
  }
  if (at !== undefined) delete positions[channel];
  positions[channel] = [session, next];
  if (at !== undefined) return;
  const keys = Object.keys(positions);
  for (let i = 0; i < keys.length - limit; i++) delete positions[keys[i]];
}

/**
 * The context a durable consumer's handler sees for one delivered message:
 * the actor's own, with `persist` adding the message's position mark.
 */
export class PositionContext implements ActorContext {
  #mark: MarkFields | undefined = undefined;

  constructor(readonly inner: ActorContext) {}

  /** The message about to be handled: `next` is the position after it. */
  delivering(channel: string, session: number, next: number): this {
    this.#mark = [channel, session, next, processOrigin()];
    return this;
  }

  persist(event: unknown): Promise<void> {
    const events = Array.isArray(event) ? event.slice() : [event];
    if (this.#mark === undefined || events.length === 0) return this.inner.persist(event);
    const last = events.length - 1;
    events[last] = { [kMarkKey]: this.#mark, e: events[last] } satisfies Marked;
    return this.inner.persist(events);
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
