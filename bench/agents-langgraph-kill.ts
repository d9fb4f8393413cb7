/**
 * Re-billed calls after a kill -9, for LangGraph.js or troupe (`--engine`, issue 14): runs the five-node
 * workflow of agents-langgraph.ts on a SqliteSaver file in a child process, SIGKILLs
 * the child once the loopback LLM server has seen `--kill-after` requests, then lets
 * a second child resume every thread from the file, and counts what was paid for or
 * done twice: completions beyond one per prompt (every prompt names its run and call)
 * and tool effects beyond one per run (the tool appends its run id to a ledger).
 *
 *   node dist/bench/agents-langgraph-kill.js [--engine langgraph|troupe] [--runs 20] [--kill-after 30]
 *     [--latency 100 | --latency 80,120] [--durability sync|async|exit] [--keep]
 *
 * `--engine troupe` runs the same graph as troupe durable workflows (agents-troupe-child.ts, the same
 * command line as the LangGraph child).
 *
 * The loopback server bills only answers it sent whole, so `rebilledCalls` counts calls
 * the dead process had received (or was receiving) and its resume paid for again;
 * `repeatedRequests` also counts the calls in flight at the kill, which a real provider
 * would usually bill as well.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { environment, intFlag, parseFlags, progress } from './lib.js';
import { startLlmServer, type LlmBill } from './llm-server.js';

const kChildren: Record<string, string> = {
  langgraph: fileURLToPath(new URL('./agents-langgraph.js', import.meta.url)),
  troupe: fileURLToPath(new URL('./agents-troupe-child.js', import.meta.url)),
};
const kChildTimeoutMs = 120_000;

function fail(message: string): never {
  process.stderr.write(`agents-langgraph-kill: ${message}\n`);
  process.exit(1);
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  nodeLines: number;
  summary: Record<string, unknown> | undefined;
}

/** Collects a child's stdout lines: `{run,node}` per finished node, then its summary. */
function watch(child: ChildProcess, label: string): Promise<ChildResult> {
  let nodeLines = 0;
  let summary: Record<string, unknown> | undefined;
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      fail(`${label} printed a line that is not JSON: ${line}`);
    }
    if (typeof parsed.node === 'string') nodeLines++;
    else summary = parsed;
  });
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
    fail(`${label} did not finish within ${kChildTimeoutMs} ms`);
  }, kChildTimeoutMs);
  return Promise.all([once(child, 'exit'), once(lines, 'close')]).then(([[code, signal]]) => {
    clearTimeout(timer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, nodeLines, summary };
  });
}

const beyondOne = (counts: Iterable<number>): number => {
  let extra = 0;
  for (const n of counts) extra += Math.max(0, n - 1);
  return extra;
};

const kKnownFlags = new Set(['engine', 'runs', 'kill-after', 'latency', 'durability', 'keep']);
for (const arg of process.argv.slice(2)) {
  const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : undefined;
  if (name !== undefined && !kKnownFlags.has(name)) fail(`unknown flag --${name} (known: ${[...kKnownFlags].map((f) => `--${f}`).join(', ')})`);
}
const flags = parseFlags();
const keep = process.argv.includes('--keep');
let runs: number;
let killAfter: number;
let latencyMs: number | [number, number];
try {
  runs = intFlag(flags, 'runs', 20);
  killAfter = intFlag(flags, 'kill-after', 30);
  const latency = (flags.value('latency') ?? '100').split(',').map(Number);
  if (latency.some((ms) => !Number.isFinite(ms) || ms < 0) || latency.length > 2) throw new TypeError(`--latency must be MS or MIN,MAX (received ${flags.value('latency') ?? ''})`);
  latencyMs = latency.length === 1 ? latency[0] : [latency[0], latency[1]];
} catch (error) {
  fail((error as Error).message);
}
const durability = flags.value('durability');
const engine = flags.value('engine') ?? 'langgraph';
const kChild = kChildren[engine] ?? fail(`--engine must be langgraph or troupe (received ${engine})`);
const totalCalls = runs * 3;
if (killAfter >= totalCalls) fail(`--kill-after must be below the ${totalCalls} calls that ${runs} runs make (received ${killAfter})`);

const dir = await mkdtemp(join(tmpdir(), 'agents-langgraph-kill-'));
const sqlite = join(dir, 'checkpoints.sqlite');
const ledger = join(dir, 'ledger.txt');
const server = await startLlmServer({ latencyMs, seed: 1 });
const childArgs = ['--mode', 'kill', '--runs', String(runs), '--sqlite', sqlite, '--llm', server.openaiBaseURL, '--ledger', ledger];
if (durability !== undefined) childArgs.push('--durability', durability);

const first = spawn(process.execPath, [kChild, ...childArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
let killedAt: number | undefined;
const stopListening = server.onRequest((info) => {
  if (killedAt === undefined && info.n >= killAfter) {
    killedAt = info.n;
    first.kill('SIGKILL');
  }
});
const killed = await watch(first, 'the first child');
stopListening();
if (killedAt === undefined || killed.signal !== 'SIGKILL') {
  await server.close();
  fail(`the first child ended (code ${String(killed.code)}) before the server saw ${killAfter} requests: nothing was killed`);
}
// Answers already being written when the child died settle as the sockets close.
await new Promise((resolve) => setTimeout(resolve, 50));
const atKill: LlmBill = server.bill();
progress(`killed after request ${killedAt}: ${atKill.completed} completed, ${killed.nodeLines} nodes reported finished`);

const second = spawn(process.execPath, [kChild, ...childArgs, '--resume'], { stdio: ['ignore', 'pipe', 'inherit'] });
const resumed = await watch(second, 'the resuming child');
const total = server.bill();
await server.close();
if (resumed.code !== 0 || resumed.summary === undefined) fail(`the resuming child failed (code ${String(resumed.code)}, signal ${String(resumed.signal)})`);

const ledgerLines = (await readFile(ledger, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
const effectsByRun = new Map<string, number>();
for (const run of ledgerLines) effectsByRun.set(run, (effectsByRun.get(run) ?? 0) + 1);
const prompts = Object.values(total.byPrompt);
const answeredPrompts = prompts.filter((p) => p.completed > 0).length;
if (!keep) await rm(dir, { recursive: true, force: true });

process.stdout.write(
  `${JSON.stringify({
    name: 'agents-langgraph-kill',
    params: { engine, runs, killAfter, latencyMs, durability: engine === 'troupe' ? 'journal fsync per write' : (durability ?? 'async') },
    rebilledCalls: beyondOne(prompts.map((p) => p.completed)),
    repeatedToolEffects: beyondOne(effectsByRun.values()),
    completedRuns: resumed.summary.completedRuns,
    billedBeforeKill: atKill.completed,
    billedTotal: total.completed,
    repeatedRequests: beyondOne(prompts.map((p) => p.requests)),
    lostInFlight: atKill.failed,
    answeredPrompts,
    expectedPrompts: totalCalls,
    toolRuns: effectsByRun.size,
    nodesBeforeKill: killed.nodeLines,
    nodesAfterResume: resumed.nodeLines,
    resumeFound: resumed.summary.found,
    ...(keep ? { dir } : {}),
    env: environment(),
  })}\n`,
);
