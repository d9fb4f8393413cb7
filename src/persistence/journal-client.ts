/**
 * A host's side of the journal: appends and loads its actors make during a
 * turn leave as one message when the turn's microtasks run (so one fsync
 * serves every actor that persisted in it), and come back as one answer per
 * batch. Holds the process open only while a request is in flight.
 */
import type { MessagePort } from 'node:worker_threads';
import { PersistenceStoreError, SystemStoppedError, errorFromWire } from '../errors.js';
import type { AppendHead, HostToJournal, JournalToHost, LoadedJournal, Retention, StoredRecord } from './journal-protocol.js';
import type { EncodedRecord } from './record-codec.js';

export interface AppendInput {
  pid: string;
  firstSeq: number;
  version: number;
  events: EncodedRecord[];
  /** Its retention deletes events (see AppendRequest.prunes). */
  prunes: boolean;
  snapshot: (EncodedRecord & { seq: number; retention: Retention | undefined }) | undefined;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class JournalClient {
  readonly #port: MessagePort;
  #nextId = 1;
  #appends: { head: AppendHead; input: AppendInput }[] = [];
  #loads: { id: number; pid: string }[] = [];
  #flushQueued = false;
  readonly #waitingAppends = new Map<number, Waiter<void>>();
  readonly #waitingLoads = new Map<number, Waiter<LoadedJournal>>();
  #inFlight = 0;
  #gone: Error | undefined;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (message: JournalToHost) => this.#answer(message));
    port.on('close', () => this.#lost(new PersistenceStoreError('the journal thread is gone: nothing more can be persisted or recovered')));
    port.unref();
  }

  /** Resolves once the events (and snapshot) are durable; rejects typed (conflict, store fault) with nothing written. */
  append(input: AppendInput): Promise<void> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    const head: AppendHead = {
      id,
      pid: input.pid,
      firstSeq: input.firstSeq,
      version: input.version,
      lengths: input.events.map((e) => e.data.byteLength),
      crcs: input.events.map((e) => e.crc),
    };
    if (input.prunes) head.prunes = true;
    if (input.snapshot !== undefined) {
      const { seq, crc, data, retention } = input.snapshot;
      head.snapshot = { seq, version: input.version, crc, length: data.byteLength, ...(retention === undefined ? {} : { retention }) };
    }
    this.#appends.push({ head, input });
    return this.#wait(this.#waitingAppends, id);
  }

  load(pid: string): Promise<LoadedJournal> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    this.#loads.push({ id, pid });
    return this.#wait(this.#waitingLoads, id);
  }

  /** The host is closing: what is queued is sent, and later requests are refused. */
  close(): void {
    this.#flush();
    if (this.#gone === undefined) this.#gone = new SystemStoppedError();
  }

  #wait<T>(table: Map<number, Waiter<T>>, id: number): Promise<T> {
    if (this.#inFlight++ === 0) this.#port.ref();
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    return new Promise<T>((resolve, reject) => table.set(id, { resolve, reject }));
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#appends.length > 0) {
      const appends = this.#appends;
      this.#appends = [];
      let total = 0;
      for (const { input } of appends) {
        for (const event of input.events) total += event.data.byteLength;
        total += input.snapshot?.data.byteLength ?? 0;
      }
      const data = new Uint8Array(total);
      let offset = 0;
      for (const { input } of appends) {
        for (const event of input.events) {
          data.set(event.data, offset);
          offset += event.data.byteLength;
        }
        if (input.snapshot !== undefined) {
          data.set(input.snapshot.data, offset);
          offset += input.snapshot.data.byteLength;
        }
      }
      this.#post({ t: 'append', appends: appends.map((a) => a.head), data: data.buffer }, [data.buffer]);
    }
    if (this.#loads.length > 0) {
      const loads = this.#loads;
      this.#loads = [];
      this.#post({ t: 'load', loads });
    }
  }

  #post(message: HostToJournal, transfer: ArrayBuffer[] = []): void {
    try {
      this.#port.postMessage(message, transfer);
    } catch (error) {
      this.#lost(new PersistenceStoreError(`could not reach the journal thread: ${(error as Error).message}`, { cause: error }));
    }
  }

  #answer(message: JournalToHost): void {
    if (message.t === 'appended') {
      const failed = new Map(message.failures);
      for (const id of message.ids) {
        const waiter = this.#settle(this.#waitingAppends, id);
        if (waiter === undefined) continue;
        const failure = failed.get(id);
        if (failure === undefined) waiter.resolve();
        else waiter.reject(errorFromWire(failure));
      }
      return;
    }
    const bytes = new Uint8Array(message.data);
    let offset = 0;
    const cut = (head: { seq: number; version: number; crc: number; length: number }): StoredRecord => ({
      seq: head.seq,
      version: head.version,
      crc: head.crc,
      data: bytes.subarray(offset, (offset += head.length)),
    });
    for (const result of message.results) {
      const waiter = this.#settle(this.#waitingLoads, result.id);
      if ('error' in result) {
        waiter?.reject(errorFromWire(result.error));
        continue;
      }
      const journal: LoadedJournal = { snapshot: result.snapshot === null ? undefined : cut(result.snapshot), events: result.events.map(cut) };
      waiter?.resolve(journal);
    }
  }

  #settle<T>(table: Map<number, Waiter<T>>, id: number): Waiter<T> | undefined {
    const waiter = table.get(id);
    if (waiter === undefined) return undefined;
    table.delete(id);
    if (--this.#inFlight === 0) this.#port.unref();
    return waiter;
  }

  #lost(error: Error): void {
    this.#gone ??= error;
    for (const table of [this.#waitingAppends, this.#waitingLoads] as Map<number, Waiter<unknown>>[]) {
      for (const waiter of table.values()) waiter.reject(error);
      table.clear();
    }
    this.#inFlight = 0;
  }
}
