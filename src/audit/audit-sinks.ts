/**
 * Where an audit log's entries live: a file of JSON lines (the default) or
 * the durable store's journal, under a persistence id of its own. Either
 * way a write resolves only once it is durable (fdatasync for the file, a
 * committed transaction on the journal thread for the store), and neither
 * runs its fsync on the caller's thread: the file's through libuv's pool,
 * the store's on the journal thread.
 */
import { mkdir, open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from '../lane/crc32.js';
import { JournalClient } from '../persistence/journal-client.js';
import { JournalService } from '../persistence/journal-service.js';
import { describeStore, type StoreSpec } from '../persistence/store-spec.js';
import { AuditLogLockedError } from './errors.js';

export interface StoredLines {
  /** The complete lines (each ended by a newline), decoded. */
  lines: string[];
  /** Bytes after the last newline: a line cut short by a crash (a whole line whose newline did not make it counts too). */
  tailBytes: number;
}

export interface AuditSink {
  readonly description: string;
  /** A crash can cut a write short here (a file), so a reopen drops the unsigned tail; a store commits whole writes. */
  readonly dropsTails: boolean;
  /** Opens (creating when missing) and reads every entry. */
  open(): Promise<StoredLines>;
  /** Reads every entry again, as verify does. */
  readBack(): Promise<StoredLines>;
  /** Drops the last `bytes` bytes: a cut-short line and the unsigned entries before it (never acknowledged). */
  dropTail(bytes: number): Promise<void>;
  /** Appends entries `firstSeq`… as one durable write. */
  write(texts: readonly string[], firstSeq: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * JSON lines, one entry each, in a file created 0600 (an audit trail is for
 * auditors). A lock file beside it (`<path>.lock`, holding the writer's pid)
 * keeps a second writer out: two would fork the chain. One left by a writer
 * that died (SIGKILL) is taken over.
 */
export class FileSink implements AuditSink {
  readonly description: string;
  readonly dropsTails = true;
  readonly #path: string;
  #handle: FileHandle | undefined;
  #locked = false;

  constructor(path: string) {
    this.#path = path;
    this.description = path;
  }

  async open(): Promise<StoredLines> {
    await mkdir(dirname(this.#path), { recursive: true });
    await this.#lock();
    this.#handle = await open(this.#path, 'a+', 0o600);
    return this.readBack();
  }

  async readBack(): Promise<StoredLines> {
    return splitLines(await readFile(this.#path));
  }

  async #lock(): Promise<void> {
    const lockPath = `${this.#path}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        this.#locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new AuditLogLockedError(this.#path, holder);
      }
      if (holder === process.pid) throw new AuditLogLockedError(this.#path, holder);
      await unlink(lockPath).catch(() => {}); // its writer is gone
    }
    throw new AuditLogLockedError(this.#path, undefined);
  }

  async dropTail(bytes: number): Promise<void> {
    const { size } = await this.#handle!.stat();
    await this.#handle!.truncate(size - bytes);
    await this.#handle!.datasync();
  }

  async write(texts: readonly string[]): Promise<void> {
    // appendFile writes until every byte is out (a plain write may write fewer and say so).
    await this.#handle!.appendFile(`${texts.join('\n')}\n`);
    await this.#handle!.datasync();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    if (this.#locked) {
      this.#locked = false;
      await unlink(`${this.#path}.lock`).catch(() => {});
    }
  }
}

/** The journal of the store a spec names, persistence id `troupe.audit/<name>`; event seq = entry seq + 1. */
export class StoreSink implements AuditSink {
  readonly description: string;
  readonly dropsTails = false;
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
    return { lines: events.map((event) => decoder.decode(event.data)), tailBytes: 0 };
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

/**
 * The complete lines of a file's bytes. What follows the last newline was
 * cut short by a crash, counted in bytes (a cut inside a multi-byte
 * character must not be decoded into a replacement character first).
 */
export function splitLines(bytes: Buffer): StoredLines {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const text = bytes.subarray(0, end).toString('utf8');
  const lines = end === 0 ? [] : text.slice(0, -1).split('\n');
  return { lines, tailBytes: bytes.length - end };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
