/**
 * Moves the SQLite journal's log into `troupe_events`, between group
 * commits, in steps short enough that a commit waiting behind one still
 * answers in milliseconds. A round takes the actors with uncopied rows in
 * key order and copies them a slice at a time, all of an actor's rows at
 * once (so its rows land on its leaf pages together, which is the whole
 * gain); when the round is done, one range delete empties the copied start
 * of the log (a contiguous run of its rowid tree).
 *
 * Every step is one transaction, so a crash anywhere loses nothing and
 * doubles nothing: a row copied but not yet deleted is in both tables with
 * the same content, and the merge at open inserts with ON CONFLICT DO
 * NOTHING. Steps commit with `synchronous=NORMAL`: in WAL mode their frames
 * precede the next FULL commit's in the one WAL file, its fsync makes them
 * durable too, and recovery accepts a frame only if every frame before it
 * checksums, so no later commit survives a lost step. A step lost at a power
 * failure leaves its rows in the log, where the open merges them.
 */
import type Database from 'better-sqlite3';
import { BatchInsert } from './sqlite-batch-insert.js';
import type { LogIndex } from './sqlite-log-index.js';

export interface MergeTuning {
  /** Uncopied rows in the log at which a round starts. */
  mergeAt: number;
  /** Rows one copy step takes (whole actors: it may pass this by one actor's rows). */
  sliceRows: number;
  /** Rows held in the log (copied or not) past which an append first waits for merge steps. */
  maxRows: number;
  /** Bytes of event data held past which an append first waits for merge steps. */
  maxBytes: number;
}

export const kMergeTuning: MergeTuning = Object.freeze({ mergeAt: 20_000, sliceRows: 2_000, maxRows: 200_000, maxBytes: 64 * 1024 * 1024 });

interface Hooks {
  /** Rebuilds the index if the file changed under it; true if it did. */
  ensureFresh(): boolean;
  /** A step's transaction failed: the index may hold what was rolled back. */
  failed(): void;
  /** How long the appends' transactions wait for another connection's lock (restored after a step). */
  busyTimeoutMs: number;
}

/** The longest a merge waits before it tries again after finding the file locked by another connection. */
const kMaxBackoffMs = 1000;

export class Merger {
  readonly #db: Database.Database;
  readonly #index: LogIndex;
  readonly #tuning: MergeTuning;
  readonly #hooks: Hooks;
  readonly #insertEvents: BatchInsert;
  readonly #deleteThrough: Database.Statement;
  readonly #copyAll: Database.Statement;
  readonly #deleteAll: Database.Statement;
  readonly #anyLogged: Database.Statement;
  readonly #copy: Database.Transaction<() => string[] | undefined>;
  readonly #delete: Database.Transaction<() => number | undefined>;
  #round: string[] = [];
  #at = 0;
  #deletePending = false;
  #scheduled = false;
  #stopped = false;
  #idle: (() => void)[] = [];
  // Steps that failed in a row: the next one waits 2^n ms (to kMaxBackoffMs), so a lock held by
  // another connection is not polled between every commit.
  #failures = 0;

  constructor(db: Database.Database, index: LogIndex, tuning: MergeTuning, hooks: Hooks) {
    this.#db = db;
    this.#index = index;
    this.#tuning = tuning;
    this.#hooks = hooks;
    this.#insertEvents = new BatchInsert(db, 'troupe_events', ['pid', 'seq', 'version', 'crc', 'data'], 'ON CONFLICT DO NOTHING');
    this.#deleteThrough = db.prepare('DELETE FROM troupe_log WHERE ord <= ?');
    // `WHERE true`: SQLite reads ON CONFLICT after a bare SELECT ... FROM as a join constraint.
    this.#copyAll = db.prepare('INSERT INTO troupe_events (pid, seq, version, crc, data) SELECT pid, seq, version, crc, data FROM troupe_log WHERE true ORDER BY pid, seq ON CONFLICT DO NOTHING');
    this.#deleteAll = db.prepare('DELETE FROM troupe_log');
    this.#anyLogged = db.prepare('SELECT 1 FROM troupe_log LIMIT 1').pluck();
    this.#copy = db.transaction(() => this.#copySlice());
    this.#delete = db.transaction(() => this.#deleteCopied());
  }

  /** After a commit: runs steps between the next ones while there is merging to do. */
  schedule(): void {
    if (this.#scheduled) return;
    if (this.#stopped || !this.#wants()) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      if (!this.#stopped) this.#step();
      this.schedule();
    };
    if (this.#failures === 0) setImmediate(run);
    else setTimeout(run, Math.min(kMaxBackoffMs, 2 ** this.#failures)).unref();
  }

  /**
   * The index was rebuilt from the file: a round planned on the old one is
   * void, and the rows the rebuild found already in the table (copied) wait
   * for a range delete that no finished round will ask for.
   */
  rebuilt(): void {
    this.#round = [];
    this.#at = 0;
    this.#deletePending = true;
  }

  /** Runs steps now while the log holds more than its bound (not while the file is locked elsewhere: the append reports that). */
  catchUp(): void {
    const { maxRows, maxBytes } = this.#tuning;
    while ((this.#index.rows >= maxRows || this.#index.bytes >= maxBytes) && this.#step());
  }

  idle(): Promise<void> {
    if (!this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** The whole log into the table in one transaction (at open, after a crash; at close). */
  mergeAll(): void {
    if (this.#anyLogged.get() === undefined) return;
    this.#db.transaction(() => {
      this.#copyAll.run();
      this.#deleteAll.run();
    }).immediate();
    this.#index.reset();
    this.#round = [];
    this.#at = 0;
    this.#deletePending = false;
  }

  stop(): void {
    this.#stopped = true;
  }

  #wants(): boolean {
    return this.#at < this.#round.length || this.#deletePending || this.#index.uncopied >= this.#tuning.mergeAt;
  }

  /** One step; false if there was nothing to do or it failed. */
  #step(): boolean {
    if (this.#at >= this.#round.length && !this.#deletePending) {
      if (this.#index.uncopied === 0) return false;
      // Key order: neighbouring actors share leaf pages, so a slice writes each page once.
      this.#round = [...this.#index.pending()].sort();
      this.#at = 0;
    }
    this.#db.pragma('synchronous = NORMAL');
    // A step never waits for a lock: it is optional work, tried again later (with backoff), while an
    // append behind it would wait the whole busy timeout twice.
    this.#db.pragma('busy_timeout = 0');
    try {
      if (this.#at < this.#round.length) {
        const copied = this.#copy.immediate();
        if (copied === undefined) return true;
        for (const pid of copied) this.#index.copiedAll(pid);
        if (this.#at >= this.#round.length) this.#deletePending = true;
      } else {
        // Cleared first: a rebuild inside the step asks for another one.
        this.#deletePending = false;
        const end = this.#delete.immediate();
        if (end !== undefined) this.#index.deletedThrough(end);
      }
      this.#failures = 0;
      return true;
    } catch {
      // The rows stay in the log (the transaction rolled back); a later round takes them.
      this.#hooks.failed();
      this.#round = [];
      this.#at = 0;
      this.#failures = Math.min(this.#failures + 1, 10);
      return false;
    } finally {
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma(`busy_timeout = ${this.#hooks.busyTimeoutMs}`);
    }
  }

  #copySlice(): string[] | undefined {
    // Another connection wrote: the round was planned on an index that is gone (rebuilt() voided it).
    if (this.#hooks.ensureFresh()) return undefined;
    const copied: string[] = [];
    let rows = 0;
    while (this.#at < this.#round.length && rows < this.#tuning.sliceRows) {
      const pid = this.#round[this.#at++];
      const log = this.#index.of(pid);
      if (log === undefined || log.copied === log.rows.length) continue;
      const uncopied = log.rows.slice(log.copied);
      if (!log.ordered) uncopied.sort((a, b) => a.seq - b.seq);
      for (const row of uncopied) this.#insertEvents.push(pid, row.seq, row.version, row.crc, row.data);
      rows += uncopied.length;
      copied.push(pid);
    }
    this.#insertEvents.flush();
    return copied;
  }

  #deleteCopied(): number | undefined {
    if (this.#hooks.ensureFresh()) return undefined;
    const prefix = this.#index.copiedPrefix();
    if (prefix === undefined) return undefined;
    this.#deleteThrough.run(prefix.end);
    return prefix.end;
  }
}
