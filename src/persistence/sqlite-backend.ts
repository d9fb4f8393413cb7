/**
 * The embedded journal: one SQLite file, WAL mode, `synchronous=FULL` (the
 * WAL is fsync'd at every commit), written by better-sqlite3 on the journal
 * thread, so the seconds spent in fsync block no host. One transaction per
 * batch is the group commit: every append the hosts sent while the last
 * commit was syncing shares the next one's fsync.
 *
 * A commit appends to `troupe_log`, ordered by its rowid alone, so it dirties
 * a few pages at the end of one tree however many actors it carries (written
 * straight into `troupe_events`, keyed (pid, seq), a batch of 1000 actors
 * dirtied about 1000 leaf pages). Between commits the log is merged into
 * `troupe_events` in short slices, actor by actor (see sqlite-merge.ts), so
 * each actor's rows land on its pages together. Which actor's rows are in the
 * log is held in memory (sqlite-log-index.ts); there is no index on the log.
 */
import Database from 'better-sqlite3';
import { PersistenceConflictError, PersistenceStoreError, errorToWire, type WireError } from '../errors.js';
import type { JournalBackend } from './backend.js';
import type { AppendRequest, LoadedJournal, StoredRecord } from './journal-protocol.js';
import { BatchInsert } from './sqlite-batch-insert.js';
import { LogIndex } from './sqlite-log-index.js';
import { Merger, kMergeTuning, type MergeTuning } from './sqlite-merge.js';
import type { StoreSpec } from './store-spec.js';

type SqliteSpec = Extract<StoreSpec, { kind: 'sqlite' }>;

const kSchema = `
CREATE TABLE IF NOT EXISTS troupe_events (
  pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (pid, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_snapshots (
  pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (pid, seq)) WITHOUT ROWID;
-- AUTOINCREMENT: an ord is never handed out twice, even after the newest row was deleted (the index relies on ords only growing).
CREATE TABLE IF NOT EXISTS troupe_log (
  ord INTEGER PRIMARY KEY AUTOINCREMENT, pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL);
`;

interface Row {
  seq: number;
  version: number;
  crc: number;
  data: Buffer;
}

/** The SQLite backend, with what tests of the merge look at. */
export interface SqliteJournal extends JournalBackend {
  /** @internal Rows in the log (copied or not), and how many are not yet in `troupe_events`. */
  logRows(): { rows: number; uncopied: number };
  /** @internal Resolves once no merge step is scheduled. */
  mergeIdle(): Promise<void>;
}

export function openSqlite(spec: SqliteSpec, tuning: MergeTuning = kMergeTuning): SqliteJournal {
  let db: Database.Database;
  try {
    db = new Database(spec.path, { timeout: spec.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(kSchema);
    checkFormat(db, spec.path);
  } catch (error) {
    if (error instanceof PersistenceStoreError) throw error;
    throw new PersistenceStoreError(`cannot open the SQLite journal ${spec.path}: ${(error as Error).message}`, { cause: error });
  }
  // A commit's log rows go in together at its end (or before a retention delete), with ords given here:
  // the index needs each row's ord when it records the row, before the insert. `nextOrd` only grows on
  // this connection, and is read from the file whenever the index is rebuilt (another connection may
  // have appended); so an ord is never handed out twice, whether or not the table is AUTOINCREMENT.
  const logRows = new BatchInsert(db, 'troupe_log', ['ord', 'pid', 'seq', 'version', 'crc', 'data']);
  const lastOrd = db
    .prepare("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'troupe_log'), 0), coalesce((SELECT max(ord) FROM troupe_log), 0))")
    .pluck();
  let nextOrd = 1;
  const insertSnapshot = db.prepare('INSERT OR REPLACE INTO troupe_snapshots (pid, seq, version, crc, data) VALUES (?, ?, ?, ?, ?)');
  const newestSnapshotSeq = db.prepare('SELECT max(seq) AS seq FROM troupe_snapshots WHERE pid = ?').pluck();
  const oldestSnapshotSeq = db.prepare('SELECT min(seq) AS seq FROM troupe_snapshots WHERE pid = ?').pluck();
  const newestSnapshot = db.prepare('SELECT seq, version, crc, data FROM troupe_snapshots WHERE pid = ? ORDER BY seq DESC LIMIT 1');
  const eventsAfter = db.prepare('SELECT seq, version, crc, data FROM troupe_events WHERE pid = ? AND seq > ? ORDER BY seq');
  const tableMax = db.prepare('SELECT max(seq) FROM troupe_events WHERE pid = ?').pluck();
  const takenInTable = db.prepare('SELECT seq FROM troupe_events WHERE pid = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT 1').pluck();
  const inTable = db.prepare('SELECT 1 FROM troupe_events WHERE pid = ? AND seq = ?').pluck();
  const scanLog = db.prepare('SELECT ord, pid, seq, version, crc, data FROM troupe_log ORDER BY ord');
  const deleteLogRow = db.prepare('DELETE FROM troupe_log WHERE ord = ?');
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const pruneSnapshots = db.prepare(
    'DELETE FROM troupe_snapshots WHERE pid = ? AND seq < (SELECT seq FROM troupe_snapshots WHERE pid = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  );
  // Below the oldest kept snapshot, not at it: the row at its sequence number
  // stays, so an incarnation that recovered from an older state still finds
  // that number taken (see the snapshot guard in #appendOne).
  const pruneEvents = db.prepare('DELETE FROM troupe_events WHERE pid = ? AND seq < (SELECT min(seq) FROM troupe_snapshots WHERE pid = ?)');

  const index = new LogIndex();
  // The index describes the file as of `known` (PRAGMA data_version, which
  // changes when another connection commits); `stale` after a transaction of
  // ours failed, whose rows the index may hold although they were rolled back.
  let known = -1;
  let stale = true;

  /** Call at the start of every transaction: rebuilds the index when the file is not what it describes. */
  function ensureFresh(): boolean {
    const version = dataVersion.get() as number;
    if (!stale && version === known) return false;
    index.reset();
    for (const row of scanLog.iterate() as IterableIterator<Row & { ord: number; pid: string }>) {
      index.restore(row.pid, { ord: row.ord, seq: row.seq, version: row.version, crc: row.crc, data: row.data }, inTable.get(row.pid, row.seq) !== undefined);
    }
    known = version;
    stale = false;
    nextOrd = Math.max(nextOrd, (lastOrd.get() as number) + 1);
    merger.rebuilt();
    return true;
  }

  function firstTaken(pid: string, from: number, to: number, top: number): number | undefined {
    const there = from <= top ? ((takenInTable.get(pid, from, to) as number | undefined) ?? undefined) : undefined;
    const here = index.firstTaken(pid, from, to);
    return there === undefined ? here : here === undefined ? there : Math.min(there, here);
  }

  /** Writes one request, or returns the sequence number it conflicts at (nothing of it written). */
  function appendOne(request: AppendRequest): number | undefined {
    const { pid, firstSeq, version, events, crcs } = request;
    // An incarnation that recovered before a snapshot newer than its state was
    // taken (and the events under it pruned) must not write below it. Without
    // pruning, a taken number catches it: the events it would write exist.
    if (request.prunes) {
      const guard = newestSnapshotSeq.get(pid) as number | null;
      if (guard !== null && guard >= firstSeq) return firstSeq;
    }
    const log = index.of(pid);
    // The cached max(seq) of the table is sound because this connection writes `troupe_events` only by merging
    // (copiedAll raises it) and pruning (which lowers nothing above it); another connection's write rebuilds the
    // index, dropping the cache. A new path that inserts into the table directly must update or drop it.
    const top = log?.tableMax ?? ((tableMax.get(pid) as number | null) ?? 0);
    if (log !== undefined) log.tableMax = top;
    const taken = firstTaken(pid, firstSeq, firstSeq + events.length, top);
    if (taken !== undefined) return taken;
    for (let i = 0; i < events.length; i++) {
      // A copy: a view would keep the whole batch's buffer alive until the merge.
      const data = new Uint8Array(events[i]);
      const ord = nextOrd++;
      logRows.push(ord, pid, firstSeq + i, version, crcs[i], data);
      index.add(pid, { ord, seq: firstSeq + i, version, crc: crcs[i], data }, top);
    }
    const snapshot = request.snapshot;
    if (snapshot !== undefined) {
      insertSnapshot.run(pid, snapshot.seq, snapshot.version, snapshot.crc, snapshot.data);
      if (snapshot.retention !== undefined) {
        pruneSnapshots.run(pid, pid, snapshot.retention.keepSnapshots - 1);
        if (snapshot.retention.deleteEvents) {
          pruneEvents.run(pid, pid);
          // The log's rows below it go too, copied or not: a merge must not bring them back.
          const oldest = oldestSnapshotSeq.get(pid) as number | null;
          if (oldest !== null) {
            logRows.flush(); // the rows it deletes may be this commit's
            for (const ord of index.dropBelow(pid, oldest)) deleteLogRow.run(ord);
          }
        }
      }
    }
    return undefined;
  }

  // A later append of a journal whose earlier append in the batch was refused would leave a gap: refused too.
  const commit = db.transaction((requests: AppendRequest[]) => {
    ensureFresh();
    const refused = new Set<string>();
    const conflicts = requests.map((request) => {
      const seq = refused.has(request.pid) ? request.firstSeq : appendOne(request);
      if (seq !== undefined) refused.add(request.pid);
      return seq;
    });
    logRows.flush();
    return conflicts;
  });
  const read = db.transaction((pid: string) => {
    const snapshot = newestSnapshot.get(pid) as Row | undefined;
    // After a read in this transaction, so the check sees the snapshot the reads see.
    ensureFresh();
    const after = snapshot?.seq ?? 0;
    const events = mergeBySeq(eventsAfter.all(pid, after) as Row[], index.uncopiedAfter(pid, after));
    return { snapshot: snapshot === undefined ? undefined : record(snapshot), events };
  });

  const merger = new Merger(db, index, tuning, {
    ensureFresh,
    failed: () => {
      stale = true;
    },
    busyTimeoutMs: spec.busyTimeoutMs,
  });
  try {
    // Whatever a crash left in the log goes into the table before anything is read: the index starts empty.
    merger.mergeAll();
    ensureFresh();
  } catch (error) {
    db.close();
    throw new PersistenceStoreError(`cannot open the SQLite journal ${spec.path}: ${(error as Error).message}`, { cause: error });
  }

  return {
    append(requests) {
      let conflicts: (number | undefined)[];
      try {
        // Past the memory bound the merge runs before the commit: appends wait rather than memory grow.
        merger.catchUp();
        conflicts = commit.immediate(requests);
      } catch (error) {
        stale = true;
        logRows.clear();
        const wire = errorToWire(storeFault('append', error));
        return Promise.resolve(requests.map(() => wire));
      }
      merger.schedule();
      return Promise.resolve(
        conflicts.map((seq, i): WireError | undefined => (seq === undefined ? undefined : errorToWire(new PersistenceConflictError(requests[i].pid, seq)))),
      );
    },
    load(pids) {
      return Promise.resolve(
        pids.map((pid): LoadedJournal | WireError => {
          try {
            return read(pid);
          } catch (error) {
            return errorToWire(storeFault(`read journal "${pid}"`, error));
          }
        }),
      );
    },
    close() {
      merger.stop();
      try {
        // A clean shutdown leaves an empty log: the file at rest is the two tables.
        merger.mergeAll();
      } catch {
        // Left in the log, merged at the next open.
      }
      db.close();
      return Promise.resolve();
    },
    logRows: () => ({ rows: index.rows, uncopied: index.uncopied }),
    mergeIdle: () => merger.idle(),
  };
}

/**
 * The file's layout, in `PRAGMA user_version`: 1 is the tables above (appends
 * go through `troupe_log`). A file of a newer layout is refused rather than
 * written in a way its writer does not expect. Releases before the log wrote
 * `troupe_events` directly and never look at `troupe_log`: they must not
 * share a file with this one (see docs/guide/durability.md).
 */
const kFormat = 1;

function checkFormat(db: Database.Database, path: string): void {
  const format = db.pragma('user_version', { simple: true }) as number;
  if (format > kFormat) {
    db.close();
    throw new PersistenceStoreError(`the SQLite journal ${path} has layout ${format}, newer than this troupe's (${kFormat}): open it with the troupe that wrote it`);
  }
  if (format < kFormat) db.pragma(`user_version = ${kFormat}`);
}

/** Table rows and uncopied log rows, both in seq order, as one list; a seq both hold (possible only after a rebuild) once. */
function mergeBySeq(table: Row[], log: StoredRecord[]): StoredRecord[] {
  if (log.length === 0) return table.map(record);
  // Either side's rows, without the log's `ord`.
  const out: StoredRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < table.length || j < log.length) {
    if (j === log.length || (i < table.length && table[i].seq <= log[j].seq)) {
      if (j < log.length && table[i].seq === log[j].seq) j++;
      out.push(record(table[i++]));
    } else out.push(record(log[j++]));
  }
  return out;
}

function record(row: StoredRecord): StoredRecord {
  return { seq: row.seq, version: row.version, crc: row.crc, data: row.data };
}

function storeFault(what: string, error: unknown): PersistenceStoreError {
  const code = (error as { code?: unknown }).code;
  return new PersistenceStoreError(`SQLite could not ${what}${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`, { cause: error });
}
