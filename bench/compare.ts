/**
 * Prints, per metric, the ratio between two result files, so a tuning change
 * shows its effect:
 *
 *   node dist/bench/compare.js bench/results/A.json bench/results/B.json [--all]
 *
 * Takes runner files (bench/results/<date>.json) or the JSON line of one
 * bench file. "change" is B against A, oriented so that above 1× means B is
 * better (B/A for rates, A/B for latencies, bytes and CPU). "vs baseline"
 * compares the in-run ratios (troupe ÷ its baseline, measured side by side)
 * of the two files: on a noisy machine that is the steadier figure, because
 * the machine's mood moves troupe and its baseline together. Rows present in
 * only one file are listed with --all.
 */
import { readFileSync } from 'node:fs';
import { round, type SummaryRow } from './lib.js';

interface Row extends SummaryRow {
  bench: string;
}

interface Loaded {
  label: string;
  env?: { node?: string; cpu?: string; cores?: number; load1?: number };
  rows: Map<string, Row>;
}

type Json = Record<string, unknown>;

function load(path: string): Loaded {
  const text = readFileSync(path, 'utf8').trim();
  const lines = text.startsWith('{\n') || text.startsWith('{\r\n') ? [text] : text.split('\n').filter((l) => l.trim().startsWith('{'));
  const docs = lines.map((l) => JSON.parse(l) as Json);
  const rows = new Map<string, Row>();
  let env: Loaded['env'];
  let label = path;
  const add = (bench: string, summary: unknown): void => {
    if (!Array.isArray(summary)) return;
    for (const row of summary as SummaryRow[]) {
      const key = `${bench} | ${row.metric}${row.baseline === undefined ? '' : ` | vs ${row.baseline}`}`;
      rows.set(key, { ...row, bench });
    }
  };
  for (const doc of docs) {
    if (Array.isArray(doc.benchmarks)) {
      // The runner's file: { at, env, benchmarks: [{ name, result: { summary } }] }
      env = doc.env as Loaded['env'];
      label = `${path} (${String(doc.at ?? '')}${doc.quick === true ? ', quick' : ''})`;
      for (const b of doc.benchmarks as Json[]) {
        const result = b.result as Json | undefined;
        if (result !== undefined) add(String(result.name ?? b.name), result.summary);
      }
    } else if (Array.isArray(doc.summary)) {
      env = doc.env as Loaded['env'];
      add(String(doc.name), doc.summary);
    } else {
      throw new TypeError(`${path}: neither a runner result file nor a bench JSON line`);
    }
  }
  return { label, env, rows };
}

/** Units where less is better. */
const lowerIsBetter = (unit: string): boolean => unit === 'µs' || unit === 'ms' || unit === 'bytes' || unit.includes('%');

function fmt(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (/\/s$/.test(unit)) return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)} k` : `${round(value)}`;
  return `${round(value)}`;
}

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (files.length !== 2) {
  process.stderr.write('usage: node dist/bench/compare.js A.json B.json [--all]\n');
  process.exit(2);
}
const showAll = process.argv.includes('--all');
const [a, b] = files.map(load);

const out: string[] = [
  `A: ${a.label}${a.env === undefined ? '' : ` — Node ${a.env.node}, ${a.env.cpu} × ${a.env.cores}`}`,
  `B: ${b.label}${b.env === undefined ? '' : ` — Node ${b.env.node}, ${b.env.cpu} × ${b.env.cores}`}`,
  '',
  '| benchmark | metric | unit | A | B | change (>1× = B better) | vs baseline A → B |',
  '|---|---|---|---:|---:|---:|---:|',
];
let compared = 0;
for (const [key, rowA] of a.rows) {
  const rowB = b.rows.get(key);
  if (rowB === undefined) {
    if (showAll) out.push(`| ${rowA.bench} | ${rowA.metric} | ${rowA.unit} | ${fmt(rowA.value, rowA.unit)} | (absent) | | |`);
    continue;
  }
  compared++;
  const change = rowA.value === 0 || rowB.value === 0 ? undefined : lowerIsBetter(rowA.unit) ? rowA.value / rowB.value : rowB.value / rowA.value;
  const metric = rowA.baseline === undefined ? rowA.metric : `${rowA.metric} (vs ${rowA.baseline})`;
  const inRun = rowA.ratio !== undefined && rowB.ratio !== undefined ? `${rowA.ratio}× → ${rowB.ratio}× (${round(rowB.ratio / rowA.ratio)}×)` : '';
  out.push(`| ${rowA.bench} | ${metric} | ${rowA.unit} | ${fmt(rowA.value, rowA.unit)} | ${fmt(rowB.value, rowB.unit)} | ${change === undefined ? '–' : `${round(change)}×`} | ${inRun} |`);
}
if (showAll) for (const [key, rowB] of b.rows) if (!a.rows.has(key)) out.push(`| ${rowB.bench} | ${rowB.metric} | ${rowB.unit} | (absent) | ${fmt(rowB.value, rowB.unit)} | | |`);
const loads = [a.env?.load1, b.env?.load1];
out.push('', `${compared} metrics in both files. Load average when each run started: A ${loads[0] ?? '?'}, B ${loads[1] ?? '?'}; on 2 vCPUs expect ±30–50 % between runs, so trust the "vs baseline" column first.`);
process.stdout.write(`${out.join('\n')}\n`);
