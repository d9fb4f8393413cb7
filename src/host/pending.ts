/**
 * Requests this host is waiting on (asks, spawns, stops), keyed by
 * correlation id. Every entry settles exactly once: by its reply, its
 * deadline, or the death of the host it waits on. Nothing waits forever.
 *
 * Deadlines are kept per timeout value in a FIFO (entries opened later with
 * the same timeout expire later) with one timer for the whole queue, instead
 * of a `setTimeout` per request: at hundreds of thousands of asks or spawns a
 * second, the Timeout objects were a large share of the garbage.
 */
import { AskTimeoutError } from '../errors.js';

interface Entry {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  host: number;
  label: string;
  /** Where the request's record starts in the lane to `host` (free-running), -1 while not in a lane. */
  position: number;
}

class DeadlineQueue {
  corrs: number[] = [];
  deadlines: number[] = [];
  head = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  constructor(readonly timeoutMs: number) {}
}

export class PendingTable {
  readonly #entries = new Map<number, Entry>();
  readonly #queues = new Map<number, DeadlineQueue>();
  #nextCorr = 1;

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The deadline timers are unref'd (a settled request must not hold the
   * process open until its old deadline); this one ref'd handle keeps it
   * open exactly while requests wait, which matters with no worker threads.
   */
  #keepAlive: NodeJS.Timeout | undefined;

  #holdOpen(): void {
    if (this.#entries.size > 0) {
      this.#keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    } else if (this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  /** Registers a request to `host`; returns its correlation id and the promise of its answer. */
  open(host: number, label: string, timeoutMs: number): { corr: number; promise: Promise<unknown> } {
    const corr = this.#nextCorr;
    // 0 means "no correlation" in a record header; skip it when the counter wraps.
    this.#nextCorr = corr === 0xffffffff ? 1 : corr + 1;
    let entry!: Entry;
    const promise = new Promise<unknown>((resolve, reject) => {
      entry = { resolve, reject, host, label, position: -1 };
    });
    this.#entries.set(corr, entry);
    if (this.#keepAlive === undefined) this.#holdOpen();
    this.#expireAfter(corr, timeoutMs);
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

  /** Records where the request's record went in its lane. */
  track(corr: number, position: number): void {
    const entry = this.#entries.get(corr);
    if (entry !== undefined) entry.position = position;
  }

  /**
   * `host` died having consumed its lane from us up to `consumedTo`: rejects
   * the requests whose records it took (their handler died with it). Requests
   * still queued in the lane, or held back, reach its replacement.
   */
  rejectHost(host: number, consumedTo: number, error: (label: string) => unknown): number {
    let count = 0;
    for (const [corr, entry] of this.#entries) {
      if (entry.host !== host || entry.position < 0 || ((entry.position - consumedTo) | 0) >= 0) continue;
      this.#take(corr);
      entry.reject(error(entry.label));
      count++;
    }
    return count;
  }

  /** Rejects every request waiting on `host`, wherever it is (a cluster node that went down). */
  rejectEveryOf(host: number, error: (label: string) => unknown): number {
    let count = 0;
    for (const [corr, entry] of [...this.#entries]) {
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
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);
    this.#queues.clear();
  }

  #take(corr: number): Entry | undefined {
    const entry = this.#entries.get(corr);
    if (entry !== undefined) {
      this.#entries.delete(corr);
      if (this.#entries.size === 0) this.#holdOpen();
    }
    return entry;
  }

  #expireAfter(corr: number, timeoutMs: number): void {
    let queue = this.#queues.get(timeoutMs);
    if (queue === undefined) this.#queues.set(timeoutMs, (queue = new DeadlineQueue(timeoutMs)));
    // Settled requests leave their slot behind; drop those at the head now so
    // the queue stays as short as the number of requests really in flight.
    this.#trim(queue);
    queue.corrs.push(corr);
    queue.deadlines.push(performance.now() + timeoutMs);
    if (queue.timer === undefined) this.#arm(queue);
  }

  #trim(queue: DeadlineQueue): void {
    while (queue.head < queue.corrs.length && !this.#entries.has(queue.corrs[queue.head])) queue.head++;
    if (queue.head === queue.corrs.length) {
      queue.corrs.length = 0;
      queue.deadlines.length = 0;
      queue.head = 0;
    } else if (queue.head > 1024 && queue.head * 2 > queue.corrs.length) {
      queue.corrs = queue.corrs.slice(queue.head);
      queue.deadlines = queue.deadlines.slice(queue.head);
      queue.head = 0;
    }
  }

  #arm(queue: DeadlineQueue): void {
    this.#trim(queue);
    if (queue.head === queue.corrs.length) {
      queue.timer = undefined;
      // One queue per timeout value ever used: drop it once it has nothing left.
      this.#queues.delete(queue.timeoutMs);
      return;
    }
    const delay = Math.max(0, queue.deadlines[queue.head] - performance.now());
    // Unref'd: a settled request must not keep the process alive until its
    // old deadline; one in flight waits on a worker, which keeps it alive.
    queue.timer = setTimeout(() => this.#expire(queue), Math.ceil(delay)).unref();
  }

  #expire(queue: DeadlineQueue): void {
    const now = performance.now();
    while (queue.head < queue.corrs.length && queue.deadlines[queue.head] <= now) {
      const corr = queue.corrs[queue.head++];
      const entry = this.#take(corr);
      entry?.reject(new AskTimeoutError(entry.label, queue.timeoutMs));
    }
    this.#arm(queue);
  }
}
