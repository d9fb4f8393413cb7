/**
 * Totals over several seeds (`--seeds N`, `--seed-range a..b`): one seed is
 * one fault schedule, and a guarantee shown for one schedule is an anecdote.
 * Each seed's runs are summed as the suite summary sums them (known-issue
 * scenarios left out), then the seeds are summed; every failing run is listed
 * with the command that replays it.
 */
import type { RunSummary } from './runner.js';

export interface Totals {
  /** Runs, and how they ended (xpass counts as failed: the scenario needs revisiting). */
  runs: number;
  passed: number;
  failed: number;
  expectedFailures: number;
  reliable: { attempted: number; lost: number; duplicated: number; outOfOrder: number; indeterminate: number; redelivered: number };
  atMostOnce: { attempted: number; lost: number; reported: number; unreported: number; duplicated: number; corruptDelivered: number };
}

export interface SeedTotals extends Totals {
  seed: number;
  wallMs: number;
}

export interface Failure {
  seed: number;
  scenario: string;
  outcome: RunSummary['outcome'];
  reasons: string[];
  replay: string;
}

export interface SeedsSummary {
  startedAt: string;
  seeds: number[];
  scenarios: string[];
  quick: boolean;
  durationMs: number;
  wallMs: number;
  machine: RunSummary['machine'];
  /** Every failing run passed: no failure, no XPASS. */
  pass: boolean;
  totals: Totals;
  perSeed: SeedTotals[];
  failures: Failure[];
}

const zero = (): Totals => ({
  runs: 0,
  passed: 0,
  failed: 0,
  expectedFailures: 0,
  reliable: { attempted: 0, lost: 0, duplicated: 0, outOfOrder: 0, indeterminate: 0, redelivered: 0 },
  atMostOnce: { attempted: 0, lost: 0, reported: 0, unreported: 0, duplicated: 0, corruptDelivered: 0 },
});

function add(into: Totals, s: RunSummary): void {
  into.runs++;
  if (s.outcome === 'pass') into.passed++;
  else if (s.outcome === 'xfail') into.expectedFailures++;
  else into.failed++;
  // a scenario that shows a known runtime issue fails by design: its figures are not the harness's verdict
  if (s.outcome === 'xfail') return;
  const r = s.ledger.totals.reliable;
  const a = s.ledger.totals['at-most-once'];
  into.reliable.attempted += r.attempted;
  into.reliable.lost += r.lost;
  into.reliable.duplicated += r.duplicated;
  into.reliable.outOfOrder += r.outOfOrder;
  into.reliable.indeterminate += r.indeterminate;
  into.reliable.redelivered += r.redelivered;
  into.atMostOnce.attempted += a.attempted;
  into.atMostOnce.lost += a.lost;
  into.atMostOnce.reported += a.reported;
  into.atMostOnce.unreported += a.unreported;
  into.atMostOnce.duplicated += a.duplicated;
  into.atMostOnce.corruptDelivered += s.ledger.corruptDelivered;
}

export function summarizeSeeds(
  runs: { seed: number; summaries: RunSummary[]; wallMs: number }[],
  meta: { startedAt: string; quick: boolean; durationMs: number; wallMs: number },
): SeedsSummary {
  const totals = zero();
  const perSeed: SeedTotals[] = [];
  const failures: Failure[] = [];
  for (const { seed, summaries, wallMs } of runs) {
    const t: SeedTotals = { seed, wallMs, ...zero() };
    for (const s of summaries) {
      add(t, s);
      add(totals, s);
      if (s.outcome === 'fail' || s.outcome === 'xpass') failures.push({ seed, scenario: s.scenario, outcome: s.outcome, reasons: s.reasons, replay: s.replay });
    }
    perSeed.push(t);
  }
  const first = runs.find((r) => r.summaries.length > 0)?.summaries[0];
  return {
    ...meta,
    seeds: runs.map((r) => r.seed),
    scenarios: [...new Set(runs.flatMap((r) => r.summaries.map((s) => s.scenario)))],
    machine: first?.machine ?? { node: process.version, cpu: 'unknown', cores: 0 },
    pass: failures.length === 0,
    totals,
    perSeed,
    failures,
  };
}

/** A short markdown page: what ran, the totals, a row per seed, the failures and how to replay them. */
export function seedsMarkdown(s: SeedsSummary): string {
  const seedText = s.seeds.length === 1 ? `seed ${s.seeds[0]}` : isRange(s.seeds) ? `seeds ${s.seeds[0]}..${s.seeds.at(-1)}` : `seeds ${s.seeds.join(', ')}`;
  const t = s.totals;
  const row = (label: string, x: Totals) =>
    `| ${label} | ${x.passed}/${x.runs}${x.expectedFailures > 0 ? ` (+${x.expectedFailures} xfail)` : ''} | ${x.reliable.attempted} | ${x.reliable.lost} / ${x.reliable.duplicated} / ${x.reliable.outOfOrder} | ${x.reliable.indeterminate} / ${x.reliable.redelivered} | ${x.atMostOnce.attempted} | ${x.atMostOnce.lost} / ${x.atMostOnce.unreported} | ${x.atMostOnce.duplicated} | ${x.atMostOnce.corruptDelivered} |`;
  const lines = [
    `# troupe chaos: ${s.scenarios.length} scenario${s.scenarios.length === 1 ? '' : 's'} × ${s.seeds.length} seeds`,
    '',
    `${s.pass ? '**Every run passed.**' : `**${s.failures.length} run${s.failures.length === 1 ? '' : 's'} failed.**`} ${seedText}, ${s.durationMs / 1000} s per run${s.quick ? ' (quick)' : ''}, ${Math.round(s.wallMs / 1000)} s in all; ${s.machine.cpu}, ${s.machine.cores} cores, Node ${s.machine.node}; started ${s.startedAt}.`,
    '',
    'Known-issue scenarios (xfail) are left out of the counts. At-most-once *unreported*: lost without a dead letter (the runtime reports every loss).',
    '',
    '| seed | passed | reliable sent | reliable lost / dup / out of order | indeterminate / redelivered | at-most-once sent | at-most-once lost / unreported | dup | damaged delivered |',
    '|---|---|---|---|---|---|---|---|---|',
    ...s.perSeed.map((x) => row(String(x.seed), x)),
    row('**all**', t),
  ];
  if (s.failures.length > 0) {
    lines.push('', '## Failures', '');
    for (const f of s.failures) lines.push(`- seed ${f.seed}, ${f.scenario} (${f.outcome}): ${f.reasons.join('; ') || 'passed, but expected to fail'} — replay: \`${f.replay}\``);
  }
  return `${lines.join('\n')}\n`;
}

const isRange = (seeds: number[]): boolean => seeds.every((seed, i) => i === 0 || seed === seeds[i - 1] + 1);
