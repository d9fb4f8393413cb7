/**
 * A supervisor's restart intensity (OTP's MaxR restarts in MaxT): the times
 * of its recent restarts, asked before each new one.
 *
 * The root supervisor's window can live in shared memory. Then a worker
 * admits the restart of a crashed top-level actor itself and restarts it on
 * the spot, instead of a round trip through the main thread (two thread
 * wake-ups, where a 2-core machine loses milliseconds when both cores are
 * busy), and every thread still counts against the one limit, exactly.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ResolvedSupervisor } from './strategy.js';

export interface RestartWindow {
  /** Counts a restart at `now` (ms of `monotonicMs`) if the limit allows it; false means give up. */
  admit(now: number): boolean;
  /** The supervisor gave up: no further restart is admitted anywhere. */
  close(): void;
}

/** Milliseconds of the process-wide monotonic clock: the same on every thread (performance.now() is not). */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** A window only its own thread uses. */
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

// Int32 words of the shared window's header, then withinMs (float64), then the ring of times.
const VERSION = 0;
const COUNT = 1;
const HEAD = 2;
const CLOSED = 3;
const kWithinOffset = 16;
const kTimesOffset = 24;
/** Versions stay small integers, so the write below never allocates a heap number. */
const kVersionMask = 0x3ffffffe;
/** A ring of more restarts than this would be megabytes of shared memory: such a root decides on the main thread. */
export const kMaxSharedRestarts = 1 << 20;

/**
 * Shared memory for the root supervisor's window, or undefined when only the
 * main thread may decide: a strategy other than one_for_one restarts
 * siblings, which only the root knows; backoff delays make the round trip
 * moot; a limit of 0 admits nothing.
 */
export function allocateRootRestartWindow(options: ResolvedSupervisor): SharedArrayBuffer | undefined {
  if (options.strategy !== 'one_for_one' || options.backoff !== undefined) return undefined;
  if (options.maxRestarts === 0 || options.maxRestarts > kMaxSharedRestarts) return undefined;
  const memory = new SharedArrayBuffer(kTimesOffset + 8 * options.maxRestarts);
  new Float64Array(memory, kWithinOffset, 1)[0] = options.withinMs;
  return memory;
}

/**
 * The window in shared memory: a ring of the last maxRestarts restart times,
 * oldest at HEAD. A restart is admitted when the ring is not full, or when
 * its oldest time has left the window (it is then overwritten), which is
 * exactly "fewer than maxRestarts restarts within withinMs".
 *
 * Threads read optimistically and claim the write with a CAS of an even
 * VERSION to odd (a seqlock): a stale reader's claim fails and it reads
 * again. Nobody can die holding the claim: the write is a few Atomics calls
 * on precomputed small integers, with no call, loop or allocation in which
 * V8 could take a termination or run out of memory, so a thread that waits
 * for an odd VERSION waits at most for the writer's core.
 */
export class SharedRestartWindow implements RestartWindow {
  readonly #words: Int32Array;
  readonly #times: Float64Array;
  readonly #capacity: number;
  readonly #withinMs: number;

  constructor(memory: SharedArrayBuffer) {
    if (memory.byteLength <= kTimesOffset || (memory.byteLength - kTimesOffset) % 8 !== 0) {
      throw new InvalidArgumentError(`a shared restart window needs ${kTimesOffset} + 8n bytes, received ${memory.byteLength}`);
    }
    this.#words = new Int32Array(memory, 0, 4);
    this.#withinMs = new Float64Array(memory, kWithinOffset, 1)[0];
    this.#times = new Float64Array(memory, kTimesOffset);
    this.#capacity = this.#times.length;
  }

  admit(now: number): boolean {
    const words = this.#words;
    const times = this.#times;
    const capacity = this.#capacity;
    for (;;) {
      const version = Atomics.load(words, VERSION);
      if ((version & 1) === 1) continue;
      if (Atomics.load(words, CLOSED) !== 0) return false;
      const count = Atomics.load(words, COUNT);
      const head = Atomics.load(words, HEAD);
      const full = count === capacity;
      // Clocks of threads agree, but claims may land out of order: keep the ring sorted.
      const at = count === 0 ? now : Math.max(now, times[(head + count - 1) % capacity]);
      if (full && times[head] > at - this.#withinMs) {
        // Refused on a consistent snapshot only.
        if (Atomics.load(words, VERSION) === version) return false;
        continue;
      }
      const slot = full ? head : (head + count) % capacity;
      const nextHead = full ? (head + 1) % capacity : head;
      const nextCount = full ? count : count + 1;
      const done = (version + 2) & kVersionMask;
      if (Atomics.compareExchange(words, VERSION, version, version + 1) !== version) continue;
      times[slot] = at;
      Atomics.store(words, HEAD, nextHead);
      Atomics.store(words, COUNT, nextCount);
      Atomics.store(words, VERSION, done);
      return true;
    }
  }

  close(): void {
    Atomics.store(this.#words, CLOSED, 1);
  }
}
