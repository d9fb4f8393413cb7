/**
 * Scaling curves, each drawn as an SVG (bench/chart.ts) next to a JSON of its
 * points in bench/results/charts/:
 *
 * - workers: msgs/s of P ping-pong pairs (bench/savina/ping-pong) against the
 *   number of workers, 1 .. cores + 1; pairs co-located (pair i on worker
 *   i mod W) and spread (ping on worker i mod W, pong on the next worker);
 * - actors: spawn rate, heap per idle actor and tell throughput (the main
 *   thread tells M messages round-robin over N counters) against N;
 * - payload: worker → worker tell of a Uint8Array payload, 16 B .. 64 KiB,
 *   msgs/s and MB/s, against `postMessage` over a MessageChannel with the
 *   same message in the same run. (Half a lane is the largest message: 128
 *   KiB with the default laneBytes.)
 *
 *   node dist/bench/scaling.js [--quick] [--curves workers,actors,payload] [--runs N] [--charts DIR]
 *
 * --quick writes its charts to bench/results/charts/quick/ so a smoke run
 * never replaces the charts of a full run.
 */
import { MessageChannel } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { type HostName } from 'troupe';
import type { ProducerReport } from './actors/producer.js';
import { request, startPlainWorker, type Control } from './baselines/post.js';
import { kChartsDir, writeChart, type Curve } from './chart.js';
import { exposeGc, spawnMany, startProbes, sum, untilWorkersHandled, workerHeaps, workerMessagesIn } from './harness.js';
import { emit, formatRate, intFlag, median, parseFlags, perSecond, produce, progress, rateRun, repeat, round, showRate, type RateRun, type SummaryRow } from './lib.js';
import { startBooted } from './system.js';

exposeGc();

const flags = parseFlags();
const quick = flags.quick;
const runs = intFlag(flags, 'runs', 3);
const warmups = 1;
const cores = availableParallelism();
const curves = new Set((flags.value('curves') ?? 'workers,actors,payload').split(','));
const chartsDir = flags.value('charts') !== undefined ? pathToFileURL(`${flags.value('charts')!.replace(/\/?$/, '/')}`) : quick ? new URL('quick/', kChartsDir) : kChartsDir;
const timeoutMs = 600_000;

const pingPongUrl = new URL('./savina/ping-pong.js', import.meta.url);
const counterUrl = new URL('../actors/counter.js', import.meta.url);
const sinkUrl = new URL('../actors/sink.js', import.meta.url);
const producerUrl = new URL('./actors/producer.js', import.meta.url);

const summary: SummaryRow[] = [];
const results: Record<string, unknown> = {};
const charts: string[] = [];
const params: Record<string, unknown> = { runs, warmups, cores };

// --------------------------------------------------------------- workers ---
if (curves.has('workers')) {
  const pairs = intFlag(flags, 'pairs', 16);
  const pings = intFlag(flags, 'pings', quick ? 2_000 : 20_000);
  const maxWorkers = cores + 1;
  params.workers = { pairs, pings, range: [1, maxWorkers], placement: { colocated: 'pair i on worker i mod W', spread: 'ping i on worker i mod W, pong i on worker (i+1) mod W' } };
  const points: { workers: number; placement: string; msgsPerSec: number }[] = [];
  const detail: Record<string, RateRun[]> = {};
  for (let w = 1; w <= maxWorkers; w++) {
    const system = await startBooted({ workers: w, logLevel: 'silent' });
    for (const placement of ['co-located', 'spread'] as const) {
      const pongHost = (i: number): HostName => (placement === 'spread' ? (i + 1) % w : i % w);
      const pongs = await Promise.all(Array.from({ length: pairs }, (_, i) => system.spawn(pingPongUrl, { host: pongHost(i), export: 'pong' })));
      const pingers = await Promise.all(Array.from({ length: pairs }, (_, i) => system.spawn(pingPongUrl, { host: i % w, export: 'ping' })));
      const messages = 2 * pings * pairs;
      const series = await repeat(`${pairs} ping-pong pairs ${placement} on ${w} worker${w === 1 ? '' : 's'}`, runs, warmups, async () => {
        const start = performance.now();
        await Promise.all(pingers.map((p, i) => p.ask({ type: 'start', pong: pongs[i], n: pings }, { timeoutMs })));
        return rateRun(messages, performance.now() - start);
      }, showRate);
      detail[`${placement} ${w}`] = series;
      points.push({ workers: w, placement: `pairs ${placement}`, msgsPerSec: Math.round(median(series.map((r) => r.msgsPerSec))) });
    }
    await system.shutdown();
  }
  const curve: Curve = { name: 'workers', title: `${pairs} ping-pong pairs: throughput vs worker threads`, x: { field: 'workers', title: 'worker threads', ordinal: true }, y: { field: 'msgsPerSec', title: 'msgs/s' }, series: 'placement', points };
  charts.push(await writeChart(curve, chartsDir));
  results.workers = { points, runs: detail };
  for (const p of points) summary.push({ metric: `${p.placement}, ${p.workers} worker${p.workers === 1 ? '' : 's'}`, value: p.msgsPerSec, unit: 'msgs/s' });
}

// ---------------------------------------------------------------- actors ---
if (curves.has('actors')) {
  const sizes = (flags.value('actors') ?? (quick ? '100,10000' : '10,100,1000,10000,100000,1000000')).split(',').map((s) => Number(s.replace(/_/g, '')));
  const messages = intFlag(flags, 'messages', quick ? 100_000 : 1_000_000);
  const workers = Math.max(1, Math.min(2, cores));
  params.actors = { sizes, messages, workers, module: 'actors/counter', placement: `counter i on worker i mod ${workers}; tells from the main thread, round-robin over the counters`, window: 10_000 };
  const points: { actors: number; msgsPerSec: number; actorsPerSec: number; bytesPerActor: number }[] = [];
  const detail: Record<string, unknown> = {};
  const inc = Object.freeze({ type: 'inc' as const });
  for (const n of sizes) {
    const spawnRuns: { actorsPerSec: number; bytesPerActor: number }[] = [];
    let tellRuns: RateRun[] = [];
    for (let run = 0; run < runs; run++) {
      const system = await startBooted({ workers, logLevel: 'silent' });
      const probes = await startProbes(system);
      await Promise.all(Array.from({ length: workers }, (_, host) => system.spawn(counterUrl, { host }).then((r) => system.stop(r))));
      const before = await workerHeaps(system, probes);
      const start = performance.now();
      const refs = await spawnMany(system, counterUrl, n, { window: 10_000, options: (i) => ({ host: i % workers }) });
      const ms = performance.now() - start;
      const after = await workerHeaps(system, probes);
      spawnRuns.push({ actorsPerSec: perSecond(n, ms), bytesPerActor: Math.round((sum(after) - sum(before)) / n) });
      progress(`${n.toLocaleString('en')} counters, run ${run + 1}/${runs}: spawned at ${formatRate(spawnRuns[run].actorsPerSec, 'actors/s')}, ${spawnRuns[run].bytesPerActor} B heap per idle actor`);
      // Throughput to N actors. Every run is a fresh system (fresh worker
      // isolates, cold JIT), so each one gets its own unrecorded warm-up.
      const tell = async (): Promise<RateRun> => {
        const target = workerMessagesIn(system) + messages;
        const t0 = performance.now();
        let last = refs[0];
        const report = await produce((i) => (last = refs[i % n]).tell(inc), messages, 1024, () => last.whenWritable());
        await untilWorkersHandled(system, target, timeoutMs);
        return rateRun(messages, performance.now() - t0, { stalls: report.stalls });
      };
      await tell();
      const one = await tell();
      progress(`${n.toLocaleString('en')} counters, run ${run + 1}/${runs}: tell main → counters ${showRate(one)}`);
      tellRuns.push(one);
      await system.shutdown();
    }
    const point = {
      actors: n,
      msgsPerSec: Math.round(median(tellRuns.map((r) => r.msgsPerSec))),
      actorsPerSec: Math.round(median(spawnRuns.map((r) => r.actorsPerSec))),
      bytesPerActor: Math.round(median(spawnRuns.map((r) => r.bytesPerActor))),
    };
    points.push(point);
    detail[n] = { spawn: spawnRuns, tell: tellRuns };
    tellRuns = [];
  }
  charts.push(await writeChart({ name: 'actors-throughput', title: `tell throughput vs live actors (${messages.toLocaleString('en')} msgs from main, round-robin)`, x: { field: 'actors', title: 'actors', log: true }, y: { field: 'msgsPerSec', title: 'msgs/s' }, points }, chartsDir));
  // Below 1,000 actors the spawn time is a few asks and the heap growth is
  // within the heap sampling's noise (tens of KB): those points say nothing.
  const large = points.filter((p) => p.actors >= 1000);
  charts.push(await writeChart({ name: 'actors-spawn', title: 'spawn rate vs actors spawned (from the main thread, 10,000 in flight)', x: { field: 'actors', title: 'actors', log: true }, y: { field: 'actorsPerSec', title: 'actors/s' }, points: large }, chartsDir));
  charts.push(await writeChart({ name: 'actors-heap', title: 'worker heap per idle actor (after gc) vs actors', x: { field: 'actors', title: 'actors', log: true }, y: { field: 'bytesPerActor', title: 'bytes per actor' }, points: large }, chartsDir));
  results.actors = { points, runs: detail };
  for (const p of points) {
    summary.push({ metric: `tell to ${p.actors.toLocaleString('en')} actors`, value: p.msgsPerSec, unit: 'msgs/s' });
    if (p.actors < 1000) continue;
    summary.push({ metric: `spawn ${p.actors.toLocaleString('en')} actors`, value: p.actorsPerSec, unit: 'actors/s' });
    summary.push({ metric: `heap per idle actor at ${p.actors.toLocaleString('en')}`, value: p.bytesPerActor, unit: 'bytes', ...(p.actors === 1_000_000 ? { target: '≤ 400 B at 1,000,000 (this is the workers\' share; bench/spawn adds the main thread\'s)' } : {}) });
  }
}

// --------------------------------------------------------------- payload ---
if (curves.has('payload')) {
  const sizes = (flags.value('payloads') ?? (quick ? '16,4096,65536' : '16,64,256,1024,4096,16384,65536')).split(',').map(Number);
  const budget = intFlag(flags, 'payload-budget', quick ? 8 << 20 : 256 << 20);
  const countFor = (bytes: number): number => Math.max(quick ? 500 : 2_000, Math.min(quick ? 50_000 : 500_000, Math.floor(budget / bytes)));
  params.payload = { sizes, budgetBytes: budget, counts: Object.fromEntries(sizes.map((b) => [b, countFor(b)])), message: "{ to: 1, type: 'ping', n, data: Uint8Array(bytes) }", placement: 'producer on worker 0, sink on worker 1; baseline: plain workers over a MessageChannel, one message per call' };
  const points: { bytes: number; series: string; msgsPerSec: number; mbPerSec: number }[] = [];
  const detail: Record<string, RateRun[]> = {};
  const system = await startBooted({ workers: 2, logLevel: 'silent' });
  const sink = await system.spawn(sinkUrl, { host: 1 });
  const producer = await system.spawn(producerUrl, { host: 0 });
  const sinkWorker = startPlainWorker('sink');
  const producerWorker = startPlainWorker('producer');
  const channel = new MessageChannel();
  sinkWorker.postMessage({ cmd: 'port', port: channel.port2 } satisfies Control, [channel.port2]);
  await request(producerWorker, { cmd: 'port', port: channel.port1 } satisfies Control, [channel.port1]);
  for (const bytes of sizes) {
    const n = countFor(bytes);
    const troupe = await repeat(`tell worker0→worker1, ${bytes} B payload × ${n.toLocaleString('en')}`, runs, warmups, async () => {
      const report = await producer.ask<ProducerReport>({ type: 'run', sink, n, burst: 1024, bytes }, { timeoutMs });
      return rateRun(n, report.ms, { stalls: report.stalls });
    }, showRate);
    const post = await repeat(`postMessage worker→worker, ${bytes} B payload × ${n.toLocaleString('en')}`, runs, warmups, async () => {
      const reply = await request<{ ms: number }>(producerWorker, { cmd: 'produce', n, batch: 1, bytes } satisfies Control);
      return rateRun(n, reply.ms);
    }, showRate);
    detail[`troupe ${bytes}`] = troupe;
    detail[`postMessage ${bytes}`] = post;
    for (const [series, runsOf] of [['troupe tell', troupe], ['postMessage', post]] as const) {
      const rate = Math.round(median(runsOf.map((r) => r.msgsPerSec)));
      points.push({ bytes, series, msgsPerSec: rate, mbPerSec: round((rate * bytes) / 1e6, 1) });
    }
  }
  await system.shutdown();
  await Promise.all([sinkWorker.terminate(), producerWorker.terminate()]);
  charts.push(await writeChart({ name: 'payload-msgs', title: 'worker → worker messages/s vs payload size', x: { field: 'bytes', title: 'payload bytes', log: true }, y: { field: 'msgsPerSec', title: 'msgs/s', log: true }, series: 'series', points }, chartsDir));
  charts.push(await writeChart({ name: 'payload-bandwidth', title: 'worker → worker payload MB/s vs payload size', x: { field: 'bytes', title: 'payload bytes', log: true }, y: { field: 'mbPerSec', title: 'MB/s', log: true }, series: 'series', points }, chartsDir));
  results.payload = { points, runs: detail };
  for (const bytes of sizes) {
    const ours = points.find((p) => p.bytes === bytes && p.series === 'troupe tell')!;
    const theirs = points.find((p) => p.bytes === bytes && p.series === 'postMessage')!;
    summary.push({ metric: `tell worker→worker, ${bytes} B payload`, value: ours.msgsPerSec, unit: 'msgs/s', baseline: 'postMessage worker→worker, same message', baselineValue: theirs.msgsPerSec, ratio: round(ours.msgsPerSec / theirs.msgsPerSec) });
  }
}

for (const chart of charts) progress(`chart: ${chart}`);
emit({ name: 'scaling', params, summary, results: { ...results, charts } });
