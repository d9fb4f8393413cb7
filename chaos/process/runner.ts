/**
 * Runs a process scenario: the system under test lives in a child process
 * (system-process.ts) with durable ledgers over a SQLite journal, and the
 * client is this process, outside it, so what it saw acknowledged survives
 * whatever the child does. Each `kill-process` fault SIGKILLs the child
 * mid-stream and starts it again on the same journal; the client resumes
 * as soon as it is ready. At the end a fresh process recovers every ledger
 * from the journal and reads it back for the checker (checker.ts).
 *
 * The workload is a closed loop: `inflight` appends outstanding per ledger,
 * the next sent as each is acknowledged, so the journal runs at the rate
 * the system can commit.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultReport, TimelineBucket } from '../measure.js';
import { kBucketMs, percentiles } from '../measure.js';
import { type RunOptions, type RunSummary } from '../runner.js';
import { finishLedgerRun, ledgerReasons } from './ledger-summary.js';
import { resolveScenario, UsageError, type ResolvedFault } from '../scenario.js';
import { wallNow } from '../workload/history-log.js';
import { checkLedgers, type ClientLedger } from './checker.js';
import { SystemProcess } from './system-process.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One kill and what followed it (wall-clock ms; null: never happened). */
export interface Kill {
  fault: ResolvedFault;
  at: number;
  /** The killed process was gone. */
  goneAt: number;
  /** The next incarnation's system had started. */
  readyAt: number | null;
  /** The child's own startup, from its process start to ready. */
  startupMs: number | null;
  /** The first acknowledgement from the next incarnation. */
  firstAnswerAt: number | null;
}

/** An acknowledged append: when it was sent and how long its answer took. */
export interface Ack {
  sentAt: number;
  at: number;
}

export interface ProcessRecovery {
  fault: number;
  /** SIGKILL → the restarted process's system is up (its recovery of spawned ledgers included). */
  restartMs: number | null;
  /** The restarted child's own time from process start to ready. */
  startupMs: number | null;
  /** SIGKILL → the first acknowledged append of the restarted process. */
  firstAnswerMs: number | null;
}

export async function runProcessScenario(options: RunOptions): Promise<RunSummary> {
  const { scenario, seed, durationMs } = options;
  const started = Date.now();
  const resolved = resolveScenario(scenario, { seed, durationMs, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  const workers = resolved.workers;
  const ledgers = scenario.process?.ledgers ?? 16;
  const inflight = scenario.process?.inflight ?? 4;
  const activation = scenario.process?.activation ?? 'spawn';
  mkdirSync(options.outDir, { recursive: true });
  const files = { history: join(options.outDir, 'history.jsonl'), summary: join(options.outDir, 'summary.json'), report: join(options.outDir, 'report.html') };
  const journal = join(options.outDir, 'journal.db');
  rmSync(journal, { force: true });
  const history: object[] = [];
  const event = (name: string, extra: object = {}) => history.push({ type: 'event', at: wallNow(), event: name, host: 'process', ...extra });

  const client: ClientLedger[] = Array.from({ length: ledgers }, () => ({ sent: [], acked: new Set(), failed: new Set(), indeterminate: new Set() }));
  const outstanding: Map<number, number>[] = Array.from({ length: ledgers }, () => new Map());
  const nextK = new Array<number>(ledgers).fill(1);
  const sends: number[] = [];
  const acks: Ack[] = [];
  const failures = new Map<string, number>();
  const kills: Kill[] = [];
  let current: SystemProcess | undefined;
  let incarnation = 0;
  /** The incarnation whose answers count as live; 0 while one is being killed (its late lines are a dead one's). */
  let live = 0;
  let sending = false;
  let error: string | undefined;
  let t0 = 0;
  let endAt = 0;

  const refill = (ledger: number): void => {
    const proc = current;
    if (!sending || proc === undefined || !proc.ready) return;
    const out = outstanding[ledger]!;
    while (out.size < inflight) {
      const k = nextK[ledger]!++;
      const now = wallNow();
      client[ledger]!.sent.push(k);
      out.set(k, now);
      sends.push(now);
      proc.send(`add ${ledger} ${k}`);
    }
  };
  const onLine = (inc: number, line: string): void => {
    const [word, a, b, code] = line.split(' ');
    const ledger = Number(a);
    const k = Number(b);
    const c = client[ledger];
    if (c === undefined || (word !== 'ok' && word !== 'fail')) {
      error ??= `the system process printed ${JSON.stringify(line.slice(0, 200))}`;
      return;
    }
    if (inc !== live) {
      // Printed by a killed incarnation before it died, read after: its persist had resolved.
      if (word === 'ok' && c.indeterminate.delete(k)) c.acked.add(k);
      return;
    }
    const sentAt = outstanding[ledger]!.get(k);
    outstanding[ledger]!.delete(k);
    if (word === 'ok') {
      c.acked.add(k);
      const now = wallNow();
      if (sentAt !== undefined) acks.push({ sentAt, at: now });
      // A kill that landed before the previous one's restart answered is recovered from by this answer too.
      for (const kill of kills) {
        if (kill.firstAnswerAt !== null) continue;
        kill.firstAnswerAt = now;
        event('process.first-answer', { fault: kill.fault.id });
      }
    } else {
      c.failed.add(k);
      failures.set(code ?? 'ERROR', (failures.get(code ?? 'ERROR') ?? 0) + 1);
    }
    refill(ledger);
  };
  /** A new incarnation; the verifier's readiness is no restart's. */
  const startProcess = (role: 'workload' | 'verifier' = 'workload'): SystemProcess => {
    const inc = ++incarnation;
    live = inc;
    event('process.started', { inc, role });
    const proc = new SystemProcess({
      args: [journal, String(ledgers), String(workers), activation],
      onLine: (line) => onLine(inc, line),
      onReady: (startupMs) => {
        event('process.ready', { inc, startupMs });
        if (inc === live && role === 'workload') {
          for (const kill of kills) {
            if (kill.readyAt !== null) continue;
            kill.readyAt = wallNow();
            kill.startupMs = startupMs;
          }
        }
        for (let l = 0; l < ledgers; l++) refill(l);
      },
      onUnexpectedExit: (how, stderr) => {
        error ??= `the system process (incarnation ${inc}) exited with ${how}: ${stderr.trim().split('\n').slice(-5).join(' / ') || '(no stderr)'}`;
      },
    });
    return proc;
  };
  const killNow = async (fault: ResolvedFault): Promise<void> => {
    const proc = current;
    if (proc === undefined) return;
    const at = wallNow();
    history.push({ type: 'fault', at, action: 'inject', id: fault.id, label: fault.label, kind: fault.action.kind });
    current = undefined;
    // From now on its lines are a dead incarnation's: whatever it had not answered may or may not be in the
    // journal, and an `ok` read late (printed before the kill) turns that back into acknowledged.
    live = 0;
    for (let l = 0; l < ledgers; l++) {
      for (const k of outstanding[l]!.keys()) client[l]!.indeterminate.add(k);
      outstanding[l]!.clear();
    }
    await proc.kill();
    kills.push({ fault, at, goneAt: wallNow(), readyAt: null, startupMs: null, firstAnswerAt: null });
    current = startProcess();
  };
  const untilReady = async (what: string, budgetMs: number): Promise<void> => {
    const deadline = wallNow() + budgetMs;
    while (current?.ready !== true && error === undefined) {
      if (wallNow() > deadline) throw new Error(`${what}: the system process was not ready within ${budgetMs} ms`);
      await sleep(10);
    }
  };

  let drained = false;
  let drainMs = 0;
  let recovered: number[][] = [];
  try {
    current = startProcess();
    await untilReady('start', 30_000);
    t0 = wallNow();
    endAt = t0 + durationMs;
    history.unshift({ type: 'run', scenario: scenario.name, description: scenario.description, seed, durationMs, quick: options.quick, workers, ledgers, inflight, activation, t0, endAt, faults: resolved.faults, replay: options.replay, node: process.version });
    sending = true;
    for (let l = 0; l < ledgers; l++) refill(l);
    // Kills one after the other, each at its time: a kill may land while the previous restart is still recovering.
    let chain = Promise.resolve();
    const timers = resolved.faults.map((fault) => setTimeout(() => (chain = chain.then(() => killNow(fault))), Math.max(0, t0 + fault.at - wallNow())));
    while (wallNow() < endAt && error === undefined) {
      options.onProgress?.(Math.min(0.9, (wallNow() - t0) / (durationMs + 2000)));
      await sleep(Math.min(100, Math.max(1, endAt - wallNow())));
    }
    for (const timer of timers) clearTimeout(timer);
    await chain;
    // A restart still starting when the window closes is owed its first answer: the workload runs on until it comes.
    while (kills.some((k) => k.firstAnswerAt === null) && error === undefined && wallNow() < endAt + 30_000) await sleep(10);
    sending = false;

    // Drain: the last incarnation answers everything it was sent.
    const drainStart = wallNow();
    const budget = options.quick ? 10_000 : 20_000;
    await untilReady('drain', budget);
    while (wallNow() - drainStart < budget && error === undefined) {
      if (outstanding.every((o) => o.size === 0)) {
        drained = true;
        break;
      }
      await sleep(10);
    }
    drainMs = Math.round(wallNow() - drainStart);
    await current?.stop(10_000);
    current = undefined;

    // The verdict comes from the journal alone: a fresh process recovers every ledger and reads it.
    const verifier = startProcess('verifier');
    current = verifier;
    await untilReady('verify', 30_000);
    recovered = await verifier.read(30_000);
    await verifier.stop(10_000);
    current = undefined;
  } catch (e) {
    error ??= e instanceof UsageError ? e.message : `${(e as Error)?.message ?? String(e)}`;
  } finally {
    if (current !== undefined) await current.kill();
  }

  const ledger = checkLedgers(client, recovered);
  for (const [i, p] of ledger.pairs.entries()) {
    history.push({ type: 'ledger', ledger: i, sent: client[i]!.sent.length, acked: p.acknowledged, indeterminate: [...client[i]!.indeterminate], recovered: p.received, lostSample: p.lostSample });
  }
  history.push({ type: 'end', at: wallNow(), drained, drainMs, ...(error === undefined ? {} : { error }) });
  writeFileSync(files.history, `${history.map((r) => JSON.stringify(r)).join('\n')}\n`);

  const timelineEndMs = Math.max(0, Math.round(wallNow() - t0));
  const timeline = t0 > 0 ? buildTimeline(sends, acks, t0, endAt + drainMs) : [];
  const faults = t0 > 0 ? kills.map((kill, i) => faultReport(kill, kills[i + 1]?.at ?? endAt, i === 0 ? t0 : (kills[i - 1]!.firstAnswerAt ?? kills[i - 1]!.at), acks, timeline, t0, ledgers)) : [];
  const recovery: ProcessRecovery[] = kills.map((k) => ({
    fault: k.fault.id,
    restartMs: k.readyAt === null ? null : Math.round(k.readyAt - k.at),
    startupMs: k.startupMs,
    firstAnswerMs: k.firstAnswerAt === null ? null : Math.round(k.firstAnswerAt - k.at),
  }));

  const reasons: string[] = [];
  if (error !== undefined) reasons.push(`run error: ${error}`);
  reasons.push(...ledgerReasons(ledger, t0 > 0));
  if (failures.size > 0) reasons.push(`persist refused: ${[...failures].map(([code, n]) => `${n} × ${code}`).join(', ')}`);
  if (!drained && error === undefined) reasons.push('the last incarnation did not answer everything it was sent');
  if (error === undefined && kills.length < resolved.faults.length) reasons.push(`${resolved.faults.length - kills.length} of ${resolved.faults.length} kills never happened`);
  for (const k of kills) if (k.firstAnswerAt === null && error === undefined) reasons.push(`no answer after fault ${k.fault.id} (the restarted process never acknowledged an append)`);
  if (reasons.length === 0) for (const suffix of ['', '-wal', '-shm']) rmSync(`${journal}${suffix}`, { force: true });
  return finishLedgerRun({
    options,
    started,
    workers,
    reasons,
    error,
    ledger,
    faults,
    timeline,
    timelineEndMs,
    drained,
    drainMs,
    historyRecords: history.length,
    files,
    workload: `the system in a child process (${workers} workers + main) over a SQLite journal; ${ledgers} durable ledgers (${activation === 'entity' ? 'virtual actors, activated by their first message' : 'spawned by name'}), ${inflight} appends in flight per ledger from a client outside the process, each acknowledged once its persist resolved; ${durationMs / 1000} s; the "reliable" row counts durable appends, checked against a fresh process's recovery of the journal`,
    extra: { process: { kills: recovery, indeterminateApplied: client.reduce((n, c, i) => n + [...c.indeterminate].filter((k) => recovered[i]?.includes(k)).length, 0) } },
  });
}

/** Appends sent and acknowledged per 100 ms bucket, with the acknowledgement latency. */
export function buildTimeline(sends: number[], acks: Ack[], t0: number, endAt: number): TimelineBucket[] {
  const count = Math.max(1, Math.ceil((endAt - t0) / kBucketMs));
  const sent = new Array<number>(count).fill(0);
  const latency: number[][] = Array.from({ length: count }, () => []);
  const bucket = (at: number) => Math.min(count - 1, Math.max(0, Math.floor((at - t0) / kBucketMs)));
  for (const at of sends) sent[bucket(at)]!++;
  for (const ack of acks) latency[bucket(ack.at)]!.push(ack.at - ack.sentAt);
  const perSec = 1000 / kBucketMs;
  return sent.map((n, i) => {
    const p = percentiles(latency[i]!);
    return { t: i * kBucketMs, mode: 'reliable', sentPerSec: n * perSec, receivedPerSec: latency[i]!.length * perSec, p50: p.p50, p99: p.p99 };
  });
}

/** A kill as the suite reports faults: recovery to the first answer and to 95% of the throughput before it. */
export function faultReport(kill: Kill, nextAt: number, steadyFrom: number, acks: Ack[], timeline: TimelineBucket[], t0: number, ledgers: number): FaultReport {
  const rel = (at: number) => Math.round(at - t0);
  const recoveredAt = kill.firstAnswerAt ?? kill.readyAt ?? kill.goneAt;
  // Steady state: whole buckets between the previous recovery (or 300 ms of warm-up) and the kill.
  const from = Math.ceil((Math.max(steadyFrom - t0, 300)) / kBucketMs);
  const to = Math.floor((kill.at - t0) / kBucketMs);
  const steady = timeline.slice(from, to);
  const steadyPerSec = steady.length === 0 ? 0 : steady.reduce((s, b) => s + b.receivedPerSec, 0) / steady.length;
  let to95Ms: number | null = null;
  if (steady.length >= 3 && kill.firstAnswerAt !== null) {
    for (let b = Math.floor((kill.firstAnswerAt - t0) / kBucketMs); b + 2 < timeline.length; b++) {
      const mean = (timeline[b]!.receivedPerSec + timeline[b + 1]!.receivedPerSec + timeline[b + 2]!.receivedPerSec) / 3;
      if (mean >= 0.95 * steadyPerSec) {
        to95Ms = Math.max(Math.round(kill.firstAnswerAt - kill.at), b * kBucketMs - rel(kill.at));
        break;
      }
    }
  }
  const latencies = (lo: number, hi: number) => percentiles(acks.filter((a) => a.sentAt >= lo && a.sentAt < hi).map((a) => a.at - a.sentAt));
  return {
    id: kill.fault.id,
    label: kill.fault.label,
    kind: kill.fault.action.kind,
    start: rel(kill.at),
    end: rel(recoveredAt),
    affectedPairs: Array.from({ length: ledgers }, (_, i) => `client>ledger-${i}` as const),
    detect: { ms: Math.round(kill.goneAt - kill.at), signal: 'process exit' },
    recoveryFrom: { what: 'SIGKILL', at: rel(kill.at) },
    modes: {
      reliable: {
        firstSuccessMs: kill.firstAnswerAt === null ? null : Math.round(kill.firstAnswerAt - kill.at),
        to95Ms,
        availability: null,
        latency: { before: latencies(steadyFrom, kill.at), during: latencies(kill.at, recoveredAt), after: latencies(recoveredAt, nextAt) },
        steadyPerSec: Math.round(steadyPerSec),
      },
    },
  };
}
