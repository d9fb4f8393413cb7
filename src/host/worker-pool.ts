/**
 * The worker threads of a system. A worker is only a thread: the lanes and
 * blocks it uses belong to the system, so a replacement takes over the same
 * host index and reads what its predecessor left in its lanes.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { WorkerExitedError, errorToWire, type WireError } from '../errors.js';
import type { ControlMessage, WorkerBoot, WorkerReport } from './boot.js';

const kEntry = new URL('./worker-entry.js', import.meta.url);

export interface WorkerExit {
  index: number;
  exitCode: number;
  error: WireError | undefined;
  /** The system asked for it (shutdown). */
  expected: boolean;
}

interface Slot {
  worker: Worker;
  expected: boolean;
  error: WireError | undefined;
  exited: Promise<number>;
}

export class WorkerPool {
  readonly #slots = new Map<number, Slot>();
  readonly #execArgv: string[] | undefined;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #onExit: (exit: WorkerExit) => void;

  constructor(execArgv: string[] | undefined, resourceLimits: ResourceLimits | undefined, onExit: (exit: WorkerExit) => void) {
    this.#execArgv = execArgv;
    this.#resourceLimits = resourceLimits;
    this.#onExit = onExit;
  }

  /** Starts the worker for host `boot.index`; resolves once its host is serving. */
  start(boot: WorkerBoot): Promise<void> {
    const worker = new Worker(kEntry, {
      workerData: boot,
      ...(this.#execArgv === undefined ? {} : { execArgv: this.#execArgv }),
      ...(this.#resourceLimits === undefined ? {} : { resourceLimits: this.#resourceLimits }),
      name: `troupe-${boot.systemId}-w${boot.index - 1}`,
    });
    let settleReady!: { resolve: () => void; reject: (error: unknown) => void };
    const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    const slot: Slot = {
      worker,
      expected: false,
      error: undefined,
      exited: new Promise<number>((resolve) => worker.once('exit', resolve)),
    };
    this.#slots.set(boot.index, slot);
    worker.on('message', (report: WorkerReport) => {
      if (report.type === 'ready') settleReady.resolve();
    });
    worker.on('error', (error) => {
      slot.error = errorToWire(error);
    });
    worker.once('exit', (exitCode) => {
      settleReady.reject(new WorkerExitedError(String(boot.index - 1), slot.error?.message ?? `exit code ${exitCode} before it was ready`));
      if (this.#slots.get(boot.index) === slot) this.#slots.delete(boot.index);
      this.#onExit({ index: boot.index, exitCode, error: slot.error, expected: slot.expected });
    });
    return ready;
  }

  send(index: number, message: ControlMessage): void {
    this.#slots.get(index)?.worker.postMessage(message);
  }

  broadcast(message: ControlMessage, except?: number): void {
    for (const [index, slot] of this.#slots) if (index !== except) slot.worker.postMessage(message);
  }

  /** Kills a worker (stall, chaos); the exit is reported like any other. */
  terminate(index: number): Promise<number> | undefined {
    const slot = this.#slots.get(index);
    if (slot === undefined) return undefined;
    void slot.worker.terminate();
    return slot.exited;
  }

  threadIds(): Map<number, number> {
    return new Map([...this.#slots].map(([index, slot]) => [index, slot.worker.threadId]));
  }

  /** Asks every worker to close, then terminates those still running after `graceMs`. */
  async closeAll(graceMs: number): Promise<void> {
    const slots = [...this.#slots.values()];
    for (const slot of slots) {
      slot.expected = true;
      slot.worker.postMessage({ type: 'close' } satisfies ControlMessage);
    }
    await Promise.all(
      slots.map(async (slot) => {
        let timer: NodeJS.Timeout | undefined;
        const forced = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            void slot.worker.terminate();
            resolve();
          }, graceMs);
        });
        await Promise.race([slot.exited.then(() => undefined), forced]);
        clearTimeout(timer);
        await slot.exited;
      }),
    );
  }
}
