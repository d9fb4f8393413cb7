/**
 * Requests this host is waiting on (asks, spawns, stops), keyed by
 * correlation id. Every entry settles exactly once: by its reply, its timer,
 * or the death of the host it waits on. Nothing waits forever.
 */
import { AskTimeoutError } from '../errors.js';

interface Entry {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
  host: number;
  label: string;
}

export class PendingTable {
  readonly #entries = new Map<number, Entry>();
  #nextCorr = 1;

  get size(): number {
    return this.#entries.size;
  }

  /** Registers a request to `host`; returns its correlation id and the promise of its answer. */
  open(host: number, label: string, timeoutMs: number): { corr: number; promise: Promise<unknown> } {
    let corr = this.#nextCorr;
    // 0 means "no correlation" in a record header; skip it when the counter wraps.
    this.#nextCorr = corr === 0xffffffff ? 1 : corr + 1;
    if (corr === 0) corr = this.#nextCorr++;
    let entry!: Entry;
    const promise = new Promise<unknown>((resolve, reject) => {
      entry = { resolve, reject, timer: undefined, host, label };
    });
    if (timeoutMs > 0) {
      entry.timer = setTimeout(() => {
        if (this.#entries.delete(corr)) entry.reject(new AskTimeoutError(label, timeoutMs));
      }, timeoutMs);
    }
    this.#entries.set(corr, entry);
    return { corr, promise };
  }

  has(corr: number): boolean {
    return this.#entries.has(corr);
  }

  resolve(corr: number, value: unknown): boolean {
    const entry = this.#take(corr);
    entry?.resolve(value);
    return entry !== undefined;
  }

  reject(corr: number, error: unknown): boolean {
    const entry = this.#take(corr);
    entry?.reject(error);
    return entry !== undefined;
  }

  /** Drops a request whose send failed; nobody will await it. */
  forget(corr: number): void {
    this.#take(corr);
  }

  /** Rejects every request waiting on `host` (it died). */
  rejectHost(host: number, error: (label: string) => unknown): number {
    let count = 0;
    for (const [corr, entry] of this.#entries) {
      if (entry.host !== host) continue;
      this.#take(corr);
      entry.reject(error(entry.label));
      count++;
    }
    return count;
  }

  rejectAll(error: (label: string) => unknown): void {
    for (const [corr, entry] of [...this.#entries]) {
      this.#take(corr);
      entry.reject(error(entry.label));
    }
  }

  #take(corr: number): Entry | undefined {
    const entry = this.#entries.get(corr);
    if (entry === undefined) return undefined;
    this.#entries.delete(corr);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    return entry;
  }
}
