/**
 * What every benchmark shares: flags, the machine it ran on, medians, hdr
 * percentiles, progress on stderr and the one JSON line on stdout. Imported by
 * bench actors too (they run on worker threads), so it stays free of troupe.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { setImmediate as immediate } from 'node:timers/promises';
import { build, type Histogram } from 'hdr-histogram-js';

export interface BenchFlags {
  /** `--quick`: CI smoke sizes, a few seconds per file. */
  quick: boolean;
  /** `--name value` or `--name=value`. */
  value(name: string): string | undefined;
}

export function parseFlags(argv: readonly string[] = process.argv.slice(2)): BenchFlags {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      values.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      values.set(arg.slice(2), argv[++i]);
    } else {
      switches.add(arg.slice(2));
    }
  }
  return { quick: switches.has('quick'), value: (name) => values.get(name) };
}

/** Reads `--name N` as a positive integer, or the fallback. */
export function intFlag(flags: BenchFlags, name: string, fallback: number): number {
  const raw = flags.value(name);
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`--${name} must be a positive integer, received ${raw}`);
  return value;
}

export interface Environment {
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  arch: string;
  /** 1-minute load average when the benchmark ended: anything near `cores` means other work shared the CPUs. */
  load1: number;
}

export function environment(): Environment {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), platform: process.platform, arch: process.arch, load1: round(loadavg()[0]) };
}

/** One row of the runner's table: the number that matters and what it is judged against. */
export interface SummaryRow {
  metric: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  /** value / baselineValue (for latencies: baseline / value, so higher is better either way). */
  ratio?: number;
  /** The target, quoted for the reader; never asserted. */
  target?: string;
}

export interface BenchResult {
  name: string;
  params: Record<string, unknown>;
  summary: SummaryRow[];
  results: Record<string, unknown>;
}

/** Prints the one JSON line a benchmark file owes its runner. */
export function emit(result: BenchResult): void {
  const line = { ...result, env: environment(), at: new Date().toISOString() };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Field-wise median of numeric records from several runs (every run has the same keys). */
export function medianOf<T extends { [K in keyof T]: number }>(runs: readonly T[]): T {
  const out: Record<string, number> = {};
  for (const key of Object.keys(runs[0] ?? {}) as (keyof T & string)[]) out[key] = round(median(runs.map((r) => r[key])), 3);
  return out as T;
}

/**
 * Runs `fn` `warmups` times unrecorded, then `runs` times, and returns the
 * recorded results. Progress goes to stderr so stdout stays one JSON line.
 */
export async function repeat<T>(label: string, runs: number, warmups: number, fn: (run: number) => Promise<T>, show: (value: T) => string): Promise<T[]> {
  for (let i = 0; i < warmups; i++) await fn(-1 - i);
  const results: T[] = [];
  for (let i = 0; i < runs; i++) {
    const value = await fn(i);
    results.push(value);
    progress(`${label} run ${i + 1}/${runs}: ${show(value)}`);
  }
  return results;
}

/** One run of a throughput benchmark. */
export interface RateRun {
  msgsPerSec: number;
  ms: number;
  [detail: string]: number;
}

export function rateRun(count: number, ms: number, detail: Record<string, number> = {}): RateRun {
  return { msgsPerSec: Math.round(count / (ms / 1000)), ms: round(ms, 2), ...detail };
}

export const showRate = (run: RateRun): string => `${(run.msgsPerSec / 1e6).toFixed(2)} M msgs/s`;

export const medianRate = (runs: readonly RateRun[]): number => Math.round(median(runs.map((r) => r.msgsPerSec)));

/** A latency histogram in nanoseconds (3 significant digits). */
export function latencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9, autoResize: true });
}

export interface LatencyUs {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function percentilesUs(histogram: Histogram): LatencyUs {
  const us = (ns: number): number => round(ns / 1000, 2);
  return {
    count: histogram.totalCount,
    p50: us(histogram.getValueAtPercentile(50)),
    p90: us(histogram.getValueAtPercentile(90)),
    p95: us(histogram.getValueAtPercentile(95)),
    p99: us(histogram.getValueAtPercentile(99)),
    p999: us(histogram.getValueAtPercentile(99.9)),
    max: us(histogram.maxValue),
    mean: us(histogram.mean),
  };
}

/**
 * Times `count` back-to-back round trips of `once` into a fresh histogram.
 * Used for troupe and for every baseline, so all are timed the same way.
 */
export async function timeRoundTrips(count: number, once: (i: number) => Promise<unknown>): Promise<LatencyUs> {
  const histogram = latencyHistogram();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await once(i);
    histogram.recordValue(Math.max(1, Math.round((performance.now() - start) * 1e6)));
  }
  const result = percentilesUs(histogram);
  histogram.destroy();
  return result;
}

/** Lets the event loop turn once (timers, I/O, doorbells) before going on. */
export const yieldToLoop = (): Promise<void> => immediate();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU of the whole process (every thread) over `ms` of wall time, in percent of one core. */
export async function cpuPercentOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const start = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(before);
  const wall = performance.now() - start;
  return round(((used.user + used.system) / 1000 / wall) * 100, 2);
}

/** The small message of every throughput benchmark (BASELINES.md uses the same). */
export const ping = (n: number): { to: number; type: 'ping'; n: number } => ({ to: 1, type: 'ping', n });

export interface ProduceReport {
  /** Times `send` returned false (the message waited in the overflow) and the producer waited. */
  stalls: number;
  /** Times `send` threw TROUPE_ERR_MAILBOX_FULL (not accepted); the message was sent again later. */
  refused: number;
}

/**
 * A producer that respects backpressure: bursts of `burst` sends with a turn
 * of the event loop after each. A `false` (accepted, but held in the overflow
 * because the lane is full) ends the burst and the producer awaits
 * `writable()` (`ref.whenWritable()`: the overflow has drained), as a stream
 * writer awaits 'drain'. A refused send (`TROUPE_ERR_MAILBOX_FULL`) is retried
 * after 1 ms.
 */
export async function produce(send: (i: number) => boolean, n: number, burst: number, writable: () => Promise<void>): Promise<ProduceReport> {
  let stalls = 0;
  let refused = 0;
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + burst);
    let stalled = false;
    try {
      while (i < end) {
        const accepted = send(i);
        i++;
        if (!accepted) {
          stalled = true;
          break;
        }
      }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'TROUPE_ERR_MAILBOX_FULL') throw error;
      refused++;
      await sleep(1);
      continue;
    }
    if (stalled) {
      stalls++;
      await writable();
    } else {
      await yieldToLoop();
    }
  }
  return { stalls, refused };
}

/** Benchmarks that pick random peers or amounts replay the same choices on every run and thread. */
export { seededRandom } from '../examples/actors/random.js';

/** Rate of `count` events in `ms` milliseconds, per second, rounded. */
export const perSecond = (count: number, ms: number): number => Math.round(count / (ms / 1000));

/** Formats a rate for progress lines: 1.23 M, 456.7 k. */
export function formatRate(value: number, unit = 'msgs/s'): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M ${unit}` : `${(value / 1e3).toFixed(1)} k ${unit}`;
}
