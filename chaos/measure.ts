/**
 * What each fault did, measured from the history:
 * - time to detect: from injection to the first signal that something is
 *   wrong (a runtime event for worker and actor faults; for lane faults the
 *   runtime has none, so the reliable layer's first resend, or a dead letter
 *   for an undecodable record);
 * - time to recover: from the fault's end (heal) or the death it caused
 *   (worker exit or stall verdict, actor crash) to the first delivery of a
 *   message sent since the fault began, and to throughput back at 95% of the
 *   steady state (three 100 ms buckets in a row on average);
 * - availability during the fault: of the messages the schedule meant to send
 *   in the fault window on the pairs it touches, the share delivered within
 *   the scenario's SLO (slots a dead producer never sent count as missed);
 * - latency p50/p99/p999 before, during and after, from the intended send time;
 * - a throughput and latency timeline in 100 ms buckets.
 */
import type { HistoryRecord, PairName, RunRecord } from './history.js';
import type { ResolvedFault } from './scenario.js';
import type { ModeName } from './workload/payload.js';

export const kBucketMs = 100;

export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

export interface ModeRecovery {
  /** Fault end or death → first delivery of a message sent since the fault began. */
  firstSuccessMs: number | null;
  /** Fault end or death → throughput back at ≥ 95% of the steady state. */
  to95Ms: number | null;
  /** Share of the fault window's scheduled messages delivered within the SLO. */
  availability: number | null;
  latency: { before: Percentiles; during: Percentiles; after: Percentiles };
  steadyPerSec: number;
}

export interface FaultReport {
  id: number;
  label: string;
  kind: string;
  /** ms from t0. */
  start: number;
  end: number;
  affectedPairs: PairName[];
  detect: { ms: number; signal: string } | null;
  /** What the recovery clock starts from, and when (ms from t0). */
  recoveryFrom: { what: string; at: number };
  modes: Partial<Record<ModeName, ModeRecovery>>;
  injectError?: string;
}

export interface TimelineBucket {
  /** ms from t0 of the bucket's start. */
  t: number;
  mode: ModeName;
  sentPerSec: number;
  receivedPerSec: number;
  p50: number | null;
  p99: number | null;
}

export interface Measures {
  faults: FaultReport[];
  timeline: TimelineBucket[];
  /** ms from t0 where the timeline ends. */
  endMs: number;
}

interface Delivery {
  at: number;
  intended: number;
  pair: PairName;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p99: null, p999: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: round(sorted[sorted.length - 1]) };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function measure(history: HistoryRecord[]): Measures {
  const run = history.find((r): r is RunRecord => r.type === 'run');
  if (run === undefined) throw new Error('history has no run record');
  const t0 = run.t0;
  // first deliveries per mode (a redelivery is not a new success)
  const first = new Map<ModeName, Delivery[]>();
  const seen = new Set<string>();
  const sends = new Map<ModeName, { at: number }[]>();
  const events: Extract<HistoryRecord, { type: 'event' }>[] = [];
  const resends: { at: number; pair: PairName; reason: string }[] = [];
  const faultRecords: Extract<HistoryRecord, { type: 'fault' }>[] = [];
  let last = run.endAt;
  for (const r of history) {
    if (r.type === 'recv') {
      const key = `${r.mode}|${r.pair}|${r.k}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let list = first.get(r.mode);
      if (list === undefined) first.set(r.mode, (list = []));
      list.push({ at: r.at, intended: r.intended, pair: r.pair });
      if (r.at > last) last = r.at;
    } else if (r.type === 'send') {
      let list = sends.get(r.mode);
      if (list === undefined) sends.set(r.mode, (list = []));
      list.push({ at: r.intended });
    } else if (r.type === 'event') events.push(r);
    else if (r.type === 'resend') resends.push(r);
    else if (r.type === 'dedup') resends.push({ at: r.at, pair: r.pair, reason: 'duplicate dropped' });
    else if (r.type === 'fault') faultRecords.push(r);
  }
  for (const list of first.values()) list.sort((a, b) => a.at - b.at);
  // the main thread learns of records in batches, per thread: put each signal list in time order
  events.sort((a, b) => a.at - b.at);
  resends.sort((a, b) => a.at - b.at);
  const endMs = Math.ceil((last - t0) / kBucketMs) * kBucketMs;
  const buckets = Math.max(1, endMs / kBucketMs);

  const timeline: TimelineBucket[] = [];
  for (const mode of run.modes) {
    const received = new Array<number>(buckets).fill(0);
    const sent = new Array<number>(buckets).fill(0);
    const lat: number[][] = Array.from({ length: buckets }, () => []);
    for (const d of first.get(mode) ?? []) {
      const b = Math.floor((d.at - t0) / kBucketMs);
      if (b < 0 || b >= buckets) continue;
      received[b]++;
      lat[b].push(d.at - d.intended);
    }
    for (const s of sends.get(mode) ?? []) {
      const b = Math.floor((s.at - t0) / kBucketMs);
      if (b >= 0 && b < buckets) sent[b]++;
    }
    for (let b = 0; b < buckets; b++) {
      const p = percentiles(lat[b]);
      timeline.push({ t: b * kBucketMs, mode, sentPerSec: sent[b] * (1000 / kBucketMs), receivedPerSec: received[b] * (1000 / kBucketMs), p50: p.p50, p99: p.p99 });
    }
  }

  const allPairs = new Set<PairName>();
  for (const from of run.hosts) for (const to of run.hosts) if (from !== to) allPairs.add(`${from}>${to}`);
  const consumerHost = new Map<number, string>([...Object.entries(run.actors.consumers), ...Object.entries(run.actors.tells ?? {})].map(([h, id]) => [id, h]));
  const producerHost = new Map<number, string>(Object.entries(run.actors.producers).map(([h, id]) => [id, h]));

  const faults: FaultReport[] = [];
  const sorted = [...run.faults].sort((a, b) => a.at - b.at);
  sorted.forEach((fault, index) => {
    const inject = faultRecords.find((r) => r.id === fault.id && r.action === 'inject');
    const heal = faultRecords.find((r) => r.id === fault.id && r.action === 'heal');
    const injectAt = inject?.at ?? t0 + fault.at;
    const windowEnd = heal?.at ?? injectAt + fault.for;
    const affected = affectedPairs(fault, inject?.lanes, allPairs);
    const { detect, recoveryFrom } = detection(fault, injectAt, windowEnd, events, resends, affected, consumerHost, producerHost);
    const previousEnd = index === 0 ? t0 : Math.max(t0, ...sorted.slice(0, index).map((f) => t0 + f.at + f.for));
    const nextStart = index + 1 < sorted.length ? t0 + sorted[index + 1].at : last;
    const modes: FaultReport['modes'] = {};
    for (const mode of run.modes) {
      const deliveries = (first.get(mode) ?? []).filter((d) => affected.includes(d.pair));
      modes[mode] = recovery(run, deliveries, affected.length, injectAt, windowEnd, recoveryFrom.at, previousEnd, nextStart);
    }
    const report: FaultReport = {
      id: fault.id,
      label: fault.label,
      kind: fault.action.kind,
      start: round(injectAt - t0),
      end: round(windowEnd - t0),
      affectedPairs: affected,
      detect,
      recoveryFrom: { what: recoveryFrom.what, at: round(recoveryFrom.at - t0) },
      modes,
    };
    if (inject?.error !== undefined) report.injectError = inject.error;
    faults.push(report);
  });
  return { faults, timeline, endMs };
}

const kLaneKinds = new Set(['partition', 'split', 'cut', 'isolate', 'bridge', 'ring-of-majorities', 'link']);

/** The pairs a fault can touch: a faulted lane carries one pair's data or its acks. */
export function affectedPairs(fault: ResolvedFault, lanes: string[] | undefined, all: Set<PairName>): PairName[] {
  const a = fault.action;
  const pairs = [...all];
  const host = (h: string | number) => String(h);
  if (kLaneKinds.has(a.kind)) {
    const cut = new Set(lanes ?? []);
    return pairs.filter((p) => {
      const [from, to] = p.split('>');
      return cut.has(`${from}>${to}`) || cut.has(`${to}>${from}`);
    });
  }
  switch (a.kind) {
    case 'throttle':
      return pairs.filter((p) => p.split('>').includes(host(a.host)));
    case 'kill-worker':
    case 'exit-worker':
    case 'stall-worker':
    case 'exhaust-heap':
      return pairs.filter((p) => p.split('>').includes(host(a.worker)));
    case 'crash-actor':
      return pairs.filter((p) => p.split('>')[a.actor === 'consumer' ? 1 : 0] === host(a.host));
    case 'poison':
      return pairs.filter((p) => p.split('>')[1] === host(a.host));
    default:
      return pairs;
  }
}

function detection(
  fault: ResolvedFault,
  injectAt: number,
  windowEnd: number,
  events: Extract<HistoryRecord, { type: 'event' }>[],
  resends: { at: number; pair: PairName; reason: string }[],
  affected: PairName[],
  consumerHost: Map<number, string>,
  producerHost: Map<number, string>,
): { detect: FaultReport['detect']; recoveryFrom: { what: string; at: number } } {
  const a = fault.action;
  const after = (e: { at: number }) => e.at >= injectAt - 1;
  const firstEvent = (pred: (e: Extract<HistoryRecord, { type: 'event' }>) => boolean) => events.find((e) => after(e) && pred(e));
  const found = (e: { at: number } | undefined, signal: string) => (e === undefined ? null : { ms: round(e.at - injectAt), signal });
  switch (a.kind) {
    case 'kill-worker':
    case 'exit-worker':
    case 'exhaust-heap':
    case 'stall-worker': {
      const w = String(a.worker);
      const stalled = a.kind === 'stall-worker' ? firstEvent((e) => e.event === 'worker.stalled' && e.host === w) : undefined;
      const exited = firstEvent((e) => e.event === 'worker.exited' && e.host === w);
      const death = stalled ?? exited;
      if (death !== undefined) return { detect: found(death, death.event), recoveryFrom: { what: death.event, at: death.at } };
      // A stall shorter than the stall timeout is a pause: nothing to detect, recovery counts from its end.
      const end = a.kind === 'stall-worker' && a.ms !== undefined ? injectAt + a.ms : injectAt;
      return { detect: null, recoveryFrom: { what: a.kind === 'stall-worker' ? 'stall end' : 'injection', at: end } };
    }
    case 'crash-actor':
    case 'poison': {
      const targetHost = String(a.host);
      const actorOf = a.kind === 'crash-actor' && a.actor === 'producer' ? producerHost : consumerHost;
      const crashed = firstEvent((e) => e.event === 'actor.crashed' && e.id !== undefined && actorOf.get(e.id) === targetHost);
      return { detect: found(crashed, 'actor.crashed'), recoveryFrom: crashed === undefined ? { what: 'injection', at: injectAt } : { what: 'actor.crashed', at: crashed.at } };
    }
    default: {
      const resend = resends.find((r) => after(r) && r.at <= windowEnd + 5000 && affected.includes(r.pair));
      const dead = a.kind === 'link' && (a.corruptRate ?? 0) > 0 ? firstEvent((e) => e.event === 'deadLetter' && (e.reason === 'decode-failed' || e.reason === 'checksum-failed')) : undefined;
      const candidates = [
        resend === undefined ? undefined : { at: resend.at, signal: resend.reason === 'duplicate dropped' ? 'reliable layer dropped a duplicate' : `reliable resend (${resend.reason})` },
        dead === undefined ? undefined : { at: dead.at, signal: `deadLetter ${String(dead.reason)}` },
      ].filter((c): c is { at: number; signal: string } => c !== undefined && c.at <= windowEnd + 5000);
      candidates.sort((x, y) => x.at - y.at);
      const detect = candidates.length === 0 ? null : { ms: round(candidates[0].at - injectAt), signal: candidates[0].signal };
      return { detect, recoveryFrom: { what: 'heal', at: windowEnd } };
    }
  }
}

function recovery(
  run: RunRecord,
  deliveries: Delivery[],
  pairCount: number,
  injectAt: number,
  windowEnd: number,
  from: number,
  previousEnd: number,
  nextStart: number,
): ModeRecovery {
  const t0 = run.t0;
  const offeredPerBucket = (run.rate * pairCount * kBucketMs) / 1000;
  // steady state: median of the buckets before the fault, the first 300 ms of the run left out
  const counts = new Map<number, number>();
  for (const d of deliveries) {
    const b = Math.floor((d.at - t0) / kBucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const firstSteady = Math.max(3, Math.floor((previousEnd - t0) / kBucketMs) + 3);
  const lastSteady = Math.floor((injectAt - t0) / kBucketMs) - 1;
  const pre: number[] = [];
  for (let b = firstSteady; b <= lastSteady; b++) pre.push(counts.get(b) ?? 0);
  pre.sort((x, y) => x - y);
  const steady = pre.length >= 3 ? pre[Math.floor(pre.length / 2)] : offeredPerBucket;

  const firstOk = deliveries.find((d) => d.at >= from && d.intended >= injectAt);
  const firstSuccessMs = firstOk === undefined ? null : round(firstOk.at - from);
  let to95Ms: number | null = null;
  const endBucket = Math.floor((run.endAt - t0) / kBucketMs);
  for (let b = Math.floor((from - t0) / kBucketMs); b + 2 <= endBucket; b++) {
    const mean = ((counts.get(b) ?? 0) + (counts.get(b + 1) ?? 0) + (counts.get(b + 2) ?? 0)) / 3;
    if (steady > 0 && mean >= 0.95 * steady) {
      to95Ms = round(Math.max(0, t0 + (b + 1) * kBucketMs - from));
      break;
    }
  }

  // availability: every slot the schedule meant to send in the window, per pair
  const slotsIn = (a: number, b: number) => Math.max(0, Math.ceil(((b - t0) * run.rate) / 1000) - Math.ceil(((a - t0) * run.rate) / 1000));
  const scheduled = slotsIn(injectAt, Math.min(windowEnd, run.endAt)) * pairCount;
  const inWindow = deliveries.filter((d) => d.intended >= injectAt && d.intended < windowEnd);
  const onTime = inWindow.filter((d) => d.at - d.intended <= run.sloMs).length;
  const availability = scheduled === 0 ? null : Math.round((Math.min(onTime, scheduled) / scheduled) * 10_000) / 10_000;

  const phase = (a: number, b: number) => percentiles(deliveries.filter((d) => d.intended >= a && d.intended < b).map((d) => d.at - d.intended));
  return {
    firstSuccessMs,
    to95Ms,
    availability,
    latency: { before: phase(previousEnd, injectAt), during: phase(injectAt, windowEnd), after: phase(windowEnd, Math.max(windowEnd, nextStart)) },
    steadyPerSec: round(steady * (1000 / kBucketMs)),
  };
}
