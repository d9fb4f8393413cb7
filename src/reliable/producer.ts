/**
 * The producer side of a reliable channel: numbers messages per session,
 * keeps every unconfirmed one in a bounded buffer, sends at most `window` of
 * them ahead of the consumer's acks, sends one again when the consumer reports
 * it missing (selective repeat), and goes back to the oldest unconfirmed
 * (go-back-N) when a fresh consumer incarnation asks or when acks stop coming
 * for a retransmission timeout that follows the measured round trip
 * (RFC 6298, with Karn's rule).
 */
import type { ActorContext } from '../actor/context.js';
import { isActorRef, type ActorRef } from '../actor/ref.js';
import { assertEncodable } from '../codec/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { AckFlag, decodeAck, encodeData, looksLikeAck, randomId } from './protocol.js';
import { ReliableBufferFullError } from './errors.js';

export interface ReliableProducerOptions {
  /** Names the channel when one actor keeps several to the same consumer. @default '' */
  channel?: string;
  /** Most unconfirmed messages in flight at once (flow control). @default 256 */
  window?: number;
  /** Most messages held, in flight or waiting for the window; `send` throws past it. @default 65536 */
  bufferLimit?: number;
  /** Retransmission timeout until a round trip has been measured. @default 200 */
  resendAfterMs?: number;
  /** Lower bound of the retransmission timeout. @default 20 */
  minResendMs?: number;
  /** Upper bound of the retransmission timeout, reached by doubling while nothing is confirmed (then one message probes at this pace). @default 250 */
  maxResendMs?: number;
  /** Source of the session id. @default Math.random */
  random?: () => number;
  /** Observes the channel: confirmations, resends, damaged acks. Runs inside the producer's thread; keep it cheap. */
  onEvent?: (event: ProducerEvent) => void;
}

export type ProducerEvent =
  | { type: 'confirmed'; upTo: number }
  | { type: 'resent'; from: number; count: number; reason: 'timeout' | 'nak' | 'fresh-consumer' }
  | { type: 'corrupt' };

/** The runtime's default maxMessageDepth, less the frame around the message. */
const kMaxDepth = 63;

const kDefaults = {
  channel: '',
  window: 256,
  bufferLimit: 65_536,
  resendAfterMs: 200,
  minResendMs: 20,
  maxResendMs: 250,
} as const;

interface Entry {
  seq: number;
  msg: unknown;
  /** performance.now() of the first transmission; 0 before it. */
  sentAt: number;
  /** Sent more than once: its ack says nothing about the round trip (Karn). */
  resent: boolean;
}

/** The handle `reliableProducer` returns. */
export interface ReliableProducer<TMsg = unknown> {
  /**
   * Numbers `msg`, keeps it until the consumer confirms it, and sends it now
   * if the window allows (else when acks make room). Returns its sequence
   * number. Throws `TROUPE_ERR_RELIABLE_BUFFER_FULL` when `bufferLimit`
   * messages are held already (the message was not accepted), and
   * `TROUPE_ERR_UNENCODABLE` for a message that is not plain data.
   */
  send(msg: TMsg): number;
  /**
   * Give it every message the actor receives: returns `true` when the message
   * belonged to this channel (an ack from the consumer, intact or damaged) and
   * was consumed, `false` when it is the actor's own.
   */
  handle(msg: unknown): boolean;
  /** Stops the timers. Call it from `onStop`: a restarted actor starts a new session. */
  close(): void;
  /** Messages sent and not yet confirmed, plus those waiting for the window. */
  readonly unconfirmed: number;
  /** Sequence number of the last message confirmed (0: none). */
  readonly confirmed: number;
  /** `send` would accept a message now. */
  readonly writable: boolean;
  /** Resolves when every message sent so far is confirmed. */
  whenConfirmed(): Promise<void>;
  /** Resolves when the buffer has room again. */
  whenWritable(): Promise<void>;
  /** This incarnation's session id (a restarted producer gets a new one). */
  readonly session: number;
}

/**
 * Opens a reliable channel from this actor to `consumer` (an actor whose
 * definition is wrapped by `reliable()`). Call it in `init`, keep the handle
 * in the state, pass every received message to `handle` first, and `close`
 * it in `onStop`.
 *
 * @example
 * export default defineActor({
 *   init: (args: { consumer: ActorRef }, ctx) => ({ out: reliableProducer(ctx, args.consumer) }),
 *   receive(state, msg, ctx) {
 *     if (state.out.handle(msg)) return;
 *     state.out.send({ type: 'job', id: msg.id });
 *   },
 *   onStop: (state) => state.out.close(),
 * });
 */
export function reliableProducer<TMsg = unknown>(ctx: ActorContext, consumer: ActorRef<TMsg>, options: ReliableProducerOptions = {}): ReliableProducer<TMsg> {
  if (ctx === null || typeof ctx !== 'object' || typeof ctx.tell !== 'function') throw new InvalidArgumentError('reliableProducer(ctx, consumer): ctx must be the actor context');
  if (!isActorRef(consumer)) throw new InvalidArgumentError(`reliableProducer(ctx, consumer): consumer must be an ActorRef, received ${String(consumer)}`);
  return new Producer<TMsg>(ctx, consumer, resolve(options));
}

type Resolved = Required<Omit<ReliableProducerOptions, 'onEvent'>> & Pick<ReliableProducerOptions, 'onEvent'>;

function resolve(options: ReliableProducerOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('reliableProducer options must be an object');
  const out: Resolved = { ...kDefaults, random: Math.random, ...options } as Resolved;
  if (typeof out.channel !== 'string') throw new InvalidArgumentError(`option "channel" must be a string, received ${String(out.channel)}`);
  for (const key of ['window', 'bufferLimit', 'resendAfterMs', 'minResendMs', 'maxResendMs'] as const) {
    const v = out[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`option "${key}" must be a positive integer, received ${String(v)}`);
  }
  if (out.minResendMs > out.maxResendMs) throw new InvalidArgumentError(`option "minResendMs" (${out.minResendMs}) must not exceed "maxResendMs" (${out.maxResendMs})`);
  if (out.bufferLimit < out.window) throw new InvalidArgumentError(`option "bufferLimit" (${out.bufferLimit}) must be at least "window" (${out.window})`);
  if (typeof out.random !== 'function') throw new InvalidArgumentError('option "random" must be a function');
  if (out.onEvent !== undefined && typeof out.onEvent !== 'function') throw new InvalidArgumentError('option "onEvent" must be a function');
  return out;
}

class Producer<TMsg> implements ReliableProducer<TMsg> {
  readonly #ctx: ActorContext;
  readonly #consumer: ActorRef;
  readonly #o: Resolved;
  readonly session: number;
  /** Unconfirmed messages, oldest first, from index #head. */
  #buffer: Entry[] = [];
  #head = 0;
  #nextSeq = 1;
  /** Highest sequence number confirmed. */
  #acked = 0;
  /** Next sequence number to transmit (go-back-N rewinds it). */
  #nextToSend = 1;
  // Retransmission timeout (RFC 6298).
  #srtt = 0;
  #rttvar = 0;
  #rto: number;
  #backoff = 1;
  #deadline = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #lastRewind = { to: 0, at: -Infinity };
  #closed = false;
  #confirmedWaiters: (() => void)[] = [];
  #writableWaiters: (() => void)[] = [];

  constructor(ctx: ActorContext, consumer: ActorRef, options: Resolved) {
    this.#ctx = ctx;
    this.#consumer = consumer;
    this.#o = options;
    this.session = randomId(options.random);
    this.#rto = Math.min(options.resendAfterMs, options.maxResendMs);
  }

  get unconfirmed(): number {
    return this.#buffer.length - this.#head;
  }

  get confirmed(): number {
    return this.#acked;
  }

  get writable(): boolean {
    return this.unconfirmed < this.#o.bufferLimit;
  }

  send(msg: TMsg): number {
    if (this.#closed) throw new InvalidArgumentError('this reliable producer is closed (its actor stopped or restarted)');
    if (!this.writable) throw new ReliableBufferFullError(this.#consumer.toString(), this.#o.bufferLimit);
    const seq = this.#nextSeq;
    const entry: Entry = { seq, msg, sentAt: 0, resent: false };
    if (seq < this.#acked + 1 + this.#o.window && this.#nextToSend === seq) {
      // Validates (throws TROUPE_ERR_UNENCODABLE) before anything is kept.
      this.#transmit(entry, true);
      this.#nextToSend = seq + 1;
    } else {
      // Waits for the window: refuse a bad message now, as tell would.
      assertEncodable(msg, kMaxDepth);
    }
    this.#buffer.push(entry);
    this.#nextSeq = seq + 1;
    return seq;
  }

  handle(msg: unknown): boolean {
    if (!Array.isArray(msg)) return false;
    const sender = this.#ctx.sender;
    if (sender === undefined) return false;
    // A consumer on another cluster node answers through its stand-in on this node (another id):
    // there, an intact ack of this channel is the consumer's.
    const remote = this.#consumer.address !== undefined;
    if (!remote && sender.id !== this.#consumer.id) return false;
    const ack = decodeAck(msg);
    if (ack === undefined) {
      if (remote) return false;
      // An array from the consumer that is not an intact ack: a damaged one (or another channel's, if it claims so).
      if (looksLikeAck(msg) && typeof msg[2] === 'string' && msg[2] !== this.#o.channel) return false;
      this.#o.onEvent?.({ type: 'corrupt' });
      return true;
    }
    if (ack.channel !== this.#o.channel) return false;
    if (ack.session !== this.session || this.#closed) return true;
    this.#onAck(ack.upTo, ack.flags);
    return true;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  whenConfirmed(): Promise<void> {
    if (this.unconfirmed === 0) return Promise.resolve();
    return new Promise((resolve) => this.#confirmedWaiters.push(resolve));
  }

  whenWritable(): Promise<void> {
    if (this.writable) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- acks ---

  #onAck(upTo: number, flags: number): void {
    const now = performance.now();
    if (upTo >= this.#nextSeq) return; // confirms what was never sent: not from this session
    if (upTo > this.#acked) {
      // Karn: only a message sent once measures the round trip.
      const newest = this.#entry(upTo);
      if (newest !== undefined && !newest.resent && newest.sentAt > 0) this.#sample(now - newest.sentAt);
      while (this.#head < this.#buffer.length && this.#buffer[this.#head].seq <= upTo) this.#buffer[this.#head++] = undefined as unknown as Entry;
      if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      this.#acked = upTo;
      if (this.#nextToSend <= upTo) this.#nextToSend = upTo + 1;
      this.#backoff = 1;
      this.#deadline = now + this.#rto;
      this.#o.onEvent?.({ type: 'confirmed', upTo });
      this.#notify();
    }
    if ((flags & AckFlag.fresh) !== 0 && this.unconfirmed > 0) {
      // A consumer incarnation that holds nothing of this session: go back to the oldest unconfirmed.
      const from = this.#acked + 1;
      if (from < this.#nextToSend && !this.#recently(from, now)) this.#rewind(from, now, 'fresh-consumer');
    } else if ((flags & AckFlag.nak) !== 0 && upTo + 1 > this.#acked && upTo + 1 < this.#nextToSend) {
      // Selective repeat: the consumer holds what came after the gap; send just the missing one.
      const missing = this.#entry(upTo + 1);
      if (missing !== undefined && !this.#recently(missing.seq, now)) {
        this.#lastRewind = { to: missing.seq, at: now };
        this.#o.onEvent?.({ type: 'resent', from: missing.seq, count: 1, reason: 'nak' });
        this.#transmit(missing, false);
      }
    }
    this.#pump();
  }

  /** The same message was resent less than a round trip ago: its answer may be on the way. */
  #recently(seq: number, now: number): boolean {
    return this.#lastRewind.to === seq && now - this.#lastRewind.at < Math.max(this.#o.minResendMs, this.#srtt);
  }

  #sample(rtt: number): void {
    if (this.#srtt === 0) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
    }
    this.#rto = Math.min(this.#o.maxResendMs, Math.max(this.#o.minResendMs, this.#srtt + Math.max(4 * this.#rttvar, 5)));
  }

  #notify(): void {
    if (this.unconfirmed === 0 && this.#confirmedWaiters.length > 0) for (const resolve of this.#confirmedWaiters.splice(0)) resolve();
    if (this.writable && this.#writableWaiters.length > 0) for (const resolve of this.#writableWaiters.splice(0)) resolve();
  }

  // ------------------------------------------------------------ sending ---

  #entry(seq: number): Entry | undefined {
    const first = this.#buffer[this.#head];
    if (first === undefined) return undefined;
    return this.#buffer[this.#head + (seq - first.seq)];
  }

  /** Sends what the window allows. */
  #pump(): void {
    if (this.#closed) return;
    const limit = Math.min(this.#nextSeq, this.#acked + 1 + this.#o.window);
    while (this.#nextToSend < limit) {
      const entry = this.#entry(this.#nextToSend);
      if (entry === undefined) break;
      this.#transmit(entry, false);
      this.#nextToSend++;
    }
  }

  #rewind(from: number, now: number, reason: 'timeout' | 'nak' | 'fresh-consumer'): void {
    const count = Math.min(this.#nextToSend, this.#acked + 1 + this.#o.window) - from;
    this.#lastRewind = { to: from, at: now };
    this.#nextToSend = from;
    this.#o.onEvent?.({ type: 'resent', from, count: Math.max(count, 1), reason });
  }

  #transmit(entry: Entry, first: boolean): void {
    const now = performance.now();
    if (entry.sentAt === 0) entry.sentAt = now;
    else entry.resent = true;
    const frame = encodeData({ channel: this.#o.channel, session: this.session, seq: entry.seq, base: this.#acked + 1, payload: entry.msg });
    try {
      this.#ctx.tell(this.#consumer, frame);
    } catch (error) {
      // A bad message is refused by `send` (first try, nothing kept). A full
      // lane overflow or a stopping system only delays it: the timer retries.
      const code = (error as { code?: unknown }).code;
      if (first && code !== 'TROUPE_ERR_MAILBOX_FULL' && code !== 'TROUPE_ERR_SYSTEM_STOPPED') {
        entry.sentAt = 0;
        throw error;
      }
    }
    // The clock runs from the first message in flight; later sends must not push it back,
    // or a steady stream into a partition would never time out.
    if (this.unconfirmed === 0) this.#deadline = now + this.#rto * this.#backoff;
    this.#arm();
  }

  /** One timer; acks move the deadline, not the timer (no clearTimeout per ack). */
  #arm(): void {
    if (this.#timer !== undefined && this.#timerAt <= this.#deadline) return;
    clearTimeout(this.#timer);
    this.#timerAt = this.#deadline;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, Math.ceil(this.#deadline - performance.now())));
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#closed || this.unconfirmed === 0) return;
    const now = performance.now();
    if (now < this.#deadline) {
      this.#arm();
      return;
    }
    // Nothing confirmed for a whole timeout: go back to the oldest unconfirmed message.
    this.#backoff = Math.min(this.#backoff * 2, Math.ceil(this.#o.maxResendMs / this.#rto));
    this.#deadline = now + Math.min(this.#o.maxResendMs, this.#rto * this.#backoff);
    if (this.#backoff > 2) {
      // Still nothing after two rounds (a partition, a dead consumer): probe with one message
      // instead of the whole window; the first ack brings the rest.
      this.#rewind(this.#acked + 1, now, 'timeout');
      const entry = this.#entry(this.#nextToSend);
      if (entry !== undefined) {
        this.#transmit(entry, false);
        this.#nextToSend++;
      }
    } else {
      this.#rewind(this.#acked + 1, now, 'timeout');
      this.#pump();
    }
    this.#arm();
  }
}
