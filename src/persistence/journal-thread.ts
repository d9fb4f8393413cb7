/**
 * Entry of the journal thread: the one writer of a system's journal. Hosts
 * send appends and loads over ports of their own; whatever arrived while the
 * last commit was syncing goes into the next one (the group commit), and a
 * host learns the outcome of each of its requests in one message per batch.
 * Appends go before loads in a batch: an actor waiting on an fsync holds its
 * mailbox, one waiting on a load has not started yet.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { errorToWire, type WireError } from '../errors.js';
import type { JournalBackend } from './backend.js';
import { openBackend } from './open-backend.js';
import type { AppendHead, AppendRequest, ControlToJournal, HostToJournal, JournalReport, JournalToHost, LoadHead, LoadedJournal, RecordHead } from './journal-protocol.js';
import type { StoreSpec } from './store-spec.js';

const control = parentPort!;
const { spec } = workerData as { spec: StoreSpec };

let backend: JournalBackend;
try {
  backend = await openBackend(spec);
} catch (error) {
  control.postMessage({ t: 'failed', error: errorToWire(error) } satisfies JournalReport);
  process.exit(0);
}

interface Queued {
  port: MessagePort;
  message: HostToJournal;
}

let queue: Queued[] = [];
let flushing = false;
let scheduled = false;
let closing = false;
const ports = new Set<MessagePort>();

control.on('message', (message: ControlToJournal) => {
  if (message.t === 'connect') attach(message.port);
  else {
    closing = true;
    finishIfIdle();
  }
});
control.postMessage({ t: 'ready' } satisfies JournalReport);

function attach(port: MessagePort): void {
  ports.add(port);
  port.on('message', (message: HostToJournal) => {
    queue.push({ port, message });
    schedule();
  });
  port.on('close', () => ports.delete(port));
}

function schedule(): void {
  if (flushing || scheduled) return;
  scheduled = true;
  // After the poll phase: every message already waiting on any port is queued by then.
  setImmediate(() => {
    scheduled = false;
    void flush();
  });
}

async function flush(): Promise<void> {
  flushing = true;
  const batch = queue;
  queue = [];
  try {
    await appendAll(batch);
    await loadAll(batch);
  } finally {
    flushing = false;
    if (queue.length > 0) schedule();
    else finishIfIdle();
  }
}

async function appendAll(batch: Queued[]): Promise<void> {
  const requests: AppendRequest[] = [];
  const owners: { port: MessagePort; heads: AppendHead[]; first: number }[] = [];
  for (const { port, message } of batch) {
    if (message.t !== 'append') continue;
    owners.push({ port, heads: message.appends, first: requests.length });
    let offset = 0;
    const bytes = new Uint8Array(message.data);
    const cut = (length: number): Uint8Array => bytes.subarray(offset, (offset += length));
    for (const head of message.appends) {
      const events = head.lengths.map(cut);
      const snapshot = head.snapshot === undefined ? undefined : { seq: head.snapshot.seq, version: head.snapshot.version, crc: head.snapshot.crc, data: cut(head.snapshot.length), retention: head.snapshot.retention };
      requests.push({ pid: head.pid, firstSeq: head.firstSeq, version: head.version, events, crcs: head.crcs, prunes: head.prunes === true, snapshot });
    }
  }
  if (requests.length === 0) return;
  let outcomes: (WireError | undefined)[];
  try {
    outcomes = await backend.append(requests);
  } catch (error) {
    const wire = errorToWire(error);
    outcomes = requests.map(() => wire);
  }
  for (const { port, heads, first } of owners) {
    const failures: [number, WireError][] = [];
    heads.forEach((head, i) => {
      const outcome = outcomes[first + i];
      if (outcome !== undefined) failures.push([head.id, outcome]);
    });
    post(port, { t: 'appended', ids: heads.map((head) => head.id), failures });
  }
}

async function loadAll(batch: Queued[]): Promise<void> {
  const asks: { port: MessagePort; ids: number[]; pids: string[] }[] = [];
  const pids: string[] = [];
  for (const { port, message } of batch) {
    if (message.t !== 'load') continue;
    asks.push({ port, ids: message.loads.map((l) => l.id), pids: message.loads.map((l) => l.pid) });
    for (const load of message.loads) pids.push(load.pid);
  }
  if (pids.length === 0) return;
  let journals: (LoadedJournal | WireError)[];
  try {
    journals = await backend.load(pids);
  } catch (error) {
    const wire = errorToWire(error);
    journals = pids.map(() => wire);
  }
  let at = 0;
  for (const ask of asks) {
    const mine = journals.slice(at, (at += ask.pids.length));
    let total = 0;
    for (const journal of mine) {
      if (!('events' in journal)) continue;
      total += journal.snapshot?.data.byteLength ?? 0;
      for (const event of journal.events) total += event.data.byteLength;
    }
    const data = new Uint8Array(total);
    let offset = 0;
    const head = (stored: { seq: number; version: number; crc: number; data: Uint8Array }): RecordHead => {
      data.set(stored.data, offset);
      offset += stored.data.byteLength;
      return { seq: stored.seq, version: stored.version, crc: stored.crc, length: stored.data.byteLength };
    };
    const results: LoadHead[] = mine.map((journal, i) =>
      'events' in journal ? { id: ask.ids[i], snapshot: journal.snapshot === undefined ? null : head(journal.snapshot), events: journal.events.map(head) } : { id: ask.ids[i], error: journal },
    );
    post(ask.port, { t: 'loaded', results, data: data.buffer }, [data.buffer]);
  }
}

function post(port: MessagePort, message: JournalToHost, transfer: ArrayBuffer[] = []): void {
  // A host whose thread died closed its port; its requests die with it.
  try {
    port.postMessage(message, transfer);
  } catch {
    ports.delete(port);
  }
}

function finishIfIdle(): void {
  if (!closing || flushing || scheduled || queue.length > 0) return;
  closing = false;
  void backend.close().finally(() => {
    for (const port of ports) port.close();
    control.postMessage({ t: 'closed' } satisfies JournalReport);
    control.close();
  });
}
