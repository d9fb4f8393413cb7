/**
 * A Savina subset (Imam & Sarkar, "Savina — An Actor Benchmark Suite",
 * AGERE! 2014) with the paper's default parameters, as actors spread over
 * every worker. Baselines in the same run: xstate v5 (PingPong, Counting, one
 * thread) and Erlang/OTP (PingPong, ThreadRing) when `erl` is installed.
 *
 *   node dist/bench/savina.js [--quick] [--only ping-pong,thread-ring] [--runs N] [--workers N]
 *
 * `--only` picks benchmarks (the runner starts one process per benchmark);
 * without it every benchmark runs and the JSON line holds them all.
 */
import { availableParallelism } from 'node:os';
import { ActorSystem, type ActorRef, type HostName } from 'troupe';
import { runErlang, type ErlangOutcome } from './baselines/erlang.js';
import { xstateCounting, xstatePingPong } from './baselines/xstate-savina.js';
import { spawnMany } from './harness.js';
import { emit, intFlag, medianOf, medianRate, parseFlags, produce, progress, rateRun, repeat, round, showRate, type BenchResult, type RateRun, type SummaryRow } from './lib.js';
import { startBooted } from './system.js';
import type { BankReport } from './savina/bank.js';
import type { ChameneosReport } from './savina/chameneos.js';
import type { CountingReport } from './savina/counting.js';

const flags = parseFlags();
const quick = flags.quick;
const runs = intFlag(flags, 'runs', quick ? 3 : 5);
const warmups = 1;
const workers = intFlag(flags, 'workers', availableParallelism());
const timeoutMs = 600_000;

const savinaUrl = (name: string): URL => new URL(`./savina/${name}.js`, import.meta.url);
const sinkUrl = new URL('../actors/sink.js', import.meta.url);
/** Worker `i` modulo the worker count: how "spread" places actor i. */
const spreadHost = (i: number): HostName => i % workers;

interface Context {
  system: ActorSystem;
}

interface Outcome {
  params: Record<string, unknown>;
  summary: SummaryRow[];
  results: Record<string, unknown>;
}

interface Benchmark {
  /** The paper's defaults, printed with every result. */
  paper: Record<string, number>;
  /** --quick sizes (CI smoke). */
  quick: Record<string, number>;
  run(ctx: Context, p: Record<string, number>): Promise<Outcome>;
}

/** Series of runs: median rate plus every run. */
const seriesOf = (runsOf: RateRun[]): { median: RateRun; runs: RateRun[] } => ({ median: medianOf(runsOf), runs: runsOf });

/** Runs `once` (which returns milliseconds) `runs` times after a warm-up, as rates of `count` messages. */
function timed(label: string, count: number, once: () => Promise<number | { ms: number; [k: string]: number }>): Promise<RateRun[]> {
  return repeat(label, runs, warmups, async () => {
    const outcome = await once();
    return typeof outcome === 'number' ? rateRun(count, outcome) : rateRun(count, outcome.ms, Object.fromEntries(Object.entries(outcome).filter(([k]) => k !== 'ms')));
  }, showRate);
}

/** Erlang runs: the same rate shape, or the line saying why not. */
async function erlang(label: string, call: string, count: number, schedulers?: number): Promise<{ runs?: RateRun[]; skipped?: string; schedulers?: number; otp?: string }> {
  const outcome: ErlangOutcome = await runErlang(call, schedulers);
  if (!outcome.ok) {
    progress(`${label}: ${outcome.skipped}`);
    return { skipped: outcome.skipped };
  }
  const series = outcome.run.ms.map((ms) => rateRun(count, ms));
  progress(`${label} (OTP ${outcome.run.otp}, ${outcome.run.schedulers} scheduler${outcome.run.schedulers === 1 ? '' : 's'}): ${series.map(showRate).join(', ')}`);
  return { runs: series, schedulers: outcome.run.schedulers, otp: outcome.run.otp };
}

type ErlangSeries = Awaited<ReturnType<typeof erlang>>;

/** The same Erlang program with OTP's default schedulers (one per core) and with one (`+S 1`). */
async function erlangBoth(name: string, call: string, count: number): Promise<{ erl: ErlangSeries; erl1: ErlangSeries }> {
  return { erl: await erlang(`Erlang ${name}, default schedulers`, call, count), erl1: await erlang(`Erlang ${name}, +S 1`, call, count, 1) };
}

/** An Erlang series for the JSON: its runs and median, or why it was skipped. */
const erlangResult = (erl: ErlangSeries): unknown => (erl.runs === undefined ? erl : { ...erl, median: medianOf(erl.runs) });

/** A summary row against an Erlang series, or a row that says the baseline was skipped. */
function erlangRow(metric: string, value: number, label: string, erl: ErlangSeries): SummaryRow {
  if (erl.runs === undefined) return { metric, value, unit: 'msgs/s', baseline: `${label}: ${erl.skipped}`, target: '≥ 0.5× Erlang (within 2×)' };
  const baselineValue = medianRate(erl.runs);
  return { metric, value, unit: 'msgs/s', baseline: label, baselineValue, ratio: round(value / baselineValue), target: '≥ 0.5× Erlang (within 2×)' };
}

const benchmarks: Record<string, Benchmark> = {
  'ping-pong': {
    paper: { pings: 40_000 },
    quick: { pings: 10_000 },
    async run({ system }, { pings }) {
      const url = savinaUrl('ping-pong');
      const messages = 2 * pings;
      const pair = async (pingHost: HostName, pongHost: HostName): Promise<RateRun[]> => {
        const pong = await system.spawn(url, { host: pongHost, export: 'pong' });
        const ping = await system.spawn(url, { host: pingHost, export: 'ping' });
        const label = pingHost === pongHost ? `PingPong co-located (both on worker ${String(pingHost)})` : `PingPong spread (worker ${String(pingHost)} ↔ worker ${String(pongHost)})`;
        return timed(label, messages, () => ping.ask<number>({ type: 'start', pong, n: pings }, { timeoutMs }));
      };
      const spread = await pair(0, spreadHost(1));
      const colocated = await pair(0, 0);
      const xstate = await timed('xstate v5 PingPong, one thread', messages, () => xstatePingPong(pings));
      const { erl, erl1 } = await erlangBoth('PingPong', `pingpong:main(${pings}, ${runs}, ${warmups})`, messages);
      const s = medianRate(spread);
      const c = medianRate(colocated);
      const x = medianRate(xstate);
      return {
        params: { pings, messages, placement: { spread: 'ping on worker 0, pong on worker 1', colocated: 'ping and pong on worker 0' } },
        summary: [
          erlangRow('PingPong spread (2 workers)', s, 'Erlang/OTP, default schedulers', erl),
          erlangRow('PingPong co-located (1 worker)', c, 'Erlang/OTP, 1 scheduler (+S 1)', erl1),
          { metric: 'PingPong co-located (1 worker)', value: c, unit: 'msgs/s', baseline: 'xstate v5, one thread', baselineValue: x, ratio: round(c / x) },
        ],
        results: {
          troupe: { spread: seriesOf(spread), colocated: seriesOf(colocated), roundTripUs: { spread: round((2e6 / s), 2), colocated: round((2e6 / c), 2) } },
          baselines: { xstate: seriesOf(xstate), erlang: erlangResult(erl), erlangOneScheduler: erlangResult(erl1) },
        },
      };
    },
  },

  counting: {
    paper: { messages: 1_000_000 },
    quick: { messages: 200_000 },
    async run({ system }, { messages }) {
      const url = savinaUrl('counting');
      const burst = 1024;
      const pair = async (producerHost: HostName, counterHost: HostName): Promise<RateRun[]> => {
        const counter = await system.spawn(url, { host: counterHost, export: 'counter' });
        const producer = await system.spawn(url, { host: producerHost, export: 'producer' });
        const label = producerHost === counterHost ? `Counting co-located (worker ${String(producerHost)})` : `Counting spread (worker ${String(producerHost)} → worker ${String(counterHost)})`;
        return timed(label, messages, async () => {
          const report = await producer.ask<CountingReport>({ type: 'run', counter, n: messages, burst }, { timeoutMs });
          if (report.count !== messages) throw new Error(`counter saw ${report.count} of ${messages}`);
          return { ms: report.ms, stalls: report.stalls, refused: report.refused };
        });
      };
      const spread = await pair(0, spreadHost(1));
      const colocated = await pair(0, 0);
      const xstate = await timed('xstate v5 Counting, one thread', messages, () => xstateCounting(messages));
      const s = medianRate(spread);
      const c = medianRate(colocated);
      const x = medianRate(xstate);
      return {
        params: { messages, burst, placement: { spread: 'producer on worker 0, counter on worker 1', colocated: 'both on worker 0' } },
        summary: [
          { metric: 'Counting spread (2 workers)', value: s, unit: 'msgs/s', baseline: 'xstate v5, one thread', baselineValue: x, ratio: round(s / x) },
          { metric: 'Counting co-located (1 worker)', value: c, unit: 'msgs/s', baseline: 'xstate v5, one thread', baselineValue: x, ratio: round(c / x) },
        ],
        results: { troupe: { spread: seriesOf(spread), colocated: seriesOf(colocated) }, baselines: { xstate: seriesOf(xstate) } },
      };
    },
  },

  'thread-ring': {
    paper: { actors: 100, hops: 100_000 },
    quick: { actors: 100, hops: 10_000 },
    async run({ system }, { actors, hops }) {
      const url = savinaUrl('thread-ring');
      const ring = async (host: (i: number) => HostName, label: string): Promise<RateRun[]> => {
        const members = await spawnMany(system, url, actors, { window: 100, options: (i) => ({ host: host(i) }) });
        await Promise.all(members.map((m, i) => m.ask({ type: 'link', next: members[(i + 1) % actors], first: members[0] })));
        return timed(label, hops, () => members[0].ask<number>({ type: 'start', hops }, { timeoutMs }));
      };
      const spread = await ring(spreadHost, `ThreadRing spread (actor i on worker i mod ${workers}: every hop crosses threads)`);
      const colocated = await ring(() => 0, 'ThreadRing co-located (all on worker 0)');
      const { erl, erl1 } = await erlangBoth('ThreadRing', `threadring:main(${actors}, ${hops}, ${runs}, ${warmups})`, hops);
      const s = medianRate(spread);
      const c = medianRate(colocated);
      return {
        params: { actors, hops, placement: { spread: `actor i on worker i mod ${workers}`, colocated: 'all on worker 0' } },
        summary: [
          erlangRow('ThreadRing spread (every hop crosses)', s, 'Erlang/OTP, default schedulers', erl),
          erlangRow('ThreadRing co-located (1 worker)', c, 'Erlang/OTP, 1 scheduler (+S 1)', erl1),
        ],
        results: {
          troupe: { spread: seriesOf(spread), colocated: seriesOf(colocated) },
          baselines: { erlang: erlangResult(erl), erlangOneScheduler: erlangResult(erl1) },
        },
      };
    },
  },

  chameneos: {
    paper: { chameneos: 100, meetings: 200_000 },
    quick: { chameneos: 100, meetings: 20_000 },
    async run({ system }, { chameneos, meetings }) {
      const url = savinaUrl('chameneos');
      const mall = await system.spawn(url, { host: 0, export: 'mall' });
      const members = await spawnMany(system, url, chameneos, { window: 100, options: (i) => ({ host: spreadHost(i), export: 'chameneo', args: { color: i % 3 } }) });
      const messages = 4 * meetings;
      const series = await timed('Chameneos (mall on worker 0, chameneos round-robin)', messages, async () => {
        const report = await mall.ask<ChameneosReport>({ type: 'run', chameneos: members, meetings }, { timeoutMs });
        if (report.meetings !== meetings || report.chameneoMeetings !== 2 * meetings) throw new Error(`chameneos: ${JSON.stringify(report)}`);
        return report.ms;
      });
      return {
        params: { chameneos, meetings, messages, placement: `mall on worker 0, chameneo i on worker i mod ${workers}` },
        summary: [{ metric: 'Chameneos (spread)', value: medianRate(series), unit: 'msgs/s' }],
        results: { troupe: seriesOf(series), meetingsPerSec: round(medianRate(series) / 4, 0) },
      };
    },
  },

  big: {
    paper: { actors: 120, pings: 20_000 },
    quick: { actors: 120, pings: 1_000 },
    async run({ system }, { actors, pings }) {
      const url = savinaUrl('big');
      const sink = await system.spawn(sinkUrl, { host: 0 });
      const members = await spawnMany(system, url, actors, { window: 120, options: (i) => ({ host: spreadHost(i) }) });
      const messages = 2 * actors * pings;
      let seed = 1;
      const series = await timed('Big (actors round-robin, random neighbours)', messages, async () => {
        sink.tell({ type: 'reset' });
        const start = performance.now();
        members.forEach((m, i) => m.tell({ type: 'start', neighbours: members, self: i, pings, sink, seed: seed++ }));
        await sink.ask({ type: 'expect', n: actors }, { timeoutMs });
        return performance.now() - start;
      });
      return {
        params: { actors, pings, messages, placement: `actor i on worker i mod ${workers}; neighbours uniform at random (seeded)` },
        summary: [{ metric: 'Big (spread)', value: medianRate(series), unit: 'msgs/s' }],
        results: { troupe: seriesOf(series) },
      };
    },
  },

  'fork-join-throughput': {
    paper: { actors: 60, messages: 10_000 },
    quick: { actors: 60, messages: 1_000 },
    async run({ system }, { actors, messages }) {
      const url = savinaUrl('fork-join');
      const sink = await system.spawn(sinkUrl, { host: 0 });
      const members = await spawnMany(system, url, actors, { window: actors, options: (i) => ({ host: spreadHost(i), export: 'throughput' }) });
      await Promise.all(members.map((m) => m.ask({ type: 'setup', messages, sink })));
      const total = actors * messages;
      const work = Object.freeze({ type: 'work' as const });
      const series = await timed('Fork-Join throughput (main → actors round-robin)', total, async () => {
        sink.tell({ type: 'reset' });
        const start = performance.now();
        let last: ActorRef = members[0];
        const report = await produce((i) => (last = members[i % actors]).tell(work), total, 1024, () => last.whenWritable());
        await sink.ask({ type: 'expect', n: actors }, { timeoutMs });
        return { ms: performance.now() - start, stalls: report.stalls, refused: report.refused };
      });
      return {
        params: { actors, messages, total, placement: `actor i on worker i mod ${workers}; messages sent from the main thread, round-robin` },
        summary: [{ metric: 'Fork-Join throughput (spread)', value: medianRate(series), unit: 'msgs/s' }],
        results: { troupe: seriesOf(series) },
      };
    },
  },

  'fork-join-creation': {
    paper: { actors: 40_000 },
    quick: { actors: 5_000 },
    async run({ system }, { actors }) {
      const url = savinaUrl('fork-join');
      const sink = await system.spawn(sinkUrl, { host: 0 });
      // Load the module on every worker first: the rate is of spawns, not of one import().
      for (let w = 0; w < workers; w++) await system.spawn(url, { host: w, export: 'creation', args: { sink } }).then((r) => system.stop(r));
      const work = Object.freeze({ type: 'work' as const });
      const series = await repeat('Fork-Join creation (spawn, one message, stop)', runs, warmups, async () => {
        sink.tell({ type: 'reset' });
        const start = performance.now();
        await spawnMany(system, url, actors, { window: 1000, options: (i) => ({ host: spreadHost(i), export: 'creation', args: { sink } }), started: (ref) => ref.tell(work) });
        await sink.ask({ type: 'expect', n: actors }, { timeoutMs });
        const ms = performance.now() - start;
        return { actorsPerSec: Math.round(actors / (ms / 1000)), msgsPerSec: Math.round(actors / (ms / 1000)), ms: round(ms, 2) };
      }, (r) => `${r.actorsPerSec.toLocaleString('en')} actors/s`);
      const rate = medianRate(series);
      return {
        params: { actors, window: 1000, placement: `actor i on worker i mod ${workers}; spawned from the main thread, 1,000 spawns in flight; each stops itself after its message` },
        summary: [{ metric: 'Fork-Join creation (spawn + message + stop)', value: rate, unit: 'actors/s' }],
        results: { troupe: { median: medianOf(series), runs: series } },
      };
    },
  },

  bank: {
    paper: { accounts: 1_000, transactions: 50_000 },
    quick: { accounts: 1_000, transactions: 5_000 },
    async run({ system }, { accounts, transactions }) {
      const url = savinaUrl('bank');
      const teller = await system.spawn(url, { host: 0, export: 'teller' });
      const members = await spawnMany(system, url, accounts, { window: 1000, options: (i) => ({ host: spreadHost(i), export: 'account' }) });
      const messages = 4 * transactions;
      let seed = 7;
      const series = await timed('Bank (teller on worker 0, accounts round-robin)', messages, async () => {
        const report = await teller.ask<BankReport>({ type: 'run', accounts: members, transactions, seed: seed++, burst: 1024 }, { timeoutMs });
        if (report.replies !== transactions) throw new Error(`bank: ${report.replies} of ${transactions} transactions answered`);
        return { ms: report.ms, stalls: report.stalls, refused: report.refused };
      });
      const rate = medianRate(series);
      return {
        params: { accounts, transactions, messages, placement: `teller on worker 0, account i on worker i mod ${workers}; a transfer = transfer, credit ask, its reply, reply to the teller` },
        summary: [{ metric: 'Bank transactions (spread)', value: rate, unit: 'msgs/s' }],
        results: { troupe: seriesOf(series), transactionsPerSec: Math.round(rate / 4) },
      };
    },
  },
};

const names = Object.keys(benchmarks);
const only = flags.value('only')?.split(',').map((s) => s.trim()) ?? names;
for (const name of only) if (!(name in benchmarks)) throw new TypeError(`--only: unknown benchmark ${name} (have: ${names.join(', ')})`);

const system = await startBooted({ workers, logLevel: 'silent' });
const outcomes: Record<string, Outcome & { paper: Record<string, number> }> = {};
for (const name of only) {
  const bench = benchmarks[name];
  const sizes = quick ? bench.quick : bench.paper;
  progress(`Savina ${name} ${JSON.stringify(sizes)}${quick ? ` (quick; paper: ${JSON.stringify(bench.paper)})` : ' (paper defaults)'}`);
  const outcome = await bench.run({ system }, sizes);
  outcomes[name] = { ...outcome, paper: bench.paper };
}
const totals = system.stats().total;
await system.shutdown();

const single = only.length === 1 ? outcomes[only[0]] : undefined;
const result: BenchResult = {
  name: single === undefined ? 'savina' : `savina-${only[0]}`,
  params:
    single === undefined
      ? { workers, runs, warmups, quick, benchmarks: Object.fromEntries(Object.entries(outcomes).map(([k, o]) => [k, { ...o.params, paper: o.paper }])) }
      : { workers, runs, warmups, quick, ...single.params, paper: single.paper, paperDefaults: !quick },
  summary: Object.values(outcomes).flatMap((o) => o.summary),
  results: {
    ...(single === undefined ? Object.fromEntries(Object.entries(outcomes).map(([k, o]) => [k, o.results])) : single.results),
    system: { deadLetters: totals.deadLetters, errors: totals.errors, backpressure: totals.backpressure },
  },
};
emit(result);
