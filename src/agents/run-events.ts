/**
 * `run.events`: what a run does, as it happens, on main: stepStarted,
 * stepFinished, stepRetried, stepFailed, usage (tokens and cost per call),
 * token (streamed text), waiting, signal, custom, runStarted, runFinished,
 * runFailed, runCancelled. Events are not kept: a listener sees those after
 * it subscribed (the run's state is `run.status()`).
 */
import { AskTimeoutError } from '../errors.js';

export interface RunEventBase {
  type: string;
  /** ms since the epoch, on the thread that emitted it. */
  at: number;
  step?: string;
  [field: string]: unknown;
}

type Listener = (event: RunEventBase) => void;

export class RunEvents {
  readonly #byType = new Map<string, Set<Listener>>();
  readonly #any = new Set<Listener>();

  /** Listens to events of one type; returns the function that stops listening. */
  on(type: string, listener: Listener): () => void {
    let set = this.#byType.get(type);
    if (set === undefined) this.#byType.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  onAny(listener: Listener): () => void {
    this.#any.add(listener);
    return () => this.#any.delete(listener);
  }

  /** The next event of `type` (that passes `filter`). */
  waitFor(type: string, filter?: (event: RunEventBase) => boolean, options?: { timeoutMs?: number }): Promise<RunEventBase> {
    return new Promise((resolve, reject) => {
      const timeoutMs = options?.timeoutMs;
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        off();
        reject(new AskTimeoutError(`run event "${type}"`, timeoutMs));
      }, timeoutMs);
      const off = this.on(type, (event) => {
        if (filter !== undefined && !filter(event)) return;
        off();
        clearTimeout(timer);
        resolve(event);
      });
    });
  }

  /** @internal */
  dispatch(event: RunEventBase): void {
    for (const listener of this.#byType.get(event.type) ?? []) call(listener, event);
    for (const listener of this.#any) call(listener, event);
  }
}

function call(listener: Listener, event: RunEventBase): void {
  try {
    listener(event);
  } catch (error) {
    // A listener's bug must not stop the relay of other runs' events.
    queueMicrotask(() => {
      throw error;
    });
  }
}
