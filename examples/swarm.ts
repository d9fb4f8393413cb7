/**
 * A swarm of agents on every worker thread plus a coordinator on the main
 * thread, doing request/response rounds: the coordinator asks an agent for
 * work, the agent asks random peers for help (their refs travel inside the
 * message). A few agents are flaky and crash now and then; their host
 * restarts them. One live line a second, then a clean shutdown and a summary.
 *
 *   npm start -- [--duration 10s] [--agents 150] [--in-flight 64] [--workers N] [--seed 42]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ActorSystem } from 'troupe';
import type { CoordinatorArgs, CoordinatorMessage, FinalReport, WindowReport } from './actors/coordinator.js';

function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new TypeError(`--duration must look like 10s, 500ms or 2m, received ${text}`);
  const scale = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000;
  return Number(match[1]) * scale;
}

function positiveInt(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new TypeError(`--${name} must be an integer ≥ ${min}, received ${text}`);
  return value;
}

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    agents: { type: 'string', default: '150' },
    workers: { type: 'string', default: String(availableParallelism()) },
    seed: { type: 'string', default: '42' },
    'in-flight': { type: 'string', default: '64' },
  },
});
const duration = durationMs(values.duration!);
const agents = positiveInt('agents', values.agents!, 3);
const workers = positiveInt('workers', values.workers!, 1);
const seed = positiveInt('seed', values.seed!, 0);
const inFlight = positiveInt('in-flight', values['in-flight']!, 1);

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`);

const system = await ActorSystem.start({ workers, logLevel: 'silent' });
const args: CoordinatorArgs = { agents, seed, fanout: 3, inFlight, flakyEvery: 25 };
const coordinator = await system.spawn<CoordinatorMessage>(new URL('./actors/coordinator.js', import.meta.url), { name: 'coordinator', host: 'main', args });
const perWorker = system.stats().hosts.slice(1).map((h) => `w${h.host}: ${h.actors}`).join(', ');
console.log(`swarm: ${agents} agents on ${workers} workers (${perWorker}), coordinator on ${system.hostOf(coordinator)}, seed ${seed}, for ${duration / 1000} s`);

const started = performance.now();
coordinator.tell({ type: 'start' });
const ticker = setInterval(() => {
  void coordinator.ask<WindowReport>({ type: 'report' }).then((window) => {
    const total = system.stats().total;
    const t = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
    console.log(
      `[${t}s] msgs/s ${fmt(total.messagesInPerSec).padStart(6)} | rounds/s ${fmt(window.rounds).padStart(6)} | peer ask p95 ${String(window.p95Us).padStart(6)} µs` +
        ` | restarts ${total.restarts} | dead letters ${total.deadLetters} | actors ${total.actors} | cpu ${Math.round(total.cpuPercent)}%`,
    );
  });
}, 1000);

await new Promise((resolve) => setTimeout(resolve, duration));
clearInterval(ticker);
const report = await coordinator.ask<FinalReport>({ type: 'stop' }, { timeoutMs: 10_000 });
const seconds = (performance.now() - started) / 1000;
const stats = system.stats();
await system.shutdown();

console.log(`\nsummary after ${seconds.toFixed(1)} s`);
console.log(`  rounds        ${report.rounds} (${fmt(report.rounds / seconds)}/s), ${report.failedRounds} failed ${JSON.stringify(report.failureCodes)}`);
console.log(`  peer asks     ${report.asks} (${fmt(report.asks / seconds)}/s), ${report.failedAsks} failed (crashed agents answer with TROUPE_ERR_ACTOR_CRASHED)`);
console.log(`  ask latency   p50 ${report.p50Us} µs, p95 ${report.p95Us} µs, p99 ${report.p99Us} µs, max ${report.maxUs} µs`);
console.log(`  messages      ${fmt(stats.total.messagesIn)} handled: ${stats.hosts.map((h) => `${h.host === 'main' ? 'main' : `w${h.host}`} ${fmt(h.messagesIn)}`).join(', ')}`);
console.log(`  restarts      ${stats.total.restarts}, dead letters ${stats.total.deadLetters}, errors ${stats.total.errors}, backpressure ${stats.total.backpressure}`);
console.log('  shut down cleanly');
