/**
 * `createAuditLog`: an append-only, hash-chained log of security-relevant
 * events with a signed checkpoint every N entries.
 *
 * `append` is synchronous and cheap: it validates the event, stamps its time
 * and queues it. A writer batches what is queued (every `flushIntervalMs`,
 * or at once when `maxBatch` wait), chains and writes it in one durable
 * write, so no request path waits on an fsync. A crash loses at most what
 * was queued and not yet written; `flush()` resolves once everything
 * appended before it is durable.
 *
 * Opening an existing log verifies it first: a log that fails is refused
 * (AuditLogCorruptError), a last line cut short by a crash is dropped, and
 * an `audit.opened` entry records the restart and what was dropped.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';
import type { StoreSpec } from '../persistence/store-spec.js';
import { buildEntry, checkEvent, entryText, kCheckpointType, walkChain, type AuditEntry, type AuditEvent, type AuditVerifyResult, type ChainHead } from './audit-chain.js';
import { checkpointSigner, checkpointVerifier, type AuditKey, type CheckpointSigner, type CheckpointVerifier } from './audit-keys.js';
import { FileSink, StoreSink, splitLines, type AuditSink, type StoredLines } from './audit-sinks.js';
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
  /** Entries between signed checkpoints. @default 256 */
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

interface Queued {
  time: number;
  event: AuditEvent;
}

const kDefaults = { checkpointEvery: 256, flushIntervalMs: 100, maxBatch: 1024 } as const;

export class AuditLog {
  /** Where the log lives (a path, or the store and persistence id). */
  readonly location: string;
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
  #sinceCheckpoint = 0;
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
    this.#sink = sinkOf(options);
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
    entryText({ ...event, seq: 0, time: '', prev: '', hash: '' } as AuditEntry); // throws for what JSON cannot hold, before it is queued
    this.#queue.push({ time: this.#now(), event });
    if (this.#queue.length >= this.#maxBatch) void this.#write().catch(() => {});
    else this.#timer ??= setTimeout(() => void this.#write().catch(() => {}), this.#flushIntervalMs).unref();
  }

  /** Resolves once everything appended before the call is durable. */
  flush(): Promise<void> {
    return this.#write();
  }

  /** Writes what is queued and a final checkpoint (so a cleanly closed log is signed to its end), then closes. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      try {
        await this.#write(true);
      } finally {
        await this.#sink.close();
      }
    })());
  }

  /** Flushes, then reads the whole log back and walks the chain. */
  async verify(): Promise<AuditVerifyResult> {
    if (this.#closed === undefined) await this.flush();
    else await this.#closed.catch(() => {});
    return verifyLines(await this.#sink.readBack(), this.#verifier);
  }

  async #open(): Promise<void> {
    const stored = await this.#sink.open();
    const walked = walkChain(stored.lines, this.#verifier, stored.lastLineComplete);
    if (!walked.ok) {
      await this.#sink.close();
      throw new AuditLogCorruptError(this.location, walked.firstBad!);
    }
    if (walked.truncatedTailBytes > 0) await this.#sink.dropTail(walked.truncatedTailBytes);
    this.#head = walked.head;
    this.#sinceCheckpoint = walked.unsignedTail;
    const detail = walked.head.seq === 0 ? { created: true } : { resumedAt: walked.head.seq, droppedTailBytes: walked.truncatedTailBytes, unsignedTail: walked.unsignedTail };
    this.#queue.unshift({ time: this.#now(), event: { type: 'audit.opened', actor: 'process', detail: { pid: process.pid, ...detail } } });
  }

  #write(final = false): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#writes = this.#writes.then(() => this.#writeQueued(final));
    return this.#writes;
  }

  async #writeQueued(final: boolean): Promise<void> {
    // The reason the log stopped (a corrupt log at open, a failed write), not a vaguer "closed".
    if (this.#failure !== undefined) throw this.#failure;
    const queued = this.#queue;
    this.#queue = [];
    const firstSeq = this.#head.seq;
    const texts: string[] = [];
    let head = this.#head;
    let since = this.#sinceCheckpoint;
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
    if (final && since > 0) {
      add(this.#checkpoint(head, this.#now()));
      since = 0;
    }
    if (texts.length === 0) return;
    try {
      await this.#sink.write(texts, firstSeq);
    } catch (error) {
      throw this.#fail(error as Error);
    }
    this.#head = head;
    this.#sinceCheckpoint = since;
  }

  #checkpoint(head: ChainHead, time: number): AuditEntry {
    const detail = { alg: this.#signer.alg, ...(this.#keyId === undefined ? {} : { kid: this.#keyId }) };
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

/** What to verify without opening the log for writing: a file, or a log in a store. */
export type AuditLogSource = string | URL | { store: StoreSpec; name?: string };

/**
 * Verifies a log nobody is writing (an auditor's copy, a file from a
 * backup): `key` is the checkpoint secret, or for Ed25519 the public key.
 */
export async function verifyAuditLog(source: AuditLogSource, key: AuditKey): Promise<AuditVerifyResult> {
  const verifier = checkpointVerifier(key, 'verifyAuditLog(source, key): key');
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    return verifyLines(splitLines(await readFile(path, 'utf8')), verifier);
  }
  const sink = new StoreSink(source.store, source.name ?? 'audit');
  try {
    return verifyLines(await sink.open(), verifier);
  } finally {
    await sink.close();
  }
}

function verifyLines(stored: StoredLines, verifier: CheckpointVerifier): AuditVerifyResult {
  const { head: _head, ...result } = walkChain(stored.lines, verifier, stored.lastLineComplete);
  return result;
}

function sinkOf(options: AuditLogOptions): AuditSink {
  const { path, store } = options;
  if (store !== undefined) {
    if (path !== undefined) throw new InvalidOptionError('createAuditLog', 'either "path" or "store", not both', '(both)');
    if (store === null || typeof store !== 'object' || (store.kind !== 'sqlite' && store.kind !== 'postgres')) throw new InvalidOptionError('createAuditLog.store', 'sqliteStore(…) or postgresStore(…)', store);
    const name = options.name ?? 'audit';
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new InvalidOptionError('createAuditLog.name', 'a name of 1 to 64 letters, digits, ".", "_" or "-"', name);
    return new StoreSink(store, name);
  }
  if (path instanceof URL) {
    if (path.protocol !== 'file:') throw new InvalidOptionError('createAuditLog.path', 'a path or a file: URL', path.href);
    return new FileSink(fileURLToPath(path));
  }
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new InvalidOptionError('createAuditLog.path', 'a non-empty path or a file: URL (or give "store")', path);
  return new FileSink(path);
}

function count(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw new InvalidOptionError(`createAuditLog.${name}`, 'a positive integer', value);
  return value;
}
