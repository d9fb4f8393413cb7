/**
 * troupe's side of the kill -9 comparison (driven by agents-langgraph-kill.ts
 * with `--engine troupe`), with the LangGraph child's command line:
 *   node dist/bench/agents-troupe-child.js --mode kill --runs N --sqlite <db> --llm <openai baseURL> --ledger <file> [--resume]
 * It starts runs `tr-<i>` of bench/workflows/pipeline-ledger.ts (the same five
 * steps), approves each wait as it begins, and prints `{ run, node }` per
 * finished step; `--resume` lets createAgents resume what the store holds and
 * prints `{ completedRuns, found }` once every run has finished.
 */
import { ActorSystem } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { createAgents, openai, type Run } from 'troupe/agents';
import { intFlag, parseFlags } from './lib.js';

const flags = parseFlags();
const runs = intFlag(flags, 'runs', 20);
const [db, llm, ledger] = ['sqlite', 'llm', 'ledger'].map((name) => {
  const value = flags.value(name);
  if (value === undefined) {
    process.stderr.write(`agents-troupe-child: --${name} is required\n`);
    process.exit(2);
  }
  return value;
});
const resume = process.argv.includes('--resume');
const workflow = new URL('./workflows/pipeline-ledger.js', import.meta.url);

const system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store: sqliteStore({ path: db }) });
const agents = createAgents(system, { providers: { gpt: openai({ model: 'gpt-4o-mini', apiKey: 'test', baseURL: llm }) } });
const ids = Array.from({ length: runs }, (_, i) => `tr-${i}`);
const handles: Run[] = ids.map((id) => {
  const run = agents.get(id); // listen before a resume can begin
  // stdout to a pipe is synchronous: a printed step was journaled before any kill.
  run.events.on('stepFinished', (e) => void process.stdout.write(`${JSON.stringify({ run: id, node: e.step })}\n`));
  run.events.on('waiting', () => void run.signal('approval', 'approved'));
  return run;
});
await agents.ready;
// Resuming is createAgents' own work (a wait that was waiting says so again, and the listener approves it).
if (!resume) await Promise.all(ids.map((id) => agents.start(workflow, { tag: id, ledger }, { id })));
const results = await Promise.allSettled(handles.map((run) => run.result()));
const completedRuns = results.filter((r) => r.status === 'fulfilled').length;
process.stdout.write(`${JSON.stringify({ completedRuns, found: `${runs} in the store` })}\n`);
await system.shutdown();
