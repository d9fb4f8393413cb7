/**
 * The lifecycle event stream. Events are produced on whichever host they
 * happen and reach the main thread through the lanes, but only for types
 * someone listens to: the listened-to set is a bit mask in shared memory, so
 * an unobserved event costs a host one load.
 */
import { channel } from 'node:diagnostics_channel';
import type { HostName } from '../actor/context.js';
import type { WireError } from '../errors.js';
import type { ActorId } from '../lane/directory.js';

interface Base {
  /** Milliseconds since the epoch, sub-millisecond precision. */
  at: number;
  host: HostName;
}

export interface ActorStartedEvent extends Base { type: 'actor.started'; id: ActorId; name?: string }
export interface ActorCrashedEvent extends Base { type: 'actor.crashed'; id: ActorId; name?: string; error: WireError }
export interface ActorRestartedEvent extends Base { type: 'actor.restarted'; id: ActorId; name?: string }
export interface ActorStoppedEvent extends Base { type: 'actor.stopped'; id: ActorId; name?: string; reason: string }
export interface WorkerExitedEvent extends Base { type: 'worker.exited'; exitCode: number; error?: WireError }
export interface WorkerReplacedEvent extends Base { type: 'worker.replaced' }
export interface WorkerStalledEvent extends Base { type: 'worker.stalled'; stalledForMs: number; stallTimeoutMs: number }
export interface DeadLetterEvent extends Base {
  type: 'deadLetter';
  target: ActorId;
  sender?: ActorId;
  /**
   * The undeliverable message, when it could be decoded. An event that comes
   * from a worker carries it only when it is small (at most 4 KiB encoded;
   * `messageOmitted` marks one left out), so dead letters cannot fill memory.
   */
  message?: unknown;
  /** The message was too large to travel with the event (from a worker). */
  messageOmitted?: boolean;
  /** How many messages this event reports (`worker-exited` reports a dead actor's mailbox at once). @default 1 */
  count?: number;
  /**
   * Why: `no-actor`, `crashed`, `stopped`, `decode-failed`, `mailbox-full`, `no-reply-target`, `reply-expired`,
   * `lane-corrupt`, `checksum-failed` (a payload damaged in transit, with the `checksum` option), `reply-after-handler` / `forward-after-handler` (through a ctx whose handler had settled),
   * `link-fault` (dropped by an injected link fault, troupe/chaos), `worker-exited` (in a dead worker's mailboxes),
   * `shutdown` (still queued when a forced shutdown ended the system), `system-stopped` (held in a full lane's
   * overflow when the system stopped).
   */
  reason: string;
  error?: WireError;
  /** The correlation id the message carried, if any. */
  correlationId?: number;
}
export interface BackpressureEvent extends Base { type: 'backpressure'; toHost: HostName; target: ActorId; held: number }
export interface SystemStoppedEvent extends Base {
  type: 'system.stopped';
  forced: boolean;
  /** Messages accepted but never handled (still in lanes or mailboxes when the system ended), each also a `deadLetter` with reason `shutdown`. */
  undelivered?: number;
}
/**
 * A supervisor judged a child's exit (OTP rules): restart it (or its group),
 * remove it, or give up. `host` is where: a root decision may be taken by the
 * worker of the top-level actor it restarts (restart-window.ts).
 */
export interface SupervisorDecidedEvent extends Base {
  type: 'supervisor.decided';
  /** The supervising actor; 0 is the root supervisor. */
  supervisor: ActorId;
  child: ActorId;
  exit: 'normal' | 'abnormal';
  reason: string;
  directive: 'restart' | 'remove' | 'escalate';
  restarted: ActorId[];
  removed: ActorId[];
  /** Backoff before the restart. */
  delayMs: number;
}
/** The root supervisor exceeded its restart intensity: the system stops. */
export interface SystemEscalatedEvent extends Base { type: 'system.escalated'; reason: string }

export type SystemEvent =
  | ActorStartedEvent
  | ActorCrashedEvent
  | ActorRestartedEvent
  | ActorStoppedEvent
  | WorkerExitedEvent
  | WorkerReplacedEvent
  | WorkerStalledEvent
  | DeadLetterEvent
  | BackpressureEvent
  | SystemStoppedEvent
  | SupervisorDecidedEvent
  | SystemEscalatedEvent;

export type SystemEventType = SystemEvent['type'];
export type EventOf<T extends SystemEventType> = Extract<SystemEvent, { type: T }>;

export const kEventBits: Readonly<Record<SystemEventType, number>> = Object.freeze({
  'actor.started': 1 << 0,
  'actor.crashed': 1 << 1,
  'actor.restarted': 1 << 2,
  'actor.stopped': 1 << 3,
  'worker.exited': 1 << 4,
  'worker.replaced': 1 << 5,
  'worker.stalled': 1 << 6,
  deadLetter: 1 << 7,
  backpressure: 1 << 8,
  'system.stopped': 1 << 9,
  'supervisor.decided': 1 << 10,
  'system.escalated': 1 << 11,
});

const kAllTypes = Object.keys(kEventBits) as SystemEventType[];

type Listener<T extends SystemEventType> = (event: EventOf<T>) => void;

export interface WaitForOptions {
  /** Reject after this long. @default 10000 */
  timeoutMs?: number;
}

/**
 * `system.events`: subscribe with `on`, wait with `once`/`waitFor`, or iterate
 * with `for await`. Listeners run on the main thread; a throwing listener is
 * reported with `process.emitWarning` and does not stop the others.
 */
export class SystemEvents {
  readonly #listeners = new Map<SystemEventType, Set<Listener<any>>>();
  readonly #onInterest: (mask: number) => void;
  readonly #channels = new Map<SystemEventType, ReturnType<typeof channel>>();

  /** @internal */
  constructor(onInterest: (mask: number) => void) {
    this.#onInterest = onInterest;
    for (const type of kAllTypes) this.#channels.set(type, channel(`troupe:${type.replace('.', ':')}`));
  }

  on<T extends SystemEventType>(type: T, listener: Listener<T>): () => void {
    if (!(type in kEventBits)) throw new TypeError(`unknown event type ${JSON.stringify(type)}; expected one of ${kAllTypes.join(', ')}`);
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    this.#publishInterest();
    return () => this.off(type, listener);
  }

  off<T extends SystemEventType>(type: T, listener: Listener<T>): void {
    const set = this.#listeners.get(type);
    if (set?.delete(listener) && set.size === 0) this.#listeners.delete(type);
    this.#publishInterest();
  }

  /** The next event of `type` that satisfies `filter`. Subscribe before causing the event. */
  waitFor<T extends SystemEventType>(type: T, filter?: (event: EventOf<T>) => boolean, options?: WaitForOptions): Promise<EventOf<T>> {
    const timeoutMs = options?.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${type} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (event) => {
        if (filter !== undefined && !filter(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  once<T extends SystemEventType>(type: T, options?: WaitForOptions): Promise<EventOf<T>> {
    return this.waitFor(type, undefined, options);
  }

  /** Every event of the given types (all types by default) until the loop breaks. */
  async *stream(...types: SystemEventType[]): AsyncGenerator<SystemEvent> {
    const queue: SystemEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (event: SystemEvent): void => {
      queue.push(event);
      wake?.();
    };
    const offs = (types.length === 0 ? kAllTypes : types).map((type) => this.on(type, push));
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      for (const off of offs) off();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<SystemEvent> {
    return this.stream();
  }

  /** @internal */
  emit(event: SystemEvent): void {
    const diagnostics = this.#channels.get(event.type);
    if (diagnostics?.hasSubscribers) diagnostics.publish(event);
    const set = this.#listeners.get(event.type);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`troupe: a ${event.type} listener threw: ${String(error)}`);
      }
    }
  }

  /** @internal */
  interestMask(): number {
    let mask = 0;
    for (const type of this.#listeners.keys()) mask |= kEventBits[type];
    for (const [type, diagnostics] of this.#channels) if (diagnostics.hasSubscribers) mask |= kEventBits[type];
    return mask;
  }

  #publishInterest(): void {
    this.#onInterest(this.interestMask());
  }
}
