/**
 * The SQLite journal's log and its merge, driven at the backend: appends go
 * to `troupe_log`, merge steps move them into `troupe_events` between
 * commits, and through all of it conflicts, loads and retention answer as if
 * every row were in one table. A merge threshold of a few rows makes every
 * test cross several rounds. Another connection writing the file (a second
 * opener, or a plain better-sqlite3 one) must be seen at the next append.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteJournal } from '../dist/src/persistence/sqlite-backend.js';
import { sqliteStore } from '../dist/src/persistence/store-spec.js';
import type { AppendRequest, LoadedJournal, Retention } from '../dist/src/persistence/journal-protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-sqlite-journal-'));
let serial = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kTiny = { mergeAt: 5, sliceRows: 3, maxRows: 40, maxBytes: 1 << 20 };
const kNever = { mergeAt: 1e9, sliceRows: 1e9, maxRows: 1e9, maxBytes: 2 ** 40 };

type Spec = Extract<ReturnType<typeof sqliteStore>, { kind: 'sqlite' }>;
const freshPath = (): string => join(dir, `j-${++serial}.db`);
const open = (path: string, tuning = kTiny, busyTimeoutMs?: number): SqliteJournal => openSqlite(sqliteStore({ path, busyTimeoutMs }) as Spec, tuning);

/** `n` events of `pid` from `firstSeq`; each event's byte is its seq, so a load shows which write it came from. */
function req(pid: string, firstSeq: number, n = 1, snapshot?: { seq: number; retention?: Retention }): AppendRequest {
  const seqs = Array.from({ length: n }, (_, i) => firstSeq + i);
  return {
    pid,
    firstSeq,
    version: 1,
    events: seqs.map((seq) => Uint8Array.of(seq & 255)),
    crcs: seqs.map(() => 0),
    prunes: snapshot?.retention?.deleteEvents === true,
    snapshot: snapshot === undefined ? undefined : { seq: snapshot.seq, version: 1, crc: 0, data: Uint8Array.of(9), retention: snapshot.retention },
  };
}

async function seqs(journal: SqliteJournal, pid: string): Promise<number[]> {
  const [loaded] = await journal.load([pid]);
  return (loaded as LoadedJournal).events.map((e) => e.seq);
}

function count(path: string, sql: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** Loads as plain data (the log's rows come back as Uint8Array, the table's as Buffer). */
const plain = (loaded: unknown[]): unknown =>
  (loaded as LoadedJournal[]).map(({ snapshot, events }) => ({ snapshot: snapshot?.seq, events: events.map((e) => ({ ...e, data: Array.from(e.data) })) }));
const codes = (outcomes: unknown[]): (string | undefined)[] => outcomes.map((o) => (o as { code?: string } | undefined)?.code);

describe('the SQLite journal log', () => {
  it('merges while appends and conflicts go on: conflicts as in one table, every row once, in order', async () => {
    const path = freshPath();
    const journal = open(path);
    const pids = ['a', 'b', 'c', 'd'];
    const next = new Map(pids.map((pid) => [pid, 1]));
    for (let round = 0; round < 30; round++) {
      const requests = pids.map((pid) => req(pid, next.get(pid)!, 1 + (round % 3)));
      // A stale writer of `a` (a number already taken: in the log or already merged), and a later append of it in the same batch.
      if (round % 4 === 1) requests.unshift(req('a', Math.max(1, next.get('a')! - 1 - (round % 7))), req('a', next.get('a')!));
      const outcomes = await journal.append(requests);
      if (round % 4 === 1) {
        expect(codes(outcomes.slice(0, 3))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT', 'TROUPE_ERR_PERSISTENCE_CONFLICT', 'TROUPE_ERR_PERSISTENCE_CONFLICT']);
        expect(outcomes.slice(3)).toEqual([undefined, undefined, undefined]);
      } else expect(outcomes).toEqual(requests.map(() => undefined));
      for (const pid of round % 4 === 1 ? pids.slice(1) : pids) next.set(pid, next.get(pid)! + 1 + (round % 3));
      // Every other round the merge catches up; the others leave rows for the next commit to find in the log.
      if (round % 2 === 0) await journal.mergeIdle();
    }
    // A gap is not a conflict (only a taken number is), in the log or the table alike.
    expect(await journal.append([req('d', next.get('d')! + 5)])).toEqual([undefined]);
    expect(await journal.append([req('d', next.get('d')!)])).toEqual([undefined]);
    expect(codes(await journal.append([req('d', next.get('d')! + 5)]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT']);
    expect(count(path, 'SELECT count(*) FROM troupe_events')).toBeGreaterThan(0);
    for (const pid of pids.slice(0, 3)) expect(await seqs(journal, pid)).toEqual(Array.from({ length: next.get(pid)! - 1 }, (_, i) => i + 1));
    const d = next.get('d')!;
    expect(await seqs(journal, 'd')).toEqual([...Array.from({ length: d }, (_, i) => i + 1), d + 5]);
    const before = plain(await journal.load(pids));
    await journal.close();
    expect(count(path, 'SELECT count(*) FROM troupe_log')).toBe(0);
    const again = open(path);
    expect(plain(await again.load(pids))).toEqual(before);
    await again.close();
  });

  it('rows a crash left in the log are merged at open, once each', async () => {
    const path = freshPath();
    const first = open(path, kNever);
    expect(await first.append([req('x', 1, 3), req('y', 1, 2)])).toEqual([undefined, undefined]);
    expect(first.logRows()).toEqual({ rows: 5, uncopied: 5 });
    // Some already copied into the table too, as a merge step leaves them before its range delete.
    const raw = new Database(path);
    raw.exec("INSERT INTO troupe_events SELECT pid, seq, version, crc, data FROM troupe_log WHERE pid = 'x' AND seq <= 2");
    raw.close();
    // A second opener stands for the process that comes up after the crash.
    const second = open(path, kNever);
    expect(count(path, 'SELECT count(*) FROM troupe_log')).toBe(0);
    expect(await seqs(second, 'x')).toEqual([1, 2, 3]);
    expect(await seqs(second, 'y')).toEqual([1, 2]);
    expect(codes(await second.append([req('x', 3)]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT']);
    await second.close();
    await first.close();
  });

  it('another connection writing the file is seen at the next append (PRAGMA data_version): no fork, no row twice', async () => {
    const path = freshPath();
    const mine = open(path, kNever);
    expect(await mine.append([req('p', 1, 3), req('q', 1)])).toEqual([undefined, undefined]);
    // A second troupe process: its open merges my log rows into the table, then it appends p/4 to its own log.
    const other = open(path, kNever);
    expect(await other.append([req('p', 4)])).toEqual([undefined]);
    expect(codes(await mine.append([req('p', 4), req('q', 2)]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT', undefined]);
    expect(await seqs(mine, 'p')).toEqual([1, 2, 3, 4]);
    expect(await mine.append([req('p', 5)])).toEqual([undefined]);
    // A plain connection writing the table straight: the number it took is taken.
    const raw = new Database(path);
    raw.prepare("INSERT INTO troupe_events VALUES ('q', 3, 1, 0, x'03')").run();
    raw.close();
    expect(codes(await mine.append([req('q', 3)]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT']);
    expect(await seqs(mine, 'q')).toEqual([1, 2, 3]);
    await other.close();
    expect(await seqs(mine, 'p')).toEqual([1, 2, 3, 4, 5]);
    await mine.close();
    expect(count(path, 'SELECT count(*) FROM troupe_events')).toBe(8);
  });

  it('retention deletes the unmerged rows below the oldest kept snapshot, and no merge brings them back', async () => {
    const path = freshPath();
    const journal = open(path, kNever);
    expect(await journal.append([req('r', 1, 10), req('s', 1, 4)])).toEqual([undefined, undefined]);
    const keepOne = { keepSnapshots: 1, deleteEvents: true };
    expect(await journal.append([req('r', 11, 1, { seq: 11, retention: keepOne })])).toEqual([undefined]);
    expect(journal.logRows()).toEqual({ rows: 5, uncopied: 5 });
    const [loaded] = (await journal.load(['r'])) as LoadedJournal[];
    expect(loaded.snapshot?.seq).toBe(11);
    expect(loaded.events).toEqual([]);
    // The snapshot guard: an older incarnation of r cannot write under the snapshot.
    expect(codes(await journal.append([req('r', 5, 1, { seq: 5, retention: keepOne })]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT']);
    await journal.close();
    expect(count(path, "SELECT count(*) FROM troupe_events WHERE pid = 'r'")).toBe(1);
    expect(count(path, "SELECT min(seq) FROM troupe_events WHERE pid = 'r'")).toBe(11);
    expect(count(path, "SELECT count(*) FROM troupe_events WHERE pid = 's'")).toBe(4);
  });

  it('a database written before the log existed opens, and its events load', async () => {
    const path = freshPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`CREATE TABLE troupe_events (pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
      CREATE TABLE troupe_snapshots (pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (pid, seq)) WITHOUT ROWID;
      INSERT INTO troupe_events VALUES ('o', 1, 1, 0, x'01'), ('o', 2, 1, 0, x'02');`);
    old.close();
    const journal = open(path);
    expect(await seqs(journal, 'o')).toEqual([1, 2]);
    expect(codes(await journal.append([req('o', 2), req('o', 3)]))).toEqual(['TROUPE_ERR_PERSISTENCE_CONFLICT', 'TROUPE_ERR_PERSISTENCE_CONFLICT']);
    expect(await journal.append([req('o', 3)])).toEqual([undefined]);
    expect(await seqs(journal, 'o')).toEqual([1, 2, 3]);
    await journal.close();
  });
  it('copied rows that a rebuild finds in the log are deleted, though no round of this connection copied them', async () => {
    const path = freshPath();
    const mine = open(path, kNever);
    expect(await mine.append([req('c', 1, 4), req('e', 1)])).toEqual([undefined, undefined]);
    // Another connection copies them into the table and leaves them in the log, as a step before its range delete.
    const raw = new Database(path);
    raw.exec('INSERT INTO troupe_events SELECT pid, seq, version, crc, data FROM troupe_log');
    raw.close();
    // The append rebuilds the index (5 rows, all copied); with no merge threshold reached, only the delete runs.
    expect(await mine.append([req('c', 5)])).toEqual([undefined]);
    await mine.mergeIdle();
    expect(mine.logRows()).toEqual({ rows: 1, uncopied: 1 });
    expect(count(path, 'SELECT count(*) FROM troupe_log')).toBe(1);
    expect(await seqs(mine, 'c')).toEqual([1, 2, 3, 4, 5]);
    expect(await seqs(mine, 'e')).toEqual([1]);
    await mine.close();
  });

  it('a merge step does not wait for a lock another connection holds: it backs off and merges once the lock is gone', async () => {
    const path = freshPath();
    // An append would wait 10 s for the lock; a merge step must not, or the thread stalls between commits.
    const journal = open(path, kTiny, 10_000);
    const raw = new Database(path);
    expect(await journal.append([req('m', 1, 8)])).toEqual([undefined]);
    // The merge was scheduled by the append; the lock is taken before its first step runs.
    raw.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    // The append queued the first step with setImmediate: after this one, that step has run (and failed).
    await new Promise((resolve) => setImmediate(resolve));
    const blocked = performance.now() - started;
    expect(journal.logRows().uncopied).toBe(8);
    raw.exec('ROLLBACK');
    raw.close();
    await journal.mergeIdle();
    expect(journal.logRows()).toEqual({ rows: 0, uncopied: 0 });
    expect(await seqs(journal, 'm')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await journal.close();
    // The step failed at once: far under one busy timeout (a step that waits takes 10 s).
    expect(blocked).toBeLessThan(5_000);
  });

  it('records its layout in user_version and refuses a file of a newer layout, typed', async () => {
    const path = freshPath();
    await open(path).close();
    expect(count(path, 'PRAGMA user_version')).toBe(1);
    const raw = new Database(path);
    raw.pragma('user_version = 7');
    raw.close();
    let error: unknown;
    try {
      open(path);
    } catch (caught) {
      error = caught;
    }
    expect((error as { code?: string }).code).toBe('TROUPE_ERR_PERSISTENCE_STORE');
    expect((error as Error).message).toMatch(/layout 7, newer/);
    expect(count(path, 'PRAGMA user_version')).toBe(7);
  });
});
