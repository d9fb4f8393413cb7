/**
 * The lifecycle event stream. Events are produced on whichever host they
 * happen and reach the main thread through the lanes, but only for types
 * someone listens to: the listened-to set is a bit mask in shared memory, so
 * an unobserved event costs a host one load.
 *
 * The event shapes and interest bits live in host/lifecycle-events.ts (hosts
 * build the events) and are re-exported here with the API that serves them.
 */
import { channel } from 'node:diagnostics_channel';
import { kEventBits, type EventOf, type SystemEvent, type SystemEventType } from '../host/lifecycle-events.js';

export {
  kEventBits,
  type ActorStartedEvent,
  type ActorCrashedEvent,
  type ActorRestartedEvent,
  type ActorStoppedEvent,
  type WorkerExitedEvent,
  type WorkerReplacedEvent,
  type WorkerStalledEvent,
  type DeadLetterEvent,
  type BackpressureEvent,
  type SystemStoppedEvent,
  type SupervisorDecidedEvent,
  type SystemEscalatedEvent,
  type SystemEvent,
  type SystemEventType,
  type EventOf,
} from '../host/lifecycle-events.js';

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
