/**
 * The root supervisor's restart window (OTP's MaxR restarts in MaxT) in
 * shared memory: a ring of the times of its last maxRestarts restarts,
 * oldest at HEAD. A worker whose top-level actor crashes asks it and, if
 * the limit allows, restarts the actor on the spot, counted against the one
 * limit every thread shares; the main thread's decisions for the root count
 * here too.
 *
 * A restart is admitted when the ring is not full, or when its oldest time
 * has left the window (it is then overwritten): exactly "fewer than
 * maxRestarts restarts within withinMs", as supervision/restart-window.ts
 * counts for every other supervisor.
 *
 * One thread at a time reads and writes it, holding CLAIM: 0 when free,
 * else its holder's host index + 1. A thread releases only its own claim
 * (compare-and-swap), so a claim taken over from it stays taken over; and
 * a dead worker's claim is released by name when its death is handled.
 */
// Int32 words, then withinMs (float64), then the ring of restart times (float64).
const CLAIM = 0;
const COUNT = 1;
const HEAD = 2;
const CLOSED = 3;
const kWithinOffset = 16;
const kTimesOffset = 24;
/** Tries a worker makes while another thread holds the claim, before it leaves the decision to the root. */
const kWorkerTries = 256;
/**
 * A claim held this long belongs to a thread stopped mid-update (its death
 * not yet handled, a debugger): the main thread, which must decide, takes it
 * over. Breaking a claim that was only slow can cost a restart counted
 * wrong, never a hang.
 */
const kStuckClaimMs = 100;

export function allocateRestartLedger(maxRestarts: number, withinMs: number): SharedArrayBuffer {
  const memory = new SharedArrayBuffer(kTimesOffset + 8 * maxRestarts);
  new Float64Array(memory, kWithinOffset, 1)[0] = withinMs;
  return memory;
}

export class RestartLedger {
  readonly #words: Int32Array;
  /** This thread's claim value: its host index + 1. */
  readonly #tag: number;
  readonly #times: Float64Array;
  readonly #capacity: number;
  readonly #withinMs: number;

  constructor(memory: SharedArrayBuffer, hostIndex: number) {
    if (memory.byteLength <= kTimesOffset || (memory.byteLength - kTimesOffset) % 8 !== 0) {
      throw new RangeError(`a restart ledger needs ${kTimesOffset} + 8n bytes (n ≥ 1), received ${memory.byteLength}`);
    }
    this.#words = new Int32Array(memory, 0, 4);
    this.#withinMs = new Float64Array(memory, kWithinOffset, 1)[0];
    this.#times = new Float64Array(memory, kTimesOffset);
    this.#capacity = this.#times.length;
    this.#tag = hostIndex + 1;
  }

  /** Counts a restart at `now` (ms, a clock every thread shares) if the limit allows; waits out another thread's claim. */
  admit(now: number): boolean {
    this.#claim(true);
    return this.#admit(now);
  }

  /** Like `admit`, but undefined instead of waiting when another thread holds the claim. */
  tryAdmit(now: number): boolean | undefined {
    return this.#claim(false) ? this.#admit(now) : undefined;
  }

  /** The root gave up: nothing is admitted any more, on any thread. */
  close(): void {
    this.#claim(true);
    Atomics.store(this.#words, CLOSED, 1);
    this.#release();
  }

  /** A worker died: a claim it held is released (it can hold no other). */
  releaseHeldBy(hostIndex: number): void {
    Atomics.compareExchange(this.#words, CLAIM, hostIndex + 1, 0);
  }

  #admit(now: number): boolean {
    const words = this.#words;
    const times = this.#times;
    const capacity = this.#capacity;
    const count = Atomics.load(words, COUNT);
    const head = Atomics.load(words, HEAD);
    // Clocks of threads agree, but claims may come in a different order than their clocks: keep the ring sorted.
    const at = count === 0 ? now : Math.max(now, times[(head + count - 1) % capacity]);
    let admitted = Atomics.load(words, CLOSED) === 0;
    if (admitted && count < capacity) {
      times[(head + count) % capacity] = at;
      Atomics.store(words, COUNT, count + 1);
    } else if (admitted && times[head] <= at - this.#withinMs) {
      times[head] = at;
      Atomics.store(words, HEAD, (head + 1) % capacity);
    } else {
      admitted = false;
    }
    this.#release();
    return admitted;
  }

  /** Takes the claim; false when not waiting for another thread's. */
  #claim(patient: boolean): boolean {
    const words = this.#words;
    let seen = -1;
    let seenSince = 0;
    for (let tries = 0; ; tries++) {
      const holder = Atomics.compareExchange(words, CLAIM, 0, this.#tag);
      if (holder === 0) return true;
      if (!patient) {
        if (tries >= kWorkerTries) return false;
        continue;
      }
      if (holder !== seen) {
        seen = holder;
        seenSince = performance.now();
      } else if ((tries & 1023) === 0 && performance.now() - seenSince > kStuckClaimMs) {
        Atomics.compareExchange(words, CLAIM, holder, 0);
      }
    }
  }

  #release(): void {
    Atomics.compareExchange(this.#words, CLAIM, this.#tag, 0);
  }
}
