/**
 * Main-thread helpers for benchmarks that run an ActorSystem: spawning many
 * actors with a bounded window, heap per worker with garbage collected, and
 * waiting on the shared stats. (bench/lib.ts stays free of troupe: actors
 * import it on worker threads.)
 */
import { setFlagsFromString } from 'node:v8';
import type { ActorRef, ActorSystem, SpawnOptions } from 'troupe';
import type { HeapProbeReport } from './actors/heap-probe.js';
import { progress, sleep } from './lib.js';
import { runInNewContext } from 'node:vm';

/** Hosts publish their heap every 250 ms; wait for a sample taken after a collection. */
export const kFreshSampleMs = 600;

const kProbeUrl = new URL('./actors/heap-probe.js', import.meta.url);

/**
 * Gives every worker a global gc() for the heap probe. V8 flags are per
 * process: call before `ActorSystem.start` (worker `execArgv` refuses --expose-gc).
 */
export function exposeGc(): void {
  setFlagsFromString('--expose-gc');
}

/** Heap in use on this (the main) thread after collecting garbage twice. */
export function mainHeapAfterGc(): number {
  const gc = ((globalThis as { gc?: () => void }).gc ?? runInNewContext('gc')) as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** One heap probe per worker (bench/actors/heap-probe), in worker order. */
export function startProbes(system: ActorSystem): Promise<ActorRef[]> {
  return Promise.all(Array.from({ length: system.workers }, (_, host) => system.spawn(kProbeUrl, { host })));
}

/** Heap in use on each worker, as the workers publish it; collected first when `probes` are given. */
export async function workerHeaps(system: ActorSystem, probes: ActorRef[] | undefined): Promise<number[]> {
  if (probes !== undefined) {
    const reports = await Promise.all(probes.map((probe) => probe.ask<HeapProbeReport>({ type: 'gc' })));
    if (!reports.every((r) => r.gc)) progress('warning: gc() is not available in the workers; heap figures include garbage');
  }
  await sleep(kFreshSampleMs);
  return system.stats().hosts.slice(1).map((h) => h.heapUsedBytes);
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export interface SpawnManyOptions {
  /** Spawns in flight at once. @default 10000 */
  window?: number;
  /** Options of the i-th spawn (host, args, export). */
  options?: (i: number) => SpawnOptions;
  /** Called as each actor has started (e.g. to send it its first message). */
  started?: (ref: ActorRef, i: number) => void;
}

/** Spawns `count` actors from `url` with at most `window` spawns in flight; resolves with the refs in index order. */
export async function spawnMany(system: ActorSystem, url: URL, count: number, { window = 10_000, options, started }: SpawnManyOptions = {}): Promise<ActorRef[]> {
  const refs: ActorRef[] = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      refs[i] = await system.spawn(url, options?.(i));
      started?.(refs[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  return refs;
}

/** Messages handled by the workers so far (main excluded), read from shared memory. */
export function workerMessagesIn(system: ActorSystem): number {
  return sum(system.stats().hosts.slice(1).map((h) => h.messagesIn));
}

/**
 * Resolves when the workers together have handled `target` messages, polling
 * the shared stats (hosts publish them at the end of each turn) every `everyMs`.
 */
export async function untilWorkersHandled(system: ActorSystem, target: number, timeoutMs = 120_000, everyMs = 1): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (workerMessagesIn(system) < target) {
    if (performance.now() > deadline) throw new Error(`workers handled ${workerMessagesIn(system)} of ${target} messages within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
