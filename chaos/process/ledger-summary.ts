/**
 * What the two ledger runners (process scenarios, cluster scenarios) report
 * alike: the checker's verdict on the durable appends as failure reasons,
 * and the run summary around their own workload and recovery figures.
 */
import type { Ledger } from '../checker.js';
import type { FaultReport, TimelineBucket } from '../measure.js';
import { finishRun, machineInfo, type RunOptions, type RunSummary } from '../runner.js';

/** The durable ledger's failures: an acknowledged append lost, one applied twice or out of order, one never sent; nothing acknowledged. */
export function ledgerReasons(ledger: Ledger, ran: boolean): string[] {
  const r = ledger.totals.reliable;
  const reasons: string[] = [];
  const lostIn = ledger.pairs.find((p) => p.lost > 0);
  if (r.lost > 0) reasons.push(`durable: ${r.lost} lost (sample: ledger ${lostIn?.pair} ${lostIn?.lostSample.join(',')})`);
  if (r.duplicated > 0) reasons.push(`durable: ${r.duplicated} applied twice`);
  if (r.outOfOrder > 0) reasons.push(`durable: ${r.outOfOrder} out of order`);
  if (r.unexpected > 0) reasons.push(`durable: ${r.unexpected} never sent`);
  if (ran && r.acknowledged === 0) reasons.push('durable: nothing was acknowledged');
  return reasons;
}

export interface LedgerRun {
  options: RunOptions;
  /** Date.now() at the start. */
  started: number;
  workers: number;
  reasons: string[];
  error: string | undefined;
  ledger: Ledger;
  faults: FaultReport[];
  timeline: TimelineBucket[];
  timelineEndMs: number;
  drained: boolean;
  drainMs: number;
  historyRecords: number;
  files: RunSummary['files'];
  workload: string;
  /** The runner's own figures (process: kills; cluster: faults and membership). */
  extra: Pick<RunSummary, 'process' | 'cluster'>;
}

/** The summary of a ledger run, written and rendered as every run's is. */
export function finishLedgerRun(run: LedgerRun): Promise<RunSummary> {
  const { options, reasons } = run;
  const { scenario } = options;
  const pass = reasons.length === 0;
  const outcome: RunSummary['outcome'] = scenario.knownIssue === undefined ? (pass ? 'pass' : 'fail') : pass ? 'xpass' : 'xfail';
  const summary: RunSummary = {
    scenario: scenario.name,
    description: scenario.description,
    seed: options.seed,
    durationMs: options.durationMs,
    quick: options.quick,
    workers: run.workers,
    rate: 0,
    sloMs: scenario.sloMs ?? 1000,
    modes: ['reliable'],
    checksum: true,
    replay: options.replay,
    pass,
    reasons,
    outcome,
    ...(scenario.knownIssue === undefined ? {} : { knownIssue: scenario.knownIssue }),
    warnings: [],
    ledger: run.ledger,
    faults: run.faults,
    timeline: run.timeline,
    timelineEndMs: run.timelineEndMs,
    drained: run.drained,
    drainMs: run.drainMs,
    historyRecords: run.historyRecords,
    historyDropped: 0,
    historySkipped: 0,
    escalated: false,
    startedAt: new Date(run.started).toISOString(),
    wallMs: Date.now() - run.started,
    machine: machineInfo(),
    files: run.files,
    workload: run.workload,
    ...run.extra,
  };
  if (run.error !== undefined) summary.error = run.error;
  return finishRun(summary, options);
}
