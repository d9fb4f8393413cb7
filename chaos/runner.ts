/**
 * Runs one scenario: starts a system, a producer and a consumer on every
 * host, injects the scheduled faults (or, in soak mode, the faults a cron
 * schedule draws), heals everything at the end, waits for the reliable
 * channels to drain, then checks the history and measures every fault.
 * Whatever happens, the history is written as it is collected, and the
 * summary and report are written at the end, so a failing run can be replayed
 * from its seed and read from its files.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import { ActorSystem, kInternals, type ActorRef, type SystemEvent, type SystemOptions } from 'troupe';
import { Chaos } from 'troupe/chaos';
import { check, type Ledger } from './checker.js';
import { hostName, pairName, type HistoryRecord, type RunRecord } from './history.js';
import { measure, type FaultReport, type TimelineBucket } from './measure.js';
import { label, resolveScenario, seededRandom, UsageError, type FaultAction, type HostName, type ResolvedAction, type ResolvedFault, type Scenario } from './scenario.js';
import { kDeadLetterReasons, kHostBits, ownedByMain, recordDeadLetters } from './workload/dead-letters.js';
import { HistoryLog, Kind, wallNow } from './workload/history-log.js';
import { modeName, type ModeName } from './workload/payload.js';
import type { ClusterOutcome } from './cluster/runner.js';
import type { ProcessRecovery } from './process/runner.js';

export interface RunOptions {
  scenario: Scenario;
  seed: number;
  durationMs: number;
  quick: boolean;
  /** The run's folder (created). */
  outDir: string;
  workers?: number;
  rate?: number;
  /** The command that replays this run, written into the history and summary. */
  replay: string;
  /** Soak mode: no fixed schedule; a cron expression draws a fault from `catalogue` at every tick. */
  soak?: { cron: string; faultForMs: number; catalogue: FaultAction[]; onFault?: (fault: ResolvedFault) => void };
  onProgress?: (fraction: number) => void;
  /** Ends the workload early (soak mode's Ctrl-C): the run then heals, drains and checks as usual. */
  signal?: AbortSignal;
  /** Renders report.html from the summary (kept out of this module so a run never waits for vega to load). */
  render?: (summary: RunSummary) => Promise<string>;
}

export interface RunSummary {
  scenario: string;
  description: string;
  seed: number;
  durationMs: number;
  quick: boolean;
  workers: number;
  rate: number;
  sloMs: number;
  modes: ModeName[];
  /** Whether the system under test checked a checksum on every record (SystemOptions.checksum). */
  checksum: boolean;
  replay: string;
  pass: boolean;
  /** Why it failed (empty when it passed). */
  reasons: string[];
  /** pass / fail, or for a scenario with a known runtime issue: xfail (failed as expected) / xpass (passed: revisit it). */
  outcome: 'pass' | 'fail' | 'xfail' | 'xpass';
  knownIssue?: string;
  /** Things that did not fail the run but make a figure less telling (a fault whose effect was never observed). */
  warnings: string[];
  ledger: Ledger;
  faults: FaultReport[];
  timeline: TimelineBucket[];
  timelineEndMs: number;
  drained: boolean;
  drainMs: number;
  historyRecords: number;
  historyDropped: number;
  historySkipped: number;
  escalated: boolean;
  error?: string;
  startedAt: string;
  wallMs: number;
  machine: { node: string; cpu: string; cores: number };
  files: { history: string; summary: string; report: string };
  /** What the workload was, when it is not the default producers and consumers on every host. */
  workload?: string;
  /** A process scenario's recovery after each SIGKILL. */
  process?: { kills: ProcessRecovery[]; /** Indeterminate appends (in flight at a kill) that the journal had committed. */ indeterminateApplied: number };
  /** A cluster scenario's recovery after each fault, and what the front node's membership saw. */
  cluster?: ClusterOutcome;
}

const kModes: ModeName[] = ['reliable', 'at-most-once'];
const kLaneKinds = new Set(['partition', 'split', 'cut', 'isolate', 'bridge', 'ring-of-majorities', 'link']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runScenario(options: RunOptions): Promise<RunSummary> {
  const { scenario, seed, durationMs } = options;
  const started = Date.now();
  const resolved = resolveScenario(scenario, { seed, durationMs, ...(options.workers === undefined ? {} : { workers: options.workers }) });
  const workers = resolved.workers;
  const rate = options.rate ?? scenario.rate ?? 200;
  const sloMs = scenario.sloMs ?? 1000;
  const checksum = scenario.system?.checksum ?? true;
  mkdirSync(options.outDir, { recursive: true });
  const files = { history: join(options.outDir, 'history.jsonl'), summary: join(options.outDir, 'summary.json'), report: join(options.outDir, 'report.html') };
  const out = createWriteStream(files.history);
  const history: HistoryRecord[] = [];
  let pending: string[] = [];
  const append = (record: HistoryRecord): void => {
    history.push(record);
    pending.push(JSON.stringify(record));
  };
  // The run record opens the file: nothing is written before it is known.
  let runWritten = false;
  const flush = (): void => {
    if (!runWritten || pending.length === 0) return;
    out.write(`${pending.join('\n')}\n`);
    pending = [];
  };

  const log = HistoryLog.create();
  let system: ActorSystem | undefined;
  let error: string | undefined;
  let escalated = false;
  let drained = false;
  let drainMs = 0;
  let skipped = 0;
  const hosts = ['main', ...Array.from({ length: workers }, (_, i) => String(i))];
  const run: RunRecord = {
    type: 'run',
    scenario: scenario.name,
    description: scenario.description,
    seed,
    durationMs,
    quick: options.quick,
    workers,
    hosts,
    modes: kModes,
    rate,
    sloMs,
    t0: 0,
    endAt: 0,
    faults: resolved.faults,
    actors: { producers: {}, consumers: {} },
    replay: options.replay,
    node: process.version,
  };
  const timers: NodeJS.Timeout[] = [];
  let stopRecording: (() => void) | undefined;
  let soakTask: ScheduledTask | undefined;
  const pump = setInterval(() => {
    skipped += log.drain((f, o) => append(toRecord(f, o)));
    flush();
  }, 25);

  try {
    const systemOptions: SystemOptions = {
      workers,
      logLevel: 'silent',
      stallTimeoutMs: scenario.system?.stallTimeoutMs ?? 500,
      shutdownTimeoutMs: 3000,
      ...(scenario.system?.spawnTimeoutMs === undefined ? {} : { spawnTimeoutMs: scenario.system.spawnTimeoutMs }),
      ...(scenario.system?.workerResourceLimits === undefined ? {} : { workerResourceLimits: scenario.system.workerResourceLimits }),
      // A damaged record becomes a dead letter instead of a wrong message; a scenario may turn it off to show why.
      checksum,
      // every worker writes its own dead letters to the history (see dead-letters.ts)
      workerPreload: [new URL('./workload/dead-letters.js', import.meta.url).href],
    };
    // Main's own dead letters, and those it reports for workers; the rest come from the workers themselves.
    stopRecording = recordDeadLetters(log, ownedByMain);
    system = await ActorSystem.start(systemOptions);
    const chaos = new Chaos(system, { seed });
    const internals = system[kInternals];
    const listen = <T extends SystemEvent['type']>(type: T) =>
      system!.events.on(type, (e: SystemEvent) => {
        const record: Extract<HistoryRecord, { type: 'event' }> = { type: 'event', at: e.at, event: e.type, host: String(e.host) };
        if ('id' in e) record.id = e.id;
        if (e.type === 'deadLetter') record.reason = e.reason;
        if (e.type === 'actor.stopped') record.reason = e.reason;
        if (e.type === 'supervisor.decided') record.reason = `${e.directive}: ${e.reason}`;
        if (e.type === 'actor.crashed') record.code = e.error.code;
        if (e.type === 'worker.exited' && e.error !== undefined) record.code = e.error.code;
        if (e.type === 'system.escalated') escalated = true;
        append(record);
      });
    for (const type of ['actor.crashed', 'actor.restarted', 'actor.stopped', 'worker.exited', 'worker.replaced', 'worker.stalled', 'deadLetter', 'supervisor.decided', 'system.escalated'] as const) listen(type);

    // The workload: two consumers on every host, one for each mode (a dead letter that names only its
    // target is then known to be an at-most-once message or not), then a producer on every host sending
    // to all the others.
    const hostOf = (i: number): HostName => (i === 0 ? 'main' : i - 1);
    const consumers: ActorRef[] = [];
    const tells: ActorRef[] = [];
    run.actors.tells = {};
    for (let h = 0; h <= workers; h++) {
      consumers.push(await system.spawn(new URL('./workload/consumer.js', import.meta.url), { host: hostOf(h), name: `chaos.consumer@${hostName(h)}`, args: { host: h } }));
      run.actors.consumers[hostName(h)] = consumers[h].id;
      tells.push(await system.spawn(new URL('./workload/consumer.js', import.meta.url), { host: hostOf(h), name: `chaos.tells@${hostName(h)}`, args: { host: h } }));
      run.actors.tells[hostName(h)] = tells[h].id;
    }
    const t0 = wallNow() + 300;
    run.t0 = t0;
    run.endAt = t0 + durationMs;
    const producers: ActorRef[] = [];
    for (let h = 0; h <= workers; h++) {
      const targets = consumers.map((ref, c) => ({ host: c, ref, tells: tells[c] })).filter((t) => t.host !== h);
      const args = { host: h, targets, rate, t0, endAt: run.endAt, reliable: true, atMostOnce: true, window: 256, bufferLimit: 1 << 20 };
      producers.push(await system.spawn(new URL('./workload/producer.js', import.meta.url), { host: hostOf(h), name: `chaos.producer@${hostName(h)}`, args }));
      run.actors.producers[hostName(h)] = producers[h].id;
    }
    history.unshift(run);
    pending.unshift(JSON.stringify(run));
    runWritten = true;
    flush();

    // faults
    const active = new Set<number>();
    const laneSnapshot = (): Set<string> => {
      const set = new Set<string>();
      for (let a = 0; a <= workers; a++) for (let b = 0; b <= workers; b++) if (a !== b && internals.laneFaults(a, b).mask !== 0) set.add(`${hostName(a)}>${hostName(b)}`);
      return set;
    };
    const injected = new Map<number, string[]>();
    const inject = async (fault: ResolvedFault): Promise<void> => {
      const before = laneSnapshot();
      const at = wallNow();
      let failure: string | undefined;
      try {
        await apply(chaos, fault.action, { consumers, tells, producers }, workers);
      } catch (e) {
        failure = (e as Error).message;
      }
      const record: Extract<HistoryRecord, { type: 'fault' }> = { type: 'fault', at, action: 'inject', id: fault.id, label: fault.label, kind: fault.action.kind };
      if (kLaneKinds.has(fault.action.kind)) {
        const lanes = fault.action.kind === 'link' ? linkLanes(fault.action, workers) : [...laneSnapshot()].filter((l) => !before.has(l));
        record.lanes = lanes;
        injected.set(fault.id, lanes);
      }
      if (failure !== undefined) record.error = failure;
      active.add(fault.id);
      append(record);
    };
    const heal = (fault: ResolvedFault): void => {
      if (!active.delete(fault.id)) return;
      const undo = undoOf(fault.action);
      if (undo === undefined) return;
      try {
        undo(chaos, injected.get(fault.id) ?? []);
      } catch (e) {
        append({ type: 'fault', at: wallNow(), action: 'heal', id: fault.id, label: fault.label, kind: fault.action.kind, error: (e as Error).message });
        return;
      }
      append({ type: 'fault', at: wallNow(), action: 'heal', id: fault.id, label: fault.label, kind: fault.action.kind });
    };
    if (options.soak === undefined) {
      for (const fault of resolved.faults) {
        timers.push(setTimeout(() => void inject(fault), Math.max(0, t0 + fault.at - wallNow())));
        if (undoOf(fault.action) !== undefined) timers.push(setTimeout(() => heal(fault), Math.max(0, t0 + fault.at + fault.for - wallNow())));
      }
    } else {
      const soak = options.soak;
      const draw = seededRandom(seed);
      let busy = false;
      soakTask = cron.schedule(
        soak.cron,
        async () => {
          if (busy || wallNow() > run.endAt - soak.faultForMs) return;
          busy = true;
          const step = soak.catalogue[Math.floor(draw() * soak.catalogue.length)];
          const one = resolveScenario({ name: `${scenario.name}#${run.faults.length + 1}`, description: '', workers, faults: [{ at: '0ms', for: `${soak.faultForMs}ms`, do: step }] }, { seed: Math.floor(draw() * 0x7fffffff), durationMs: soak.faultForMs + 1 });
          const fault: ResolvedFault = { ...one.faults[0], id: run.faults.length + 1, at: wallNow() - t0, for: soak.faultForMs };
          run.faults.push(fault);
          soak.onFault?.(fault);
          await inject(fault);
          timers.push(
            setTimeout(() => {
              heal(fault);
              busy = false;
            }, soak.faultForMs),
          );
        },
        { name: `troupe-chaos-soak-${seed}`, noOverlap: true },
      );
    }

    // run the schedule
    while (wallNow() < run.endAt && options.signal?.aborted !== true) {
      options.onProgress?.(Math.min(0.95, (wallNow() - started) / (run.endAt - started + 2000)));
      await sleep(Math.min(100, Math.max(1, run.endAt - wallNow())));
    }
    if (wallNow() < run.endAt) {
      run.endAt = wallNow();
      for (const p of producers) p.tell({ type: 'stop' });
    }
    await soakTask?.stop();
    for (const timer of timers) clearTimeout(timer);
    for (const fault of run.faults) heal(fault);
    chaos.healAll();

    // final drain: every reliable channel confirmed, then quiet
    const drainStart = wallNow();
    const budget = Math.max(options.quick ? 5000 : 15_000, durationMs * 0.5);
    while (wallNow() - drainStart < budget) {
      const statuses = await Promise.allSettled(producers.map((p) => p.ask({ type: 'status' }, { timeoutMs: 1000 }) as Promise<{ unconfirmed: number }>));
      if (statuses.every((s) => s.status === 'fulfilled' && s.value.unconfirmed === 0)) {
        drained = true;
        break;
      }
      await sleep(50);
    }
    let lastCount = -1;
    for (let i = 0; i < 30 && history.length !== lastCount; i++) {
      lastCount = history.length;
      await sleep(100);
      skipped += log.drain((f, o) => append(toRecord(f, o)));
    }
    drainMs = Math.round(wallNow() - drainStart);
  } catch (e) {
    error = e instanceof UsageError ? e.message : `${(e as Error)?.message ?? String(e)}`;
  } finally {
    await soakTask?.destroy();
    for (const timer of timers) clearTimeout(timer);
    if (system !== undefined) await Promise.race([system.shutdown().catch(() => undefined), sleep(5000)]);
    stopRecording?.();
    clearInterval(pump);
    skipped += log.drain((f, o) => append(toRecord(f, o)), 0);
    if (!runWritten) {
      history.unshift(run);
      pending.unshift(JSON.stringify(run));
      runWritten = true;
    }
  }

  const end: HistoryRecord = { type: 'end', at: wallNow(), drained, drainMs, historyDropped: log.dropped, historySkipped: skipped };
  if (error !== undefined) end.error = error;
  append(end);
  flush();
  await closeStream(out);

  let ledger: Ledger = check(history);
  let faults: FaultReport[] = [];
  let timeline: TimelineBucket[] = [];
  let timelineEndMs = 0;
  if (run.t0 > 0) {
    try {
      const m = measure(history);
      faults = m.faults;
      timeline = m.timeline;
      timelineEndMs = m.endMs;
    } catch (e) {
      error ??= `measuring failed: ${(e as Error).message}`;
    }
  } else {
    ledger = check([]);
  }
  const reasons: string[] = [];
  if (error !== undefined) reasons.push(`run error: ${error}`);
  const r = ledger.totals.reliable;
  if (r.lost > 0) reasons.push(`reliable: ${r.lost} lost`);
  if (r.duplicated > 0) reasons.push(`reliable: ${r.duplicated} duplicated`);
  if (r.outOfOrder > 0) reasons.push(`reliable: ${r.outOfOrder} out of order`);
  if (r.unexpected > 0) reasons.push(`reliable: ${r.unexpected} unexpected`);
  const a = ledger.totals['at-most-once'];
  if (a.unreported > 0) reasons.push(`at-most-once: ${a.unreported} of ${a.lost} lost without a dead letter`);
  if (checksum && ledger.corruptDelivered > 0) reasons.push(`${ledger.corruptDelivered} damaged messages delivered with the record checksum on`);
  if (run.t0 > 0 && r.attempted === 0) reasons.push('reliable: nothing was sent');
  if (!drained && error === undefined) reasons.push('reliable channels did not drain after the heal');
  if (log.dropped > 0 || skipped > 0) reasons.push(`history incomplete: ${log.dropped} records dropped, ${skipped} skipped`);
  if (escalated) reasons.push('the root supervisor escalated: the system stopped');
  for (const f of faults) if (f.injectError !== undefined) reasons.push(`fault ${f.id} (${f.label}) could not be injected: ${f.injectError}`);
  const warnings: string[] = [];
  const stallTimeoutMs = scenario.system?.stallTimeoutMs ?? 500;
  for (const f of faults) {
    const spec = run.faults.find((x) => x.id === f.id)?.action;
    const expectsEvent = spec !== undefined && ['kill-worker', 'exit-worker', 'exhaust-heap', 'crash-actor', 'poison'].includes(spec.kind);
    const longStall = spec?.kind === 'stall-worker' && (spec.ms === undefined || spec.ms > stallTimeoutMs);
    if ((expectsEvent || longStall) && f.detect === null) {
      warnings.push(`fault ${f.id} (${f.label}): no runtime event observed; the injection may not have reached its target (a control record crosses the lanes too)`);
    }
  }
  const pass = reasons.length === 0;
  const outcome: RunSummary['outcome'] = scenario.knownIssue === undefined ? (pass ? 'pass' : 'fail') : pass ? 'xpass' : 'xfail';
  const summary: RunSummary = {
    scenario: scenario.name,
    description: scenario.description,
    seed,
    durationMs,
    quick: options.quick,
    workers,
    rate,
    sloMs,
    modes: kModes,
    checksum,
    replay: options.replay,
    pass,
    reasons,
    outcome,
    ...(scenario.knownIssue === undefined ? {} : { knownIssue: scenario.knownIssue }),
    warnings,
    ledger,
    faults,
    timeline,
    timelineEndMs,
    drained,
    drainMs,
    historyRecords: history.length,
    historyDropped: log.dropped,
    historySkipped: skipped,
    escalated,
    startedAt: new Date(started).toISOString(),
    wallMs: Date.now() - started,
    machine: machineInfo(),
    files,
  };
  if (error !== undefined) summary.error = error;
  return finishRun(summary, options);
}

/** Writes a run's summary.json and report.html (a report that fails to render fails the run). */
export async function finishRun(summary: RunSummary, options: Pick<RunOptions, 'render' | 'onProgress'>): Promise<RunSummary> {
  writeFileSync(summary.files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  if (options.render !== undefined) {
    try {
      writeFileSync(summary.files.report, await options.render(summary));
    } catch (e) {
      summary.reasons.push(`report failed: ${(e as Error).message}`);
      summary.pass = false;
      writeFileSync(summary.files.summary, `${JSON.stringify(summary, null, 2)}\n`);
    }
  }
  options.onProgress?.(1);
  return summary;
}

/** The machine a run ran on, for its summary. */
export const machineInfo = (): RunSummary['machine'] => ({ node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length });

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}

/** One record of the shared-memory log as a history line. */
function toRecord(f: Float64Array, o: number): HistoryRecord {
  const at = f[o + 1];
  const pair = pairName(f[o + 4], f[o + 5]);
  switch (f[o]) {
    case Kind.send:
      return { type: 'send', at, pair, mode: modeName(f[o + 6]), k: f[o + 3], intended: f[o + 2], inc: f[o + 7] };
    case Kind.fail:
      return { type: 'fail', at, pair, mode: modeName(f[o + 6]), k: f[o + 3], code: ['', 'TROUPE_ERR_RELIABLE_BUFFER_FULL', 'TROUPE_ERR_MAILBOX_FULL', 'TROUPE_ERR_SYSTEM_STOPPED', 'other'][f[o + 7]] ?? 'other' };
    case Kind.confirm:
      return { type: 'confirm', at, pair, mode: 'reliable', k: f[o + 3], inc: f[o + 7] };
    case Kind.recv:
      return { type: 'recv', at, pair, mode: modeName(f[o + 6]), k: f[o + 3], intended: f[o + 2], inc: f[o + 7] };
    case Kind.corrupt: {
      const record: HistoryRecord = { type: 'corrupt', at, to: hostName(f[o + 5]), inc: f[o + 7] };
      if (f[o + 4] >= 0 && Number.isInteger(f[o + 4]) && f[o + 4] < 64) record.pair = pair;
      return record;
    }
    case Kind.resend:
      return { type: 'resend', at, pair, mode: 'reliable', count: f[o + 3], reason: ['', 'timeout', 'nak', 'fresh-consumer'][f[o + 7]] ?? 'other' };
    case Kind.dedup:
      return { type: 'dedup', at, pair, mode: 'reliable' };
    case Kind.deadLetter: {
      // fields: at, host + 256 × reason, k, from, target, sender, count (-1: absent)
      const record: HistoryRecord = { type: 'dead-letter', at, host: hostName(f[o + 2] % kHostBits), reason: kDeadLetterReasons[Math.floor(f[o + 2] / kHostBits)] ?? 'other', target: f[o + 5], count: f[o + 7] };
      if (f[o + 6] >= 0) record.sender = f[o + 6];
      if (f[o + 3] >= 0 && f[o + 4] >= 0) {
        record.k = f[o + 3];
        record.from = hostName(f[o + 4]);
      }
      return record;
    }
    case Kind.producerStart:
      return { type: 'producer-start', at, host: hostName(f[o + 4]), inc: f[o + 7] };
    case Kind.consumerStart:
      return { type: 'consumer-start', at, host: hostName(f[o + 5]), inc: f[o + 7] };
    default:
      return { type: 'event', at, event: `unknown-record-${f[o]}`, host: '?' };
  }
}

function linkLanes(a: Extract<ResolvedAction, { kind: 'link' }>, workers: number): string[] {
  const all: HostName[] = ['main', ...Array.from({ length: workers }, (_, i) => i)];
  const lanes: string[] = [];
  for (const f of a.from === '*' ? all : [a.from]) for (const t of a.to === '*' ? all : [a.to]) if (f !== t) lanes.push(`${f}>${t}`);
  return lanes;
}

/** The workload's actors by host index. A fault on 'the consumer' of a host hits both of its consumers (both modes see it). */
interface Workload {
  consumers: ActorRef[];
  tells: ActorRef[];
  producers: ActorRef[];
}

async function apply(chaos: Chaos, a: ResolvedAction, w: Workload, workers: number): Promise<void> {
  const index = (h: HostName) => (h === 'main' ? 0 : h + 1);
  const all: HostName[] = ['main', ...Array.from({ length: workers }, (_, i) => i)];
  switch (a.kind) {
    case 'partition':
      return chaos.partition(a.groups);
    case 'split':
      return chaos.split(a.a, a.b, { oneWay: a.oneWay });
    case 'cut':
      return chaos.cut(a.from, a.to);
    case 'isolate':
      return chaos.isolate(a.host);
    case 'bridge':
      return chaos.bridge(a.a, a.b, a.bridge);
    case 'ring-of-majorities':
      return chaos.ringOfMajorities();
    case 'link': {
      const { kind: _kind, from, to, ...faults } = a;
      for (const f of from === '*' ? all : [from]) for (const t of to === '*' ? all : [to]) if (f !== t) chaos.link(f, t, faults);
      return;
    }
    case 'throttle':
      return chaos.throttle(a.host, a.recordsPerMs);
    case 'kill-worker':
      return chaos.killWorker(a.worker);
    case 'exit-worker':
      return chaos.exitWorker(a.worker, a.code);
    case 'stall-worker':
      return chaos.stallWorker(a.worker, a.ms);
    case 'exhaust-heap':
      return chaos.exhaustHeap(a.worker);
    case 'crash-actor': {
      const targets = a.actor === 'consumer' ? [w.consumers, w.tells] : [w.producers];
      for (const refs of targets) if (!chaos.crashActor(refs[index(a.host)])) throw new Error(`the ${a.actor} on ${a.host} is not running`);
      return;
    }
    case 'poison':
      w.consumers[index(a.host)].tell({ poison: true });
      w.tells[index(a.host)].tell({ poison: true });
      return;
    case 'kill-process':
      throw new Error('kill-process is a process scenario fault: chaos/process/runner.ts runs it');
    case 'kill-node':
    case 'isolate-node':
    case 'kill-nats':
      throw new Error(`${a.kind} is a cluster scenario fault: chaos/cluster/runner.ts runs it`);
  }
}

/** How a fault is healed, if it lasts: its own lanes only, so overlapping faults end on their own schedule. */
function undoOf(a: ResolvedAction): ((chaos: Chaos, lanes: string[]) => void) | undefined {
  const parse = (lane: string): [HostName, HostName] => lane.split('>').map((h) => (h === 'main' ? 'main' : Number(h))) as [HostName, HostName];
  if (a.kind === 'link') {
    return (chaos, lanes) => {
      for (const lane of lanes) chaos.link(...parse(lane), {});
    };
  }
  if (kLaneKinds.has(a.kind)) {
    return (chaos, lanes) => {
      for (const lane of lanes) chaos.heal(...parse(lane));
    };
  }
  if (a.kind === 'throttle') return (chaos) => chaos.throttle(a.host, 0);
  return undefined;
}

export { label };
