/**
 * The agent-coordination scenario: a coordinator (on the main thread) and N
 * agents (round-robin over the workers) doing request/response rounds. In a
 * round the coordinator asks every agent for a task, at most `--in-flight` at
 * once; the agent asks its peer (the next agent, always on another worker)
 * for help and answers with that round trip. A run is as many rounds as make
 * at least `--tasks` tasks (small swarms would otherwise time a few ms of
 * cold code). Reported per N: msgs/s, inter-agent p50/p95/p99 across threads
 * (hdr), task latency, heap per idle agent.
 *
 *   node dist/bench/swarm.js [--quick] [--agents 150,1500] [--runs N] [--tasks N] [--in-flight N] [--workers N]
 */
import { availableParallelism } from 'node:os';
import type { RoundReport } from './actors/swarm-coordinator.js';
import { exposeGc, spawnMany, startProbes, sum, workerHeaps } from './harness.js';
import { emit, formatRate, intFlag, median, parseFlags, perSecond, progress, repeat, round, type LatencyUs, type SummaryRow } from './lib.js';
import { startBooted } from './system.js';

exposeGc();

const flags = parseFlags();
const sizes = (flags.value('agents') ?? (flags.quick ? '150,1500' : '150,1500,15000,150000')).split(',').map((s) => Number(s.replace(/_/g, '')));
const runs = intFlag(flags, 'runs', flags.quick ? 3 : 5);
const minTasks = intFlag(flags, 'tasks', flags.quick ? 6_000 : 60_000);
/** Outstanding tasks; 64 as in examples/swarm. */
const inFlight = intFlag(flags, 'in-flight', 64);
const workers = intFlag(flags, 'workers', availableParallelism());
const warmups = 1;
/** coordinator → agent ask, agent → peer ask, the peer's reply, the agent's reply. */
const kMessagesPerTask = 4;

const agentUrl = new URL('./actors/swarm-agent.js', import.meta.url);
const coordinatorUrl = new URL('./actors/swarm-coordinator.js', import.meta.url);

interface SizeResult {
  agents: number;
  spawnMs: number;
  heapPerAgentBytes: number;
  msgsPerSec: number;
  peerUs: LatencyUs;
  taskUs: LatencyUs;
  roundsPerRun: number;
  runs: { ms: number; msgsPerSec: number; failed: number; peerUs: LatencyUs; taskUs: LatencyUs }[];
}

/** Field-wise median of each percentile over the runs. */
function medianLatency(series: LatencyUs[]): LatencyUs {
  const out = {} as Record<keyof LatencyUs, number>;
  for (const key of Object.keys(series[0]) as (keyof LatencyUs)[]) out[key] = round(median(series.map((s) => s[key])), 2);
  return out;
}

const results: SizeResult[] = [];
for (const agents of sizes) {
  if (!Number.isInteger(agents) || agents < 2) throw new TypeError(`--agents takes integers ≥ 2, received ${agents}`);
  // A fresh system per size: heap per agent is measured against an empty system.
  const system = await startBooted({ workers, logLevel: 'silent' });
  const probes = await startProbes(system);
  await Promise.all(Array.from({ length: workers }, (_, host) => system.spawn(agentUrl, { host }).then((ref) => system.stop(ref))));
  const coordinator = await system.spawn(coordinatorUrl, { host: 'main' });
  const before = await workerHeaps(system, probes);
  const spawnStart = performance.now();
  const refs = await spawnMany(system, agentUrl, agents, { window: 10_000, options: (i) => ({ host: i % workers }) });
  const spawnMs = performance.now() - spawnStart;
  const after = await workerHeaps(system, probes);
  const heapPerAgentBytes = Math.round((sum(after) - sum(before)) / agents);
  progress(`swarm ${agents.toLocaleString('en')} agents: spawned in ${Math.round(spawnMs)} ms, ${heapPerAgentBytes} B heap per idle agent`);

  const rounds = Math.ceil(minTasks / agents);
  const series = await repeat(`swarm ${agents.toLocaleString('en')} agents, ${rounds} round${rounds === 1 ? '' : 's'}`, runs, warmups, async () => {
    const report = await coordinator.ask<RoundReport>({ type: 'rounds', agents: refs, rounds, inFlight }, { timeoutMs: 600_000 });
    return { ms: report.ms, msgsPerSec: perSecond(report.tasks * kMessagesPerTask, report.ms), failed: report.failed, peerUs: report.peer, taskUs: report.task };
  }, (r) => `${formatRate(r.msgsPerSec)}, inter-agent p50 ${r.peerUs.p50} / p95 ${r.peerUs.p95} / p99 ${r.peerUs.p99} µs${r.failed > 0 ? `, ${r.failed} failed` : ''}`);
  await system.shutdown();

  results.push({
    agents,
    spawnMs: round(spawnMs, 1),
    heapPerAgentBytes,
    msgsPerSec: Math.round(median(series.map((r) => r.msgsPerSec))),
    peerUs: medianLatency(series.map((r) => r.peerUs)),
    taskUs: medianLatency(series.map((r) => r.taskUs)),
    roundsPerRun: rounds,
    runs: series,
  });
}

const summary: SummaryRow[] = results.flatMap((r): SummaryRow[] => [
  { metric: `swarm ${r.agents.toLocaleString('en')} agents`, value: r.msgsPerSec, unit: 'msgs/s' },
  { metric: `swarm ${r.agents.toLocaleString('en')}: inter-agent p95 across threads`, value: r.peerUs.p95, unit: 'µs', ...(r.agents === 15_000 ? { target: 'p95 < 1 ms at 15,000 agents' } : {}) },
  { metric: `swarm ${r.agents.toLocaleString('en')}: heap per agent`, value: r.heapPerAgentBytes, unit: 'bytes' },
]);

emit({
  name: 'swarm',
  params: { agents: sizes, runs, warmups, minTasksPerRun: minTasks, inFlight, workers, messagesPerTask: kMessagesPerTask, placement: 'coordinator on the main thread; agent i on worker i mod workers; agent i asks agent i+1 (another worker)' },
  summary,
  results: { sizes: results },
});
