/**
 * The embedded journal: one SQLite file, WAL mode, `synchronous=FULL` (the
 * WAL is fsync'd at every commit), written by better-sqlite3 on the journal
 * thread, so the seconds spent in fsync block no host. One transaction per
 * batch is the group commit: every append the hosts sent while the last
 * commit was syncing shares the next one's fsync.
 */
import Database from 'better-sqlite3';
import { PersistenceConflictError, PersistenceStoreError, errorToWire, type WireError } from '../errors.js';
import type { JournalBackend } from './backend.js';
import type { AppendRequest, LoadedJournal, StoredRecord } from './journal-protocol.js';
import type { StoreSpec } from './store-spec.js';

type SqliteSpec = Extract<StoreSpec, { kind: 'sqlite' }>;

const kSchema = `
CREATE TABLE IF NOT EXISTS troupe_events (
  pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (pid, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_snapshots (
  pid TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (pid, seq)) WITHOUT ROWID;
`;

interface Row {
  seq: number;
  version: number;
  crc: number;
  data: Buffer;
}

export function openSqlite(spec: SqliteSpec): JournalBackend {
  let db: Database.Database;
  try {
    db = new Database(spec.path, { timeout: spec.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(kSchema);
  } catch (error) {
    throw new PersistenceStoreError(`cannot open the SQLite journal ${spec.path}: ${(error as Error).message}`, { cause: error });
  }
  const insertEvent = db.prepare('INSERT INTO troupe_events (pid, seq, version, crc, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
  const insertSnapshot = db.prepare('INSERT OR REPLACE INTO troupe_snapshots (pid, seq, version, crc, data) VALUES (?, ?, ?, ?, ?)');
  const newestSnapshotSeq = db.prepare('SELECT max(seq) AS seq FROM troupe_snapshots WHERE pid = ?').pluck();
  const newestSnapshot = db.prepare('SELECT seq, version, crc, data FROM troupe_snapshots WHERE pid = ? ORDER BY seq DESC LIMIT 1');
  const eventsAfter = db.prepare('SELECT seq, version, crc, data FROM troupe_events WHERE pid = ? AND seq > ? ORDER BY seq');
  const pruneSnapshots = db.prepare(
    'DELETE FROM troupe_snapshots WHERE pid = ? AND seq < (SELECT seq FROM troupe_snapshots WHERE pid = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  );
  // Below the oldest kept snapshot, not at it: the row at its sequence number
  // stays, so an incarnation that recovered from an older state still finds
  // that number taken (see the snapshot guard in #appendOne).
  const pruneEvents = db.prepare('DELETE FROM troupe_events WHERE pid = ? AND seq < (SELECT min(seq) FROM troupe_snapshots WHERE pid = ?)');
  const savepoint = db.prepare('SAVEPOINT troupe_append');
  const rollbackTo = db.prepare('ROLLBACK TO troupe_append');
  const release = db.prepare('RELEASE troupe_append');

  /** Writes one request, or returns the sequence number it conflicts at (nothing of it written). */
  function appendOne(request: AppendRequest): number | undefined {
    const { pid, firstSeq, version, events, crcs } = request;
    // An incarnation that recovered before a snapshot newer than its state was
    // taken (and the events under it pruned) must not write below it. Without
    // pruning, the primary key alone catches it: the events it would write exist.
    if (request.prunes) {
      const guard = newestSnapshotSeq.get(pid) as number | null;
      if (guard !== null && guard >= firstSeq) return firstSeq;
    }
    const several = events.length > 1;
    if (several) savepoint.run();
    for (let i = 0; i < events.length; i++) {
      if (insertEvent.run(pid, firstSeq + i, version, crcs[i], events[i]).changes === 0) {
        if (several) {
          rollbackTo.run();
          release.run();
        }
        return firstSeq + i;
      }
    }
    if (several) release.run();
    const snapshot = request.snapshot;
    if (snapshot !== undefined) {
      insertSnapshot.run(pid, snapshot.seq, snapshot.version, snapshot.crc, snapshot.data);
      if (snapshot.retention !== undefined) {
        pruneSnapshots.run(pid, pid, snapshot.retention.keepSnapshots - 1);
        if (snapshot.retention.deleteEvents) pruneEvents.run(pid, pid);
      }
    }
    return undefined;
  }

  // A later append of a journal whose earlier append in the batch was refused would leave a gap: refused too.
  const commit = db.transaction((requests: AppendRequest[]) => {
    const refused = new Set<string>();
    return requests.map((request) => {
      const seq = refused.has(request.pid) ? request.firstSeq : appendOne(request);
      if (seq !== undefined) refused.add(request.pid);
      return seq;
    });
  });

  return {
    append(requests) {
      let conflicts: (number | undefined)[];
      try {
        conflicts = commit.immediate(requests);
      } catch (error) {
        const wire = errorToWire(storeFault('append', error));
        return Promise.resolve(requests.map(() => wire));
      }
      return Promise.resolve(
        conflicts.map((seq, i): WireError | undefined => (seq === undefined ? undefined : errorToWire(new PersistenceConflictError(requests[i].pid, seq)))),
      );
    },
    load(pids) {
      return Promise.resolve(
        pids.map((pid): LoadedJournal | WireError => {
          try {
            const snapshot = newestSnapshot.get(pid) as Row | undefined;
            const events = eventsAfter.all(pid, snapshot?.seq ?? 0) as Row[];
            return { snapshot: snapshot === undefined ? undefined : record(snapshot), events: events.map(record) };
          } catch (error) {
            return errorToWire(storeFault(`read journal "${pid}"`, error));
          }
        }),
      );
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

function record(row: Row): StoredRecord {
  return { seq: row.seq, version: row.version, crc: row.crc, data: row.data };
}

function storeFault(what: string, error: unknown): PersistenceStoreError {
  const code = (error as { code?: unknown }).code;
  return new PersistenceStoreError(`SQLite could not ${what}${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`, { cause: error });
}
