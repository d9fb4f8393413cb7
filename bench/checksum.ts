/**
 * The cost of the `checksum` option on shared memory: cross-worker tell
 * throughput (an actor on worker 0 tells a sink on worker 1, as in
 * tell-throughput) with the option off and on, side by side in one run.
 * Both systems run at once and their runs alternate (off first on even runs,
 * on first on odd ones), so drift in the machine's load falls on both. Two
 * payloads: the small ping and a 1 KiB one (a sum costs per byte).
 *
 *   node dist/bench/checksum.js [--quick] [--messages N] [--runs N] [--burst N]
 */
import type { ActorRef, ActorSystem } from 'troupe';
import type { ProducerReport } from './actors/producer.js';
import { emit, intFlag, medianOf, medianRate, parseFlags, ping, progress, rateRun, round, showRate, type RateRun } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const n = intFlag(flags, 'messages', flags.quick ? 200_000 : 1_000_000);
const runs = intFlag(flags, 'runs', flags.quick ? 3 : 5);
const burst = intFlag(flags, 'burst', 1024);
const warmups = 1;
const timeoutMs = 120_000;
const kLargeBytes = 1024;

interface Rig {
  system: ActorSystem;
  producer: ActorRef;
  sink: ActorRef;
}

async function rig(checksum: boolean): Promise<Rig> {
  const system = await startBooted({ workers: 2, logLevel: 'silent', checksum });
  const sink = await system.spawn(new URL('../actors/sink.js', import.meta.url), { host: 1 });
  const producer = await system.spawn(new URL('./actors/producer.js', import.meta.url), { host: 0 });
  return { system, producer, sink };
}

async function once({ producer, sink }: Rig, count: number, bytes: number | undefined): Promise<RateRun> {
  const report = await producer.ask<ProducerReport>({ type: 'run', sink, n: count, burst, ...(bytes === undefined ? {} : { bytes }) }, { timeoutMs });
  return rateRun(count, report.ms, { stalls: report.stalls, refused: report.refused });
}

const rigs = { off: await rig(false), on: await rig(true) };
const cases = [
  { key: 'small', label: 'small ping', count: n, bytes: undefined },
  { key: 'large', label: `${kLargeBytes} B payload`, count: Math.max(1, Math.floor(n / 4)), bytes: kLargeBytes },
] as const;

const series: Record<string, { off: RateRun[]; on: RateRun[] }> = {};
for (const c of cases) {
  const recorded = { off: [] as RateRun[], on: [] as RateRun[] };
  for (let i = -warmups; i < runs; i++) {
    const order = (i & 1) === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const mode of order) {
      const run = await once(rigs[mode], c.count, c.bytes);
      if (i < 0) continue;
      recorded[mode].push(run);
      progress(`${c.label}, checksum ${mode}, run ${i + 1}/${runs}: ${showRate(run)}`);
    }
  }
  series[c.key] = recorded;
}

const deadLetters = rigs.on.system.stats().total.deadLetters + rigs.off.system.stats().total.deadLetters;
await Promise.all([rigs.off.system.shutdown(), rigs.on.system.shutdown()]);

const rows = cases.map((c) => {
  const off = medianRate(series[c.key].off);
  const on = medianRate(series[c.key].on);
  return { c, off, on, ratio: round(on / off, 3) };
});

emit({
  name: 'checksum',
  params: { messages: n, largeMessages: cases[1].count, largeBytes: kLargeBytes, runs, warmups, burst, workers: 2, message: ping(0) },
  summary: rows.map(({ c, off, on, ratio }) => ({
    metric: `tell worker0→worker1, ${c.label}, checksum on`,
    value: on,
    unit: 'msgs/s',
    baseline: 'checksum off, same run',
    baselineValue: off,
    ratio,
  })),
  results: {
    ...Object.fromEntries(
      rows.map(({ c, ratio }) => [
        c.key,
        {
          off: { median: medianOf(series[c.key].off), runs: series[c.key].off },
          on: { median: medianOf(series[c.key].on), runs: series[c.key].on },
          onVsOff: ratio,
        },
      ]),
    ),
    deadLetters,
  },
});
