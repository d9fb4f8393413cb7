/**
 * The SQLite journal's rows still in `troupe_log`, by actor, in memory on
 * the journal thread. The log has no index but its rowid (`ord`, append
 * order), so a commit touches a few pages at the end of one tree; conflict
 * checks, loads and the merge into `troupe_events` find an actor's log rows
 * here instead.
 *
 * A row in the log is either uncopied (only there) or copied (also in
 * `troupe_events`, waiting for the range delete that empties the log's
 * oldest part). An actor's rows are kept in ord order; since a merge copies
 * all of an actor's uncopied rows at once, its copied rows are a prefix.
 *
 * This is true only of what this connection committed: the backend rebuilds
 * it from the file (`reset` + `restore`) when another connection wrote it or
 * a transaction of its own failed part way.
 */
import type { StoredRecord } from './journal-protocol.js';

export interface LogRow extends StoredRecord {
  ord: number;
}

export interface ActorLog {
  /** In ord order. */
  readonly rows: LogRow[];
  /** How many leading rows are also in `troupe_events`. */
  copied: number;
  /** Whether `rows` is also in seq order (false once a seq was written into a gap below the top). */
  ordered: boolean;
  /** max(seq) in `troupe_events` when last known, or undefined: no seq above it is taken there. */
  tableMax: number | undefined;
}

export class LogIndex {
  readonly #byPid = new Map<string, ActorLog>();
  // Every row in ord order (a FIFO with a moving head): the range delete
  // finds how far the log is copied, and whose rows it removes, from here.
  #queueOrds: number[] = [];
  #queuePids: string[] = [];
  #head = 0;
  #rows = 0;
  #uncopied = 0;
  #bytes = 0;

  /** Rows held (copied or not). */
  get rows(): number {
    return this.#rows;
  }

  get uncopied(): number {
    return this.#uncopied;
  }

  /** Bytes of data held. */
  get bytes(): number {
    return this.#bytes;
  }

  of(pid: string): ActorLog | undefined {
    return this.#byPid.get(pid);
  }

  /** Actors with uncopied rows. */
  *pending(): IterableIterator<string> {
    for (const [pid, log] of this.#byPid) if (log.copied < log.rows.length) yield pid;
  }

  /** Records a row just written at the end of the log (its ord above every one held). */
  add(pid: string, row: LogRow, tableMax: number | undefined): void {
    let log = this.#byPid.get(pid);
    if (log === undefined) this.#byPid.set(pid, (log = { rows: [], copied: 0, ordered: true, tableMax }));
    const last = log.rows[log.rows.length - 1];
    if (last !== undefined && last.seq > row.seq) log.ordered = false;
    log.rows.push(row);
    this.#queueOrds.push(row.ord);
    this.#queuePids.push(pid);
    this.#rows++;
    this.#uncopied++;
    this.#bytes += row.data.byteLength;
  }

  /** Rebuilds from the file: `inTable` says the row is also in `troupe_events`. */
  restore(pid: string, row: LogRow, inTable: boolean): void {
    this.add(pid, row, undefined);
    const log = this.#byPid.get(pid)!;
    // Only a copied prefix counts as copied; a copied row after an uncopied one
    // is kept as uncopied, and loads drop the seq the table also has.
    if (inTable && log.copied === log.rows.length - 1) {
      log.copied++;
      this.#uncopied--;
    }
  }

  /** The lowest of `pid`'s seqs in the log within [from, to), if any. */
  firstTaken(pid: string, from: number, to: number): number | undefined {
    const log = this.#byPid.get(pid);
    if (log === undefined) return undefined;
    const { rows } = log;
    if (log.ordered) {
      const at = lowerBound(rows, from);
      return at < rows.length && rows[at].seq < to ? rows[at].seq : undefined;
    }
    let found: number | undefined;
    for (const { seq } of rows) if (seq >= from && seq < to && (found === undefined || seq < found)) found = seq;
    return found;
  }

  /** `pid`'s uncopied rows with seq > `after`, in seq order. */
  uncopiedAfter(pid: string, after: number): LogRow[] {
    const log = this.#byPid.get(pid);
    if (log === undefined) return [];
    const rows = log.rows.slice(log.copied).filter((row) => row.seq > after);
    return log.ordered ? rows : rows.sort((a, b) => a.seq - b.seq);
  }

  /** Forgets `pid`'s rows below `seq` (retention deleted them) and returns their ords, to delete from the log. */
  dropBelow(pid: string, seq: number): number[] {
    const log = this.#byPid.get(pid);
    if (log === undefined) return [];
    const dropped: number[] = [];
    let kept = 0;
    let copied = log.copied;
    log.rows.forEach((row, i) => {
      if (row.seq < seq) {
        dropped.push(row.ord);
        this.#rows--;
        this.#bytes -= row.data.byteLength;
        if (i < log.copied) copied--;
        else this.#uncopied--;
      } else log.rows[kept++] = row;
    });
    log.rows.length = kept;
    log.copied = copied;
    // Their queue places stay; the range delete skips a row it no longer finds.
    if (kept === 0) this.#byPid.delete(pid);
    return dropped;
  }

  /** After a committed copy of `pid`'s uncopied rows into `troupe_events`. */
  copiedAll(pid: string): void {
    const log = this.#byPid.get(pid);
    if (log === undefined) return;
    this.#uncopied -= log.rows.length - log.copied;
    if (log.tableMax !== undefined) for (let i = log.copied; i < log.rows.length; i++) log.tableMax = Math.max(log.tableMax, log.rows[i].seq);
    log.copied = log.rows.length;
  }

  /**
   * How far the log is copied from its start: the highest ord such that every
   * row held at or below it is copied, with the number of such rows; the
   * rows a range delete up to it removes.
   */
  copiedPrefix(): { end: number; rows: number } | undefined {
    const cursor = new Map<string, number>();
    let end: number | undefined;
    let rows = 0;
    for (let i = this.#head; i < this.#queueOrds.length; i++) {
      const ord = this.#queueOrds[i];
      const pid = this.#queuePids[i];
      const log = this.#byPid.get(pid);
      const k = cursor.get(pid) ?? 0;
      if (log !== undefined && log.rows[k]?.ord === ord) {
        if (k >= log.copied) break;
        cursor.set(pid, k + 1);
        rows++;
      }
      end = ord;
    }
    return end === undefined ? undefined : { end, rows };
  }

  /** After a committed range delete of every log row with ord ≤ `end` (all of them copied). */
  deletedThrough(end: number): void {
    const touched = new Set<string>();
    while (this.#head < this.#queueOrds.length && this.#queueOrds[this.#head] <= end) {
      touched.add(this.#queuePids[this.#head]);
      this.#head++;
    }
    for (const pid of touched) {
      const log = this.#byPid.get(pid);
      if (log === undefined) continue;
      let n = 0;
      while (n < log.rows.length && log.rows[n].ord <= end) this.#bytes -= log.rows[n++].data.byteLength;
      log.rows.splice(0, n);
      log.copied -= n;
      this.#rows -= n;
      // An actor with nothing left in the log is forgotten, so the index stays as small as the log.
      if (log.rows.length === 0) this.#byPid.delete(pid);
    }
    if (this.#head > 4096 && this.#head * 2 > this.#queueOrds.length) {
      this.#queueOrds = this.#queueOrds.slice(this.#head);
      this.#queuePids = this.#queuePids.slice(this.#head);
      this.#head = 0;
    }
  }

  reset(): void {
    this.#byPid.clear();
    this.#queueOrds = [];
    this.#queuePids = [];
    this.#head = 0;
    this.#rows = 0;
    this.#uncopied = 0;
    this.#bytes = 0;
  }
}

/** The first index whose row's seq is ≥ `seq`, in rows ascending by seq. */
function lowerBound(rows: readonly LogRow[], seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
