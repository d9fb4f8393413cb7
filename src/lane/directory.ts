/**
 * Where every live actor runs, readable by every host without a message.
 *
 * Slots come from a shared bump counter (`Atomics.add`) and, once freed, from
 * the free list of the host that freed them, so no two hosts ever hand out the
 * same slot and no CAS is needed. The generation in an id makes a stale ref to
 * a reused slot miss instead of reaching a stranger.
 */
import {
  DIRECTORY_HEADER_INTS,
  DIR_EVENT_INTEREST,
  DIR_NEXT_SLOT,
  DIR_SHUTTING_DOWN,
  GENERATION_MASK,
  MAX_SLOTS,
  SLOT_BITS,
  SLOT_MASK,
} from './layout.js';

export type ActorId = number & { readonly __brand: 'ActorId' };

/** Entry bit set once the actor's init has run (see markStarted); only in a live entry. */
const kStartedBit = 1 << 24;
/**
 * A freed entry (host byte 0) keeps, in its top byte, which host's free list
 * holds the slot (host + 1): when that host is a worker that dies, its free
 * list dies with it, and the main thread finds the slots here to hand to the
 * replacement instead of leaking them.
 */
const kKeeperShift = 24;

export const slotOf = (id: number): number => id & SLOT_MASK;
export const generationOf = (id: number): number => id >>> SLOT_BITS;
export const makeId = (slot: number, generation: number): ActorId => (((generation << SLOT_BITS) | slot) >>> 0) as ActorId;

export class Directory {
  readonly #words: Int32Array;

  static allocate(): SharedArrayBuffer {
    // Three tables after the header: where each actor runs, who supervises it,
    // and how many messages wait in its mailbox on its host (the last two read
    // by the main thread when a worker dies and its memory is gone).
    const sab = new SharedArrayBuffer((DIRECTORY_HEADER_INTS + 3 * MAX_SLOTS) * 4);
    new Int32Array(sab)[DIR_NEXT_SLOT] = 1;
    return sab;
  }

  /**
   * Messages waiting in each slot's in-memory mailbox, kept by the host that
   * runs the actor with plain stores (only that thread writes them; the main
   * thread reads them after the thread has exited): a dead worker's mailboxes
   * die with its heap, and these say how many messages to report lost.
   */
  readonly queued: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.#words = new Int32Array(sab);
    this.queued = new Int32Array(sab, (DIRECTORY_HEADER_INTS + 2 * MAX_SLOTS) * 4, MAX_SLOTS);
  }

  /** How many messages were waiting in `id`'s mailbox on a host that died; clears the count for its successor. */
  takeQueued(id: number): number {
    const slot = slotOf(id);
    const count = this.queued[slot];
    this.queued[slot] = 0;
    return count;
  }

  /** A fresh id for a new actor, or undefined when every slot is taken. */
  allocate(freeSlots: number[]): ActorId | undefined {
    const reused = freeSlots.pop();
    if (reused !== undefined) {
      const previous = (Atomics.load(this.#words, DIRECTORY_HEADER_INTS + reused) >>> 8) & GENERATION_MASK;
      return makeId(reused, (previous + 1) & GENERATION_MASK);
    }
    const slot = Atomics.add(this.#words, DIR_NEXT_SLOT, 1);
    if (slot >= MAX_SLOTS) {
      Atomics.sub(this.#words, DIR_NEXT_SLOT, 1);
      return undefined;
    }
    return makeId(slot, 0);
  }

  /** Marks `id` as placed on `host` (0 = main), supervised by `parent` (0 = root); not yet started. */
  place(id: number, host: number, parent: number): void {
    Atomics.store(this.#words, DIRECTORY_HEADER_INTS + MAX_SLOTS + slotOf(id), parent | 0);
    Atomics.store(this.#words, DIRECTORY_HEADER_INTS + slotOf(id), (generationOf(id) << 8) | (host + 1));
  }

  /** Marks `id` as started (its init ran once): a dead worker's unstarted actors are still spawning, not failing. */
  markStarted(id: number): void {
    const index = DIRECTORY_HEADER_INTS + slotOf(id);
    const entry = Atomics.load(this.#words, index);
    if (((entry >>> 8) & GENERATION_MASK) === generationOf(id)) Atomics.or(this.#words, index, kStartedBit);
  }

  isStarted(id: number): boolean {
    const entry = Atomics.load(this.#words, DIRECTORY_HEADER_INTS + slotOf(id));
    return ((entry >>> 8) & GENERATION_MASK) === generationOf(id) && (entry & 0xff) !== 0 && (entry & kStartedBit) !== 0;
  }

  /** The supervisor of a live `id` (0 = root), as recorded when it was placed. */
  parentOf(id: number): number {
    return Atomics.load(this.#words, DIRECTORY_HEADER_INTS + MAX_SLOTS + slotOf(id)) >>> 0;
  }

  /**
   * The host running `id`, or -1 when no live actor has this id. A plain read
   * on the hot path of every send: an id only reaches a thread through a lane
   * (or the thread that placed it), and reading that lane was an acquire of
   * everything its producer wrote before, the directory entry included.
   */
  hostOf(id: number): number {
    const entry = this.#words[DIRECTORY_HEADER_INTS + (id & SLOT_MASK)];
    if (((entry >>> 8) & GENERATION_MASK) !== id >>> SLOT_BITS) return -1;
    return (entry & 0xff) - 1;
  }

  /** Frees `id`'s slot if it still belongs to `id`; returns whether it did. */
  release(id: number): boolean {
    const index = DIRECTORY_HEADER_INTS + slotOf(id);
    const entry = Atomics.load(this.#words, index);
    if (((entry >>> 8) & GENERATION_MASK) !== generationOf(id) || (entry & 0xff) === 0) return false;
    Atomics.store(this.#words, index, generationOf(id) << 8);
    return true;
  }

  /** Records that `slot`, free, is on `host`'s free list (see kKeeperShift); a live entry is left alone. */
  keep(slot: number, host: number): void {
    const index = DIRECTORY_HEADER_INTS + slot;
    const entry = Atomics.load(this.#words, index);
    if ((entry & 0xff) !== 0) return;
    Atomics.store(this.#words, index, (entry & (GENERATION_MASK << 8)) | ((host + 1) << kKeeperShift));
  }

  /** The free slots `host`'s free list held; a linear scan, for the rare worker-death path. */
  keptBy(host: number): number[] {
    const slots: number[] = [];
    const end = DIRECTORY_HEADER_INTS + Math.min(Atomics.load(this.#words, DIR_NEXT_SLOT), MAX_SLOTS);
    for (let i = DIRECTORY_HEADER_INTS + 1; i < end; i++) {
      const entry = this.#words[i];
      if ((entry & 0xff) === 0 && entry >>> kKeeperShift === host + 1) slots.push(i - DIRECTORY_HEADER_INTS);
    }
    return slots;
  }

  /** Every live id placed on `host`; a linear scan, for the rare worker-death path. */
  idsOn(host: number): ActorId[] {
    const ids: ActorId[] = [];
    const end = DIRECTORY_HEADER_INTS + Math.min(Atomics.load(this.#words, DIR_NEXT_SLOT), MAX_SLOTS);
    for (let i = DIRECTORY_HEADER_INTS + 1; i < end; i++) {
      const entry = this.#words[i];
      if ((entry & 0xff) === host + 1) ids.push(makeId(i - DIRECTORY_HEADER_INTS, (entry >>> 8) & GENERATION_MASK));
    }
    return ids;
  }

  get eventInterest(): number {
    return Atomics.load(this.#words, DIR_EVENT_INTEREST);
  }

  set eventInterest(mask: number) {
    Atomics.store(this.#words, DIR_EVENT_INTEREST, mask);
  }

  get shuttingDown(): boolean {
    return Atomics.load(this.#words, DIR_SHUTTING_DOWN) !== 0;
  }

  beginShutdown(): void {
    Atomics.store(this.#words, DIR_SHUTTING_DOWN, 1);
  }
}
