/**
 * A provider's circuit breaker: after `failures` calls in a row fail for the
 * server's reasons (5xx, timeouts, broken connections; never a 429, which is
 * the limiter's business, nor a 4xx, which is the request's), calls fail fast
 * for `cooldownMs`; then one call is let through, and its outcome closes or
 * reopens the circuit. Pure: the caller feeds `now`.
 */

export interface BreakerOptions {
  /** Consecutive server failures that open the circuit. @default 5 */
  failures?: number;
  /** How long an open circuit refuses calls. @default 30000 */
  cooldownMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  #consecutive = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probing = false;

  constructor(options: BreakerOptions = {}) {
    this.#threshold = options.failures ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
  }

  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.#cooldownMs) this.#state = 'half-open';
    return this.#state;
  }

  /** May a call start now? In half-open, only one (the probe) until it ends. */
  allow(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return true;
    }
    return false;
  }

  /** How long until an open circuit lets a probe through. */
  retryInMs(now: number): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.#cooldownMs - now) : 0;
  }

  succeeded(): void {
    this.#consecutive = 0;
    this.#probing = false;
    this.#state = 'closed';
  }

  failed(now: number): void {
    this.#probing = false;
    this.#consecutive += 1;
    if (this.#state === 'half-open' || this.#consecutive >= this.#threshold) {
      this.#state = 'open';
      this.#openedAt = now;
    }
  }

  /** A call ended without saying anything about the server (cancelled, or the request's own fault). */
  neutral(): void {
    this.#probing = false;
  }
}
