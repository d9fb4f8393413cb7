/**
 * The sending side of one lane plus its bounded overflow: when the ring is
 * full, records wait here in order (later sends queue behind them, so
 * per-sender order holds) until the consumer frees space and rings us.
 */
import { LaneWriter } from '../lane/ring.js';

interface HeldRecord {
  kindWord: number;
  target: number;
  sender: number;
  corr: number;
  payload: Uint8Array;
}

export class Outbox {
  readonly writer: LaneWriter;
  readonly toHost: number;
  #held: HeldRecord[] = [];
  #heldHead = 0;
  dirty = false;

  constructor(writer: LaneWriter, toHost: number) {
    this.writer = writer;
    this.toHost = toHost;
  }

  get held(): number {
    return this.#held.length - this.#heldHead;
  }

  /** Writes into the ring if nothing is held and there is room; false otherwise. */
  tryWrite(kindWord: number, target: number, sender: number, corr: number, payload: Uint8Array): boolean {
    if (this.#held.length !== this.#heldHead) return false;
    const at = this.writer.reserve(kindWord, target, sender, corr, payload.length);
    if (at < 0) return false;
    this.writer.bytes.set(payload, at);
    return true;
  }

  hold(kindWord: number, target: number, sender: number, corr: number, payload: Uint8Array): void {
    this.#held.push({ kindWord, target, sender, corr, payload: payload.slice() });
    this.writer.requestSpace();
  }

  /** Whether the oldest held record would fit in the ring now. */
  canDrain(): boolean {
    const next = this.#held[this.#heldHead];
    return next !== undefined && this.writer.fits(next.payload.length);
  }

  /** Moves held records into the ring while it has room; returns how many moved. */
  drainHeld(): number {
    let moved = 0;
    while (this.#heldHead < this.#held.length) {
      const record = this.#held[this.#heldHead];
      const at = this.writer.reserve(record.kindWord, record.target, record.sender, record.corr, record.payload.length);
      if (at < 0) {
        this.writer.requestSpace();
        break;
      }
      this.writer.bytes.set(record.payload, at);
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

  /** Records still held, for dead-lettering when the system stops. */
  takeHeld(): HeldRecord[] {
    const rest = this.#held.slice(this.#heldHead);
    this.#held = [];
    this.#heldHead = 0;
    return rest;
  }
}
