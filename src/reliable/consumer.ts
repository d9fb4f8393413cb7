/**
 * The consumer side of a reliable channel: a wrapper around an actor's
 * behaviour that unwraps data frames, drops damaged ones, de-duplicates,
 * holds frames that arrive after a gap until the missing one comes (selective
 * repeat), delivers in sequence order to the behaviour's `receive`, and
 * acknowledges what it delivered. Its bookkeeping lives beside the actor's state, so a
 * restarted consumer starts with none and rebuilds it from the frames
 * themselves (see protocol.ts: every frame carries the producer's lowest
 * unconfirmed sequence number). A durable consumer (its behaviour has
 * `persistence`) also journals each channel's position with the events of
 * the message that moved it (durable-position.ts), so what it committed is
 * never applied again after a restart.
 */
import type { ActorContext } from '../actor/context.js';
import type { ActorBehavior } from '../actor/define-actor.js';
import type { ActorRef } from '../actor/ref.js';
import { InvalidArgumentError } from '../errors.js';
import { consumerPersistence, freshConsumerState, PositionContext, type Position } from './durable-position.js';
import { AckFlag, decodeData, encodeAck, looksLikeAck } from './protocol.js';

export interface ReliableConsumerOptions {
  /** Least time between two resend requests for the same missing message. @default 50 */
  nakIntervalMs?: number;
  /** Ended sessions remembered per producer, so their late frames are dropped. @default 16 */
  retiredSessions?: number;
  /** Frames held per producer after a gap, waiting for the missing one (more are dropped and sent again later). @default 4096 */
  aheadLimit?: number;
  /**
   * Channels whose committed position a durable consumer keeps (journaled
   * with its state); past it, the channels whose session started longest ago
   * are forgotten, and a redelivery on a forgotten channel after a crash may
   * be applied again. @default 4096
   */
  positionsLimit?: number;
  /** Observes the channel (runs in the consumer's thread; keep it cheap). */
  onEvent?: (event: ConsumerEvent, ctx: ActorContext) => void;
}

export type ConsumerEvent =
  /** This incarnation starts delivering a producer session at `base`. */
  | { type: 'session'; producer: number; channel: string; session: number; base: number }
  /** A frame already delivered (dropped, acknowledged again). */
  | { type: 'duplicate'; producer: number; seq: number }
  /** A frame ahead of the next expected one (held back, the missing one requested). */
  | { type: 'gap'; producer: number; expected: number; got: number }
  /** A frame of an ended session of this producer (dropped). */
  | { type: 'stale'; producer: number; session: number }
  /** A damaged frame (checksum, shape) or one from no actor (dropped). */
  | { type: 'corrupt'; producer: number | undefined };

/** The state of a wrapped actor: the behaviour's own state is `user`. */
export interface ReliableState<TState> {
  readonly user: TState;
  /** @internal A durable consumer's committed position per channel (journaled; empty otherwise). */
  readonly positions: Record<string, Position>;
  /** @internal The process those positions belong to (durable-position.ts). */
  readonly origin: string;
}

/** What a consumer incarnation keeps beside its state and never journals: it is rebuilt from the frames. */
interface Volatile {
  channels: Map<string, Channel>;
  flushScheduled: boolean;
}

interface Channel {
  /** `producer id/channel`: the key of channels and positions. */
  key: string;
  producer: ActorRef;
  channel: string;
  session: number;
  /** Next sequence number to deliver. */
  next: number;
  ackDue: boolean;
  retired: number[];
  nakFor: number;
  nakAt: number;
  /** Frames that arrived after a gap, by sequence number, until it is filled. */
  ahead: Map<number, unknown>;
}

const kDefaults = { nakIntervalMs: 50, retiredSessions: 16, aheadLimit: 4096, positionsLimit: 4096 } as const;

/**
 * Makes an actor the consumer end of reliable channels (`reliableProducer` on
 * the other end). Each producer's messages reach `receive` once per consumer
 * incarnation, in the order sent, with nothing skipped that no incarnation
 * handled. A message counts as handled when `receive` returns (or its promise
 * resolves); then it is acknowledged. Top-level arrays are reserved for the
 * channel: send plain messages to a reliable consumer as objects or scalars.
 *
 * A durable consumer (the behaviour has `persistence`) gets an exactly-once
 * effect on its journaled state: each `ctx.persist` of a delivered message
 * commits the channel's position with the events, so a message redelivered
 * after a crash, a worker's death or a process restart is dropped once its
 * events are durable. The unit is one `ctx.persist` call: a handler that
 * persists in several calls commits its message as handled with the first,
 * and a crash before the later ones loses them. Effects outside the journal
 * (a reply, a tell, an HTTP call) stay at-least-once.
 *
 * @example
 * export default defineActor(reliable({
 *   init: () => ({ total: 0 }),
 *   receive(state, msg: { amount: number }) {
 *     state.total += msg.amount;
 *   },
 * }));
 */
export function reliable<TState, TMsg = any, TArgs = any>(
  behavior: ActorBehavior<TState, TMsg, TArgs>,
  options: ReliableConsumerOptions = {},
): ActorBehavior<ReliableState<TState>, TMsg, TArgs> {
  if (behavior === null || typeof behavior !== 'object' || typeof behavior.receive !== 'function') {
    throw new InvalidArgumentError('reliable(behavior): behavior must be an object with a receive function');
  }
  const o = { ...kDefaults, ...options };
  for (const key of ['nakIntervalMs', 'retiredSessions', 'aheadLimit', 'positionsLimit'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidArgumentError(`option "${key}" must be a positive integer, received ${String(o[key])}`);
  }
  if (o.onEvent !== undefined && typeof o.onEvent !== 'function') throw new InvalidArgumentError('option "onEvent" must be a function');
  const onEvent = o.onEvent;
  const durable = behavior.persistence !== undefined;
  // Keyed by the state object: a state recovered from a snapshot is a new object, and starts with nothing volatile.
  const volatiles = new WeakMap<ReliableState<TState>, Volatile>();
  const volatileOf = (state: ReliableState<TState>): Volatile => {
    let v = volatiles.get(state);
    if (v === undefined) {
      v = { channels: new Map(), flushScheduled: false };
      volatiles.set(state, v);
    }
    return v;
  };

  const flush = (state: ReliableState<TState>, ctx: ActorContext): void => {
    const v = volatileOf(state);
    v.flushScheduled = false;
    for (const ch of v.channels.values()) {
      if (!ch.ackDue) continue;
      ch.ackDue = false;
      tellQuietly(ctx, ch.producer, encodeAck({ channel: ch.channel, session: ch.session, upTo: ch.next - 1, flags: 0 }));
    }
  };
  // Acks leave once per turn of the event loop: one per burst of messages, not one per message.
  const ackSoon = (state: ReliableState<TState>, ch: Channel, ctx: ActorContext): void => {
    ch.ackDue = true;
    const v = volatileOf(state);
    if (v.flushScheduled) return;
    v.flushScheduled = true;
    setImmediate(() => flush(state, ctx));
  };

  /** Asks the producer for the next message (at most once per nakIntervalMs for the same one). */
  const askFor = (ch: Channel, ctx: ActorContext): void => {
    const now = performance.now();
    if (ch.nakFor === ch.next && now - ch.nakAt < o.nakIntervalMs) return;
    ch.nakFor = ch.next;
    ch.nakAt = now;
    tellQuietly(ctx, ch.producer, encodeAck({ channel: ch.channel, session: ch.session, upTo: ch.next - 1, flags: AckFlag.nak }));
  };

  /** Hands `payload` (number `seq`) to the behaviour, then whatever the gap held back after it, in order. */
  const deliver = (state: ReliableState<TState>, ch: Channel, seq: number, payload: unknown, ctx: ActorContext): void | Promise<void> => {
    for (;;) {
      // A durable consumer's persist commits the position after this message with its events.
      const handlerCtx = durable ? new PositionContext(ctx).delivering(ch.key, ch.session, seq + 1) : ctx;
      const result = behavior.receive(state.user, payload as TMsg, handlerCtx);
      if (isPromise(result)) {
        const handled = seq;
        return result.then(() => {
          ch.next = handled + 1;
          const held = ch.ahead.get(ch.next);
          if (held === undefined && !ch.ahead.has(ch.next)) return settle(state, ch, ctx);
          ch.ahead.delete(ch.next);
          return deliver(state, ch, ch.next, held, ctx);
        });
      }
      ch.next = seq + 1;
      if (!ch.ahead.has(ch.next)) break;
      seq = ch.next;
      payload = ch.ahead.get(seq);
      ch.ahead.delete(seq);
    }
    settle(state, ch, ctx);
  };

  const settle = (state: ReliableState<TState>, ch: Channel, ctx: ActorContext): void => {
    ackSoon(state, ch, ctx);
    // Another gap further on: ask for it now rather than when the next frame arrives.
    if (ch.ahead.size > 0) askFor(ch, ctx);
  };

  const wrapped: ActorBehavior<ReliableState<TState>, TMsg, TArgs> = {
    init(args, ctx) {
      const user = behavior.init === undefined ? (undefined as TState) : behavior.init(args, ctx);
      return isPromise(user) ? user.then(freshConsumerState) : freshConsumerState(user);
    },
    receive(state, msg, ctx) {
      if (!Array.isArray(msg) || looksLikeAck(msg)) return behavior.receive(state.user, msg, ctx);
      const frame = decodeData(msg);
      const sender = ctx.sender;
      if (frame === undefined || sender === undefined) {
        onEvent?.({ type: 'corrupt', producer: sender?.id }, ctx);
        return;
      }
      const key = `${sender.id}/${frame.channel}`;
      const channels = volatileOf(state).channels;
      let ch = channels.get(key);
      const committed = ch === undefined ? state.positions[key] : undefined;
      if (committed !== undefined && committed[0] === frame.session) {
        // A recovered durable consumer: this session is known up to what it committed, whatever the frame's base.
        ch = { key, producer: sender, channel: frame.channel, session: frame.session, next: committed[1], ackDue: false, retired: [], nakFor: 0, nakAt: 0, ahead: new Map() };
        channels.set(key, ch);
        onEvent?.({ type: 'session', producer: sender.id, channel: frame.channel, session: frame.session, base: committed[1] }, ctx);
      }
      if (ch !== undefined && ch.retired.includes(frame.session)) {
        onEvent?.({ type: 'stale', producer: sender.id, session: frame.session }, ctx);
        return;
      }
      if (ch === undefined || ch.session !== frame.session) {
        if (frame.seq !== frame.base) {
          // Nothing known of this session here (a new session, or this incarnation is new):
          // only the producer's lowest unconfirmed message can start it. Ask for it.
          const now = performance.now();
          const asked = ch?.nakFor === -frame.session && now - ch.nakAt < o.nakIntervalMs;
          if (!asked) {
            if (ch !== undefined) {
              ch.nakFor = -frame.session;
              ch.nakAt = now;
            } else {
              channels.set(key, { key, producer: sender, channel: frame.channel, session: 0, next: 0, ackDue: false, retired: [], nakFor: -frame.session, nakAt: now, ahead: new Map() });
            }
            tellQuietly(ctx, sender, encodeAck({ channel: frame.channel, session: frame.session, upTo: frame.base - 1, flags: AckFlag.fresh }));
          }
          return;
        }
        const retired = ch?.retired ?? [];
        if (ch !== undefined && ch.session !== 0) {
          retired.push(ch.session);
          if (retired.length > o.retiredSessions) retired.shift();
        }
        ch = { key, producer: sender, channel: frame.channel, session: frame.session, next: frame.base, ackDue: false, retired, nakFor: 0, nakAt: 0, ahead: new Map() };
        channels.set(key, ch);
        onEvent?.({ type: 'session', producer: sender.id, channel: frame.channel, session: frame.session, base: frame.base }, ctx);
      }
      // Everything below base was handled by some incarnation: never wait for it.
      if (frame.base > ch.next) {
        ch.next = frame.base;
        for (const seq of ch.ahead.keys()) if (seq < ch.next) ch.ahead.delete(seq);
      }
      if (frame.seq < ch.next || ch.ahead.has(frame.seq)) {
        onEvent?.({ type: 'duplicate', producer: sender.id, seq: frame.seq }, ctx);
        ackSoon(state, ch, ctx);
        return;
      }
      if (frame.seq > ch.next) {
        // Selective repeat: keep it for when the gap is filled, and ask for what is missing.
        onEvent?.({ type: 'gap', producer: sender.id, expected: ch.next, got: frame.seq }, ctx);
        if (frame.seq < ch.next + o.aheadLimit) ch.ahead.set(frame.seq, frame.payload);
        askFor(ch, ctx);
        return;
      }
      return deliver(state, ch, frame.seq, frame.payload, ctx);
    },
    onStop(state, ctx) {
      // Confirm what this incarnation handled before it goes: fewer messages handled twice.
      if (state !== undefined) flush(state, ctx);
      return behavior.onStop?.(state?.user as TState, ctx);
    },
  };
  if (behavior.supervisor !== undefined) wrapped.supervisor = behavior.supervisor;
  if (behavior.persistence !== undefined) wrapped.persistence = consumerPersistence(behavior.persistence, o.positionsLimit);
  return wrapped;
}

function tellQuietly(ctx: ActorContext, to: ActorRef, msg: unknown): void {
  try {
    ctx.tell(to, msg);
  } catch {
    // A full lane overflow: the producer's timer resends and we ack again.
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
