/**
 * Runs a cluster scenario: several troupe nodes, each a child process
 * (node.ts), over a real nats-server (or a 3-server NATS cluster) and one
 * real PostgreSQL journal they share. The workload is durable ledgers as
 * entities (`system.entity`), placed on the ring over every node; the client
 * is this process, sending through node 0 (the front), which no fault
 * targets. Faults hit the other nodes and the NATS servers:
 *
 * - kill-node: SIGKILL a node's process; it starts again `for` later, as a
 *   new incarnation. Its entities move to the survivors (and back) and
 *   recover there from the shared journal.
 * - isolate-node: the node is cut off from NATS both ways for `for`; if the
 *   others declared it down meanwhile it is restarted after the heal, as the
 *   partition rules say (docs/guide/cluster.md).
 * - kill-nats: SIGKILL one server of the NATS cluster; the nodes on it move
 *   to the others; it starts again `for` later.
 *
 * An append is acknowledged once its persist resolved; one that fails (node
 * down, ask timeout, a journal conflict between two activations) is a typed
 * failure the client sees, and may or may not be in the journal. The
 * verdict comes from the journal alone: after the run a fresh process (no
 * cluster) reads every ledger back for the same checker as the process
 * scenarios (../process/checker.ts): every acknowledged append there once,
 * in order, nothing unsent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startNats, startNatsCluster } from '../../bench/nats-server.js';
import { startPostgres, type PgServer } from '../../bench/pg-server.js';
import { buildTimeline, faultReport, type Ack, type Kill } from '../process/runner.js';
import { checkLedgers, type ClientLedger } from '../process/checker.js';
import { SystemProcess } from '../process/system-process.js';
import type { RunOptions, RunSummary } from '../runner.js';
import { finishLedgerRun, ledgerReasons } from '../process/ledger-summary.js';
import { resolveCluster, resolveScenario, UsageError, type ResolvedFault } from '../scenario.js';
import { wallNow } from '../workload/history-log.js';

const kNode = fileURLToPath(new URL('./node.js', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ClusterFaultRecovery {
  fault: number;
  kind: 'kill-node' | 'isolate-node' | 'kill-nats';
  target: string;
  /** Fault start → every ledger has acknowledged an append sent after it (its entities answering again, wherever they are). */
  allAnsweredMs: number | null;
  /** kill-node, and isolate-node when the node was restarted: fault start → the front saw the new incarnation up. */
  rejoinMs: number | null;
  /** The front declared the target node down during the fault (always expected of a kill longer than the detector's down time). */
  declaredDown: boolean;
}

export interface ClusterOutcome {
  nodes: number;
  natsServers: number;
  faults: ClusterFaultRecovery[];
  /** Membership events the front node reported while the workload ran, by type. */
  events: Record<string, number>;
  /** Appends refused with a typed error, by code (allowed: each may or may not be in the journal). */
  failures: Record<string, number>;
  /** Refused appends the journal holds anyway (the node had persisted before the answer was lost). */
  failedApplied: number;
}

interface FrontEvent {
  at: number;
  type: string;
  node: string;
  incarnation: number;
}

export async function runClusterScenario(options: RunOptions): Promise<RunSummary> {
  const { scenario, seed, durationMs } = options;
  const started = Date.now();
  const resolved = resolveScenario(scenario, { seed, durationMs });
  const c = resolveCluster(scenario)!;
  const { ledgers, inflight } = c;
  mkdirSync(options.outDir, { recursive: true });
  const files = { history: `${options.outDir}/history.jsonl`, summary: `${options.outDir}/summary.json`, report: `${options.outDir}/report.html` };
  const history: object[] = [];
  const event = (name: string, extra: object = {}) => history.push({ type: 'event', at: wallNow(), event: name, host: 'cluster', ...extra });
  const names = Array.from({ length: c.nodes }, (_, i) => `n${i}`);
  const clusterName = `chaos-${process.pid}-${seed}`;

  const client: ClientLedger[] = Array.from({ length: ledgers }, () => ({ sent: [], acked: new Set(), failed: new Set(), indeterminate: new Set() }));
  const outstanding: Map<number, number>[] = Array.from({ length: ledgers }, () => new Map());
  const nextK = new Array<number>(ledgers).fill(1);
  const sends: number[] = [];
  const acks: (Ack & { ledger: number })[] = [];
  const failures = new Map<string, number>();
  const frontEvents: FrontEvent[] = [];
  const nodes: (SystemProcess | undefined)[] = new Array(c.nodes).fill(undefined);
  let sending = false;
  let error: string | undefined;
  let t0 = 0;
  let endAt = 0;
  /** When the client stopped sending: membership events after it (the nodes' goodbyes) are not the faults'. */
  let workloadEnd = Number.POSITIVE_INFINITY;

  const front = (): SystemProcess | undefined => nodes[0];
  const refill = (ledger: number): void => {
    const proc = front();
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
  const onFrontLine = (line: string): void => {
    const [word, a, b, code] = line.split(' ');
    if (word === 'event') {
      frontEvents.push({ at: wallNow(), type: a!, node: b!, incarnation: Number(code) });
      event(`front.${a}`, { node: b, incarnation: Number(code), reason: line.split(' ')[4] });
      return;
    }
    const ledger = Number(a);
    const k = Number(b);
    const entry = client[ledger];
    if (entry === undefined || (word !== 'ok' && word !== 'fail')) {
      error ??= `the front node printed ${JSON.stringify(line.slice(0, 200))}`;
      return;
    }
    const sentAt = outstanding[ledger]!.get(k);
    outstanding[ledger]!.delete(k);
    if (word === 'ok') {
      entry.acked.add(k);
      if (sentAt !== undefined) acks.push({ ledger, sentAt, at: wallNow() });
    } else {
      entry.failed.add(k);
      failures.set(code ?? 'ERROR', (failures.get(code ?? 'ERROR') ?? 0) + 1);
    }
    refill(ledger);
  };

  let pg: PgServer | undefined;
  let nats: { urls: string[]; kill(i: number): Promise<void>; start(i: number): Promise<void>; stop(): Promise<void> } | undefined;
  const startNode = (i: number, role: 'front' | 'member' | 'verifier'): Promise<SystemProcess> =>
    new Promise((resolve, reject) => {
      event('node.started', { node: names[i], role });
      let settled = false;
      const proc = new SystemProcess({
        script: kNode,
        args: [role, names[i]!, nats!.urls.join(','), clusterName, pg!.connectionString, String(ledgers), String(c.workers), role === 'front' ? names.slice(1).join(',') : ''],
        onLine: (line) => {
          if (role === 'front') onFrontLine(line);
          else error ??= `node ${names[i]} printed ${JSON.stringify(line.slice(0, 200))}`;
        },
        onReady: (startupMs) => {
          event('node.ready', { node: names[i], role, startupMs });
          settled = true;
          resolve(proc);
        },
        onUnexpectedExit: (how, stderr) => {
          const why = `node ${names[i]} (${role}) exited with ${how}: ${stderr.trim().split('\n').slice(-5).join(' / ') || '(no stderr)'}`;
          if (!settled) reject(new Error(why));
          else error ??= why;
        },
      });
    });
  /** The front saw node `i` up as an incarnation it had not seen before `since`. */
  const rejoined = (i: number, since: number): number | undefined => frontEvents.find((e) => e.type === 'nodeUp' && e.node === names[i] && e.at >= since)?.at;
  const declaredDown = (i: number, since: number): boolean => frontEvents.some((e) => e.type === 'nodeDown' && e.node === names[i] && e.at >= since);
  const restartNode = async (i: number): Promise<void> => {
    await nodes[i]?.kill();
    nodes[i] = undefined;
    nodes[i] = await startNode(i, 'member');
  };

  const recoveries: { fault: ResolvedFault; at: number; rejoinAt: number | null; down: boolean }[] = [];
  const runFault = async (fault: ResolvedFault): Promise<void> => {
    const a = fault.action;
    const at = wallNow();
    history.push({ type: 'fault', at, action: 'inject', id: fault.id, label: fault.label, kind: a.kind });
    const record = { fault, at, rejoinAt: null as number | null, down: false };
    recoveries.push(record);
    const heal = () => history.push({ type: 'fault', at: wallNow(), action: 'heal', id: fault.id, label: fault.label, kind: a.kind });
    if (a.kind === 'kill-node') {
      await nodes[a.node]?.kill();
      nodes[a.node] = undefined;
      await sleep(Math.max(0, at + fault.for - wallNow()));
      heal();
      nodes[a.node] = await startNode(a.node, 'member');
      record.rejoinAt = (await until(() => rejoined(a.node, at), 30_000)) ?? null;
      record.down = declaredDown(a.node, at);
    } else if (a.kind === 'isolate-node') {
      nodes[a.node]?.send('isolate on');
      await sleep(Math.max(0, at + fault.for - wallNow()));
      nodes[a.node]?.send('isolate off');
      heal();
      record.down = declaredDown(a.node, at);
      // Declared down, it is a dead incarnation to the others (and they to it): restarted, it rejoins as a new one.
      if (record.down) {
        const restartAt = wallNow();
        await restartNode(a.node);
        record.rejoinAt = (await until(() => rejoined(a.node, restartAt), 30_000)) ?? null;
      }
    } else if (a.kind === 'kill-nats') {
      await nats!.kill(a.server);
      await sleep(Math.max(0, at + fault.for - wallNow()));
      heal();
      await nats!.start(a.server);
    }
  };
  const until = async <T>(probe: () => T | undefined, budgetMs: number): Promise<T | undefined> => {
    const deadline = wallNow() + budgetMs;
    for (;;) {
      const value = probe();
      if (value !== undefined || wallNow() > deadline || error !== undefined) return value;
      await sleep(10);
    }
  };

  let drained = false;
  let drainMs = 0;
  let recovered: number[][] = [];
  try {
    pg = await startPostgres();
    nats = c.natsServers === 3 ? await startNatsCluster(3) : await single();
    // Members first: the front waits until it sees every one up, so the ring is whole before the first append.
    const members = await Promise.all(names.slice(1).map((_, j) => startNode(j + 1, 'member')));
    members.forEach((proc, j) => (nodes[j + 1] = proc));
    nodes[0] = await startNode(0, 'front');
    t0 = wallNow();
    endAt = t0 + durationMs;
    history.unshift({ type: 'run', scenario: scenario.name, description: scenario.description, seed, durationMs, quick: options.quick, cluster: c, t0, endAt, faults: resolved.faults, replay: options.replay, node: process.version });
    sending = true;
    for (let l = 0; l < ledgers; l++) refill(l);
    // Faults one after the other, each at its time (a restart may still be starting when the next one is due).
    let chain = Promise.resolve();
    const timers = resolved.faults.map((fault) => setTimeout(() => (chain = chain.then(() => runFault(fault))), Math.max(0, t0 + fault.at - wallNow())));
    while (wallNow() < endAt && error === undefined) {
      options.onProgress?.(Math.min(0.9, (wallNow() - t0) / (durationMs + 2000)));
      await sleep(Math.min(100, Math.max(1, endAt - wallNow())));
    }
    for (const timer of timers) clearTimeout(timer);
    await chain;
    // Every fault is owed its recovery: the workload runs on until each ledger answered after the last one.
    const lastFault = recoveries.at(-1)?.at ?? t0;
    await until(() => (client.every((_, l) => acks.some((x) => x.ledger === l && x.sentAt >= lastFault)) ? true : undefined), 30_000);
    sending = false;
    workloadEnd = wallNow();

    // Drain: the front answers everything it was sent (an ask gives up after node.ts's timeout).
    const drainStart = wallNow();
    drained = (await until(() => (outstanding.every((o) => o.size === 0) ? true : undefined), 20_000)) === true;
    drainMs = Math.round(wallNow() - drainStart);
    await Promise.all(nodes.map((proc) => proc?.stop(15_000)));
    nodes.fill(undefined);

    // The verdict comes from the journal alone: a fresh process, no cluster, recovers every ledger and reads it.
    const verifier = await startNode(0, 'verifier');
    nodes[0] = verifier;
    recovered = await verifier.read(30_000);
    await verifier.stop(10_000);
    nodes[0] = undefined;
  } catch (e) {
    error ??= e instanceof UsageError ? e.message : `${(e as Error)?.message ?? String(e)}`;
  } finally {
    await Promise.all(nodes.map((proc) => proc?.kill()));
    await nats?.stop();
    await pg?.stop();
  }

  const ledger = checkLedgers(client, recovered);
  for (const [i, p] of ledger.pairs.entries()) {
    history.push({ type: 'ledger', ledger: i, sent: client[i]!.sent.length, acked: p.acknowledged, failed: client[i]!.failed.size, recovered: p.received, lostSample: p.lostSample });
  }
  history.push({ type: 'end', at: wallNow(), drained, drainMs, ...(error === undefined ? {} : { error }) });
  writeFileSync(files.history, `${history.map((r) => JSON.stringify(r)).join('\n')}\n`);

  const firstAnswerAfter = (from: number): number | null => {
    let worst = from;
    for (let l = 0; l < ledgers; l++) {
      let first: number | undefined;
      for (const x of acks) if (x.ledger === l && x.sentAt >= from && (first === undefined || x.at < first)) first = x.at;
      if (first === undefined) return null;
      worst = Math.max(worst, first);
    }
    return worst;
  };
  const recoveryOf = recoveries.map((r): ClusterFaultRecovery & { answeredAt: number | null } => {
    const a = r.fault.action;
    const answeredAt = firstAnswerAfter(r.at);
    return {
      fault: r.fault.id,
      kind: a.kind as ClusterFaultRecovery['kind'],
      target: a.kind === 'kill-nats' ? `nats-server ${a.server}` : a.kind === 'kill-node' || a.kind === 'isolate-node' ? names[a.node]! : '',
      allAnsweredMs: answeredAt === null ? null : Math.round(answeredAt - r.at),
      rejoinMs: r.rejoinAt === null ? null : Math.round(r.rejoinAt - r.at),
      declaredDown: r.down,
      answeredAt,
    };
  });
  const timelineEndMs = Math.max(0, Math.round(wallNow() - t0));
  const timeline = t0 > 0 ? buildTimeline(sends, acks, t0, endAt + drainMs) : [];
  const kills: Kill[] = recoveries.map((r, i) => ({ fault: r.fault, at: r.at, goneAt: r.at, readyAt: r.rejoinAt, startupMs: null, firstAnswerAt: recoveryOf[i]!.answeredAt }));
  const faults = t0 > 0 ? kills.map((kill, i) => faultReport(kill, kills[i + 1]?.at ?? endAt, i === 0 ? t0 : (kills[i - 1]!.firstAnswerAt ?? kills[i - 1]!.at), acks, timeline, t0, ledgers)) : [];
  // The process scenarios' report, with what a cluster fault is detected by and recovered from.
  faults.forEach((f, i) => {
    const r = recoveries[i]!;
    const downAt = frontEvents.find((e) => e.type === 'nodeDown' && e.at >= r.at && (r.fault.action.kind === 'kill-node' || r.fault.action.kind === 'isolate-node') && e.node === names[r.fault.action.node])?.at;
    f.detect = downAt === undefined ? null : { ms: Math.round(downAt - r.at), signal: 'nodeDown at the front' };
    f.recoveryFrom = { what: r.fault.label, at: f.start };
  });
  const eventCounts: Record<string, number> = {};
  for (const e of frontEvents) if (e.at >= t0 && e.at < workloadEnd) eventCounts[e.type] = (eventCounts[e.type] ?? 0) + 1;

  const reasons: string[] = [];
  if (error !== undefined) reasons.push(`run error: ${error}`);
  reasons.push(...ledgerReasons(ledger, t0 > 0));
  if (!drained && error === undefined) reasons.push('the front did not answer everything it was sent');
  if (error === undefined && recoveries.length < resolved.faults.length) reasons.push(`${resolved.faults.length - recoveries.length} of ${resolved.faults.length} faults never happened`);
  for (const f of recoveryOf) {
    if (f.allAnsweredMs === null && error === undefined) reasons.push(`fault ${f.fault} (${f.kind} ${f.target}): some ledger never answered again`);
    if (f.kind === 'kill-node' && f.rejoinMs === null && error === undefined) reasons.push(`fault ${f.fault}: ${f.target} restarted but the front never saw it up`);
  }
  return finishLedgerRun({
    options,
    started,
    workers: c.workers,
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
    workload: `${c.nodes} troupe nodes in child processes (${c.workers} worker${c.workers === 1 ? '' : 's'} each) over ${c.natsServers === 3 ? 'a 3-server NATS cluster' : 'one nats-server'} and one PostgreSQL journal; ${ledgers} durable ledgers as entities on the ring, ${inflight} appends in flight per ledger from a client outside, sent through node n0 (never a fault's target), each acknowledged once its persist resolved; ${durationMs / 1000} s; the "reliable" row counts durable appends, checked against a fresh process's reading of the journal`,
    extra: {
      cluster: {
        nodes: c.nodes,
        natsServers: c.natsServers,
        faults: recoveryOf.map(({ answeredAt: _, ...f }) => f),
        events: eventCounts,
        failures: Object.fromEntries(failures),
        failedApplied: client.reduce((n, entry, i) => n + [...entry.failed].filter((k) => recovered[i]?.includes(k)).length, 0),
      },
    },
  });
}

/** One nats-server, in the shape of a NATS cluster (kill-nats needs three: resolveScenario refuses it with one). */
async function single(): Promise<{ urls: string[]; kill(i: number): Promise<void>; start(i: number): Promise<void>; stop(): Promise<void> }> {
  const server = await startNats();
  const refuse = () => Promise.reject(new Error('kill-nats needs cluster.natsServers: 3'));
  return { urls: [server.url], kill: refuse, start: refuse, stop: () => server.stop() };
}
