/**
 * Recovery: how long a fault takes to heal, from the system's own event
 * timestamps (epoch ms with sub-ms precision, comparable across threads).
 *
 * - actor restart: a top-level actor on a worker crashes (1,000 times);
 *   crash → restarted, and crash → the ask queued behind the crash answered.
 *   Its supervisor is the root, on the main thread: each restart crosses
 *   threads twice (the exit to main, the order back). The same again for a
 *   child whose supervisor runs on its worker: the restart stays there;
 * - worker replacement: a worker hosting N actors is killed (100 times);
 *   kill → every one of its actors restarted, and → serving again (an ask to each);
 * - stall detection: a handler loops forever; loop start → worker.stalled,
 *   against the configured stallTimeoutMs.
 *
 *   node dist/bench/recovery.js [--quick] [--crashes N] [--kills N] [--actors N] [--stalls N]
 */
import { kInternals, type ActorRef } from 'troupe';
import { emit, intFlag, latencyHistogram, parseFlags, percentilesUs, progress, round, type LatencyUs } from './lib.js';
import { startBooted } from './system.js';

const flags = parseFlags();
const crashes = intFlag(flags, 'crashes', flags.quick ? 100 : 1000);
const kills = intFlag(flags, 'kills', flags.quick ? 5 : 100);
const hosted = intFlag(flags, 'actors', flags.quick ? 200 : 1000);
const stalls = intFlag(flags, 'stalls', flags.quick ? 2 : 5);
const stallTimeoutMs = 200;
const crasherUrl = new URL('../test/fixtures/crasher.js', import.meta.url);
const localSupervisorUrl = new URL('./actors/local-supervisor.js', import.meta.url);
const echoUrl = new URL('../actors/echo.js', import.meta.url);
const now = (): number => performance.timeOrigin + performance.now();

// Faults are the point here: no intensity limit may stop the run (60,000 restarts a second is more than it
// makes, and small enough for the root's window to be shared with the workers), and no replacement backoff.
const system = await startBooted({
  workers: 2,
  logLevel: 'silent',
  stallTimeoutMs,
  supervisor: { maxRestarts: 60_000, withinMs: 1000 },
  workerBackoff: { minMs: 0, maxMs: 0 },
});

// ---------------------------------------------------------- actor restart ---
/** Crashes `crasher` `crashes` times: crash → restarted, and send → the ask queued behind the crash answered. */
async function crashRepeatedly(crasher: ActorRef, label: string): Promise<{ restart: LatencyUs; serving: LatencyUs }> {
  const restartUs = latencyHistogram();
  const servingUs = latencyHistogram();
  for (let i = 0; i < crashes; i++) {
    const crashed = system.events.waitFor('actor.crashed', (e) => e.id === crasher.id);
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === crasher.id);
    const sent = now();
    crasher.tell({ type: 'boom' });
    const answered = crasher.ask({ type: 'get' }, { timeoutMs: 30_000 }).then(() => now());
    const [c, r, a] = await Promise.all([crashed, restarted, answered]);
    // the histograms hold nanoseconds (percentilesUs reports microseconds)
    restartUs.recordValue(Math.max(1, Math.round((r.at - c.at) * 1e6)));
    servingUs.recordValue(Math.max(1, Math.round((a - sent) * 1e6)));
  }
  const restart = percentilesUs(restartUs);
  const serving = percentilesUs(servingUs);
  progress(`${label}: actor restart (crash → restarted) over ${crashes}: p50 ${restart.p50} µs, p99 ${restart.p99} µs`);
  progress(`${label}: crash → queued ask answered by the new incarnation: p50 ${serving.p50} µs, p99 ${serving.p99} µs`);
  return { restart, serving };
}

const topLevel = await system.spawn(crasherUrl, { host: 0 });
const { restart: actorRestart, serving: actorServing } = await crashRepeatedly(topLevel, 'supervised from main');
await system.stop(topLevel);
const localSupervisor = await system.spawn(localSupervisorUrl, { host: 0, args: { module: crasherUrl.href } });
const localChild = await localSupervisor.ask<ActorRef>('child');
const { restart: localRestart, serving: localServing } = await crashRepeatedly(localChild, 'supervised on its worker');
await system.stop(localSupervisor);

// ----------------------------------------------------- worker replacement ---
const refs: ActorRef[] = await Promise.all(Array.from({ length: hosted }, () => system.spawn(echoUrl, { host: 0 })));
const allRestartedMs: number[] = [];
const allServingMs: number[] = [];
const replacedMs: number[] = [];
for (let k = 0; k < kills; k++) {
  const ids = new Set<number>(refs.map((r) => r.id));
  let left = ids.size;
  let lastRestart = 0;
  const allBack = new Promise<void>((resolve) => {
    const off = system.events.on('actor.restarted', (e) => {
      if (!ids.delete(e.id)) return;
      lastRestart = Math.max(lastRestart, e.at);
      if (--left === 0) {
        off();
        resolve();
      }
    });
  });
  // Faults spaced as in a healthy system: the warm spare is booted (and measured apart below).
  await system[kInternals].spareReady();
  const replaced = system.events.waitFor('worker.replaced', undefined, { timeoutMs: 30_000 });
  const killedAt = now();
  await system[kInternals].terminateWorker(0);
  const serving = Promise.all(refs.map((ref) => ref.ask('ping', { timeoutMs: 30_000 }))).then(() => now());
  const [replacedEvent, , servingAt] = await Promise.all([replaced, allBack, serving]);
  replacedMs.push(replacedEvent.at - killedAt);
  allRestartedMs.push(lastRestart - killedAt);
  allServingMs.push(servingAt - killedAt);
}
const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)], 1);
};
progress(`worker kill → replacement online over ${kills}: p50 ${pct(replacedMs, 50)} ms, p99 ${pct(replacedMs, 99)} ms`);
progress(`worker kill → all ${hosted} actors restarted: p50 ${pct(allRestartedMs, 50)} ms, p99 ${pct(allRestartedMs, 99)} ms`);
progress(`worker kill → all ${hosted} actors answering: p50 ${pct(allServingMs, 50)} ms, p99 ${pct(allServingMs, 99)} ms`);

// ------------------------------------------------------- stall detection ---
const spinner = await system.spawn(crasherUrl, { host: 1 });
const detectionMs: number[] = [];
for (let s = 0; s < stalls; s++) {
  const stalled = system.events.waitFor('worker.stalled', undefined, { timeoutMs: 30_000 });
  const back = system.events.waitFor('actor.restarted', (e) => e.id === spinner.id, { timeoutMs: 30_000 });
  const started = now();
  void spinner.ask({ type: 'spin' }, { timeoutMs: 60_000 }).catch(() => undefined);
  const event = await stalled;
  detectionMs.push(event.at - started);
  await back;
}
progress(`stall detection (stallTimeoutMs ${stallTimeoutMs}) over ${stalls}: median ${pct(detectionMs, 50)} ms, max ${pct(detectionMs, 100)} ms`);
await system.shutdown();

const worker = { replacedMs: pct(replacedMs, 50), allRestartedP50Ms: pct(allRestartedMs, 50), allRestartedP99Ms: pct(allRestartedMs, 99), allServingP50Ms: pct(allServingMs, 50), allServingP99Ms: pct(allServingMs, 99) };
emit({
  name: 'recovery',
  params: { crashes, kills, hostedActors: hosted, stalls, stallTimeoutMs, workers: 2 },
  summary: [
    { metric: 'actor restart p50 (crash → restarted)', value: actorRestart.p50, unit: 'µs', target: 'p99 < 1 ms' },
    { metric: 'actor restart p99 (crash → restarted)', value: actorRestart.p99, unit: 'µs', target: '< 1000 µs' },
    { metric: 'actor restart p50, supervisor on the same worker', value: localRestart.p50, unit: 'µs', target: 'p99 < 1 ms' },
    { metric: 'actor restart p99, supervisor on the same worker', value: localRestart.p99, unit: 'µs', target: '< 1000 µs' },
    { metric: `worker replaced, ${hosted} actors serving again p50`, value: worker.allServingP50Ms, unit: 'ms', target: 'p99 < 50 ms' },
    { metric: `worker replaced, ${hosted} actors serving again p99`, value: worker.allServingP99Ms, unit: 'ms', target: '< 50 ms' },
    { metric: 'stall detection, median', value: pct(detectionMs, 50), unit: 'ms', target: `≈ stallTimeoutMs ${stallTimeoutMs} + check interval` },
  ],
  results: {
    actorRestartUs: actorRestart satisfies LatencyUs,
    crashToQueuedAskAnsweredUs: actorServing,
    supervisedOnItsWorker: { actorRestartUs: localRestart, crashToQueuedAskAnsweredUs: localServing },
    worker,
    workerReplacedOnlineMs: { p50: pct(replacedMs, 50), p99: pct(replacedMs, 99) },
    stallDetectionMs: detectionMs.map((v) => round(v, 1)),
  },
});
