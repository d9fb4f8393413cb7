/**
 * Faults injected on one outgoing lane (troupe/chaos), applied by the
 * producer as it sends: cut and drop lose the record, duplicate writes it
 * twice, corrupt flips one bit of its payload, delay holds it (in order) until
 * its time comes. Decisions come from a xorshift generator seeded per lane,
 * so the same seed and the same traffic replay the same faults.
 */
import { LaneFault } from '../lane/layout.js';
import type { LaneFaultConfig } from '../lane/lane-faults.js';
import type { HeldRecord } from './held-record.js';

/** What to do with one record. `copies` 0: lost; `delayUntil` > 0: hold it until then (performance.now ms). */
export interface FaultVerdict {
  copies: number;
  corrupted: Uint8Array | undefined;
  delayUntil: number;
}

export class LinkFaults {
  #seed = Number.NaN;
  #state = 1;
  /** Records held by a delay fault, in send order. */
  readonly delayed: (HeldRecord & { releaseAt: number })[] = [];
  #lastRelease = 0;

  judge(config: LaneFaultConfig, payload: Uint8Array): FaultVerdict {
    if (config.seed !== this.#seed) {
      this.#seed = config.seed;
      this.#state = (config.seed | 0) || 0x9e3779b9;
    }
    const verdict: FaultVerdict = { copies: 1, corrupted: undefined, delayUntil: 0 };
    const mask = config.mask;
    if ((mask & LaneFault.cut) !== 0 || ((mask & LaneFault.drop) !== 0 && this.#chance(config.dropPpm))) {
      verdict.copies = 0;
      return verdict;
    }
    if ((mask & LaneFault.corrupt) !== 0 && payload.length > 0 && this.#chance(config.corruptPpm)) {
      const bit = this.#next() % (payload.length * 8);
      const flipped = payload.slice();
      flipped[bit >>> 3] ^= 1 << (bit & 7);
      verdict.corrupted = flipped;
    }
    if ((mask & LaneFault.duplicate) !== 0 && this.#chance(config.duplicatePpm)) verdict.copies = 2;
    if ((mask & LaneFault.delay) !== 0 || this.delayed.length > 0) {
      // FIFO: a record never overtakes one delayed before it (a lane is ordered, as a TCP link would be).
      const jitter = config.delayJitterUs > 0 ? this.#next() % (config.delayJitterUs + 1) : 0;
      const due = (mask & LaneFault.delay) !== 0 ? performance.now() + (config.delayUs + jitter) / 1000 : 0;
      verdict.delayUntil = Math.max(due, this.#lastRelease, performance.now());
      this.#lastRelease = verdict.delayUntil;
    }
    return verdict;
  }

  #chance(ppm: number): boolean {
    return ppm > 0 && this.#next() % 1_000_000 < ppm;
  }

  /** xorshift32: small, fast, and the same sequence for the same seed. */
  #next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x;
    return x >>> 0;
  }
}
