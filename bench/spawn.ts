/**
 * Spawn rate and heap per idle actor: spawn N idle counters (actors/counter)
 * over the workers from the main thread, time it, then compare each worker's
 * heap (as `system.stats()` publishes it) before and after, garbage collected.
 * Each run uses a fresh system.
 *
 * Top-level actors are `permanent` children of the root supervisor, which
 * keeps each one's spec on the main thread to restart it; the same spawns as
 * `temporary` children (never restarted, so no spec kept) are measured beside
 * them, unless `--restart` picks one.
 *
 *   node dist/bench/spawn.js [--quick] [--actors N] [--window N] [--runs N] [--restart permanent|temporary]
 */
import { exposeGc, kFreshSampleMs, mainHeapAfterGc, spawnMany, startProbes, sum, workerHeaps } from './harness.js';
import { emit, intFlag, median, medianOf, parseFlags, progress, repeat, round, type SummaryRow } from './lib.js';
import { startBooted } from './system.js';

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

type Restart = 'permanent' | 'temporary';
const restartFlag = flags.value('restart');
if (restartFlag !== undefined && restartFlag !== 'permanent' && restartFlag !== 'temporary') {
  throw new Error(`--restart must be permanent or temporary, got ${restartFlag}`);
}
const restarts: Restart[] = restartFlag !== undefined ? [restartFlag] : ['permanent', 'temporary'];

let perHost: { before: number[]; after: number[]; afterNoGc: number[] } | undefined;

const measure = (restart: Restart): Promise<Run[]> => repeat(`spawn ${actors} ${restart} counters`, runs, 0, async (): Promise<Run> => {
  const system = await startBooted({ workers, logLevel: 'silent' });
  const probes = await startProbes(system);
  // Load the counter module on every worker first: the rate is of spawns, not of one import().
  await Promise.all(Array.from({ length: workers }, (_, host) => system.spawn(counterUrl, { host })));
  const before = await workerHeaps(system, probes);
  const mainBefore = mainHeapAfterGc();
  const start = performance.now();
  // The refs are dropped at once: the main thread's growth is the runtime's, not this benchmark's.
  await spawnMany(system, counterUrl, actors, { window: windowSize, options: () => ({ args: { start: 0 }, restart }) });
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
  const bytesPerActor = Math.round((sum(after) - sum(before)) / actors);
  const mainBytesPerActor = Math.round((mainAfter - mainBefore) / actors);
  return {
    actorsPerSec: Math.round(actors / (ms / 1000)),
    ms: round(ms, 1),
    bytesPerActor,
    bytesPerActorNoGc: Math.round((sum(afterNoGc) - sum(before)) / actors),
    mainBytesPerActor,
    processBytesPerActor: bytesPerActor + mainBytesPerActor,
  };
}, (r) => `${Math.round(r.actorsPerSec).toLocaleString('en')} actors/s, ${r.bytesPerActor} B/actor on its worker (${r.bytesPerActorNoGc} B before gc) + ${r.mainBytesPerActor} B of root supervision on main`);

const byRestart = new Map<Restart, Run[]>();
for (const restart of restarts) byRestart.set(restart, await measure(restart));
const medianField = (series: Run[], field: keyof Run): number => Math.round(median(series.map((r) => r[field])));

const summary: SummaryRow[] = [];
for (const [restart, series] of byRestart) {
  // The permanent rows keep their original names, so compare.js lines them up with older result files.
  const suffix = restart === 'permanent' ? '' : `, ${restart}`;
  summary.push(
    { metric: `spawn ${actors.toLocaleString('en')} idle actors${suffix}`, value: medianField(series, 'actorsPerSec'), unit: 'actors/s', target: '100k in < 1 s' },
    { metric: `heap per idle actor (after gc)${suffix}`, value: medianField(series, 'bytesPerActor'), unit: 'bytes' },
    { metric: `root supervision on main per actor (after gc)${suffix}`, value: medianField(series, 'mainBytesPerActor'), unit: 'bytes' },
    { metric: `heap per idle actor, worker + main (after gc)${suffix}`, value: medianField(series, 'processBytesPerActor'), unit: 'bytes', target: '≤ 400 bytes' },
  );
}
const first = byRestart.values().next().value as Run[];
const msFor100k = round((100_000 / medianField(first, 'actorsPerSec')) * 1000, 0);

emit({
  name: 'spawn',
  params: { actors, window: windowSize, runs, workers, module: 'actors/counter', restarts, freshSampleMs: kFreshSampleMs },
  summary,
  results: {
    median: Object.fromEntries([...byRestart].map(([restart, series]) => [restart, medianOf(series)])),
    runs: Object.fromEntries(byRestart),
    projectedMsFor100k: msFor100k,
    lastRunHeapPerWorkerBytes: perHost,
  },
});
