/**
 * The lane's dictionary (see layout.ts): the msgpack record structures the
 * producer shares with the consumer (codec/codec.ts). Written only by the
 * producer, before it publishes any record that needs the new entry, so a
 * consumer that has seen such a record (an acquire of the write position)
 * sees the entry too.
 */
import { DICT_HEADER_BYTES, DICT_LENGTH, DICT_VERSION, LANE_DICTIONARY_BYTES } from './layout.js';

export class LaneDictionary {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(lane: SharedArrayBuffer) {
    const start = lane.byteLength - LANE_DICTIONARY_BYTES;
    this.#words = new Int32Array(lane, start, DICT_HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(lane, start + DICT_HEADER_BYTES, LANE_DICTIONARY_BYTES - DICT_HEADER_BYTES);
  }

  get capacity(): number {
    return this.#bytes.length;
  }

  /** Even when stable; odd while the producer is writing (a seqlock). */
  get version(): number {
    return Atomics.load(this.#words, DICT_VERSION);
  }

  /**
   * A private copy of the contents and the version it belongs to, or
   * undefined if the producer kept writing through every attempt. The
   * producer may add a structure (for a later record) while a consumer reads
   * one it already needs: the version brackets the copy, as in a seqlock.
   */
  read(): { version: number; bytes: Uint8Array } | undefined {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const before = Atomics.load(this.#words, DICT_VERSION);
      if ((before & 1) !== 0) continue;
      const length = Math.min(Atomics.load(this.#words, DICT_LENGTH), this.#bytes.length);
      const bytes = this.#bytes.slice(0, Math.max(0, length));
      if (Atomics.load(this.#words, DICT_VERSION) === before) return { version: before, bytes };
    }
    return undefined;
  }

  write(contents: Uint8Array): boolean {
    if (contents.length > this.#bytes.length) return false;
    Atomics.add(this.#words, DICT_VERSION, 1);
    this.#bytes.set(contents);
    Atomics.store(this.#words, DICT_LENGTH, contents.length);
    Atomics.add(this.#words, DICT_VERSION, 1);
    return true;
  }
}
