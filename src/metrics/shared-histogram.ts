/**
 * An HdrHistogram whose counts live in shared memory: the host that owns it
 * records, the main thread reads percentiles without a message. Single
 * writer; a reader may see a count mid-update, which only blurs a percentile.
 */
import { JsHistogram } from 'hdr-histogram-js';

/** Nanoseconds: 1 ns to 1 hour at 2 significant digits. */
export const kLowestNs = 1;
export const kHighestNs = 3_600_000_000_000;
export const kSignificantDigits = 2;

class SharedCountsHistogram extends JsHistogram {
  #counts: Uint32Array;

  constructor(counts: Uint32Array | undefined) {
    super(kLowestNs, kHighestNs, kSignificantDigits);
    this.#counts = counts ?? new Uint32Array(this.countsArrayLength);
  }

  clearCounts(): void {
    this.#counts.fill(0);
  }
  incrementCountAtIndex(index: number): void {
    this.#counts[index]++;
  }
  addToCountAtIndex(index: number, value: number): void {
    this.#counts[index] += value;
  }
  setCountAtIndex(index: number, value: number): void {
    this.#counts[index] = value;
  }
  resize(): void {
    throw new Error('shared histograms have a fixed range');
  }
  getCountAtIndex(index: number): number {
    return this.#counts[index];
  }
  protected _getEstimatedFootprintInBytes(): number {
    return this.#counts.byteLength;
  }
  copyCorrectedForCoordinatedOmission(): JsHistogram {
    throw new Error('not supported on a shared histogram');
  }
}

let countsLength: number | undefined;

/** Number of uint32 counts a shared histogram needs. */
export function histogramCountsLength(): number {
  if (countsLength === undefined) {
    countsLength = new SharedCountsHistogram(undefined).countsArrayLength;
  }
  return countsLength;
}

export class HistogramWriter {
  readonly #histogram: SharedCountsHistogram;
  constructor(counts: Uint32Array) {
    this.#histogram = new SharedCountsHistogram(counts);
  }
  recordNs(ns: number): void {
    this.#histogram.recordValue(Math.min(kHighestNs, Math.max(kLowestNs, Math.round(ns))));
  }
}

/** Upper bounds (µs) of the cumulative buckets `stats()` reports for Prometheus-style histograms. */
export const kBucketBoundsUs: readonly number[] = Object.freeze([1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000]);

export interface Percentiles {
  count: number;
  /** Sum of the recorded values, µs (approximate: each value at its bucket's midpoint). */
  sumUs: number;
  /** Cumulative counts of values ≤ each bound of `boundsUs` (Prometheus `le` buckets; +Inf is `count`). */
  buckets: number[];
  boundsUs: readonly number[];
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Reads percentiles (in microseconds) from one or more shared count arrays, merged. */
export function readPercentilesUs(countArrays: Uint32Array[]): Percentiles {
  const length = histogramCountsLength();
  const merged = new Uint32Array(length);
  for (const counts of countArrays) for (let i = 0; i < length; i++) merged[i] += counts[i];
  const histogram = new SharedCountsHistogram(merged);
  histogram.establishInternalTackingValues();
  const us = (ns: number): number => Math.round(ns) / 1000;
  const buckets = new Array<number>(kBucketBoundsUs.length).fill(0);
  let sumNs = 0;
  for (let i = 0; i < length; i++) {
    const n = merged[i];
    if (n === 0) continue;
    const value = histogram.valueFromIndex(i);
    sumNs += n * (value + histogram.highestEquivalentValue(value)) / 2;
    for (let b = 0; b < kBucketBoundsUs.length; b++) if (value <= kBucketBoundsUs[b] * 1000) buckets[b] += n;
  }
  return {
    count: histogram.totalCount,
    sumUs: Math.round(sumNs) / 1000,
    buckets,
    boundsUs: kBucketBoundsUs,
    p50: us(histogram.getValueAtPercentile(50)),
    p95: us(histogram.getValueAtPercentile(95)),
    p99: us(histogram.getValueAtPercentile(99)),
    p999: us(histogram.getValueAtPercentile(99.9)),
    max: us(histogram.maxValue),
  };
}
