/**
 * Same-host tell throughput: producer and sink on one host, so messages take
 * the mailbox fast path (no encoding, no lane). Measured on a worker and on
 * the main thread, against a plain array-ring dispatch loop in one thread.
 *
 *   node dist/bench/local-tell.js [--quick] [--messages N] [--runs N] [--burst N]
 */
import { type HostName } from 'troupe';
import type { ProducerReport } from './actors/producer.js';
import { emit, intFlag, medianOf, medianRate, parseFlags, ping, rateRun, repeat, round, showRate, type RateRun } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const n = intFlag(flags, 'messages', flags.quick ? 500_000 : 2_000_000);
const runs = intFlag(flags, 'runs', flags.quick ? 3 : 5);
const burst = intFlag(flags, 'burst', 1024);
const warmups = 1;

const runOf = (ms: number, detail?: Record<string, number>): RateRun => rateRun(n, ms, detail);

// ---------------------------------------------------------------- troupe ---
const system = await startBooted({ workers: 1, logLevel: 'silent' });
const series: Record<string, RateRun[]> = {};
for (const host of [0, 'main'] as HostName[]) {
  const sink = await system.spawn(new URL('../actors/sink.js', import.meta.url), { host });
  const producer = await system.spawn(new URL('./actors/producer.js', import.meta.url), { host });
  const label = host === 'main' ? 'main' : `worker${host}`;
  series[label] = await repeat(`troupe tell on ${label}`, runs, warmups, async () => {
    const report = await producer.ask<ProducerReport>({ type: 'run', sink, n, burst }, { timeoutMs: 120_000 });
    return runOf(report.ms, { stalls: report.stalls, refused: report.refused });
  }, showRate);
}
await system.shutdown();

// -------------------------------------------------------------- baseline ---
/**
 * The floor of any mailbox: a power-of-two array ring filled in bursts and
 * drained by a loop that switches on `to`, in one thread, no runtime at all.
 */
function arrayRingDispatch(): number {
  let capacity = 1;
  while (capacity < burst) capacity <<= 1;
  const ring: ({ to: number; type: string; n: number } | undefined)[] = new Array(capacity);
  const mask = capacity - 1;
  let head = 0;
  let tail = 0;
  const counts = [0, 0];
  const start = performance.now();
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + burst);
    for (; i < end; i++) ring[tail++ & mask] = ping(i);
    while (head !== tail) {
      const message = ring[head & mask]!;
      ring[head++ & mask] = undefined;
      switch (message.to) {
        case 1:
          counts[1] += message.n >= 0 ? 1 : 0;
          break;
        default:
          counts[0]++;
      }
    }
  }
  const ms = performance.now() - start;
  if (counts[1] !== n) throw new Error(`array ring dispatched ${counts[1]} of ${n}`);
  return ms;
}

const baseline = await repeat('array ring dispatch, one thread', runs, warmups, async () => runOf(arrayRingDispatch()), showRate);

// --------------------------------------------------------------- report ---
const worker = medianRate(series.worker0);
const main = medianRate(series.main);
const floor = medianRate(baseline);

emit({
  name: 'local-tell',
  params: { messages: n, runs, warmups, burst, message: ping(0) },
  summary: [
    { metric: 'same-host tell (worker)', value: worker, unit: 'msgs/s', baseline: 'array ring dispatch, one thread', baselineValue: floor, ratio: round(worker / floor, 3), target: '≥ 10M msgs/s' },
    { metric: 'same-host tell (main)', value: main, unit: 'msgs/s', baseline: 'array ring dispatch, one thread', baselineValue: floor, ratio: round(main / floor, 3) },
  ],
  results: {
    troupe: Object.fromEntries(Object.entries(series).map(([key, runs]) => [key, { median: medianOf(runs), runs }])),
    baseline: { arrayRingDispatch: { median: medianOf(baseline), runs: baseline } },
  },
});
