/**
 * Where an audit log's entries live: a file of JSON lines (the default) or
 * the durable store's journal, under a persistence id of its own. Either
 * way a write resolves only once it is durable (fdatasync for the file, a
 * committed transaction on the journal thread for the store), and neither
 * runs its fsync on the caller's thread: the file's through libuv's pool,
 * the store's on the journal thread.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from '../lane/crc32.js';
import { JournalClient } from '../persistence/journal-client.js';
import { JournalService } from '../persistence/journal-service.js';
import { describeStore, type StoreSpec } from '../persistence/store-spec.js';

export interface StoredLines {
  lines: string[];
  /** False when the last line was cut short (no newline after it). */
  lastLineComplete: boolean;
}

export interface AuditSink {
  readonly description: string;
  /** Opens (creating when missing) and reads every entry. */
  open(): Promise<StoredLines>;
  /** Reads every entry again, as verify does. */
  readBack(): Promise<StoredLines>;
  /** Drops the cut-short last line, `bytes` long, that `read` reported. */
  dropTail(bytes: number): Promise<void>;
  /** Appends entries `firstSeq`… as one durable write. */
  write(texts: readonly string[], firstSeq: number): Promise<void>;
  close(): Promise<void>;
}

/** JSON lines, one entry each, in a file created 0600 (an audit trail is for auditors). */
export class FileSink implements AuditSink {
  readonly description: string;
  readonly #path: string;
  #handle: FileHandle | undefined;

  constructor(path: string) {
    this.#path = path;
    this.description = path;
  }

  async open(): Promise<StoredLines> {
    await mkdir(dirname(this.#path), { recursive: true });
    this.#handle = await open(this.#path, 'a+', 0o600);
    return this.readBack();
  }

  async readBack(): Promise<StoredLines> {
    return splitLines(await readFile(this.#path, 'utf8'));
  }

  async dropTail(bytes: number): Promise<void> {
    const { size } = await this.#handle!.stat();
    await this.#handle!.truncate(size - bytes);
    await this.#handle!.datasync();
  }

  async write(texts: readonly string[]): Promise<void> {
    await this.#handle!.write(`${texts.join('\n')}\n`);
    await this.#handle!.datasync();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

/** The journal of the store a spec names, persistence id `troupe.audit/<name>`; event seq = entry seq + 1. */
export class StoreSink implements AuditSink {
  readonly description: string;
  readonly #spec: StoreSpec;
  readonly #pid: string;
  #service: JournalService | undefined;
  #client: JournalClient | undefined;

  constructor(spec: StoreSpec, name: string) {
    this.#spec = spec;
    this.#pid = `troupe.audit/${name}`;
    this.description = `${describeStore(spec)} (${this.#pid})`;
  }

  async open(): Promise<StoredLines> {
    this.#service = await JournalService.start(this.#spec, `audit-${process.pid}`, undefined);
    this.#client = new JournalClient(this.#service.connect());
    return this.readBack();
  }

  async readBack(): Promise<StoredLines> {
    const { events } = await this.#client!.load(this.#pid);
    const decoder = new TextDecoder();
    return { lines: events.map((event) => decoder.decode(event.data)), lastLineComplete: true };
  }

  async dropTail(): Promise<void> {
    // A store commits whole transactions: it never holds half an entry.
  }

  async write(texts: readonly string[], firstSeq: number): Promise<void> {
    const encoder = new TextEncoder();
    const events = texts.map((text) => {
      const data = encoder.encode(text);
      return { data, crc: crc32(data, 0, data.length) };
    });
    await this.#client!.append({ pid: this.#pid, firstSeq: firstSeq + 1, version: 1, events, prunes: false, snapshot: undefined });
  }

  async close(): Promise<void> {
    this.#client?.close();
    await this.#service?.close();
  }
}

/** Lines of a file's text; a last line without its newline was cut short by a crash. */
export function splitLines(text: string): StoredLines {
  if (text.length === 0) return { lines: [], lastLineComplete: true };
  const lastLineComplete = text.endsWith('\n');
  const lines = text.split('\n');
  if (lastLineComplete) lines.pop();
  return { lines, lastLineComplete };
}
