/**
 * troupe/agents under load, side by side in one run (issue 14):
 * 1. overhead: the pipeline (llm → tool → llm streamed → human wait → llm)
 *    as `--overhead-runs` durable workflows, against a plain `async` loop
 *    making the same calls through the same SDK (bench/agents-plain.ts):
 *    orchestration CPU per step = (troupe CPU − plain CPU) ÷ steps;
 * 2. no-op steps: the same five-step shape without calls, concurrent (CPU
 *    per step with durable checkpoints) and one run at a time (wall per
 *    step, p50/p99): the figures LangGraph's no-op graph is quoted with;
 * 3. load: `--runs` (10,000) concurrent workflows against a server with
 *    latency 300 ms–3 s, streaming, a tokens-per-window cap and an injected
 *    429 every `--429-every` requests: peak RSS, the share of the allowed
 *    tokens used while calls queue, 429s seen and unhandled, checkpoint
 *    bytes per step;
 * 4. LangGraph.js (`@langchain/langgraph` + SqliteSaver, when installed),
 *    the same graph: no-op CPU per step and load, in child processes.
 * The LLM server runs in a child process so its CPU is not counted.
 *
 *   node dist/bench/agents.js [--quick] [--runs N] [--overhead-runs N] [--load-ms N] [--429-every N] [--window-ms N] [--only troupe|load]
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { createAgents, openai, type Agents, type ProviderLedger, type Run } from 'troupe/agents';
import { plainLoop } from './agents-plain.js';
import { emit, intFlag, parseFlags, progress, round } from './lib.js';
import { startLlmServerChild } from './llm-server-child.js';

const flags = parseFlags();
const quick = flags.quick;
const overheadRuns = intFlag(flags, 'overhead-runs', quick ? 200 : 2000);
const loadRuns = intFlag(flags, 'runs', quick ? 300 : 10_000);
const loadMs = intFlag(flags, 'load-ms', quick ? 5000 : 60_000);
const every429 = intFlag(flags, '429-every', 500);
// The rate window of the server and the provider: a real API's minute, shorter for a quicker run.
const windowMs = intFlag(flags, 'window-ms', quick ? 2000 : 10_000);
const callConcurrency = 200;
const dir = mkdtempSync(join(process.env.TROUPE_BENCH_DIR ?? tmpdir(), 'troupe-bench-agents-'));
const pipeline = new URL('./workflows/pipeline.js', import.meta.url);
const noop = new URL('./workflows/noop.js', import.meta.url);
const kStepsPerRun = 5;

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
};

async function boot(name: string, baseURL: string, limits: Parameters<typeof openai>[0]['limits']): Promise<{ system: ActorSystem; agents: Agents }> {
  const system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store: sqliteStore({ path: join(dir, `${name}.db`) }) });
  const agents = createAgents(system, { providers: { gpt: openai({ model: 'gpt-4o-mini', apiKey: 'test', baseURL, limits }) }, keepFinishedMs: 1000 });
  await agents.ready;
  return { system, agents };
}

/** Starts `count` runs (`startConcurrency` starts at once), answers each one's human wait as it begins, and waits for every result. */
async function driveRuns(agents: Agents, url: URL, count: number, prefix: string, options: { signalAtStart?: boolean; startConcurrency?: number; allAtOnce?: boolean } = {}): Promise<{ failed: number; failed429: number; runMs: number[] }> {
  let failed = 0;
  let failed429 = 0;
  const reasons = new Map<string, number>();
  const runMs: number[] = [];
  const finish = async (run: Run, started: number, off: () => void): Promise<void> => {
    try {
      await run.result();
    } catch (error) {
      failed++;
      if ((error as Error).message.includes('429')) failed429++;
      const reason = String((error as Error).message).slice(0, 200);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    } finally {
      off();
    }
    runMs.push(performance.now() - started);
  };
  // The result's promise is wrapped: an async function returning a promise would wait for it.
  const one = async (i: number): Promise<{ done: Promise<void> }> => {
    const id = `${prefix}-${i}`;
    const started = performance.now();
    const handle: Run = agents.get(id);
    const off = handle.events.on('waiting', () => void handle.signal('approval', { ok: true }));
    const run = await agents.start(url, { tag: id }, { id });
    if (options.signalAtStart === true) await run.signal('approval', { ok: true });
    return { done: finish(run, started, off) };
  };
  // `lanes` runs at a time; with allAtOnce, `lanes` starts at a time and every run stays in progress together.
  const finishing: Promise<void>[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const { done } = await one(next++);
      if (options.allAtOnce === true) finishing.push(done);
      else await done;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.startConcurrency ?? count, count) }, lane));
  await Promise.all(finishing);
  // A run that fails is a finding, not noise: say why on stderr.
  for (const [reason, times] of reasons) progress(`${prefix}: ${times} run(s) failed: ${reason}`);
  return { failed, failed429, runMs };
}

async function overheadPhase(): Promise<Record<string, number>> {
  const server = await startLlmServerChild(['--latency', '20,60']);
  progress(`overhead: plain loop, ${overheadRuns} runs`);
  const plain = await plainLoop(server.openaiBaseURL, overheadRuns, callConcurrency);
  const plainBill = (await server.stop()).bill;
  const server2 = await startLlmServerChild(['--latency', '20,60']);
  const { system, agents } = await boot('overhead', server2.openaiBaseURL, { concurrency: callConcurrency });
  progress(`overhead: troupe workflows, ${overheadRuns} runs`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { failed } = await driveRuns(agents, pipeline, overheadRuns, 't');
  const ms = performance.now() - started;
  const troupeCpu = cpuMs(cpu);
  await system.shutdown();
  const bill = (await server2.stop()).bill;
  const steps = overheadRuns * kStepsPerRun;
  return {
    runs: overheadRuns,
    failed,
    plainMs: round(plain.ms),
    plainCpuMsPerStep: round(plain.cpuMs / steps, 4),
    troupeMs: round(ms),
    troupeCpuMsPerStep: round(troupeCpu / steps, 4),
    overheadCpuMsPerStep: round((troupeCpu - plain.cpuMs) / steps, 4),
    troupeStepsPerSec: Math.round(steps / (ms / 1000)),
    plainStepsPerSec: Math.round(steps / (plain.ms / 1000)),
    tokensPerRun: round((bill.inputTokens + bill.outputTokens) / overheadRuns, 1),
    plainTokensPerRun: round((plainBill.inputTokens + plainBill.outputTokens) / overheadRuns, 1),
    billedCalls: bill.completed,
  };
}

async function noopPhase(): Promise<Record<string, number>> {
  const { system, agents } = await boot('noop', 'http://127.0.0.1:9/v1', undefined);
  await driveRuns(agents, noop, 50, 'warm', { signalAtStart: true });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const concurrent = await driveRuns(agents, noop, overheadRuns, 'n', { signalAtStart: true, startConcurrency: 256 });
  const ms = performance.now() - started;
  const concurrentCpu = cpuMs(cpu);
  const sequentialRuns = Math.min(200, overheadRuns);
  const cpu2 = process.cpuUsage();
  const sequential = await driveRuns(agents, noop, sequentialRuns, 's', { signalAtStart: true, startConcurrency: 1 });
  const sequentialCpu = cpuMs(cpu2);
  await system.shutdown();
  const perStep = sequential.runMs.map((m) => m / kStepsPerRun);
  return {
    runs: overheadRuns,
    failed: concurrent.failed + sequential.failed,
    concurrentCpuMsPerStep: round(concurrentCpu / (overheadRuns * kStepsPerRun), 4),
    concurrentStepsPerSec: Math.round((overheadRuns * kStepsPerRun) / (ms / 1000)),
    sequentialRuns,
    sequentialCpuMsPerStep: round(sequentialCpu / (sequentialRuns * kStepsPerRun), 4),
    sequentialP50MsPerStep: round(percentile(perStep, 0.5), 3),
    sequentialP99MsPerStep: round(percentile(perStep, 0.99), 3),
  };
}

interface Sample {
  at: number;
  rss: number;
  tokens: number;
  queued: number;
}

async function loadPhase(tokensPerRun: number): Promise<Record<string, number>> {
  // The cap is set so the runs need about loadMs of it: calls queue for most of the phase.
  const tokensPerWindow = Math.max(200, Math.ceil((loadRuns * tokensPerRun * windowMs) / loadMs));
  const latency = quick ? '100,600' : '300,3000';
  const server = await startLlmServerChild(['--latency', latency, '--chunk-delay', '5', '--tpm', String(tokensPerWindow), '--window-ms', String(windowMs), '--inject-429-every', String(every429)]);
  // The provider's tpm is per minute (scaled to its window); the server's --tpm is per window.
  const { system, agents } = await boot('load', server.openaiBaseURL, { tpm: (tokensPerWindow * 60_000) / windowMs, windowMs, concurrency: 1000 });
  progress(`load: ${loadRuns} concurrent runs, ${tokensPerWindow} tokens per ${windowMs} ms, latency ${latency} ms, a 429 every ${every429} requests`);
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    void agents.ledger().then(([gpt]) => samples.push({ at: performance.now(), rss: process.memoryUsage().rss, tokens: gpt.inputTokens + gpt.outputTokens, queued: gpt.queued }));
  }, 250);
  const started = performance.now();
  const { failed, failed429 } = await driveRuns(agents, pipeline, loadRuns, 'l', { startConcurrency: 512, allAtOnce: true });
  const ms = performance.now() - started;
  clearInterval(sampler);
  const [ledger] = (await agents.ledger()) as [ProviderLedger];
  await system.shutdown();
  const served = await server.stop();
  // Utilisation while calls queued (demand above the cap): tokens billed between the first and last such sample.
  const queuedSamples = samples.filter((s) => s.queued > 0);
  const first = queuedSamples[0];
  const last = queuedSamples.at(-1);
  const saturatedMs = first === undefined || last === undefined ? 0 : last.at - first.at;
  const utilisation = saturatedMs < windowMs ? Number.NaN : (last!.tokens - first!.tokens) / ((tokensPerWindow * saturatedMs) / windowMs);
  const checkpoint = checkpointBytes(join(dir, 'load.db'));
  return {
    runs: loadRuns,
    failed,
    ms: round(ms),
    peakRssMB: round(Math.max(...samples.map((s) => s.rss)) / 2 ** 20, 1),
    tokensPerWindow,
    windowMs,
    tokensPerMinuteAllowed: Math.round((tokensPerWindow * 60_000) / windowMs),
    saturatedMs: round(saturatedMs),
    tokenUtilisation: round(utilisation, 4),
    rateLimited: ledger.rateLimited,
    serverRefused: served.bill.failed,
    unhandled429: failed429,
    billedTokens: served.bill.inputTokens + served.bill.outputTokens,
    ledgerTokens: ledger.inputTokens + ledger.outputTokens,
    checkpointBytesPerStep: round(checkpoint.bytes / (loadRuns * kStepsPerRun), 1),
    checkpointEventsPerStep: round(checkpoint.events / (loadRuns * kStepsPerRun), 2),
  };
}

/** The journal's bytes and events for runs (not the hub's index), read from the SQLite file after shutdown. */
function checkpointBytes(path: string): { bytes: number; events: number } {
  const db = new Database(path, { readonly: true });
  try {
    let bytes = 0;
    let events = 0;
    for (const table of ['troupe_events', 'troupe_log']) {
      const row = db.prepare(`SELECT COALESCE(SUM(LENGTH(data)), 0) AS bytes, COUNT(*) AS events FROM ${table} WHERE pid LIKE 'troupe.run/%'`).get() as { bytes: number; events: number };
      bytes += row.bytes;
      events += row.events;
    }
    return { bytes, events };
  } finally {
    db.close();
  }
}

const kLangGraph = fileURLToPath(new URL('./agents-langgraph.js', import.meta.url));
const kKillDriver = fileURLToPath(new URL('./agents-langgraph-kill.js', import.meta.url));
const langGraphInstalled = existsSync(new URL('../../node_modules/@langchain/langgraph/package.json', import.meta.url));

/** The last JSON line a bench script prints, from a child process. */
async function childJson(script: string, args: string[]): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout!) out += chunk;
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

/** The LangGraph script's figures, or undefined when LangGraph is not installed (a production install). */
const langGraph = (args: string[]): Promise<Record<string, number> | undefined> => (langGraphInstalled ? childJson(kLangGraph, args) : Promise.resolve(undefined));

/** kill -9 of 20 runs after `killAfter` server requests, then a resume: what was paid for or done twice, per engine. */
async function killComparison(killAfter: number): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const engine of langGraphInstalled ? ['troupe', 'langgraph'] : ['troupe']) {
    const { rebilledCalls, repeatedToolEffects, repeatedRequests, lostInFlight, completedRuns } = await childJson(kKillDriver, ['--engine', engine, '--kill-after', String(killAfter)]);
    out[engine] = { rebilledCalls, repeatedToolEffects, repeatedRequests, lostInFlight, completedRuns };
  }
  return out;
}

try {
  const overhead = await overheadPhase();
  progress(`overhead: ${JSON.stringify(overhead)}`);
  if (flags.value('only') === 'load') {
    // The load phase alone (its calls' size comes from the overhead phase): for tuning the rate budget.
    const load = await loadPhase(overhead.tokensPerRun);
    emit({
      name: 'agents-load',
      params: { loadRuns, loadMs, every429, windowMs },
      summary: [{ metric: 'allowed tokens used while calls queue', value: round(load.tokenUtilisation * 100, 1), unit: '%', target: '≥ 95 %' }],
      results: { load },
    });
    process.exit(0);
  }
  const noopSteps = await noopPhase();
  progress(`no-op: ${JSON.stringify(noopSteps)}`);
  if (flags.value('only') === 'troupe') process.exit(0);
  const load = await loadPhase(overhead.tokensPerRun);
  progress(`load: ${JSON.stringify(load)}`);
  progress('LangGraph.js: no-op graph with SqliteSaver, then the pipeline');
  const lgNoop = await langGraph(['--mode', 'overhead', '--runs', String(Math.min(overheadRuns, 2000)), '--checkpointer', 'sqlite']);
  const lgServer = await startLlmServerChild(['--latency', '20,60']);
  const lgLoad = await langGraph(['--mode', 'load', '--runs', String(overheadRuns), '--concurrency', String(callConcurrency), '--sqlite', join(dir, 'langgraph.db'), '--llm', lgServer.openaiBaseURL]);
  await lgServer.stop();
  progress('kill -9 of 20 runs and a resume, troupe and LangGraph.js');
  const kills: Record<string, Record<string, Record<string, number>>> = {};
  for (const killAfter of quick ? [30] : [30, 45]) kills[`after${killAfter}Requests`] = await killComparison(killAfter);
  progress(`kill -9: ${JSON.stringify(kills)}`);
  const sum = (engine: string, field: string): number => Object.values(kills).reduce((total, k) => total + (k[engine]?.[field] ?? 0), 0);
  const lgCpu = lgNoop?.cpuMsPerStep;
  emit({
    name: 'agents',
    params: { quick, overheadRuns, loadRuns, loadMs, every429, windowMs, callConcurrency },
    summary: [
      { metric: 'orchestration CPU per step (pipeline, over a plain loop)', value: overhead.overheadCpuMsPerStep, unit: 'ms', target: '≤ 0.1 ms' },
      { metric: 'CPU per no-op step, durable', value: noopSteps.concurrentCpuMsPerStep, unit: 'ms', ...(lgCpu === undefined ? {} : { baseline: 'LangGraph.js + SqliteSaver', baselineValue: lgCpu, ratio: round(lgCpu / noopSteps.concurrentCpuMsPerStep, 2) }), target: '≥ 10× LangGraph' },
      { metric: 'pipeline steps/s', value: overhead.troupeStepsPerSec, unit: 'steps/s', ...(lgLoad === undefined ? {} : { baseline: 'LangGraph.js + SqliteSaver', baselineValue: lgLoad.stepsPerSec, ratio: round(overhead.troupeStepsPerSec / lgLoad.stepsPerSec, 2) }) },
      { metric: `peak RSS, ${loadRuns} concurrent workflows`, value: load.peakRssMB, unit: 'MB', target: '≤ 1536 MB' },
      { metric: 'allowed tokens used while calls queue', value: round(load.tokenUtilisation * 100, 1), unit: '%', target: '≥ 95 %' },
      { metric: 'unhandled 429s', value: load.unhandled429, unit: 'runs', target: '0' },
      { metric: 'checkpoint bytes per step', value: load.checkpointBytesPerStep, unit: 'B' },
      { metric: 'completed tool effects repeated after kill -9', value: sum('troupe', 'repeatedToolEffects'), unit: 'effects', ...(lgCpu === undefined ? {} : { baseline: 'LangGraph.js + SqliteSaver', baselineValue: sum('langgraph', 'repeatedToolEffects') }) },
      { metric: 'llm calls billed twice after kill -9 (in flight at the kill)', value: sum('troupe', 'rebilledCalls'), unit: 'calls', ...(lgCpu === undefined ? {} : { baseline: 'LangGraph.js + SqliteSaver', baselineValue: sum('langgraph', 'rebilledCalls') }) },
    ],
    results: { overhead, noop: noopSteps, load, langgraph: { noop: lgNoop ?? null, load: lgLoad ?? null }, kills },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
