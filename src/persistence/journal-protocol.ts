/**
 * The messages between a host and the journal thread, over the MessagePort
 * each host gets. A host sends what its actors asked for during one turn as
 * one message, whose payload bytes travel in one transferred ArrayBuffer (a
 * structured clone of a Buffer would copy its whole backing pool); the
 * journal thread answers each message with one.
 */
import type { WireError } from '../errors.js';

/** One event or snapshot as stored: its bytes are msgpack, `crc` their CRC-32. */
export interface StoredRecord {
  seq: number;
  /** The `persistence.version` of the code that wrote it. */
  version: number;
  crc: number;
  data: Uint8Array;
}

/** A journal as recovery reads it: the newest snapshot and the events after it. */
export interface LoadedJournal {
  snapshot: StoredRecord | undefined;
  events: StoredRecord[];
}

/** What is kept of an actor's snapshots when one more is written. */
export interface Retention {
  /** Snapshots kept (the newest). */
  keepSnapshots: number;
  /** Also delete the events the oldest kept snapshot covers. */
  deleteEvents: boolean;
}

/** One actor's append as the journal thread sees it (the bytes already cut out of the batch's buffer). */
export interface AppendRequest {
  pid: string;
  firstSeq: number;
  version: number;
  events: Uint8Array[];
  crcs: number[];
  /** Its actor's retention deletes events: only then can an older incarnation find its numbers free (the snapshot guard). */
  prunes: boolean;
  snapshot: (StoredRecord & { retention: Retention | undefined }) | undefined;
}

/** Record metadata in a message; `length` bytes of the message's buffer, in order. */
export interface RecordHead {
  seq: number;
  version: number;
  crc: number;
  length: number;
}

export interface AppendHead {
  id: number;
  pid: string;
  firstSeq: number;
  version: number;
  lengths: number[];
  crcs: number[];
  prunes?: true;
  snapshot?: RecordHead & { retention?: Retention };
}

export type HostToJournal =
  | { t: 'append'; appends: AppendHead[]; data: ArrayBuffer }
  | { t: 'load'; loads: { id: number; pid: string }[] };

export type JournalToHost =
  | { t: 'appended'; ids: number[]; failures: [id: number, error: WireError][] }
  | { t: 'loaded'; results: LoadHead[]; data: ArrayBuffer };

export type LoadHead = { id: number; snapshot: RecordHead | null; events: RecordHead[] } | { id: number; error: WireError };

/** main ↔ journal thread. */
export type ControlToJournal = { t: 'connect'; port: import('node:worker_threads').MessagePort } | { t: 'close' };
export type JournalReport = { t: 'ready' } | { t: 'failed'; error: WireError } | { t: 'closed' };
