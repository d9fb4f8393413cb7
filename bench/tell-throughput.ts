/**
 * Cross-host tell throughput: an actor on worker 0 tells a sink on worker 1
 * (and the main thread tells it), against raw `postMessage` between plain
 * worker threads, one object per call and 256 per call, in the same run.
 *
 *   node dist/bench/tell-throughput.js [--quick] [--messages N] [--runs N] [--burst N]
 */
import { MessageChannel } from 'node:worker_threads';
import type { ProducerReport } from './actors/producer.js';
import { request, startPlainWorker, timePosts, type Control } from './baselines/post.js';
import { emit, intFlag, medianOf, medianRate, parseFlags, ping, produce, rateRun, repeat, round, showRate, type RateRun } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const n = intFlag(flags, 'messages', flags.quick ? 200_000 : 1_000_000);
const runs = intFlag(flags, 'runs', flags.quick ? 3 : 5);
const burst = intFlag(flags, 'burst', 1024);
const warmups = 1;
const timeoutMs = 120_000;

const runOf = (ms: number, detail?: Record<string, number>): RateRun => rateRun(n, ms, detail);

// ---------------------------------------------------------------- troupe ---
const system = await startBooted({ workers: 2, logLevel: 'silent' });
const sink = await system.spawn(new URL('../actors/sink.js', import.meta.url), { host: 1 });
const producer = await system.spawn(new URL('./actors/producer.js', import.meta.url), { host: 0 });

const workerToWorker = await repeat('troupe worker0→worker1', runs, warmups, async () => {
  const report = await producer.ask<ProducerReport>({ type: 'run', sink, n, burst }, { timeoutMs });
  return runOf(report.ms, { stalls: report.stalls, refused: report.refused });
}, showRate);

const mainToWorker = await repeat('troupe main→worker1', runs, warmups, async () => {
  sink.tell({ type: 'reset' });
  const start = performance.now();
  const report = await produce((i) => sink.tell(ping(i)), n, burst, () => sink.whenWritable());
  await sink.ask({ type: 'expect', n }, { timeoutMs });
  return runOf(performance.now() - start, { stalls: report.stalls, refused: report.refused });
}, showRate);

const totals = system.stats().total;
await system.shutdown();

// ------------------------------------------------------------- baselines ---
const sinkWorker = startPlainWorker('sink');
const producerWorker = startPlainWorker('producer');
const channel = new MessageChannel();
sinkWorker.postMessage({ cmd: 'port', port: channel.port2 } satisfies Control, [channel.port2]);
await request(producerWorker, { cmd: 'port', port: channel.port1 } satisfies Control, [channel.port1]);

const baselines: Record<string, RateRun[]> = {};
for (const batch of [1, 256]) {
  baselines[`postMessageWorkerToWorker${batch}`] = await repeat(`postMessage worker→worker, ${batch}/call`, runs, warmups, async () => {
    const reply = await request<{ ms: number }>(producerWorker, { cmd: 'produce', n, batch } satisfies Control);
    return runOf(reply.ms);
  }, showRate);
  baselines[`postMessageMainToWorker${batch}`] = await repeat(`worker.postMessage main→worker, ${batch}/call`, runs, warmups, async () => runOf(await timePosts(sinkWorker, n, batch)), showRate);
}
await Promise.all([sinkWorker.terminate(), producerWorker.terminate()]);

// --------------------------------------------------------------- report ---
const troupeW2W = medianRate(workerToWorker);
const troupeM2W = medianRate(mainToWorker);
const postW2W1 = medianRate(baselines.postMessageWorkerToWorker1);
const postW2W256 = medianRate(baselines.postMessageWorkerToWorker256);
const postM2W1 = medianRate(baselines.postMessageMainToWorker1);
const postM2W256 = medianRate(baselines.postMessageMainToWorker256);

emit({
  name: 'tell-throughput',
  params: { messages: n, runs, warmups, burst, workers: 2, message: ping(0) },
  summary: [
    { metric: 'tell worker0→worker1', value: troupeW2W, unit: 'msgs/s', baseline: 'postMessage worker→worker, 1/call', baselineValue: postW2W1, ratio: round(troupeW2W / postW2W1), target: '≥ 2.5M msgs/s, ≥ 3.5× postMessage' },
    { metric: 'tell worker0→worker1', value: troupeW2W, unit: 'msgs/s', baseline: 'postMessage worker→worker, 256/call', baselineValue: postW2W256, ratio: round(troupeW2W / postW2W256), target: '> 1× (above 256/call)' },
    { metric: 'tell main→worker1', value: troupeM2W, unit: 'msgs/s', baseline: 'worker.postMessage main→worker, 1/call', baselineValue: postM2W1, ratio: round(troupeM2W / postM2W1) },
  ],
  results: {
    troupe: {
      workerToWorker: { median: medianOf(workerToWorker), runs: workerToWorker },
      mainToWorker: { median: medianOf(mainToWorker), runs: mainToWorker },
      backpressureEvents: totals.backpressure,
      laneHighWaterBytes: totals.laneHighWaterBytes,
      deadLetters: totals.deadLetters,
    },
    baselines: Object.fromEntries(Object.entries(baselines).map(([key, series]) => [key, { median: medianOf(series), runs: series }])),
    ratios: {
      workerToWorkerVsPost1: round(troupeW2W / postW2W1),
      workerToWorkerVsPost256: round(troupeW2W / postW2W256),
      mainToWorkerVsPost1: round(troupeM2W / postM2W1),
      mainToWorkerVsPost256: round(troupeM2W / postM2W256),
    },
  },
});
