/**
 * The workload's history travels outside the runtime: a ring of fixed-size
 * records in a SharedArrayBuffer that every thread writes to and the main
 * thread drains. The faults under test cut and corrupt the lanes, and kill
 * workers; a history carried by the lanes would lose exactly what it must
 * record. A record written here is visible to the main thread the moment its
 * writer commits it, even if the writer's thread dies the next instant.
 *
 * Workers find the buffer through `worker_threads` environment data, which
 * every worker (replacements included) inherits from the main thread.
 *
 * Layout: a header of Int32 slots, one commit word per record (the record's
 * sequence number + 1 once written), and 8 float64 fields per record.
 */
import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';

const kEnvKey = 'troupe.chaos.history';
const kHeaderSlots = 4;
const Header = { write: 0, read: 1, dropped: 2 } as const;
export const kFields = 8;

/** What a record is: the first field. */
export const Kind = {
  send: 1,
  fail: 2,
  confirm: 3,
  recv: 4,
  corrupt: 5,
  resend: 6,
  producerStart: 7,
  consumerStart: 8,
  dedup: 9,
  /** A dead letter of the runtime's (see dead-letters.ts for its fields). */
  deadLetter: 10,
} as const;
export type KindCode = (typeof Kind)[keyof typeof Kind];

export class HistoryLog {
  readonly #header: Int32Array;
  readonly #commits: Int32Array;
  readonly #fields: Float64Array;
  readonly capacity: number;
  #readAt = 0;
  /** When the reader first found the slot it waits for still uncommitted (a writer may have died mid-record). */
  #stuckSince = 0;

  constructor(sab: SharedArrayBuffer) {
    this.capacity = (sab.byteLength - kHeaderSlots * 4) / (4 + kFields * 8);
    this.#header = new Int32Array(sab, 0, kHeaderSlots);
    this.#commits = new Int32Array(sab, kHeaderSlots * 4, this.capacity);
    this.#fields = new Float64Array(sab, kHeaderSlots * 4 + this.capacity * 4, this.capacity * kFields);
  }

  /** A new log for `capacity` records (a power of two), published to workers started from now on. */
  static create(capacity = 1 << 18): HistoryLog {
    if (!isMainThread) throw new Error('the history log is created on the main thread');
    const sab = new SharedArrayBuffer(kHeaderSlots * 4 + capacity * (4 + kFields * 8));
    setEnvironmentData(kEnvKey, sab);
    return new HistoryLog(sab);
  }

  /** The log of the current run, on any thread; undefined outside a chaos run. */
  static attach(): HistoryLog | undefined {
    const sab = getEnvironmentData(kEnvKey);
    return sab instanceof SharedArrayBuffer ? new HistoryLog(sab) : undefined;
  }

  /** Appends a record; when the reader has fallen a whole ring behind, the record is dropped and counted. */
  write(kind: KindCode, a: number, b: number, c: number, d: number, e: number, f: number, g: number): void {
    const seq = Atomics.add(this.#header, Header.write, 1);
    if (seq - Atomics.load(this.#header, Header.read) >= this.capacity) {
      Atomics.add(this.#header, Header.dropped, 1);
      // Keep the write index meaningful for the reader: it skips slots that never commit.
      return;
    }
    const slot = seq & (this.capacity - 1);
    const base = slot * kFields;
    const fields = this.#fields;
    fields[base] = kind;
    fields[base + 1] = a;
    fields[base + 2] = b;
    fields[base + 3] = c;
    fields[base + 4] = d;
    fields[base + 5] = e;
    fields[base + 6] = f;
    fields[base + 7] = g;
    Atomics.store(this.#commits, slot, seq + 1);
  }

  /** Records dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.#header, Header.dropped);
  }

  /**
   * Main thread: hands every committed record, in order, to `each`. A slot
   * that stays uncommitted while later ones are written (its writer died
   * between reserving and committing, or the record was dropped) is skipped
   * after `skipAfterMs`; it counts in the return value.
   */
  drain(each: (fields: Float64Array, offset: number) => void, skipAfterMs = 500): number {
    let skipped = 0;
    const written = Atomics.load(this.#header, Header.write);
    while (this.#readAt < written) {
      const slot = this.#readAt & (this.capacity - 1);
      if (Atomics.load(this.#commits, slot) !== this.#readAt + 1) {
        const now = performance.now();
        if (this.#stuckSince === 0) this.#stuckSince = now;
        if (now - this.#stuckSince < skipAfterMs) break;
        skipped++;
      } else {
        each(this.#fields, slot * kFields);
      }
      this.#stuckSince = 0;
      this.#readAt++;
      Atomics.store(this.#header, Header.read, this.#readAt);
    }
    return skipped;
  }
}

/** Wall-clock milliseconds with sub-millisecond precision, the same basis as the runtime's event times. */
export function wallNow(): number {
  return kTimeOrigin + performance.now();
}
const kTimeOrigin = performance.timeOrigin;
