/**
 * The chain itself: how an entry is built from the one before it, and how a
 * sequence of stored entries is walked to find the first one that was
 * altered, removed, inserted or reordered. Both the file and the store keep
 * entries as the same JSON text, so one walker serves both.
 *
 * An entry's `hash` is SHA-256 over the canonical JSON of every field but
 * `hash` and `sig`; its `prev` is the hash of the entry before (64 zeros for
 * the first). A checkpoint is an entry of type `audit.checkpoint` whose
 * `sig` signs its own hash, and so everything before it: without the key,
 * rewriting the log up to a checkpoint is detected, whatever hashes are
 * recomputed. Entries after the last checkpoint are chained but unsigned;
 * `verify` says how many.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { CheckpointVerifier } from './audit-keys.js';
import { canonicalJson, type AuditValue } from './canonical.js';

/** What a caller records. */
export interface AuditEvent {
  /** What happened, dotted: `auth.failed`, `admin.actor.stop`, `secrets.rotated`. */
  type: string;
  /** Who did it (a principal's subject, `process`, a service). */
  actor?: string;
  /** What it was done to (an actor's name, a key id). */
  subject?: string;
  detail?: { [key: string]: AuditValue | undefined };
}

/** An entry as stored: one line of the file, one event of the store. */
export interface AuditEntry extends AuditEvent {
  seq: number;
  /** ISO 8601, UTC, milliseconds. */
  time: string;
  prev: string;
  hash: string;
  /** Checkpoints only: the signature of `hash`. */
  sig?: string;
}

export const kGenesisHash = '0'.repeat(64);
export const kCheckpointType = 'audit.checkpoint';

const kTypePattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
const kMaxTypeChars = 128;
/** The longest actor or subject an entry holds. */
export const kMaxNameChars = 512;

/** Where a chain stands: the next entry's `seq` and `prev`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Validates what a caller passed; throws InvalidArgumentError before anything is queued. */
export function checkEvent(event: AuditEvent): void {
  if (event === null || typeof event !== 'object') throw new InvalidArgumentError('audit.append(event): event must be an object { type, actor?, subject?, detail? }');
  const { type, actor, subject, detail } = event;
  if (typeof type !== 'string' || type.length > kMaxTypeChars || !kTypePattern.test(type)) {
    throw new InvalidArgumentError(`audit.append(event): type must be dotted lower-case words like "auth.failed" (at most ${kMaxTypeChars} characters), received ${JSON.stringify(type)}`);
  }
  if (type === kCheckpointType) throw new InvalidArgumentError(`audit.append(event): type "${kCheckpointType}" is the log's own`);
  for (const [name, value] of [['actor', actor], ['subject', subject]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length > kMaxNameChars)) {
      throw new InvalidArgumentError(`audit.append(event): ${name} must be a string of at most ${kMaxNameChars} characters`);
    }
  }
  if (detail !== undefined && (detail === null || typeof detail !== 'object' || Array.isArray(detail))) throw new InvalidArgumentError('audit.append(event): detail must be a plain object');
}

/** The next entry after `head`; the caller has checked `event`. */
export function buildEntry(head: ChainHead, time: number, event: AuditEvent): AuditEntry {
  const entry: AuditEntry = { seq: head.seq, time: new Date(time).toISOString(), type: event.type, prev: head.hash, hash: '' };
  if (event.actor !== undefined) entry.actor = event.actor;
  if (event.subject !== undefined) entry.subject = event.subject;
  if (event.detail !== undefined) entry.detail = event.detail;
  entry.hash = hashOf(entry);
  return entry;
}

export function hashOf(entry: AuditEntry): string {
  const { hash: _hash, sig: _sig, ...hashed } = entry;
  return createHash('sha256').update(canonicalJson(hashed, 'entry')).digest('hex');
}

/** The text an entry is stored as (canonical, so a stored line re-encodes to itself). */
export function entryText(entry: AuditEntry): string {
  return canonicalJson(entry, 'entry');
}

export interface AuditBadEntry {
  /** Position of the entry in the log (0-based line of the file, or entry of the store). */
  index: number;
  reason: string;
}

export interface AuditVerifyResult {
  /**
   * Every entry is intact, in order, and signed by a checkpoint whose
   * signature holds, but for an unsigned tail no longer than one batch
   * (what a crash in the middle of a write leaves; never acknowledged).
   */
  ok: boolean;
  /** Entries read before the first bad one (all of them when ok). */
  entries: number;
  firstBad?: AuditBadEntry;
  /** `seq` of the last checkpoint whose signature holds (-1: none): everything up to it is signed. */
  signedThrough: number;
  /** Complete entries after that checkpoint, signed by none: a write cut short by a crash (reopening drops them). */
  unsignedTail: number;
  /** Bytes after the last newline: a line cut short by a crash; not an entry, not counted. */
  truncatedTailBytes: number;
}

/** What a walk of the chain found: the verify result, and where a writer reopening the log goes on from. */
export interface ChainWalk extends AuditVerifyResult {
  /** The chain after the last valid checkpoint: where a reopened log continues (its unsigned tail dropped). */
  signedHead: ChainHead;
  /** Bytes of the entries after that checkpoint (each with its newline), for a reopen to drop. */
  unsignedBytes: number;
  /** The first bad entry is only an unsigned tail (no tampering found): a reopen drops it. */
  onlyUnsigned: boolean;
}

/** Entries a checkpoint may follow at most, when no valid checkpoint says (the default checkpointEvery). */
export const kDefaultCheckpointEvery = 256;

/**
 * Walks complete `lines` (one entry each; `tailBytes` after the last
 * newline were cut short) and returns what verify reports plus where the
 * chain stands after the last valid checkpoint.
 */
export function walkChain(lines: readonly string[], verifier: CheckpointVerifier, tailBytes: number): ChainWalk {
  let head: ChainHead = { seq: 0, hash: kGenesisHash };
  let signedHead = head;
  let signedLines = 0;
  let signedThrough = -1;
  let every: number | undefined;
  let unsignedBytes = 0;
  const seen = new Map<number, { index: number; prev: string }>();
  const result = (firstBad?: AuditBadEntry, onlyUnsigned = false): ChainWalk => {
    const base = {
      ok: firstBad === undefined,
      entries: firstBad?.index ?? lines.length,
      signedThrough,
      unsignedTail: (firstBad?.index ?? lines.length) - signedLines,
      truncatedTailBytes: tailBytes,
      signedHead,
      unsignedBytes,
      onlyUnsigned,
    };
    return firstBad === undefined ? base : { ...base, firstBad };
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    const entry = parse(line);
    if (typeof entry === 'string') return result({ index, reason: entry });
    if (entry.seq !== head.seq) return result(outOfOrder(lines, index, entry, head.seq, seen));
    if (hashOf(entry) !== entry.hash) return result({ index, reason: `altered: entry ${entry.seq}'s content does not match its hash` });
    // Duplicate keys, added whitespace or escapes hash the same once parsed, but a reader of the raw line sees something else.
    if (entryText(entry) !== line) return result({ index, reason: `altered: entry ${entry.seq} is not in its canonical form (keys repeated or reordered, spaces or escapes added)` });
    if (entry.prev !== head.hash) {
      return result({ index, reason: `chain broken: entry ${entry.seq}'s prev is not the hash of the entry before it (that one was altered and re-hashed, or this one was)` });
    }
    if (entry.type === kCheckpointType) {
      const alg = entry.detail?.alg;
      if (alg !== verifier.alg) return result({ index, reason: `checkpoint ${entry.seq} is signed with ${JSON.stringify(alg)}, the key given is ${verifier.alg}` });
      if (typeof entry.sig !== 'string' || !verifier.verify(entry.hash, entry.sig)) return result({ index, reason: `checkpoint ${entry.seq}: the signature does not hold (forged, altered, or another key)` });
      const declared = entry.detail?.every;
      if (typeof declared === 'number' && Number.isSafeInteger(declared) && declared > 0) every = declared;
      signedThrough = entry.seq;
      signedHead = { seq: entry.seq + 1, hash: entry.hash };
      signedLines = index + 1;
      unsignedBytes = 0;
    } else {
      if (entry.sig !== undefined) return result({ index, reason: `entry ${entry.seq} carries a signature but is not a checkpoint` });
      unsignedBytes += Buffer.byteLength(line) + 1;
    }
    seen.set(entry.seq, { index, prev: entry.prev });
    head = { seq: entry.seq + 1, hash: entry.hash };
  }
  const unsigned = lines.length - signedLines;
  // Every write ends with a checkpoint, so unsigned entries are at most one write's cut-short tail, after a checkpoint.
  if (unsigned > 0 && (signedThrough < 0 || unsigned > (every ?? kDefaultCheckpointEvery))) {
    const reason = signedThrough < 0 ? `unsigned: no checkpoint signs entries 0–${unsigned - 1} (a first write cut short by a crash, or the checkpoints removed); reopening drops them` : `unsigned: ${unsigned} entries follow the last checkpoint, more than one write leaves (${every ?? kDefaultCheckpointEvery}): checkpoints removed?`;
    return result({ index: signedLines, reason }, signedThrough < 0);
  }
  return result();
}

/** A parsed entry, or why the line is not one. */
function parse(line: string): AuditEntry | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'malformed: not a JSON entry';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'malformed: not an object';
  const entry = value as Record<string, unknown>;
  if (!Number.isSafeInteger(entry.seq) || (entry.seq as number) < 0) return 'malformed: no seq';
  for (const field of ['time', 'type', 'prev', 'hash'] as const) if (typeof entry[field] !== 'string') return `malformed: no ${field}`;
  return entry as unknown as AuditEntry;
}

/** Where and why entry `entry` stands where `expected` should: the log was reordered, had entries removed, or had one inserted. */
function outOfOrder(lines: readonly string[], index: number, entry: AuditEntry, expected: number, seen: ReadonlyMap<number, { index: number; prev: string }>): AuditBadEntry {
  const { seq } = entry;
  if (seq < expected) {
    const earlier = seen.get(seq);
    if (earlier === undefined) return { index, reason: `inserted: an entry numbered ${seq} where entry ${expected} should be` };
    // Two entries claim the same place. The log goes on from the genuine one: if the next entry chains to this one, the earlier copy was forged.
    const next = index + 1 < lines.length ? parse(lines[index + 1]) : undefined;
    if (earlier.prev === entry.prev && next !== undefined && typeof next !== 'string' && next.prev === entry.hash && hashOf(entry) === entry.hash) {
      return { index: earlier.index, reason: `inserted: the entry at position ${earlier.index} is a second entry ${seq}; the log goes on from the one at position ${index}` };
    }
    return { index, reason: `inserted: a second entry ${seq} (the first is at position ${earlier.index})` };
  }
  for (let later = index + 1; later < lines.length; later++) {
    const other = parse(lines[later]);
    if (typeof other !== 'string' && other.seq === expected) return { index, reason: `reordered: entry ${seq} stands where entry ${expected} should (entry ${expected} is at position ${later})` };
  }
  return { index, reason: seq - 1 > expected ? `removed: entries ${expected}–${seq - 1} are missing before entry ${seq}` : `removed: entry ${expected} is missing before entry ${seq}` };
}
