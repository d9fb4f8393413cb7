/**
 * Ask round-trip latency, one request in flight, back to back: main → echo on
 * a worker, and an actor on worker 0 → echo on worker 1 (ctx.ask). Baselines
 * in the same run: postMessage round trip to a plain worker, comlink, piscina.
 * Then the CPU the process burns while the system sits idle.
 *
 *   node dist/bench/ask-latency.js [--quick] [--count N] [--baseline-count N] [--runs N]
 */
import { Piscina } from 'piscina';
import { defaults } from 'troupe';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { AskerReport } from './actors/asker.js';
import { request, startPlainWorker } from './baselines/post.js';
import { cpuPercentOver, emit, intFlag, medianOf, parseFlags, ping, progress, repeat, round, sleep, timeRoundTrips, type LatencyUs } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const count = intFlag(flags, 'count', flags.quick ? 5_000 : 50_000);
const baselineCount = intFlag(flags, 'baseline-count', flags.quick ? 2_000 : 20_000);
const runs = intFlag(flags, 'runs', flags.quick ? 3 : 5);
const idleMs = flags.quick ? 700 : 2000;
const settleMs = flags.quick ? 300 : 1000;
const warmups = 1;
const show = (r: LatencyUs): string => `p50 ${r.p50} µs, p99 ${r.p99} µs, p999 ${r.p999} µs`;

// ---------------------------------------------------------------- troupe ---
const system = await startBooted({ workers: 2, logLevel: 'silent' });
const echoUrl = new URL('../actors/echo.js', import.meta.url);
const echoW0 = await system.spawn(echoUrl, { host: 0 });
const echoW1 = await system.spawn(echoUrl, { host: 1 });
const asker = await system.spawn(new URL('./actors/asker.js', import.meta.url), { host: 0 });

const mainToWorker = await repeat('troupe ask main→worker0', runs, warmups, () => timeRoundTrips(count, (i) => echoW0.ask(ping(i))), show);
const actorToActor = await repeat('troupe ctx.ask worker0→worker1', runs, warmups, () => asker.ask<AskerReport>({ type: 'run', target: echoW1, count }, { timeoutMs: 600_000 }), show);

// The load just stopped: hosts spin at most spinMicros, then park. Let V8
// finish the garbage and compilation the load left behind (its background
// threads count as process CPU), then measure what idling costs.
await sleep(settleMs);
const idleCpu = await cpuPercentOver(idleMs);
progress(`troupe idle (2 workers parked): ${idleCpu}% CPU of one core, whole process`);
// Settled asks stay in their host's deadline queue until their old deadline
// (askTimeoutMs after they were sent), when a timer sweeps them: a second or
// two of a few % CPU that can fall in the window above. The steady figure is
// taken once every deadline of the load has passed (full runs only).
let steadyCpu: number | undefined;
if (!flags.quick) {
  await sleep(Math.max(0, defaults.askTimeoutMs + 2000 - settleMs - idleMs));
  steadyCpu = await cpuPercentOver(idleMs);
  progress(`troupe idle, steady (after the load's ask deadlines): ${steadyCpu}% CPU of one core, whole process`);
}
const hostsParked = system.stats().hosts.map((h) => h.parked);
await system.shutdown();
await sleep(settleMs);
const floorCpu = await cpuPercentOver(idleMs);
progress(`no system (floor): ${floorCpu}% CPU`);

// ------------------------------------------------------------- baselines ---
const echoWorker = startPlainWorker('echo');
const postMessage = await repeat('postMessage round trip', runs, warmups, () => timeRoundTrips(baselineCount, (i) => request(echoWorker, ping(i))), show);
await echoWorker.terminate();

const comlinkWorker = startPlainWorker('comlink');
const remote = Comlink.wrap<{ echo(value: unknown): unknown }>(nodeEndpoint(comlinkWorker));
const comlink = await repeat('comlink call round trip', runs, warmups, () => timeRoundTrips(baselineCount, (i) => remote.echo(ping(i)) as Promise<unknown>), show);
remote[Comlink.releaseProxy]();
await comlinkWorker.terminate();

const pool = new Piscina({ filename: new URL('./baselines/piscina-task.js', import.meta.url).href, minThreads: 1, maxThreads: 1 });
await pool.run(ping(0));
const piscina = await repeat('piscina task round trip', runs, warmups, () => timeRoundTrips(baselineCount, (i) => pool.run(ping(i))), show);
await pool.destroy();
await sleep(10);

// --------------------------------------------------------------- report ---
const m2w = medianOf(mainToWorker);
const a2a = medianOf(actorToActor);
const post = medianOf(postMessage);
const cl = medianOf(comlink);
const pc = medianOf(piscina);
const speedup = (baseline: LatencyUs, ours: LatencyUs): number => round(baseline.p50 / ours.p50);

emit({
  name: 'ask-latency',
  params: { count, baselineCount, runs, warmups, idleMs, settleMs, workers: 2, message: ping(0), inFlight: 1 },
  summary: [
    { metric: 'ask p50 worker0→worker1 (ctx.ask)', value: a2a.p50, unit: 'µs', baseline: 'postMessage round trip p50', baselineValue: post.p50, ratio: speedup(post, a2a), target: 'p50 ≤ 10 µs' },
    { metric: 'ask p99 worker0→worker1 (ctx.ask)', value: a2a.p99, unit: 'µs', baseline: 'postMessage round trip p99', baselineValue: post.p99, ratio: round(post.p99 / a2a.p99) },
    { metric: 'ask p50 main→worker', value: m2w.p50, unit: 'µs', baseline: 'comlink call p50', baselineValue: cl.p50, ratio: speedup(cl, m2w) },
    { metric: 'ask p50 main→worker', value: m2w.p50, unit: 'µs', baseline: 'piscina task p50', baselineValue: pc.p50, ratio: speedup(pc, m2w) },
    { metric: 'idle CPU, system up, 2 workers, right after the load', value: idleCpu, unit: '% of a core', baseline: 'same process, no system', baselineValue: floorCpu, target: '< 2%' },
    ...(steadyCpu === undefined ? [] : [{ metric: 'idle CPU, system up, 2 workers, steady', value: steadyCpu, unit: '% of a core', baseline: 'same process, no system', baselineValue: floorCpu, target: '< 2%' }]),
  ],
  results: {
    note: 'latencies in µs; ratio = baseline / troupe (higher is better); each series: median over runs of each percentile',
    troupe: {
      mainToWorker: { median: m2w, runs: mainToWorker },
      actorToActor: { median: a2a, runs: actorToActor },
      idleCpuPercent: idleCpu,
      steadyIdleCpuPercent: steadyCpu,
      hostsParkedWhenIdle: hostsParked,
    },
    baselines: {
      postMessage: { median: post, runs: postMessage },
      comlink: { median: cl, runs: comlink },
      piscina: { median: pc, runs: piscina },
      idleCpuPercentNoSystem: floorCpu,
    },
  },
});
