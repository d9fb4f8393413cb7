/**
 * A supervisor's restart intensity (OTP's MaxR restarts in MaxT): the times
 * of its recent restarts, asked before each new one. The root's may instead
 * be a RestartLedger in shared memory (lane/restart-ledger.ts), which its
 * workers ask too.
 */
import type { ResolvedSupervisor } from '../options.js';

export interface RestartWindow {
  /** Counts a restart at `now` (ms of `monotonicMs`) if the limit allows it; false means give up. */
  admit(now: number): boolean;
  /** The supervisor gave up: no further restart is admitted. */
  close(): void;
}

/** Milliseconds of the process-wide monotonic clock: the same on every thread (performance.now() is not). */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/**
 * The largest root limit whose window is shared: 8 bytes a restart, 512 KiB
 * at this limit. A root with a larger one decides on the main thread.
 */
export const kMaxSharedRestarts = 1 << 16;

/**
 * Whether the root's window is shared, so that its workers restart crashed
 * top-level actors themselves: only for one_for_one, where a restart
 * concerns the one child (group strategies need the sibling list, which
 * only the root has), without backoff (a delay makes the round trip moot),
 * and for a limit that admits anything at all.
 */
export function workersMayRestart(options: ResolvedSupervisor): boolean {
  return options.strategy === 'one_for_one' && options.backoff === undefined && options.maxRestarts > 0 && options.maxRestarts <= kMaxSharedRestarts;
}

export class LocalRestartWindow implements RestartWindow {
  readonly #maxRestarts: number;
  readonly #withinMs: number;
  readonly #times: number[] = [];
  #closed = false;

  constructor(maxRestarts: number, withinMs: number) {
    this.#maxRestarts = maxRestarts;
    this.#withinMs = withinMs;
  }

  admit(now: number): boolean {
    if (this.#closed) return false;
    const times = this.#times;
    while (times.length > 0 && times[0] <= now - this.#withinMs) times.shift();
    if (times.length >= this.#maxRestarts) return false;
    times.push(now);
    return true;
  }

  close(): void {
    this.#closed = true;
  }
}
