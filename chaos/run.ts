/**
 * troupe chaos: runs seeded fault scenarios against a live system and checks
 * that the reliable layer lost, duplicated and reordered nothing.
 *
 *   npm run chaos -- --scenario partition-halves --seed 7 --duration 30s
 *   npm run chaos -- --all [--quick] [--seeds 20 | --seed-range 1..20]
 *   npm run chaos -- --soak --duration 10m --cron '*\/20 * * * * *'
 *   npm run chaos -- --list
 *
 * Exit codes: 0 every run passed, 1 a run failed, 2 bad input.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cron from 'node-cron';
import { renderRun, renderSuite, summarizeSuite, type SuiteEntry } from './report.js';
import { runClusterScenario } from './cluster/runner.js';
import { runProcessScenario } from './process/runner.js';
import { runScenario, type RunSummary } from './runner.js';
import { isClusterScenario, isProcessScenario, parseDuration, parseSeed, resolveScenario, UsageError, type FaultAction, type Scenario } from './scenario.js';
import { seedsMarkdown, summarizeSeeds } from './seeds.js';

const kUsage = `Usage: npm run chaos -- <what> [options]

What to run (one):
  --scenario NAME      one scenario (see --list), or the path of your own scenario
                       file (.js/.mjs, export default defineScenario({...}))
  --all                every scenario, one after the other, with a progress bar
  --soak               the workload for --duration, with a fault drawn from the
                       scenarios at every tick of a wall-clock cron schedule
  --list               the scenarios and what they do

Options:
  --seed N             seed of every random choice (default 1); same seed, same faults
  --seeds N            run N seeds, from --seed up, and total them (seeds.md, seeds.json)
  --seed-range A..B    run seeds A to B, and total them
  --duration D         workload length per run: 30s, 1.5m, 800ms (default 10s;
                       --quick: 3s; --soak: 10m)
  --quick              a short run per scenario, for CI
  --workers N          worker threads, overriding the scenario's
  --rate N             messages/s per producer→consumer pair and mode (default 200)
  --out DIR            where runs are written (default chaos/results/)
  --cron EXPR          soak: when to inject, node-cron with seconds (default '*/20 * * * * *')
  --fault-for D        soak: how long each fault lasts (default 5s)
  --help               this text

Each run writes history.jsonl, summary.json and report.html in its own folder;
with several seeds, only failing runs keep their history (a seed replays it).
Exit codes: 0 every run passed, 1 a run failed, 2 bad input.`;

const here = fileURLToPath(new URL('.', import.meta.url));
const kScenarioDir = join(here, 'scenarios');
/** dist/chaos/run.js → <repo>/chaos/results */
const kDefaultOut = fileURLToPath(new URL('../../chaos/results/', import.meta.url));

interface Cli {
  mode: 'scenario' | 'all' | 'soak' | 'list' | 'help';
  name?: string;
  seed: number;
  /** The seeds to run, one after the other (--seeds, --seed-range; else just --seed). */
  seeds: number[];
  durationMs: number;
  quick: boolean;
  workers?: number;
  rate?: number;
  out: string;
  cron: string;
  faultForMs: number;
  argv: string[];
}

function parseCli(argv: string[]): Cli {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        all: { type: 'boolean' },
        soak: { type: 'boolean' },
        list: { type: 'boolean' },
        seed: { type: 'string' },
        seeds: { type: 'string' },
        'seed-range': { type: 'string' },
        duration: { type: 'string' },
        quick: { type: 'boolean' },
        workers: { type: 'string' },
        rate: { type: 'string' },
        out: { type: 'string' },
        cron: { type: 'string' },
        'fault-for': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const v = parsed.values;
  const modes = (['scenario', 'all', 'soak', 'list', 'help'] as const).filter((m) => v[m] !== undefined && v[m] !== false);
  if (modes.length === 0) throw new UsageError('say what to run: --scenario NAME, --all, --soak or --list');
  if (modes.length > 1 && !modes.includes('help')) throw new UsageError(`choose one of --scenario, --all, --soak, --list (received ${modes.map((m) => `--${m}`).join(' and ')})`);
  const mode = modes.includes('help') ? 'help' : modes[0];
  const quick = v.quick === true;
  const durationMs = v.duration !== undefined ? parseDuration(v.duration, '--duration') : mode === 'soak' ? 600_000 : quick ? 3000 : 10_000;
  if (durationMs < 1000 || durationMs > 24 * 3_600_000) throw new UsageError(`--duration must be from 1s to 24h, received ${JSON.stringify(v.duration)}`);
  const positiveInt = (text: string | undefined, what: string, maxValue: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > maxValue) throw new UsageError(`${what} must be a whole number from 1 to ${maxValue}, received ${JSON.stringify(text)}`);
    return Number(text);
  };
  const cronExpr = v.cron ?? '*/20 * * * * *';
  if (!cron.validate(cronExpr)) throw new UsageError(`--cron is not a valid node-cron expression: ${JSON.stringify(cronExpr)}`);
  const faultForMs = parseDuration(v['fault-for'] ?? '5s', '--fault-for');
  const seed = v.seed === undefined ? 1 : parseSeed(v.seed);
  const seeds = seedsOf(v.seeds, v['seed-range'], v.seed, seed);
  if (mode === 'soak' && seeds.length > 1) throw new UsageError('--soak runs one seed: --seeds and --seed-range are for --scenario and --all');
  const cli: Cli = { mode, seed, seeds, durationMs, quick, out: v.out ?? kDefaultOut, cron: cronExpr, faultForMs, argv };
  if (v.scenario !== undefined) cli.name = v.scenario;
  const workers = positiveInt(v.workers, '--workers', 16);
  if (workers !== undefined) cli.workers = workers;
  const rate = positiveInt(v.rate, '--rate', 100_000);
  if (rate !== undefined) cli.rate = rate;
  return cli;
}

/** At most this many seeds in one go (a full suite takes about 5 minutes per seed). */
const kMaxSeeds = 10_000;

/** --seeds N: N seeds from --seed (default 1) up; --seed-range a..b: a to b inclusive. */
function seedsOf(count: string | undefined, range: string | undefined, seedText: string | undefined, seed: number): number[] {
  if (range !== undefined) {
    if (count !== undefined || seedText !== undefined) throw new UsageError('--seed-range names its seeds: leave out --seed and --seeds');
    const match = /^(\d+)\.\.(\d+)$/.exec(range.trim());
    if (match === null) throw new UsageError(`--seed-range must be two seeds such as 1..20, received ${JSON.stringify(range)}`);
    const [a, b] = [parseSeed(match[1]), parseSeed(match[2])];
    if (b < a || b - a + 1 > kMaxSeeds) throw new UsageError(`--seed-range must run from a seed to a later one, at most ${kMaxSeeds} seeds, received ${JSON.stringify(range)}`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (count === undefined) return [seed];
  if (!/^\d+$/.test(count) || Number(count) < 1 || Number(count) > kMaxSeeds) throw new UsageError(`--seeds must be a whole number from 1 to ${kMaxSeeds}, received ${JSON.stringify(count)}`);
  if (seed + Number(count) - 1 > 0x7fffffff) throw new UsageError(`--seeds ${count} from --seed ${seed} goes past the last seed, 2147483647`);
  return Array.from({ length: Number(count) }, (_, i) => seed + i);
}

async function loadScenarios(): Promise<Scenario[]> {
  const files = readdirSync(kScenarioDir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const scenario = ((await import(join(kScenarioDir, file))) as { default?: Scenario }).default;
    const name = file.replace(/\.js$/, '');
    if (scenario?.name !== name) throw new UsageError(`chaos/scenarios/${name}.ts must export default defineScenario({ name: '${name}', ... })`);
    scenarios.push(scenario);
  }
  return scenarios;
}

const isScenarioFile = (name: string): boolean => /\.m?js$/.test(name) || name.includes('/') || name.includes('\\');

/** A scenario of the user's own, outside chaos/scenarios/: checked like the shipped ones. */
async function loadScenarioFile(path: string): Promise<Scenario> {
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`no scenario file at ${JSON.stringify(path)}`);
  let scenario: unknown;
  try {
    scenario = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new UsageError(`scenario file ${JSON.stringify(path)} failed to load: ${(error as Error)?.message ?? String(error)}`);
  }
  const candidate = scenario as Partial<Scenario> | undefined;
  if (typeof candidate?.name !== 'string' || !Array.isArray(candidate.faults)) {
    throw new UsageError(`scenario file ${JSON.stringify(path)} must export default defineScenario({ name, description, faults: [...] })`);
  }
  return candidate as Scenario;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${Math.round(v)}ms`);

function line(s: RunSummary): string {
  const r = s.ledger.totals.reliable;
  if (s.cluster !== undefined) {
    const worst = (pick: (f: NonNullable<RunSummary['cluster']>['faults'][number]) => number | null) => {
      const values = s.cluster!.faults.map(pick).filter((x): x is number => x !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    const refused = Object.entries(s.cluster.failures).map(([code, n]) => `${n} ${code.replace(/^TROUPE_ERR_/, '')}`).join(', ') || 'none';
    return [
      `${s.outcome.toUpperCase().padEnd(5)} ${s.scenario.padEnd(30)}`,
      `durable: lost ${r.lost} dup ${r.duplicated} ooo ${r.outOfOrder} of ${r.attempted} (${r.acknowledged} acknowledged; refused: ${refused})`,
      `${s.cluster.faults.length} faults: all ledgers answering again ${fmt(worst((f) => f.allAnsweredMs))}, rejoin ${fmt(worst((f) => f.rejoinMs))} (worst); nodeDown ${s.cluster.events.nodeDown ?? 0}`,
    ].join(' | ');
  }
  if (s.process !== undefined) {
    const worst = (pick: (k: NonNullable<RunSummary['process']>['kills'][number]) => number | null) => {
      const values = s.process!.kills.map(pick).filter((x): x is number => x !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    return [
      `${s.outcome.toUpperCase().padEnd(5)} ${s.scenario.padEnd(30)}`,
      `durable: lost ${r.lost} dup ${r.duplicated} ooo ${r.outOfOrder} of ${r.attempted} (${r.acknowledged} acknowledged, ${r.indeterminate} indeterminate: ${s.process.indeterminateApplied} committed)`,
      `${s.process.kills.length} SIGKILLs: restart ${fmt(worst((k) => k.restartMs))}, first answer ${fmt(worst((k) => k.firstAnswerMs))} (worst)`,
    ].join(' | ');
  }
  const a = s.ledger.totals['at-most-once'];
  const worst = (pick: (f: RunSummary['faults'][number]) => number | null | undefined) => {
    const values = s.faults.map(pick).filter((x): x is number => typeof x === 'number');
    return values.length === 0 ? null : Math.max(...values);
  };
  return [
    `${s.outcome.toUpperCase().padEnd(5)} ${s.scenario.padEnd(30)}`,
    `reliable: lost ${r.lost} dup ${r.duplicated} ooo ${r.outOfOrder} indet ${r.indeterminate} redeliv ${r.redelivered} of ${r.attempted}`,
    `at-most-once: lost ${a.lost} unreported ${a.unreported} dup ${a.duplicated} damaged ${s.ledger.corruptDelivered}`,
    `detect ${fmt(worst((f) => f.detect?.ms))} recover ${fmt(worst((f) => f.modes.reliable?.firstSuccessMs))}/${fmt(worst((f) => f.modes.reliable?.to95Ms))}`,
  ].join(' | ');
}

class Progress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #total: number;
  #done = 0;
  #current = '';
  #started = Date.now();
  constructor(total: number) {
    this.#total = total;
  }
  update(name: string, fraction: number): void {
    this.#current = name;
    if (!this.#tty) return;
    const width = 30;
    const overall = (this.#done + fraction) / this.#total;
    const filled = Math.round(overall * width);
    const elapsed = Math.round((Date.now() - this.#started) / 1000);
    process.stderr.write(`\r\x1b[2K[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.#done}/${this.#total} ${this.#current} ${elapsed}s`);
  }
  finish(text: string): void {
    this.#done++;
    if (this.#tty) process.stderr.write('\r\x1b[2K');
    console.log(`[${String(this.#done).padStart(String(this.#total).length)}/${this.#total}] ${text}`);
  }
}

function replayOf(cli: Cli, name: string, seed: number): string {
  const parts = ['npm run chaos --', `--scenario ${name}`, `--seed ${seed}`, `--duration ${cli.durationMs}ms`];
  if (cli.workers !== undefined) parts.push(`--workers ${cli.workers}`);
  if (cli.rate !== undefined) parts.push(`--rate ${cli.rate}`);
  return parts.join(' ');
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.mode === 'help') {
    console.log(kUsage);
    return 0;
  }
  const scenarios = await loadScenarios();
  if (cli.mode === 'list') {
    for (const s of scenarios) console.log(`${s.name.padEnd(30)} ${s.description}`);
    return 0;
  }
  if (cli.mode === 'soak') return soak(cli, scenarios);
  let selected = scenarios;
  if (cli.mode === 'scenario' && isScenarioFile(cli.name!)) {
    selected = [await loadScenarioFile(cli.name!)];
  } else if (cli.mode === 'scenario') {
    const found = scenarios.find((s) => s.name === cli.name);
    if (found === undefined) throw new UsageError(`unknown scenario ${JSON.stringify(cli.name)}; known: ${scenarios.map((s) => s.name).join(', ')}`);
    selected = [found];
  }
  // Every scenario is checked against the system before anything runs: bad input never costs a half-done suite.
  for (const s of selected) for (const seed of cli.seeds) resolveScenario(s, { seed, durationMs: cli.durationMs, ...(cli.workers === undefined ? {} : { workers: cli.workers }) });

  if (cli.seeds.length === 1) {
    const { entries } = await runSeed(cli, selected, cli.seeds[0], cli.out);
    return entries.every((e) => e.summary.outcome === 'pass' || e.summary.outcome === 'xfail') ? 0 : 1;
  }
  // Several seeds: one folder for them all, a folder per seed inside, the totals beside them.
  const started = Date.now();
  const root = join(cli.out, `${stamp()}-seeds-${cli.seeds[0]}-${cli.seeds.at(-1)}${cli.mode === 'all' ? '' : `-${selected[0].name.replace(/[^\w.-]/g, '_')}`}`);
  const runs: { seed: number; summaries: RunSummary[]; wallMs: number }[] = [];
  for (const [i, seed] of cli.seeds.entries()) {
    console.log(`\n— seed ${seed} (${i + 1}/${cli.seeds.length}) —`);
    const seedStarted = Date.now();
    const { entries } = await runSeed(cli, selected, seed, join(root, `s${seed}`));
    // A passing run's history (megabytes) comes back from its seed: only failures keep theirs.
    for (const { summary } of entries) if (summary.outcome === 'pass' || summary.outcome === 'xfail') rmSync(summary.files.history, { force: true });
    runs.push({ seed, summaries: entries.map((e) => e.summary), wallMs: Date.now() - seedStarted });
  }
  const totals = summarizeSeeds(runs, { startedAt: new Date(started).toISOString(), quick: cli.quick, durationMs: cli.durationMs, wallMs: Date.now() - started });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'seeds.json'), `${JSON.stringify(totals, null, 2)}\n`);
  writeFileSync(join(root, 'seeds.md'), seedsMarkdown(totals));
  const t = totals.totals;
  console.log(
    `\n${cli.seeds.length} seeds × ${totals.scenarios.length} scenarios: ${t.passed}/${t.runs} runs passed${t.expectedFailures > 0 ? ` (+${t.expectedFailures} failed as expected)` : ''} in ${(totals.wallMs / 1000).toFixed(0)} s. Reliable: ${t.reliable.attempted} sent, lost ${t.reliable.lost}, duplicated ${t.reliable.duplicated}, out of order ${t.reliable.outOfOrder}; at-most-once: ${t.atMostOnce.attempted} sent, lost ${t.atMostOnce.lost} (unreported ${t.atMostOnce.unreported}), duplicated ${t.atMostOnce.duplicated}, damaged delivered ${t.atMostOnce.corruptDelivered}.`,
  );
  for (const f of totals.failures) console.log(`  FAIL seed ${f.seed} ${f.scenario}: ${f.reasons.join('; ')}\n       replay: ${f.replay}`);
  console.log(`totals: ${relative(process.cwd(), join(root, 'seeds.md'))}`);
  return totals.pass ? 0 : 1;
}

/** Every selected scenario for one seed; with --all, the suite's summary and report too. */
async function runSeed(cli: Cli, selected: Scenario[], seed: number, out: string): Promise<{ entries: SuiteEntry[] }> {
  const suiteStarted = Date.now();
  const base = cli.mode === 'all' ? join(out, cli.seeds.length === 1 ? `${stamp()}-suite-s${seed}` : '') : out;
  const progress = new Progress(selected.length);
  const entries: SuiteEntry[] = [];
  for (const scenario of selected) {
    const outDir = cli.mode === 'all' ? join(base, scenario.name) : join(base, `${stamp()}-${scenario.name}-s${seed}`);
    progress.update(scenario.name, 0);
    const summary = await (isClusterScenario(scenario) ? runClusterScenario : isProcessScenario(scenario) ? runProcessScenario : runScenario)({
      scenario,
      seed,
      durationMs: cli.durationMs,
      quick: cli.quick,
      outDir,
      ...(cli.workers === undefined ? {} : { workers: cli.workers }),
      ...(cli.rate === undefined ? {} : { rate: cli.rate }),
      replay: replayOf(cli, cli.mode === 'scenario' ? cli.name! : scenario.name, seed),
      render: renderRun,
      onProgress: (fraction) => progress.update(scenario.name, fraction),
    });
    progress.finish(line(summary));
    if (summary.outcome === 'xfail') console.log(`      known runtime issue: ${summary.knownIssue}`);
    if (summary.outcome === 'xpass') console.log(`      expected to fail (${summary.knownIssue}) but passed: the runtime changed; update the scenario`);
    if (!summary.pass) {
      for (const reason of summary.reasons) console.log(`      ${reason}`);
      console.log(`      replay: ${summary.replay}`);
    }
    for (const warning of summary.warnings) console.log(`      warning: ${warning}`);
    entries.push({ summary, href: `${scenario.name}/report.html` });
    if (cli.mode === 'scenario') console.log(`report: ${relative(process.cwd(), summary.files.report)}`);
  }
  if (cli.mode === 'all') {
    const suite = summarizeSuite(entries, { startedAt: new Date(suiteStarted).toISOString(), seed, quick: cli.quick, durationMs: cli.durationMs, wallMs: Date.now() - suiteStarted });
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'summary.json'), `${JSON.stringify(suite, null, 2)}\n`);
    writeFileSync(join(base, 'report.html'), await renderSuite(suite, entries));
    console.log(
      `\n${suite.passed}/${suite.scenarios} scenarios passed${suite.expectedFailures.length > 0 ? ` (+${suite.expectedFailures.length} failed as expected: ${suite.expectedFailures.join(', ')})` : ''} in ${(suite.wallMs / 1000).toFixed(0)} s. Known-issue scenarios left out: reliable: lost ${suite.reliable.lost}, duplicated ${suite.reliable.duplicated}, out of order ${suite.reliable.outOfOrder} (indeterminate ${suite.reliable.indeterminate}, redelivered ${suite.reliable.redelivered}); at-most-once: lost ${suite.atMostOnce.lost} (unreported ${suite.atMostOnce.unreported}), duplicated ${suite.atMostOnce.duplicated}, damaged delivered ${suite.atMostOnce.corruptDelivered}.`,
    );
    console.log(
      `recovery over ${suite.recovery.faults} faults (reliable): first success max ${fmt(suite.recovery.firstSuccessMaxMs)} p99 ${fmt(suite.recovery.firstSuccessP99Ms)}; ≥95% throughput max ${fmt(suite.recovery.to95MaxMs)} p99 ${fmt(suite.recovery.to95P99Ms)}; detection max ${fmt(suite.recovery.detectMaxMs)}.`,
    );
    console.log(`report: ${relative(process.cwd(), join(base, 'report.html'))}`);
  }
  return { entries };
}

/** The workload for a long while; a cron schedule injects one fault drawn from the scenarios at every tick. */
async function soak(cli: Cli, scenarios: Scenario[]): Promise<number> {
  // single-fault scenarios that fit the soak's system (heap exhaustion needs its own resource limits)
  const workers = cli.workers ?? 2;
  const fits = (s: Scenario) => {
    try {
      resolveScenario(s, { seed: cli.seed, durationMs: 60_000, workers });
      return true;
    } catch {
      return false;
    }
  };
  const catalogue: FaultAction[] = scenarios.filter((s) => s.faults.length === 1 && s.system === undefined && !isProcessScenario(s) && !isClusterScenario(s) && fits(s)).map((s) => s.faults[0].do);
  const abort = new AbortController();
  process.once('SIGINT', () => {
    console.log('\nsoak: stopping (healing, draining, checking)…');
    abort.abort();
  });
  const scenario: Scenario = { name: 'soak', description: `Soak: the workload for ${cli.durationMs / 1000} s; at every tick of "${cli.cron}" a fault drawn from ${catalogue.length} scenarios, for ${cli.faultForMs / 1000} s.`, faults: [] };
  const outDir = join(cli.out, `${stamp()}-soak-s${cli.seed}`);
  console.log(`soak: ${cli.durationMs / 1000} s, cron "${cli.cron}", faults of ${cli.faultForMs / 1000} s; writing ${relative(process.cwd(), outDir)}`);
  const summary = await runScenario({
    scenario,
    seed: cli.seed,
    durationMs: cli.durationMs,
    quick: false,
    outDir,
    ...(cli.workers === undefined ? {} : { workers: cli.workers }),
    ...(cli.rate === undefined ? { rate: 50 } : { rate: cli.rate }),
    replay: `npm run chaos -- --soak --seed ${cli.seed} --duration ${cli.durationMs}ms --cron '${cli.cron}' --fault-for ${cli.faultForMs}ms`,
    soak: { cron: cli.cron, faultForMs: cli.faultForMs, catalogue, onFault: (f) => console.log(`${new Date().toISOString()} fault #${f.id}: ${f.label}`) },
    signal: abort.signal,
    render: renderRun,
  });
  console.log(line(summary));
  for (const reason of summary.reasons) console.log(`  ${reason}`);
  console.log(`report: ${relative(process.cwd(), summary.files.report)}`);
  return summary.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`troupe chaos: ${error.message}`);
      console.error('Run with --help for usage.');
      process.exit(2);
    }
    console.error(`troupe chaos: internal error: ${(error as Error)?.message ?? String(error)}`);
    if (process.env.TROUPE_DEBUG) console.error(error);
    process.exit(1);
  },
);
