/**
 * Durable actors, side by side in one run, on the disk the journal is on:
 * 1. the disk's raw rate of 4 KiB write + fdatasync (the ceiling of any loop
 *    that syncs once per event);
 * 2. a naive better-sqlite3 loop, one transaction per event, with the
 *    journal's settings (WAL, synchronous=FULL), against troupe's group
 *    commit: `writers` durable actors over 2 workers, each persisting one
 *    event after another (events/s, persist p50/p99, events per fsync);
 *    then an offered rate (`--rate`, default 100k events/s over the same
 *    writers, for `--paced-ms`): persist p50/p99 at that rate, timed from
 *    when each event was due, so a journal that falls behind shows it;
 * 3. the same pair on PostgreSQL (a server this bench starts on loopback),
 *    when its binaries are installed;
 * 4. recovery time (spawn → first answer) against journal length, with and
 *    without snapshots.
 *
 *   node dist/bench/persistence.js [--quick] [--writers N] [--events N] [--rate N] [--paced-ms N]
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, type ActorRef } from 'troupe';
import { postgresStore, sqliteStore, type StoreSpec } from 'troupe/persistence';
import { emit, intFlag, median, parseFlags, progress, round } from './lib.js';
import { startPostgres } from './pg-server.js';

const flags = parseFlags();
const writers = intFlag(flags, 'writers', flags.quick ? 200 : 1000);
const perWriter = intFlag(flags, 'events', flags.quick ? 20 : 100);
const naiveMs = flags.quick ? 300 : 2000;
const offered = intFlag(flags, 'rate', flags.quick ? 20_000 : 100_000);
const pacedMs = intFlag(flags, 'paced-ms', flags.quick ? 500 : 3000);
const dir = mkdtempSync(join(process.env.TROUPE_BENCH_DIR ?? tmpdir(), 'troupe-bench-persist-'));
const writer = new URL('./actors/durable-writer.js', import.meta.url);
const plain = new URL('./actors/durable-plain.js', import.meta.url);

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function fdatasyncRate(): number {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const block = Buffer.alloc(4096, 7);
  let n = 0;
  const until = performance.now() + naiveMs;
  while (performance.now() < until) {
    writeSync(fd, block, 0, block.length, (n % 16) * 4096);
    fdatasyncSync(fd);
    n++;
  }
  closeSync(fd);
  return (n * 1000) / naiveMs;
}

function naiveSqlite(): { eventsPerS: number; p50Us: number; p99Us: number } {
  const db = new Database(join(dir, 'naive.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE events (pid TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO events (pid, seq, data) VALUES (?, ?, ?)');
  const one = db.transaction((seq: number) => insert.run('naive', seq, Buffer.from([0x81, 0xa3, 0x61, 0x64, 0x64, 0x01])));
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < naiveMs) {
    const at = performance.now();
    one(latencies.length + 1);
    latencies.push((performance.now() - at) * 1000);
  }
  const ms = performance.now() - start;
  db.close();
  latencies.sort((a, b) => a - b);
  return { eventsPerS: round((latencies.length * 1000) / ms, 0), p50Us: round(percentile(latencies, 0.5), 1), p99Us: round(percentile(latencies, 0.99), 1) };
}

async function naivePostgres(connectionString: string): Promise<{ eventsPerS: number; p50Us: number; p99Us: number }> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query('CREATE TABLE naive_events (pid text NOT NULL, seq bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (pid, seq))');
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < naiveMs) {
    const at = performance.now();
    await client.query('INSERT INTO naive_events (pid, seq, data) VALUES ($1, $2, $3)', ['naive', latencies.length + 1, Buffer.from([1])]);
    latencies.push((performance.now() - at) * 1000);
  }
  const ms = performance.now() - start;
  await client.end();
  latencies.sort((a, b) => a - b);
  return { eventsPerS: round((latencies.length * 1000) / ms, 0), p50Us: round(percentile(latencies, 0.5), 1), p99Us: round(percentile(latencies, 0.99), 1) };
}

interface Paced {
  offeredPerS: number;
  eventsPerS: number;
  p50Us: number;
  p99Us: number;
  /** Events that were already due when the writer's previous persist resolved. */
  late: number;
}

/** `offered` events/s spread evenly over the writers (each its own phase), for `pacedMs`. */
async function paced(refs: readonly ActorRef[]): Promise<Paced> {
  const intervalMs = (refs.length * 1000) / offered;
  const n = Math.max(1, Math.round(pacedMs / intervalMs));
  const startAt = performance.timeOrigin + performance.now() + 200;
  const start = performance.now();
  const all = await Promise.all(
    refs.map((ref, i) =>
      ref.ask<{ latencies: number[]; late: number }>({ type: 'paced', n, intervalMs, startAt: startAt + (i * intervalMs) / refs.length }, { timeoutMs: 300_000 }),
    ),
  );
  const ms = performance.now() - start - 200;
  const latencies = all.flatMap((a) => a.latencies).sort((a, b) => a - b);
  return {
    offeredPerS: offered,
    eventsPerS: round((latencies.length * 1000) / ms, 0),
    p50Us: round(percentile(latencies, 0.5), 1),
    p99Us: round(percentile(latencies, 0.99), 1),
    late: all.reduce((sum, a) => sum + a.late, 0),
  };
}

async function groupCommit(store: StoreSpec): Promise<{ eventsPerS: number; p50Us: number; p99Us: number; events: number; paced: Paced }> {
  const system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store });
  try {
    const refs: ActorRef[] = [];
    for (let i = 0; i < writers; i += 100) {
      refs.push(...(await Promise.all(Array.from({ length: Math.min(100, writers - i) }, (_, k) => system.spawn(writer, { name: `writer-${i + k}` })))));
    }
    // A warm-up round, then the measured one.
    await Promise.all(refs.map((ref) => ref.ask({ type: 'run', n: 2 }, { timeoutMs: 120_000 })));
    const start = performance.now();
    const all = await Promise.all(refs.map((ref) => ref.ask<number[]>({ type: 'run', n: perWriter }, { timeoutMs: 300_000 })));
    const ms = performance.now() - start;
    const latencies = all.flat().sort((a, b) => a - b);
    const closed = { eventsPerS: round((latencies.length * 1000) / ms, 0), p50Us: round(percentile(latencies, 0.5), 1), p99Us: round(percentile(latencies, 0.99), 1), events: latencies.length };
    return { ...closed, paced: await paced(refs) };
  } finally {
    await system.shutdown();
  }
}

async function recoveryTimes(store: StoreSpec): Promise<Record<string, number>> {
  const cases = [
    { key: 'events100', module: plain, events: 100 },
    { key: 'events1000', module: plain, events: 1000 },
    { key: 'events10000', module: plain, events: 10_000 },
    // snapshotEvery 1000: the snapshot at 1000, then 999 events replayed.
    { key: 'snapshotPlus999', module: writer, events: 1999 },
    { key: 'snapshotPlus0', module: writer, events: 10_000 },
  ];
  const out: Record<string, number> = {};
  let system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store });
  for (const c of cases) {
    const ref = await system.spawn(c.module, { name: `recover-${c.key}`, host: 0 });
    await ref.ask({ type: 'fill', events: c.events, batch: 100 }, { timeoutMs: 120_000 });
  }
  await system.shutdown();
  system = await ActorSystem.start({ workers: 2, logLevel: 'silent', store });
  for (const c of cases) {
    const times: number[] = [];
    for (let i = 0; i < (flags.quick ? 3 : 9); i++) {
      const at = performance.now();
      const ref = await system.spawn(c.module, { name: `recover-${c.key}`, host: 0 });
      const n = await ref.ask<number>({ type: 'get' });
      times.push(performance.now() - at);
      if (n !== c.events) throw new Error(`recovered ${n} of ${c.events}`);
      await system.stop(ref);
    }
    out[c.key] = round(median(times), 2);
    progress(`recovery ${c.key}: ${out[c.key]} ms (spawn → first answer, median)`);
  }
  await system.shutdown();
  return out;
}

const fsyncs = round(fdatasyncRate(), 0);
progress(`raw 4 KiB write + fdatasync: ${fsyncs}/s`);
const naive = naiveSqlite();
progress(`naive better-sqlite3, one transaction per event: ${naive.eventsPerS} events/s, p50 ${naive.p50Us} µs, p99 ${naive.p99Us} µs`);
const sqlite = await groupCommit(sqliteStore({ path: join(dir, 'journal.db') }));
progress(`troupe group commit on SQLite, ${writers} writers: ${sqlite.eventsPerS} events/s, p50 ${sqlite.p50Us} µs, p99 ${sqlite.p99Us} µs`);
progress(`  offered ${sqlite.paced.offeredPerS} events/s: ${sqlite.paced.eventsPerS} events/s, p50 ${sqlite.paced.p50Us} µs, p99 ${sqlite.paced.p99Us} µs, ${sqlite.paced.late} late`);
const recovery = await recoveryTimes(sqliteStore({ path: join(dir, 'recovery.db') }));

let postgres: { naive: Awaited<ReturnType<typeof naivePostgres>>; group: Awaited<ReturnType<typeof groupCommit>> } | { skipped: string };
try {
  const server = await startPostgres();
  try {
    const naivePg = await naivePostgres(server.connectionString);
    progress(`naive pg, one commit per event: ${naivePg.eventsPerS} events/s, p50 ${naivePg.p50Us} µs, p99 ${naivePg.p99Us} µs`);
    const groupPg = await groupCommit(postgresStore({ connectionString: server.connectionString }));
    progress(`troupe group commit on PostgreSQL: ${groupPg.eventsPerS} events/s, p50 ${groupPg.p50Us} µs, p99 ${groupPg.p99Us} µs`);
    progress(`  offered ${groupPg.paced.offeredPerS} events/s: ${groupPg.paced.eventsPerS} events/s, p50 ${groupPg.paced.p50Us} µs, p99 ${groupPg.paced.p99Us} µs, ${groupPg.paced.late} late`);
    postgres = { naive: naivePg, group: groupPg };
  } finally {
    await server.stop();
  }
} catch (error) {
  postgres = { skipped: (error as Error).message.split('\n')[0] };
}
rmSync(dir, { recursive: true, force: true });

const summary = [
  { metric: 'raw 4 KiB write + fdatasync', value: fsyncs, unit: 'syncs/s' },
  { metric: `durable events, SQLite group commit, ${writers} writers (vs naive better-sqlite3, one transaction per event)`, value: sqlite.eventsPerS, unit: 'events/s', baseline: 'naive loop, same run', baselineValue: naive.eventsPerS, ratio: round(sqlite.eventsPerS / naive.eventsPerS, 2) },
  { metric: 'persist p50, SQLite group commit', value: sqlite.p50Us, unit: 'µs' },
  { metric: 'persist p99, SQLite group commit', value: sqlite.p99Us, unit: 'µs' },
  { metric: 'events per fsync (events/s ÷ raw fdatasync/s), SQLite', value: round(sqlite.eventsPerS / fsyncs, 1), unit: 'events' },
  { metric: `durable events at an offered ${offered} events/s, SQLite`, value: sqlite.paced.eventsPerS, unit: 'events/s' },
  { metric: `persist p50 at an offered ${offered} events/s, SQLite (from when due)`, value: sqlite.paced.p50Us, unit: 'µs' },
  { metric: `persist p99 at an offered ${offered} events/s, SQLite (from when due)`, value: sqlite.paced.p99Us, unit: 'µs' },
  { metric: 'recovery, snapshot + 999 events', value: recovery.snapshotPlus999, unit: 'ms' },
  { metric: 'recovery, 1000 events, no snapshot', value: recovery.events1000, unit: 'ms' },
  { metric: 'recovery, 10000 events, no snapshot', value: recovery.events10000, unit: 'ms' },
  { metric: 'recovery, snapshot at 10000', value: recovery.snapshotPlus0, unit: 'ms' },
];
if ('group' in postgres) {
  summary.push(
    { metric: `durable events, PostgreSQL group commit, ${writers} writers (vs naive pg, one commit per event)`, value: postgres.group.eventsPerS, unit: 'events/s', baseline: 'naive pg loop, same run', baselineValue: postgres.naive.eventsPerS, ratio: round(postgres.group.eventsPerS / postgres.naive.eventsPerS, 2) },
    { metric: 'persist p99, PostgreSQL group commit', value: postgres.group.p99Us, unit: 'µs' },
  );
}
emit({
  name: 'persistence',
  params: { writers, eventsPerWriter: perWriter, naiveMs, offeredPerS: offered, pacedMs, workers: 2, sqlite: 'WAL, synchronous=FULL', dir: process.env.TROUPE_BENCH_DIR ?? tmpdir() },
  summary,
  results: { fdatasyncPerS: fsyncs, naiveSqlite: naive, groupSqlite: sqlite, recoveryMs: recovery, postgres },
});
