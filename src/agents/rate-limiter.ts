/**
 * A provider's budget, for the whole system (one provider actor owns it):
 * requests and tokens per rolling window, a concurrency cap, and a pause the
 * API itself asked for (a 429's retry-after). Pure: the caller feeds `now`.
 *
 * Tokens are not known before a call, so a call reserves an estimate (its
 * input's size plus the output the provider has been seeing lately, capped
 * by maxTokens) and `settle` swaps the estimate for the usage the API
 * reported. Reserving maxTokens instead would leave most of the budget idle;
 * reserving nothing would overshoot. A window entry stays counted a margin
 * past the window: the server sees a request a little after it leaves here.
 */

export interface RateLimits {
  /** Requests per minute (scaled to `windowMs`). */
  rpm?: number;
  /** Tokens (input + output) per minute (scaled to `windowMs`). */
  tpm?: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** The rolling window the budgets are enforced over. @default 60000 */
  windowMs?: number;
}

interface Entry {
  at: number;
  tokens: number;
  /** Out of the window: its tokens no longer count. */
  expired: boolean;
}

export interface Permit {
  readonly entry: Entry;
  settled: boolean;
}

export type Acquired = { ok: true; permit: Permit } | { ok: false; waitMs: number };

export class RateLimiter {
  readonly #requestsPerWindow: number;
  readonly #tokensPerWindow: number;
  readonly #concurrency: number;
  readonly #windowMs: number;
  readonly #marginMs: number;
  readonly #arrivalSlackMs: number;
  /** Calls started within the window (plus margin), oldest first. */
  readonly #entries: Entry[] = [];
  #head = 0;
  #tokensInWindow = 0;
  #inFlight = 0;
  #pausedUntil = 0;
  /** Output tokens seen lately (an exponential average), for estimates. */
  #expectedOutput = 256;

  constructor(limits: RateLimits = {}) {
    this.#windowMs = limits.windowMs ?? 60_000;
    const scale = this.#windowMs / 60_000;
    this.#requestsPerWindow = limits.rpm === undefined ? Infinity : Math.max(1, Math.floor(limits.rpm * scale));
    this.#tokensPerWindow = limits.tpm === undefined ? Infinity : Math.max(1, Math.floor(limits.tpm * scale));
    this.#concurrency = limits.concurrency ?? Infinity;
    this.#marginMs = Math.min(250, Math.max(100, this.#windowMs * 0.02));
    this.#arrivalSlackMs = Math.min(500, this.#windowMs / 4);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** What a call is likely to cost: its input, and the output seen lately (at most what it allows). */
  estimate(inputTokens: number, maxTokens: number): number {
    return inputTokens + Math.min(maxTokens, Math.ceil(this.#expectedOutput));
  }

  /** Starts a call costing `tokens` if the budget allows it now; otherwise how long until it might. */
  tryAcquire(tokens: number, now: number): Acquired {
    this.#expire(now);
    if (now < this.#pausedUntil) return { ok: false, waitMs: this.#pausedUntil - now };
    if (this.#inFlight >= this.#concurrency) return { ok: false, waitMs: Infinity }; // a release wakes the queue
    const live = this.#entries.length - this.#head;
    // A call larger than the whole token budget may still go alone, into an empty window.
    const tokensFit = this.#tokensInWindow + tokens <= this.#tokensPerWindow || live === 0;
    if (live < this.#requestsPerWindow && tokensFit) {
      const entry = { at: now, tokens, expired: false };
      this.#entries.push(entry);
      this.#tokensInWindow += tokens;
      this.#inFlight += 1;
      return { ok: true, permit: { entry, settled: false } };
    }
    return { ok: false, waitMs: this.#untilRoom(tokens, now) };
  }

  /** The call ended: it no longer counts against concurrency, and its tokens are what the API billed. */
  settle(permit: Permit, billedTokens: number | undefined, outputTokens?: number): void {
    if (permit.settled) return;
    permit.settled = true;
    this.#inFlight -= 1;
    if (billedTokens !== undefined) {
      // An entry already out of the window no longer counts; only adjust a live one.
      if (!permit.entry.expired) this.#tokensInWindow += billedTokens - permit.entry.tokens;
      permit.entry.tokens = billedTokens;
    }
    if (outputTokens !== undefined) this.#expectedOutput = this.#expectedOutput * 0.8 + outputTokens * 0.2;
  }

  /** The request leaves now (later than its permit was taken): it counts from now, which only holds the window longer. */
  restamp(permit: Permit, now: number): void {
    if (now > permit.entry.at) permit.entry.at = now;
  }

  /**
   * The answer came now: the server saw the request no later than this. A
   * request that left on a cold connection or from a busy thread can reach
   * the server well after it left here, past the margin; counting it from
   * its answer (up to `#arrivalSlackMs`, 500 ms at most, after it left, so a slow answer
   * does not hold the window for its whole latency) keeps such a request
   * inside the server's window too.
   */
  answered(permit: Permit, now: number): void {
    this.restamp(permit, Math.min(now, permit.entry.at + this.#arrivalSlackMs));
  }

  /** The API said to wait (a 429's retry-after): nothing starts before then. */
  pauseUntil(at: number): void {
    if (at > this.#pausedUntil) this.#pausedUntil = at;
  }

  #expire(now: number): void {
    const horizon = now - this.#windowMs - this.#marginMs;
    while (this.#head < this.#entries.length && this.#entries[this.#head].at <= horizon) {
      this.#tokensInWindow -= this.#entries[this.#head].tokens;
      this.#entries[this.#head].expired = true;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** When enough of the window has expired for one more request of `tokens`. */
  #untilRoom(tokens: number, now: number): number {
    let requests = this.#entries.length - this.#head;
    let inWindow = this.#tokensInWindow;
    for (let i = this.#head; i < this.#entries.length; i++) {
      requests -= 1;
      inWindow -= this.#entries[i].tokens;
      if (requests < this.#requestsPerWindow && (inWindow + tokens <= this.#tokensPerWindow || requests === 0)) {
        return Math.max(1, this.#entries[i].at + this.#windowMs + this.#marginMs - now + 1);
      }
    }
    return 1;
  }
}
