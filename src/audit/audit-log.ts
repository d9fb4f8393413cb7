/**
 * `createAuditLog`: an append-only, hash-chained log of security-relevant
 * events with signed checkpoints.
 *
 * `append` is synchronous and cheap: it validates the event, copies it,
 * stamps its time and queues it. A writer batches what is queued (every
 * `flushIntervalMs`, or at once when `maxBatch` wait), chains it and writes
 * it in one durable write, so no request path waits on an fsync. Every
 * write ends with a signed checkpoint (a long one also has one every
 * `checkpointEvery` entries), so whatever `flush()` acknowledged is signed;
 * a crash loses at most what was queued and not yet written, and only a
 * write cut short leaves unsigned entries, at the end.
 *
 * Opening an existing log verifies it first: a log that fails is refused
 * (AuditLogCorruptError); a crash's unsigned tail (never acknowledged, and
 * open to forgery while nothing signs it) is dropped, and an `audit.opened`
 * entry records the restart and what was dropped.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';
import type { StoreSpec } from '../persistence/store-spec.js';
import { buildEntry, checkEvent, entryText, kCheckpointType, walkChain, type AuditEntry, type AuditEvent, type AuditVerifyResult, type ChainHead } from './audit-chain.js';
import { checkpointSigner, checkpointVerifier, type AuditKey, type CheckpointSigner, type CheckpointVerifier } from './audit-keys.js';
import { FileSink, StoreSink, splitLines, type AuditSink, type StoredLines } from './audit-sinks.js';
import { canonicalJson } from './canonical.js';
import { AuditLogClosedError, AuditLogCorruptError } from './errors.js';

export interface AuditLogOptions {
  /** The log file (JSON lines). Required unless `store` is given. */
  path?: string | URL;
  /** Keep the log in this durable store's journal instead of a file. */
  store?: StoreSpec;
  /** The log's name in the store (persistence id `troupe.audit/<name>`). @default 'audit' */
  name?: string;
  /** Signs checkpoints: an HMAC secret (≥ 32 bytes) or an Ed25519 private KeyObject; from the secrets provider, never from code. */
  key: AuditKey;
  /** Recorded in each checkpoint, so a verifier knows which key to use after a rotation. */
  keyId?: string;
  /** Most entries between signed checkpoints (each write also ends with one). @default 256 */
  checkpointEvery?: number;
  /** Longest time an appended entry waits to be written. @default 100 */
  flushIntervalMs?: number;
  /** Queued entries that trigger a write at once. @default 1024 */
  maxBatch?: number;
  /** Called when a background write fails (the log then refuses entries). @default logs nothing; flush() and close() reject */
  onError?: (error: Error) => void;
  /** Epoch milliseconds; injected by tests. @default Date.now */
  now?: () => number;
}

/** What to verify without opening the log for writing: a file, or a log in a store. */
export type AuditLogSource = string | URL | { store: StoreSpec; name?: string };

interface Queued {
  time: number;
  event: AuditEvent;
}

const kDefaults = { checkpointEvery: 256, flushIntervalMs: 100, maxBatch: 1024 } as const;

export class AuditLog {
  /** Where the log lives (a path, or the store and persistence id). */
  readonly location: string;
  readonly #source: AuditLogSource;
  readonly #sink: AuditSink;
  readonly #signer: CheckpointSigner;
  readonly #verifier: CheckpointVerifier;
  readonly #keyId: string | undefined;
  readonly #checkpointEvery: number;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  readonly #now: () => number;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #opened: Promise<void>;
  #head: ChainHead = { seq: 0, hash: '' };
  #queue: Queued[] = [];
  #writes: Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #failure: Error | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: AuditLogOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('createAuditLog', 'an object { path | store, key }', options);
    this.#signer = checkpointSigner(options.key, 'createAuditLog.key');
    this.#verifier = checkpointVerifier(options.key, 'createAuditLog.key');
    if (options.keyId !== undefined && (typeof options.keyId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(options.keyId))) {
      throw new InvalidOptionError('createAuditLog.keyId', 'a printable string of 1 to 64 characters', options.keyId);
    }
    this.#keyId = options.keyId;
    this.#checkpointEvery = count(options.checkpointEvery, 'checkpointEvery', kDefaults.checkpointEvery);
    this.#flushIntervalMs = count(options.flushIntervalMs, 'flushIntervalMs', kDefaults.flushIntervalMs);
    this.#maxBatch = count(options.maxBatch, 'maxBatch', kDefaults.maxBatch);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError;
    this.#source = sourceOf(options);
    this.#sink = sinkOf(this.#source);
    this.location = this.#sink.description;
    this.#opened = this.#open();
    // Nothing is written before the log is open; an open that fails fails every flush after it.
    this.#writes = this.#opened.catch((error: Error) => {
      this.#fail(error);
    });
    this.#opened.catch(() => {});
  }

  /** Resolves once the log is open (an existing one verified); rejects with AuditLogCorruptError for a tampered one. */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /**
   * Queues an event; it is durable after the next write (at most
   * `flushIntervalMs` later) or once `flush()` resolves. Throws
   * InvalidArgumentError for a malformed event, AuditLogClosedError once the
   * log is closed or has failed.
   */
  append(event: AuditEvent): void {
    if (this.#failure !== undefined) throw new AuditLogClosedError(this.location, this.#failure.message, { cause: this.#failure });
    if (this.#closed !== undefined) throw new AuditLogClosedError(this.location, 'it is closed');
    checkEvent(event);
    // A copy, through the canonical encoding: what JSON cannot hold throws before anything is queued, and a caller
    // changing its object after append cannot change what is recorded.
    const copy: AuditEvent = { type: event.type };
    if (event.actor !== undefined) copy.actor = event.actor;
    if (event.subject !== undefined) copy.subject = event.subject;
    if (event.detail !== undefined) copy.detail = JSON.parse(canonicalJson(event.detail)) as AuditEvent['detail'];
    this.#queue.push({ time: this.#now(), event: copy });
    if (this.#queue.length >= this.#maxBatch) void this.#write().catch(() => {});
    else this.#timer ??= setTimeout(() => void this.#write().catch(() => {}), this.#flushIntervalMs).unref();
  }

  /** Resolves once everything appended before the call is durable (and signed). */
  flush(): Promise<void> {
    return this.#write();
  }

  /** Writes what is queued (signed, as every write), then closes. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      try {
        await this.#write();
      } finally {
        await this.#sink.close();
      }
    })());
  }

  /** Flushes, then reads the whole log back and walks the chain (also for a log refused at open, or closed). */
  async verify(): Promise<AuditVerifyResult> {
    if (this.#closed === undefined && this.#failure === undefined) {
      await this.flush().catch(() => {});
      if (this.#failure === undefined) return verifyLines(await this.#sink.readBack(), this.#verifier);
    }
    await this.#closed?.catch(() => {});
    return verifySource(this.#source, this.#verifier);
  }

  async #open(): Promise<void> {
    let stored: StoredLines;
    try {
      stored = await this.#sink.open();
    } catch (error) {
      await this.#sink.close().catch(() => {});
      throw error;
    }
    const walked = walkChain(stored.lines, this.#verifier, stored.tailBytes);
    // A store commits whole writes, each ending with its checkpoint: unsigned entries there are not a crash's.
    const droppable = this.#sink.dropsTails || walked.unsignedTail === 0;
    if ((!walked.ok && !walked.onlyUnsigned) || !droppable) {
      await this.#sink.close();
      throw new AuditLogCorruptError(this.location, walked.firstBad ?? { index: walked.entries - walked.unsignedTail, reason: 'unsigned entries in a store' });
    }
    const dropBytes = walked.unsignedBytes + walked.truncatedTailBytes;
    if (dropBytes > 0) await this.#sink.dropTail(dropBytes);
    this.#head = walked.signedHead;
    const detail =
      walked.signedHead.seq === 0 && walked.unsignedTail === 0 && walked.truncatedTailBytes === 0
        ? { created: true }
        : { resumedAt: walked.signedHead.seq, droppedUnsignedEntries: walked.unsignedTail, droppedTailBytes: walked.truncatedTailBytes };
    this.#queue.unshift({ time: this.#now(), event: { type: 'audit.opened', actor: 'process', detail: { pid: process.pid, ...detail } } });
  }

  #write(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // Each write waits for the one before; a failed one does not keep later ones from reporting the failure.
    const write = this.#writes.catch(() => {}).then(() => this.#writeQueued());
    this.#writes = write;
    return write;
  }

  async #writeQueued(): Promise<void> {
    // The reason the log stopped (a corrupt log at open, a failed write), not a vaguer "closed".
    if (this.#failure !== undefined) throw this.#failure;
    const queued = this.#queue;
    this.#queue = [];
    if (queued.length === 0) return;
    const firstSeq = this.#head.seq;
    try {
      const texts: string[] = [];
      let head = this.#head;
      let since = 0;
      const add = (entry: AuditEntry): void => {
        texts.push(entryText(entry));
        head = { seq: entry.seq + 1, hash: entry.hash };
      };
      for (const { time, event } of queued) {
        add(buildEntry(head, time, event));
        if (++since >= this.#checkpointEvery) {
          add(this.#checkpoint(head, time));
          since = 0;
        }
      }
      if (since > 0) add(this.#checkpoint(head, queued.at(-1)!.time));
      await this.#sink.write(texts, firstSeq);
      this.#head = head;
    } catch (error) {
      // Nothing of this write counts; the log refuses entries from now on (a reopen verifies what reached the disk).
      throw this.#fail(error as Error);
    }
  }

  #checkpoint(head: ChainHead, time: number): AuditEntry {
    const detail = { alg: this.#signer.alg, every: this.#checkpointEvery, ...(this.#keyId === undefined ? {} : { kid: this.#keyId }) };
    const entry = buildEntry(head, time, { type: kCheckpointType, detail });
    entry.sig = this.#signer.sign(entry.hash);
    return entry;
  }

  #fail(error: Error): Error {
    if (this.#failure === undefined) {
      this.#failure = error;
      this.#onError?.(error);
    }
    return error;
  }
}

/** Opens (creating when missing) an audit log; see {@link AuditLogOptions}. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  return new AuditLog(options);
}

/**
 * Verifies a log nobody is writing (an auditor's copy, a file from a
 * backup): `key` is the checkpoint secret, or for Ed25519 the public key.
 */
export async function verifyAuditLog(source: AuditLogSource, key: AuditKey): Promise<AuditVerifyResult> {
  return verifySource(source, checkpointVerifier(key, 'verifyAuditLog(source, key): key'));
}

async function verifySource(source: AuditLogSource, verifier: CheckpointVerifier): Promise<AuditVerifyResult> {
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    return verifyLines(splitLines(await readFile(path)), verifier);
  }
  const sink = new StoreSink(source.store, source.name ?? 'audit');
  try {
    return verifyLines(await sink.open(), verifier);
  } finally {
    await sink.close();
  }
}

function verifyLines(stored: StoredLines, verifier: CheckpointVerifier): AuditVerifyResult {
  const { ok, entries, firstBad, signedThrough, unsignedTail, truncatedTailBytes } = walkChain(stored.lines, verifier, stored.tailBytes);
  const result: AuditVerifyResult = { ok, entries, signedThrough, unsignedTail, truncatedTailBytes };
  if (firstBad !== undefined) result.firstBad = firstBad;
  return result;
}

function sourceOf(options: AuditLogOptions): AuditLogSource {
  const { path, store } = options;
  if (store !== undefined) {
    if (path !== undefined) throw new InvalidOptionError('createAuditLog', 'either "path" or "store", not both', '(both)');
    if (store === null || typeof store !== 'object' || (store.kind !== 'sqlite' && store.kind !== 'postgres')) throw new InvalidOptionError('createAuditLog.store', 'sqliteStore(…) or postgresStore(…)', store);
    const name = options.name ?? 'audit';
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new InvalidOptionError('createAuditLog.name', 'a name of 1 to 64 letters, digits, ".", "_" or "-"', name);
    return { store, name };
  }
  if (path instanceof URL) {
    if (path.protocol !== 'file:') throw new InvalidOptionError('createAuditLog.path', 'a path or a file: URL', path.href);
    return fileURLToPath(path);
  }
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new InvalidOptionError('createAuditLog.path', 'a non-empty path or a file: URL (or give "store")', path);
  return path;
}

function sinkOf(source: AuditLogSource): AuditSink {
  if (typeof source === 'string' || source instanceof URL) return new FileSink(source instanceof URL ? fileURLToPath(source) : source);
  return new StoreSink(source.store, source.name ?? 'audit');
}

function count(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw new InvalidOptionError(`createAuditLog.${name}`, 'a positive integer', value);
  return value;
}
