/**
 * Runs every benchmark file in its own process, one after another, collects
 * their JSON lines into bench/results/<date>.json and prints a markdown table.
 *
 *   node dist/bench/run.js [--filter regex] [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { environment, parseFlags, round, type BenchResult, type Environment, type SummaryRow } from './lib.js';

/** In the order they run; cheap and loud ones first. */
const kBenchmarks = ['tell-throughput', 'ask-latency', 'local-tell', 'spawn'];

interface Outcome {
  name: string;
  seconds: number;
  exitCode: number | null;
  result?: BenchResult & { env: Environment };
  error?: string;
}

const flags = parseFlags();
const filter = new RegExp(flags.value('filter') ?? '.');
const selected = kBenchmarks.filter((name) => filter.test(name));
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${filter} (have: ${kBenchmarks.join(', ')})\n`);
  process.exit(2);
}

function runOne(name: string): Promise<Outcome> {
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const args = [file, ...(flags.quick ? ['--quick'] : [])];
  const started = performance.now();
  return new Promise((resolve) => {
    // stderr (progress) goes straight through; stdout is the one JSON line.
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.on('close', (exitCode) => {
      const seconds = round((performance.now() - started) / 1000, 1);
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (exitCode !== 0 || line === undefined) {
        resolve({ name, seconds, exitCode, error: `exit code ${exitCode}${line === undefined ? ', no JSON line on stdout' : ''}` });
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

const env = environment();
process.stderr.write(`troupe benchmarks on ${env.cpu} × ${env.cores}, Node ${env.node}${flags.quick ? ' (quick)' : ''}; load average ${env.load1}\n`);
const outcomes: Outcome[] = [];
for (const [i, name] of selected.entries()) {
  process.stderr.write(`[${i + 1}/${selected.length}] ${name}\n`);
  const outcome = await runOne(name);
  process.stderr.write(`[${i + 1}/${selected.length}] ${name}: ${outcome.error ?? 'ok'} in ${outcome.seconds} s\n`);
  outcomes.push(outcome);
}

// ---------------------------------------------------------------- results ---
const at = new Date().toISOString();
const resultsDir = new URL('../../bench/results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const resultsFile = new URL(`${at.replace(/:/g, '-')}.json`, resultsDir);
writeFileSync(resultsFile, `${JSON.stringify({ at, quick: flags.quick, filter: filter.source, env, benchmarks: outcomes }, null, 2)}\n`);

function format(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (unit === 'msgs/s' || unit === 'actors/s') {
    return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M ${unit}` : `${(value / 1e3).toFixed(1)} k ${unit}`;
  }
  if (unit === 'bytes') return `${Math.round(value)} B`;
  return `${value} ${unit}`;
}

const rows: string[] = [
  `## troupe benchmarks — ${at}`,
  '',
  `Node ${env.node}, ${env.cpu} × ${env.cores} cores, ${env.platform}/${env.arch}${flags.quick ? ', --quick sizes' : ''}. Medians over runs; ratio > 1 means troupe is ahead of the baseline.`,
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
if (loads.some((l) => l > env.cores * 0.75)) {
  rows.push('', `Load average reached ${Math.max(...loads)} on ${env.cores} cores during the run: other work shared the CPUs, so absolute numbers are low; compare ratios.`);
}
rows.push('', `Results: ${fileURLToPath(resultsFile)}`);
process.stdout.write(`${rows.join('\n')}\n`);
process.exitCode = outcomes.some((o) => o.result === undefined) ? 1 : 0;
