/**
 * Spawn rate and heap per idle actor: spawn N idle counters (actors/counter)
 * over the workers from the main thread, time it, then compare each worker's
 * heap (as `system.stats()` publishes it) before and after, garbage collected.
 * Each run uses a fresh system.
 *
 *   node dist/bench/spawn.js [--quick] [--actors N] [--window N] [--runs N]
 */
import { ActorSystem } from 'troupe';
import { exposeGc, kFreshSampleMs, mainHeapAfterGc, spawnMany, startProbes, sum, workerHeaps } from './harness.js';
import { emit, intFlag, median, medianOf, parseFlags, progress, repeat, round } from './lib.js';

exposeGc();

const flags = parseFlags();
const actors = intFlag(flags, 'actors', flags.quick ? 10_000 : 100_000);
const windowSize = intFlag(flags, 'window', 10_000);
const runs = intFlag(flags, 'runs', 3);
const workers = 2;
const counterUrl = new URL('../actors/counter.js', import.meta.url);

interface Run extends Record<string, number> {
  actorsPerSec: number;
  ms: number;
  bytesPerActor: number;
  /** The same difference without collecting garbage first: what a live system carries right after a burst of spawns. */
  bytesPerActorNoGc: number;
  /** What the root supervisor keeps on the main thread per child (its spec and restart bookkeeping), after gc. */
  mainBytesPerActor: number;
}

let perHost: { before: number[]; after: number[]; afterNoGc: number[] } | undefined;

const series = await repeat(`spawn ${actors} counters`, runs, 0, async (): Promise<Run> => {
  const system = await ActorSystem.start({ workers, logLevel: 'silent' });
  const probes = await startProbes(system);
  // Load the counter module on every worker first: the rate is of spawns, not of one import().
  await Promise.all(Array.from({ length: workers }, (_, host) => system.spawn(counterUrl, { host })));
  const before = await workerHeaps(system, probes);
  const mainBefore = mainHeapAfterGc();
  const start = performance.now();
  // The refs are dropped at once: the main thread's growth is the runtime's, not this benchmark's.
  await spawnMany(system, counterUrl, actors, { window: windowSize, options: () => ({ args: { start: 0 } }) });
  const ms = performance.now() - start;
  const mainAfter = mainHeapAfterGc();
  const afterNoGc = await workerHeaps(system, undefined);
  const after = await workerHeaps(system, probes);
  const live = system.stats().total.actors;
  if (live < actors) progress(`warning: ${live} actors live after spawning ${actors}`);
  perHost = { before, after, afterNoGc };
  const shutdownStart = performance.now();
  await system.shutdown();
  progress(`shutdown with ${live} actors took ${Math.round(performance.now() - shutdownStart)} ms`);
  return {
    actorsPerSec: Math.round(actors / (ms / 1000)),
    ms: round(ms, 1),
    bytesPerActor: Math.round((sum(after) - sum(before)) / actors),
    bytesPerActorNoGc: Math.round((sum(afterNoGc) - sum(before)) / actors),
    mainBytesPerActor: Math.round((mainAfter - mainBefore) / actors),
  };
}, (r) => `${Math.round(r.actorsPerSec).toLocaleString('en')} actors/s, ${r.bytesPerActor} B/actor on its worker (${r.bytesPerActorNoGc} B before gc) + ${r.mainBytesPerActor} B of root supervision on main`);

const rate = Math.round(median(series.map((r) => r.actorsPerSec)));
const bytes = Math.round(median(series.map((r) => r.bytesPerActor)));
const msFor100k = round((100_000 / rate) * 1000, 0);

emit({
  name: 'spawn',
  params: { actors, window: windowSize, runs, workers, module: 'actors/counter', freshSampleMs: kFreshSampleMs },
  summary: [
    { metric: `spawn ${actors.toLocaleString('en')} idle actors`, value: rate, unit: 'actors/s', target: '100k in < 1 s' },
    { metric: 'heap per idle actor (after gc)', value: bytes, unit: 'bytes', target: '≤ 400 bytes' },
    { metric: 'root supervision on main per actor (after gc)', value: Math.round(median(series.map((r) => r.mainBytesPerActor))), unit: 'bytes' },
  ],
  results: {
    median: medianOf(series),
    runs: series,
    projectedMsFor100k: msFor100k,
    lastRunHeapPerWorkerBytes: perHost,
  },
});
