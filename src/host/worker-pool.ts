/**
 * The worker threads of a system. A worker is only a thread: the lanes and
 * blocks it uses belong to the system, so a replacement takes over the same
 * host index and reads what its predecessor left in its lanes.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { WorkerExitedError, errorToWire, type WireError } from '../errors.js';
import type { HostOptions } from '../options.js';
import type { ControlMessage, SpareBoot, WorkerBoot, WorkerReport } from './boot.js';

const kEntry = new URL('./worker-entry.js', import.meta.url);
/** How long after a takeover the next spare starts booting: past the restarts of a typical worker's actors. */
const kSpareDelayMs = 50;

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

interface Spare {
  worker: Worker;
  ready: Promise<void>;
  isReady: boolean;
  exited: Promise<number>;
}

export class WorkerPool {
  readonly #slots = new Map<number, Slot>();
  readonly #execArgv: string[] | undefined;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #onExit: (exit: WorkerExit) => void;
  readonly #preload: string[];
  readonly #keepSpare: boolean;
  readonly #hostOptions: HostOptions;
  readonly #workersRestart: boolean;
  readonly #warmUrls = new Set<string>();
  #spare: Spare | undefined;
  /** Settles when the spare put off by a takeover is being booted. */
  #spareScheduled: Promise<void> | undefined;
  #spareScheduledResolve: (() => void) | undefined;
  #spareTimer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(
    options: { execArgv: string[] | undefined; resourceLimits: ResourceLimits | undefined; preload: string[]; spare: boolean; hostOptions: HostOptions; workersRestart: boolean },
    onExit: (exit: WorkerExit) => void,
  ) {
    this.#execArgv = options.execArgv;
    this.#resourceLimits = options.resourceLimits;
    this.#preload = options.preload;
    this.#keepSpare = options.spare;
    this.#hostOptions = options.hostOptions;
    this.#workersRestart = options.workersRestart;
    this.#onExit = onExit;
  }

  #spawn(workerData: WorkerBoot | SpareBoot, name: string): Worker {
    const port = 'journalPort' in workerData ? workerData.journalPort : undefined;
    return new Worker(kEntry, {
      workerData,
      ...(port === undefined ? {} : { transferList: [port] }),
      ...(this.#execArgv === undefined ? {} : { execArgv: this.#execArgv }),
      ...(this.#resourceLimits === undefined ? {} : { resourceLimits: this.#resourceLimits }),
      name,
    });
  }

  /** Starts the worker for host `boot.index`; resolves once its host is serving. */
  start(boot: WorkerBoot): Promise<void> {
    return this.#watch(this.#spawn(boot, `troupe-${boot.systemId}-w${boot.index - 1}`), boot);
  }

  /**
   * Serves host `boot.index` again after its worker died: through the warm
   * spare when one is ready (no thread to boot, no runtime to import), else
   * with a new worker. Either way a spare is prepared for the next time.
   */
  replace(boot: WorkerBoot): Promise<void> {
    const spare = this.#spare;
    let ready: Promise<void>;
    if (spare !== undefined && spare.isReady) {
      this.#spare = undefined;
      ready = this.#watch(spare.worker, boot, spare.exited);
      spare.worker.postMessage({ type: 'adopt', boot } satisfies ControlMessage, boot.journalPort === undefined ? [] : [boot.journalPort]);
    } else {
      // A spare still booting goes on booting, for the next death.
      ready = this.start(boot);
    }
    // The next spare boots once the takeover is over: its boot (a thread,
    // the runtime's imports, their compilation) would take a core from the
    // restarts for tens of milliseconds.
    this.#prepareSpareLater(boot.systemId, ready);
    return ready;
  }

  /**
   * An actor module the system has started actors from: the spare imports it
   * now, so that when it takes over a dead worker the restarts find it loaded
   * (an import under a flood of restart orders took ~15 ms). Later spares get
   * every module seen so far.
   */
  warm(url: string): void {
    if (!this.#keepSpare || this.#warmUrls.has(url)) return;
    this.#warmUrls.add(url);
    this.#spare?.worker.postMessage({ type: 'warm', urls: [url] } satisfies ControlMessage);
  }

  /** Resolves when a spare is booted and waiting (at once when spares are off). */
  spareReady(): Promise<void> {
    if (this.#spare !== undefined) return this.#spare.ready;
    return this.#spareScheduled?.then(() => this.spareReady()) ?? Promise.resolve();
  }

  #prepareSpareLater(systemId: string, takeover: Promise<void>): void {
    if (!this.#keepSpare || this.#spare !== undefined || this.#spareScheduled !== undefined) return;
    this.#spareScheduled = new Promise<void>((resolve) => (this.#spareScheduledResolve = resolve));
    const later = (): void => {
      this.#spareTimer = setTimeout(() => {
        this.#endSpareSchedule();
        this.prepareSpare(systemId);
      }, kSpareDelayMs).unref();
    };
    takeover.then(later, later);
  }

  #endSpareSchedule(): void {
    clearTimeout(this.#spareTimer);
    this.#spareTimer = undefined;
    this.#spareScheduled = undefined;
    this.#spareScheduledResolve?.();
    this.#spareScheduledResolve = undefined;
  }

  /** Boots a spare worker that waits, idle, to take over a dead worker's host. */
  prepareSpare(systemId: string): void {
    if (!this.#keepSpare || this.#closing || this.#spare !== undefined) return;
    const worker = this.#spawn({ spare: true, preload: this.#preload, options: this.#hostOptions, workersRestart: this.#workersRestart } satisfies SpareBoot, `troupe-${systemId}-spare`);
    if (this.#warmUrls.size > 0) worker.postMessage({ type: 'warm', urls: [...this.#warmUrls] } satisfies ControlMessage);
    const spare: Spare = {
      worker,
      isReady: false,
      ready: new Promise<void>((resolve) => {
        const onReport = (report: WorkerReport): void => {
          if (report.type !== 'spare-ready') return;
          worker.off('message', onReport);
          spare.isReady = true;
          resolve();
        };
        worker.on('message', onReport);
      }),
      exited: new Promise<number>((resolve) => worker.once('exit', resolve)),
    };
    // A spare that dies before adoption is simply replaced by the next one.
    void spare.exited.then(() => {
      if (this.#spare === spare) this.#spare = undefined;
    });
    worker.on('error', () => undefined);
    worker.unref();
    this.#spare = spare;
  }

  #watch(worker: Worker, boot: WorkerBoot, exited?: Promise<number>): Promise<void> {
    worker.ref();
    let settleReady!: { resolve: () => void; reject: (error: unknown) => void };
    const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    const slot: Slot = {
      worker,
      expected: false,
      error: undefined,
      exited: exited ?? new Promise<number>((resolve) => worker.once('exit', resolve)),
    };
    this.#slots.set(boot.index, slot);
    worker.on('message', (report: WorkerReport) => {
      if (report.type === 'ready') settleReady.resolve();
    });
    worker.on('error', (error) => {
      slot.error = errorToWire(error);
    });
    void slot.exited.then((exitCode) => {
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
    this.#closing = true;
    this.#endSpareSchedule();
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined) await spare.worker.terminate();
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
