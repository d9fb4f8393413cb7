/**
 * Runs every benchmark in its own process, one after another, collects their
 * JSON lines into bench/results/<date>.json, and writes the markdown table to
 * bench/results/<date>.md and stdout. Progress (a bar, then each benchmark's
 * own lines) goes to stderr.
 *
 *   node dist/bench/run.js [--filter regex] [--quick] [--timeout seconds]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment, intFlag, parseFlags, round, type BenchResult, type Environment, type SummaryRow } from './lib.js';

interface Entry {
  /** What --filter matches and the table shows. */
  name: string;
  /** The bench file (dist/bench/<file>.js). */
  file: string;
  args?: string[];
}

const savina = (name: string): Entry => ({ name: `savina-${name}`, file: 'savina', args: ['--only', name] });

/** In the order they run; cheap and loud ones first. */
const kBenchmarks: Entry[] = [
  { name: 'tell-throughput', file: 'tell-throughput' },
  { name: 'checksum', file: 'checksum' },
  { name: 'tracing', file: 'tracing' },
  { name: 'admin-ui', file: 'admin-ui' },
  { name: 'ask-latency', file: 'ask-latency' },
  { name: 'local-tell', file: 'local-tell' },
  { name: 'spawn', file: 'spawn' },
  { name: 'recovery', file: 'recovery' },
  { name: 'persistence', file: 'persistence' },
  { name: 'entities', file: 'entities' },
  { name: 'cluster', file: 'cluster' },
  { name: 'agents', file: 'agents' },
  ...['ping-pong', 'counting', 'thread-ring', 'chameneos', 'big', 'fork-join-throughput', 'fork-join-creation', 'bank'].map(savina),
  { name: 'swarm', file: 'swarm' },
  { name: 'scaling', file: 'scaling' },
  { name: 'tuning', file: 'tuning' },
];

interface Outcome {
  name: string;
  seconds: number;
  exitCode: number | null;
  result?: BenchResult & { env: Environment };
  error?: string;
}

const flags = parseFlags();
const filter = new RegExp(flags.value('filter') ?? '.');
const selected = kBenchmarks.filter((entry) => filter.test(entry.name));
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${filter} (have: ${kBenchmarks.map((e) => e.name).join(', ')})\n`);
  process.exit(2);
}
/** A benchmark that hangs is killed after this long and reported as failed. */
const timeoutSeconds = intFlag(flags, 'timeout', flags.quick ? 180 : 1800);

function runOne({ name, file, args = [] }: Entry): Promise<Outcome> {
  const path = fileURLToPath(new URL(`./${file}.js`, import.meta.url));
  const argv = [path, ...args, ...(flags.quick ? ['--quick'] : [])];
  const started = performance.now();
  return new Promise((resolve) => {
    // stderr (progress) goes straight through; stdout is the one JSON line.
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const seconds = round((performance.now() - started) / 1000, 1);
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (exitCode !== 0 || line === undefined) {
        const why = timedOut ? `killed after ${timeoutSeconds} s (--timeout)` : `exit code ${exitCode}${line === undefined ? ', no JSON line on stdout' : ''}`;
        resolve({ name, seconds, exitCode, error: why });
        return;
      }
      try {
        resolve({ name, seconds, exitCode, result: JSON.parse(line) as Outcome['result'] });
      } catch (error) {
        resolve({ name, seconds, exitCode, error: `unparsable JSON line: ${(error as Error).message}` });
      }
    });
  });
}

/** `[■■■■□□□□□□] 4/15 spawn · 42 s`: where the run is, on stderr. */
function bar(done: number, total: number, label: string, elapsedMs: number): string {
  const width = 20;
  const filled = Math.round((done / total) * width);
  return `[${'■'.repeat(filled)}${'□'.repeat(width - filled)}] ${done}/${total} ${label} · ${Math.round(elapsedMs / 1000)} s`;
}

const env = environment();
process.stderr.write(`troupe benchmarks on ${env.cpu} × ${env.cores}, Node ${env.node}${flags.quick ? ' (quick)' : ''}; load average ${env.load1}\n`);
const outcomes: Outcome[] = [];
const runStarted = performance.now();
for (const [i, entry] of selected.entries()) {
  process.stderr.write(`${bar(i, selected.length, `running ${entry.name}`, performance.now() - runStarted)}\n`);
  const outcome = await runOne(entry);
  process.stderr.write(`${bar(i + 1, selected.length, `${entry.name}: ${outcome.error ?? 'ok'} in ${outcome.seconds} s`, performance.now() - runStarted)}\n`);
  outcomes.push(outcome);
}

// ---------------------------------------------------------------- results ---
const at = new Date().toISOString();
const resultsDir = new URL('../../bench/results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const resultsFile = new URL(`${at.replace(/:/g, '-')}.json`, resultsDir);
const tableFile = new URL(`${at.replace(/:/g, '-')}.md`, resultsDir);
writeFileSync(resultsFile, `${JSON.stringify({ at, quick: flags.quick, filter: filter.source, env, benchmarks: outcomes }, null, 2)}\n`);

function format(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (unit === 'msgs/s' || unit === 'actors/s') {
    return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M ${unit}` : `${(value / 1e3).toFixed(1)} k ${unit}`;
  }
  if (unit === 'bytes') return `${Math.round(value)} B`;
  if (unit === '× default') return `${value}×`;
  return `${value} ${unit}`;
}

const rows: string[] = [
  `## troupe benchmarks — ${at}`,
  '',
  `Node ${env.node}, ${env.cpu} × ${env.cores} cores, ${env.platform}/${env.arch}${flags.quick ? ', --quick sizes' : ''}, load average ${env.load1} at the start. Medians over runs; ratio > 1 means troupe is ahead of the baseline.`,
  '',
  '| benchmark | metric | troupe | baseline | baseline value | ratio | target |',
  '|---|---|---:|---|---:|---:|---|',
];
for (const outcome of outcomes) {
  if (outcome.result === undefined) {
    rows.push(`| ${outcome.name} | **failed**: ${outcome.error} | | | | | |`);
    continue;
  }
  for (const row of outcome.result.summary as SummaryRow[]) {
    rows.push(
      `| ${outcome.name} | ${row.metric} | ${format(row.value, row.unit)} | ${row.baseline ?? ''} | ${format(row.baselineValue, row.unit)} | ${row.ratio === undefined ? '' : `${row.ratio}×`} | ${row.target ?? ''} |`,
    );
  }
}
const loads = outcomes.map((o) => o.result?.env.load1).filter((l): l is number => l !== undefined);
if (loads.length > 0) {
  // The benchmarks' own threads (main + workers) account for up to about one
  // per core; well above that, something else shared the CPUs.
  const peak = Math.max(...loads);
  rows.push('', `1-minute load average at the end of each benchmark: ${Math.min(...loads)}–${peak} on ${env.cores} cores (the benchmarks' own threads count for up to ~${env.cores}).`);
  if (peak > env.cores + 0.5) rows.push(`Above ${env.cores + 0.5}: other work shared the CPUs during part of the run, so absolute numbers there are low; compare ratios.`);
}
/** Paths in the table are relative to the repository, so a committed table reads the same on any checkout. */
const kRoot = fileURLToPath(new URL('../../', import.meta.url));
const fromRoot = (path: string): string => (isAbsolute(path) ? relative(kRoot, path) : path);
const charts = outcomes.flatMap((o) => ((o.result?.results as { charts?: unknown } | undefined)?.charts as string[] | undefined) ?? []);
// Links resolve from the table's own folder (bench/results/).
const fromTable = (path: string): string => relative(fileURLToPath(resultsDir), isAbsolute(path) ? path : `${kRoot}${path}`);
if (charts.length > 0) rows.push('', `Charts: ${charts.map((c) => `[${fromRoot(c)}](${fromTable(c)})`).join(', ')}`);
rows.push('', `Results: ${fromRoot(fileURLToPath(resultsFile))}`);
writeFileSync(tableFile, `${rows.join('\n')}\n`);
process.stderr.write(`${bar(selected.length, selected.length, `done; table in ${fileURLToPath(tableFile)}`, performance.now() - runStarted)}\n`);
process.stdout.write(`${rows.join('\n')}\n`);
process.exitCode = outcomes.some((o) => o.result === undefined) ? 1 : 0;
