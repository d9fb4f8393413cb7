/**
 * One process of the tracing benchmark (bench/tracing.ts): boots a system of
 * the build at `--root` (this one by default) in one tracing mode, runs the
 * tell and ask workloads once each after a warm-up, and prints their rates as
 * one JSON line. A process per mode: a tracer provider is per process, and
 * "absent" must never load @opentelemetry/api.
 *
 *   node dist/bench/tracing-child.js --mode absent|unsampled|sampled [--root DIR] [--messages N] [--asks N]
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ActorRef, ActorSystem, SystemOptions } from 'troupe';
import type { ProducerReport } from './actors/producer.js';
import { intFlag, parseFlags, perSecond } from './lib.js';

const flags = parseFlags();
const mode = flags.value('mode') ?? 'absent';
if (!['absent', 'unsampled', 'sampled'].includes(mode)) throw new TypeError(`--mode must be absent, unsampled or sampled, received ${mode}`);
const here = fileURLToPath(new URL('../..', import.meta.url));
const root = flags.value('root') ?? here;
const messages = intFlag(flags, 'messages', 500_000);
const asks = intFlag(flags, 'asks', 50_000);
const concurrency = 16;
const burst = 1024;
const at = (path: string): URL => pathToFileURL(join(root, path));

const options: SystemOptions = { workers: 2, logLevel: 'silent' };
if (mode !== 'absent') {
  // Read by otel-setup on every thread; workers inherit this process's environment.
  process.env.TROUPE_BENCH_SAMPLE_RATIO = mode === 'sampled' ? '0.01' : '0';
  await import('./otel-setup.js');
  Object.assign(options, { tracing: true, workerPreload: [new URL('./otel-setup.js', import.meta.url)] });
}
const { ActorSystem: System, kInternals } = (await import(at('dist/src/index.js').href)) as typeof import('troupe');
const system: ActorSystem = await System.start(options);
await (system as unknown as Record<symbol, { spareReady(): Promise<void> }>)[kInternals]!.spareReady();
const sink = await system.spawn(at('dist/actors/sink.js'), { host: 1 });
// Sampled: every ping a trace of its own, 1 % of them recorded. Unsampled: the pings are children of the run's unsampled trace.
const producerUrl = mode === 'sampled' ? new URL('./actors/root-producer.js', import.meta.url) : at('dist/bench/actors/producer.js');
const producer = await system.spawn(producerUrl, { host: 0 });
const echo = await system.spawn(at('dist/actors/echo.js'), { host: 0 });

async function tell(n: number): Promise<number> {
  const report = await producer.ask<ProducerReport>({ type: 'run', sink, n, burst }, { timeoutMs: 120_000 });
  return perSecond(n, report.ms);
}

/** Asks from main (each one a trace of its own), `concurrency` in flight. */
async function ask(n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const loop = async (target: ActorRef): Promise<void> => {
    while (next < n) {
      next++;
      await target.ask(next);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => loop(echo)));
  return perSecond(n, performance.now() - started);
}

await tell(Math.floor(messages / 4));
await ask(Math.floor(asks / 4));
const result = { mode, root, tell: await tell(messages), ask: await ask(asks) };
await system.shutdown();
process.stdout.write(`${JSON.stringify(result)}\n`);
