/**
 * The main thread's handle on the journal thread: starts it (and fails the
 * system's start with a typed error when the store cannot be opened), hands
 * each host a port of its own to it, and closes it once every host is done.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { PersistenceStoreError, errorFromWire } from '../errors.js';
import type { ControlToJournal, JournalReport } from './journal-protocol.js';
import { describeStore, type StoreSpec } from './store-spec.js';

const kEntry = new URL('./journal-thread.js', import.meta.url);

export class JournalService {
  readonly spec: StoreSpec;
  readonly #worker: Worker;
  #closed: Promise<void> | undefined;

  private constructor(spec: StoreSpec, worker: Worker) {
    this.spec = spec;
    this.#worker = worker;
  }

  static async start(spec: StoreSpec, systemId: string, execArgv: string[] | undefined): Promise<JournalService> {
    const worker = new Worker(kEntry, { workerData: { spec }, name: `troupe-${systemId}-journal`, ...(execArgv === undefined ? {} : { execArgv }) });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (report: JournalReport): void => {
        worker.off('exit', onExit);
        worker.off('message', onMessage);
        if (report.t === 'ready') resolve();
        else if (report.t === 'failed') reject(errorFromWire(report.error));
      };
      const onExit = (code: number): void => reject(new PersistenceStoreError(`the journal thread for ${describeStore(spec)} exited (code ${code}) before it was ready`));
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.once('error', (error) => reject(new PersistenceStoreError(`the journal thread for ${describeStore(spec)} failed: ${error.message}`, { cause: error })));
    });
    // The hosts' ports keep the process alive while a request is in flight; the thread itself need not.
    worker.unref();
    return new JournalService(spec, worker);
  }

  /** A new port to the journal thread, for one host (transfer it to the host's thread). */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ t: 'connect', port: port2 } satisfies ControlToJournal, [port2]);
    return port1;
  }

  /** After the hosts have closed: what they sent is committed, the store closed, the thread gone. */
  close(): Promise<void> {
    return (this.#closed ??= new Promise<void>((resolve) => {
      const done = (): void => resolve();
      this.#worker.once('exit', done);
      this.#worker.on('message', (report: JournalReport) => {
        if (report.t === 'closed') void this.#worker.terminate().then(done, done);
      });
      this.#worker.ref();
      this.#worker.postMessage({ t: 'close' } satisfies ControlToJournal);
    }));
  }
}
