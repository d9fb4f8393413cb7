/**
 * The sending side of one lane plus its bounded overflow: when the ring is
 * full, records wait here in order (later sends queue behind them, so
 * per-sender order holds) until the consumer frees space and rings us.
 */
import { copyBytes } from '../codec/codec.js';
import { LaneWriter } from '../lane/ring.js';
import type { HeldRecord } from './held-record.js';
import type { LinkFaults } from './link-faults.js';

// Re-exported: the outbound path names held records by the outbox that holds them.
export type { HeldRecord } from './held-record.js';

export class Outbox {
  readonly writer: LaneWriter;
  readonly toHost: number;
  #held: HeldRecord[] = [];
  #heldHead = 0;
  /** Payload bytes of the held records: the overflow is bounded in bytes too (overflowBytes). */
  heldBytes = 0;
  dirty = false;
  /** Present once a fault was injected on this lane (troupe/chaos). */
  faults: LinkFaults | undefined = undefined;
  #writableWaiters: (() => void)[] = [];

  constructor(writer: LaneWriter, toHost: number) {
    this.writer = writer;
    this.toHost = toHost;
  }

  get held(): number {
    return this.#held.length - this.#heldHead;
  }

  /** Writes `bytes[start, end)` as a record if nothing is held and the ring has room; false otherwise. */
  tryWrite(kindWord: number, target: number, sender: number, corr: number, trace: number, bytes: Uint8Array, start: number, end: number, checksum = -1): boolean {
    if (this.#held.length !== this.#heldHead) return false;
    const at = this.writer.reserve(kindWord, target, sender, corr, trace, end - start, checksum);
    if (at < 0) return false;
    copyBytes(bytes, start, end, this.writer.bytes, at);
    this.writer.completed();
    return true;
  }

  hold(kindWord: number, target: number, sender: number, corr: number, trace: number, bytes: Uint8Array, start: number, end: number, awaitsReply: boolean, checksum = -1): void {
    this.#held.push({ kindWord, target, sender, corr, trace, payload: bytes.slice(start, end), awaitsReply, checksum });
    this.heldBytes += end - start;
    this.writer.requestSpace();
  }

  /** Whether held records can move into the ring now. */
  canDrain(): boolean {
    const next = this.#held[this.#heldHead];
    return next !== undefined && this.writer.hasRoomToResume(next.payload.length);
  }

  /** Moves held records into the ring while it has room; returns how many moved. */
  drainHeld(track: (corr: number, position: number) => void): number {
    let moved = 0;
    while (this.#heldHead < this.#held.length) {
      const record = this.#held[this.#heldHead];
      const at = this.writer.reserve(record.kindWord, record.target, record.sender, record.corr, record.trace, record.payload.length, record.checksum ?? -1);
      if (at < 0) {
        this.writer.requestSpace();
        break;
      }
      copyBytes(record.payload, 0, record.payload.length, this.writer.bytes, at);
      this.writer.completed();
      if (record.awaitsReply === true) track(record.corr, this.writer.lastPosition);
      this.heldBytes -= record.payload.length;
      this.#held[this.#heldHead++] = undefined as unknown as HeldRecord;
      moved++;
    }
    if (this.#heldHead === this.#held.length) {
      this.#held = [];
      this.#heldHead = 0;
    } else if (this.#heldHead > 1024 && this.#heldHead * 2 > this.#held.length) {
      this.#held = this.#held.slice(this.#heldHead);
      this.#heldHead = 0;
    }
    return moved;
  }

  /** Resolves once nothing is held (the next record goes straight into the ring). */
  whenWritable(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  /** Wakes `whenWritable` callers if the overflow has emptied. */
  notifyWritable(): void {
    if (this.held !== 0 || this.#writableWaiters.length === 0) return;
    const waiters = this.#writableWaiters;
    this.#writableWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Records still held, for dead-lettering when the system stops; `whenWritable` callers are let go. */
  takeHeld(): HeldRecord[] {
    const rest = this.#held.slice(this.#heldHead);
    this.#held = [];
    this.#heldHead = 0;
    this.heldBytes = 0;
    this.notifyWritable();
    return rest;
  }
}
