/**
 * The LangGraph.js half of bench/agents (issue 14): the workflow troupe runs there
 * (llm → tool → llm → human wait → llm) as a LangGraph StateGraph, so bench/agents.ts
 * can put both sets of figures side by side. It runs as a child process and prints
 * one JSON line on stdout (in kill mode, one line per finished node, then the summary).
 *
 *   node dist/bench/agents-langgraph.js --mode overhead --runs 2000 --checkpointer none|memory|sqlite [--warmup 200] [--sqlite <path>]
 *   node dist/bench/agents-langgraph.js --mode load --runs 2000 --concurrency 200 --sqlite <path> --llm <openaiBaseURL> [--ledger <file>]
 *   node dist/bench/agents-langgraph.js --mode kill --runs 20 --sqlite <path> --llm <openaiBaseURL> --ledger <file> [--resume]
 *
 * Every mode takes `--durability sync|async|exit` (LangGraph's own default, async, when absent).
 *
 * LLM nodes call the plain openai SDK, as troupe's agents do, not @langchain/openai: the
 * comparison is of the runtimes, not of client wrappers.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Annotation, Command, END, MemorySaver, START, StateGraph, interrupt, type BaseCheckpointSaver } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import OpenAI from 'openai';
import { VERSION as openaiVersion } from 'openai/version';
import { environment, round } from './lib.js';

const kNodes = ['llm1', 'tool', 'llm2', 'wait', 'llm3'] as const;
const kStepsPerRun = kNodes.length;
const kMaxDrives = 10;
const kModes = ['overhead', 'load', 'kill'];
const kCheckpointers = ['none', 'memory', 'sqlite'];
const kDurabilities = ['sync', 'async', 'exit'] as const;
type Durability = (typeof kDurabilities)[number];

class UsageError extends Error {}

const WorkflowState = Annotation.Root({
  run: Annotation<string>(),
  reply: Annotation<string>(),
  calls: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  approval: Annotation<string>(),
});
type WorkflowValues = typeof WorkflowState.State;

interface Steps {
  llm(state: WorkflowValues, call: number): Promise<string>;
  tool(state: WorkflowValues): Promise<void>;
  /** Without a checkpointer LangGraph refuses `interrupt()` ("No checkpointer set"), so the wait becomes a pass-through. */
  interrupts: boolean;
}

function buildGraph(steps: Steps, checkpointer: BaseCheckpointSaver | undefined) {
  return new StateGraph(WorkflowState)
    .addNode('llm1', async (s) => ({ reply: await steps.llm(s, 1), calls: 1 }))
    .addNode('tool', async (s) => {
      await steps.tool(s);
      return {};
    })
    .addNode('llm2', async (s) => ({ reply: await steps.llm(s, 2), calls: 1 }))
    // The node re-runs from its top on resume (LangGraph's interrupt contract), so it must stay free of side effects.
    .addNode('wait', (s) => ({ approval: steps.interrupts ? interrupt<{ run: string; question: string }, string>({ run: s.run, question: 'approve?' }) : 'auto' }))
    .addNode('llm3', async (s) => ({ reply: await steps.llm(s, 3), calls: 1 }))
    .addEdge(START, 'llm1')
    .addEdge('llm1', 'tool')
    .addEdge('tool', 'llm2')
    .addEdge('llm2', 'wait')
    .addEdge('wait', 'llm3')
    .addEdge('llm3', END)
    .compile({ checkpointer });
}
type Workflow = ReturnType<typeof buildGraph>;
type OnNode = (run: string, node: string) => void;

function threadConfig(run: string, durability: Durability | undefined) {
  return durability === undefined ? { configurable: { thread_id: run } } : { configurable: { thread_id: run }, durability };
}

/** One invoke (or, when a node listener is given, one stream of node updates) until the graph ends or interrupts. */
async function drive(app: Workflow, input: Parameters<Workflow['invoke']>[0], run: string, durability: Durability | undefined, onNode?: OnNode): Promise<void> {
  const config = threadConfig(run, durability);
  if (onNode === undefined) {
    await app.invoke(input, config);
    return;
  }
  for await (const chunk of await app.stream(input, { ...config, streamMode: 'updates' as const })) {
    for (const node of Object.keys(chunk as object)) if (node !== '__interrupt__') onNode(run, node);
  }
}

/** A fresh run: start it, and resume it once it waits for the human. */
async function runFresh(app: Workflow, run: string, steps: Steps, durability: Durability | undefined): Promise<void> {
  await drive(app, { run }, run, durability);
  if (steps.interrupts) await drive(app, new Command({ resume: 'approved' }), run, durability);
}

type Found = 'not-started' | 'mid-graph' | 'at-interrupt' | 'done';

function classify(snapshot: Awaited<ReturnType<Workflow['getState']>>): Found {
  if (snapshot.metadata === undefined) return 'not-started';
  if (snapshot.next.length === 0) return 'done';
  return snapshot.tasks.some((task) => task.interrupts.length > 0) ? 'at-interrupt' : 'mid-graph';
}

/**
 * Takes a thread from wherever its checkpoints left it to the end: `null` continues a
 * run cut between nodes, a `Command` answers the pending interrupt. Returns where it was found.
 */
async function finish(app: Workflow, run: string, durability: Durability | undefined, onNode: OnNode): Promise<Found> {
  const found = classify(await app.getState({ configurable: { thread_id: run } }));
  for (let i = 0, state = found; state !== 'done'; i++) {
    if (i === kMaxDrives) throw new Error(`${run}: still not done after ${kMaxDrives} resumes`);
    const input: Parameters<Workflow['invoke']>[0] = state === 'not-started' ? { run } : state === 'at-interrupt' ? new Command({ resume: 'approved' }) : null;
    await drive(app, input, run, durability, onNode);
    state = classify(await app.getState({ configurable: { thread_id: run } }));
  }
  return found;
}

function llmCaller(baseURL: string): Steps['llm'] {
  const client = new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0 });
  return async (state, call) => {
    // One prompt per run and call, so the server's bill shows any call paid twice.
    const prompt = `${state.run} call ${call}`;
    const history = state.reply === undefined ? [] : [{ role: 'assistant' as const, content: state.reply }];
    const completion = await client.chat.completions.create({ model: 'bench', messages: [...history, { role: 'user', content: prompt }] });
    return completion.choices[0]?.message.content ?? '';
  };
}

const ledgerTool = (ledger: string): Steps['tool'] => (state) => appendFile(ledger, `${state.run}\n`);

async function checkReachable(baseURL: string): Promise<void> {
  // A GET is answered 404 by the loopback server without entering its bill; any answer means it is up.
  try {
    await fetch(new URL('models', `${baseURL.replace(/\/$/, '')}/`), { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new UsageError(`the LLM server at ${baseURL} is unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`);
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const rssMB = (): number => round(process.memoryUsage().rss / 2 ** 20, 1);

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { openai: openaiVersion };
  for (const name of ['@langchain/langgraph', '@langchain/langgraph-checkpoint-sqlite', '@langchain/core']) out[name] = (require(`${name}/package.json`) as { version: string }).version;
  return out;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

interface Args {
  mode: string;
  runs: number;
  warmup: number | undefined;
  concurrency: number;
  checkpointer: string | undefined;
  sqlite: string | undefined;
  llm: string | undefined;
  ledger: string | undefined;
  resume: boolean;
  durability: Durability | undefined;
}

function readArgs(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        mode: { type: 'string' },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        concurrency: { type: 'string' },
        checkpointer: { type: 'string' },
        sqlite: { type: 'string' },
        llm: { type: 'string' },
        ledger: { type: 'string' },
        resume: { type: 'boolean', default: false },
        durability: { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const int = (name: string, raw: string | undefined, fallback: number | undefined, min = 1): number | undefined => {
    if (raw === undefined) return fallback;
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min} (received ${raw})`);
    return value;
  };
  const mode = parsed.mode ?? '';
  if (!kModes.includes(mode)) throw new UsageError(`--mode must be one of ${kModes.join(', ')} (received ${parsed.mode ?? 'nothing'})`);
  const durability = parsed.durability as Durability | undefined;
  if (durability !== undefined && !kDurabilities.includes(durability)) throw new UsageError(`--durability must be one of ${kDurabilities.join(', ')} (received ${durability})`);
  const args: Args = {
    mode,
    runs: int('runs', parsed.runs, mode === 'kill' ? 20 : undefined) ?? 0,
    warmup: int('warmup', parsed.warmup, undefined, 0),
    concurrency: int('concurrency', parsed.concurrency, 1) ?? 1,
    checkpointer: parsed.checkpointer,
    sqlite: parsed.sqlite,
    llm: parsed.llm,
    ledger: parsed.ledger,
    resume: parsed.resume ?? false,
    durability,
  };
  if (args.runs === 0) throw new UsageError('--runs N is required');
  if (mode === 'overhead' && !kCheckpointers.includes(args.checkpointer ?? '')) {
    throw new UsageError(`--checkpointer must be one of ${kCheckpointers.join(', ')} (received ${args.checkpointer ?? 'nothing'})`);
  }
  if (mode !== 'overhead') {
    const needed: ('sqlite' | 'llm' | 'ledger')[] = mode === 'kill' ? ['sqlite', 'llm', 'ledger'] : ['sqlite', 'llm'];
    for (const name of needed) if (args[name] === undefined) throw new UsageError(`--mode ${mode} needs --${name}`);
  }
  if (args.resume && mode !== 'kill') throw new UsageError('--resume only applies to --mode kill');
  return args;
}

async function overhead(args: Args): Promise<void> {
  const kind = args.checkpointer as 'none' | 'memory' | 'sqlite';
  const tempDir = kind === 'sqlite' && args.sqlite === undefined ? await mkdtemp(join(tmpdir(), 'agents-langgraph-')) : undefined;
  const sqlitePath = kind === 'sqlite' ? args.sqlite ?? join(tempDir as string, 'overhead.sqlite') : undefined;
  const saver = kind === 'memory' ? new MemorySaver() : sqlitePath !== undefined ? SqliteSaver.fromConnString(sqlitePath) : undefined;
  let toolEffects = 0;
  const steps: Steps = {
    llm: async () => 'ok',
    tool: async () => {
      toolEffects++;
    },
    interrupts: saver !== undefined,
  };
  const app = buildGraph(steps, saver);
  const warmup = args.warmup ?? Math.min(200, args.runs);
  for (let i = 0; i < warmup; i++) await runFresh(app, `warm-${i}`, steps, args.durability);
  const perRunMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < args.runs; i++) {
    const runStart = performance.now();
    await runFresh(app, `run-${i}`, steps, args.durability);
    perRunMs.push(performance.now() - runStart);
  }
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const rss = rssMB();
  const stepCount = args.runs * kStepsPerRun;
  const perStep = perRunMs.map((ms) => ms / kStepsPerRun).sort((a, b) => a - b);
  if (saver instanceof SqliteSaver) saver.db.close();
  if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  if (toolEffects !== warmup + args.runs) throw new Error(`the tool ran ${toolEffects} times for ${warmup + args.runs} runs`);
  print({
    name: 'agents-langgraph',
    mode: 'overhead',
    checkpointer: kind,
    durability: args.durability ?? 'async',
    interrupt: steps.interrupts,
    runs: args.runs,
    warmup,
    steps: stepCount,
    msPerStep: round(wallMs / stepCount, 3),
    cpuMsPerStep: round((cpu.user + cpu.system) / 1000 / stepCount, 3),
    p50MsPerStep: round(quantile(perStep, 0.5), 3),
    p99MsPerStep: round(quantile(perStep, 0.99), 3),
    wallMs: round(wallMs, 1),
    rssMB: rss,
    heapUsedMB: round(process.memoryUsage().heapUsed / 2 ** 20, 1),
    versions: versions(),
    env: environment(),
  });
}

async function load(args: Args): Promise<void> {
  const llm = args.llm as string;
  await checkReachable(llm);
  const saver = SqliteSaver.fromConnString(args.sqlite as string);
  const steps: Steps = { llm: llmCaller(llm), tool: ledgerTool(args.ledger ?? `${args.sqlite as string}.ledger`), interrupts: true };
  const app = buildGraph(steps, saver);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const runMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const lane = async (): Promise<void> => {
    for (let i = next++; i < args.runs; i = next++) {
      const runStart = performance.now();
      try {
        await runFresh(app, `load-${i}`, steps, args.durability);
        runMs.push(performance.now() - runStart);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.runs) }, lane));
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  saver.db.close();
  runMs.sort((a, b) => a - b);
  const stepCount = runMs.length * kStepsPerRun;
  print({
    name: 'agents-langgraph',
    mode: 'load',
    checkpointer: 'sqlite',
    durability: args.durability ?? 'async',
    runs: args.runs,
    concurrency: args.concurrency,
    completedRuns: runMs.length,
    steps: stepCount,
    stepsPerSec: round(stepCount / (wallMs / 1000), 1),
    cpuMsPerStep: round((cpu.user + cpu.system) / 1000 / Math.max(1, stepCount), 3),
    wallMs: round(wallMs, 1),
    runMsP50: round(quantile(runMs, 0.5), 1),
    runMsP99: round(quantile(runMs, 0.99), 1),
    rssMB: round(peakRss / 2 ** 20, 1),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    versions: versions(),
    env: environment(),
  });
  if (errors === args.runs) throw new Error(`every run failed: ${firstError ?? ''}`);
}

async function kill(args: Args): Promise<void> {
  const llm = args.llm as string;
  await checkReachable(llm);
  const saver = SqliteSaver.fromConnString(args.sqlite as string);
  const steps: Steps = { llm: llmCaller(llm), tool: ledgerTool(args.ledger as string), interrupts: true };
  const app = buildGraph(steps, saver);
  const runs = Array.from({ length: args.runs }, (_, i) => `lg-${i}`);
  if (!args.resume) {
    for (const run of runs) {
      if (classify(await app.getState({ configurable: { thread_id: run } })) !== 'not-started') throw new UsageError(`${args.sqlite as string} already holds thread ${run}: start from a fresh file`);
    }
  }
  const onNode: OnNode = (run, node) => print({ run, node });
  const found: Record<Found, number> = { 'not-started': 0, 'mid-graph': 0, 'at-interrupt': 0, done: 0 };
  const start = performance.now();
  const outcomes = await Promise.allSettled(runs.map(async (run) => found[await finish(app, run, args.durability, onNode)]++));
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  let completedRuns = 0;
  for (const run of runs) if (classify(await app.getState({ configurable: { thread_id: run } })) === 'done') completedRuns++;
  saver.db.close();
  print({
    name: 'agents-langgraph',
    mode: 'kill',
    resume: args.resume,
    durability: args.durability ?? 'async',
    runs: args.runs,
    completedRuns,
    ...(args.resume ? { found } : {}),
    errors: failures.length,
    ...(failures.length === 0 ? {} : { firstError: String((failures[0].reason as Error)?.message ?? failures[0].reason) }),
    wallMs: round(performance.now() - start, 1),
  });
  if (failures.length > 0) process.exitCode = 1;
}

try {
  const args = readArgs(process.argv.slice(2));
  await (args.mode === 'overhead' ? overhead(args) : args.mode === 'load' ? load(args) : kill(args));
} catch (error) {
  process.stderr.write(`agents-langgraph: ${error instanceof UsageError ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
