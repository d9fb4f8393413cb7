/**
 * The loopback LLM server's rate limit, as a real API keeps one: a rolling
 * window of the requests it admitted (and their tokens). A request that would
 * pass `rpm` or `tpm` is refused with the time until enough of the window
 * frees for it, which the server sends as `retry-after` / `retry-after-ms`.
 * Refused requests take nothing from the window.
 */

export interface RateLimits {
  /** Requests admitted per window. */
  rpm?: number;
  /** Tokens (input + output of the answer) admitted per window. */
  tpm?: number;
  /** @default 60_000 */
  windowMs?: number;
}

export interface Refusal {
  /** When the window has room for this request (at least 1 ms). */
  retryAfterMs: number;
  message: string;
}

const kDefaultWindowMs = 60_000;

export class RateWindow {
  /** Admitted requests, oldest first. */
  #admitted: { at: number; tokens: number }[] = [];

  /** Admits the request (and counts it), or says when it would fit. `at` is monotonic milliseconds. */
  admit(limits: RateLimits | undefined, at: number, tokens: number): Refusal | undefined {
    if (limits === undefined || (limits.rpm === undefined && limits.tpm === undefined)) return undefined;
    const windowMs = limits.windowMs ?? kDefaultWindowMs;
    while (this.#admitted.length > 0 && this.#admitted[0].at <= at - windowMs) this.#admitted.shift();
    const refusal = this.#refusal(limits, windowMs, at, tokens);
    if (refusal === undefined) this.#admitted.push({ at, tokens });
    return refusal;
  }

  #refusal({ rpm, tpm }: RateLimits, windowMs: number, at: number, tokens: number): Refusal | undefined {
    const admitted = this.#admitted;
    const waitFor = (ms: number, message: string) => ({ retryAfterMs: Math.max(1, Math.ceil(ms)), message });
    if (rpm !== undefined && admitted.length + 1 > rpm) {
      // Once the entry at [length - rpm] leaves the window, rpm - 1 remain and this one fits.
      return waitFor(admitted[admitted.length - rpm].at + windowMs - at, `rate limit reached: ${rpm} requests per ${windowMs} ms`);
    }
    if (tpm === undefined) return undefined;
    // As the real APIs: a request larger than the whole budget is refused, and no wait makes it fit.
    if (tokens > tpm) return waitFor(windowMs, `request too large: ${tokens} tokens, limit ${tpm} tokens per ${windowMs} ms`);
    let used = admitted.reduce((sum, e) => sum + e.tokens, 0);
    if (used + tokens <= tpm) return undefined;
    for (const e of admitted) {
      used -= e.tokens;
      if (used + tokens <= tpm) return waitFor(e.at + windowMs - at, `rate limit reached: ${tpm} tokens per ${windowMs} ms`);
    }
    return waitFor(windowMs, `rate limit reached: ${tpm} tokens per ${windowMs} ms`);
  }
}
