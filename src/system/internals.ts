/**
 * The hooks tests and the chaos harness reach through `system[kInternals]`:
 * faults on lanes and hosts, records past all validation, worker threads by
 * hand. Not part of the public contract; they act on the engine's parts, so
 * they are built here over those parts rather than in the engine.
 */
import type { WorkerFault } from '../host/boot.js';
import type { Host } from '../host/host.js';
import type { WorkerPool } from '../host/worker-pool.js';
import { Kind } from '../codec/envelope.js';
import { InvalidArgumentError } from '../errors.js';
import { setHostThrottle } from '../lane/host-block.js';
import { laneFaults, setLaneFaults, type LaneFaultConfig } from '../lane/lane-faults.js';
import type { ResolvedOptions } from '../options.js';

export interface SystemInternals {
  /** Writes raw payload bytes as a record of `kind` from main to worker `to`, past all validation. */
  injectRecord(to: number, kind: 'tell' | 'ask', target: number, payload: Uint8Array, corruptFrame?: boolean): void;
  terminateWorker(worker: number): Promise<number> | undefined;
  threadIds(): Map<number, number>;
  /** Resolves when the warm spare worker is booted (at once if there is none). */
  spareReady(): Promise<void>;
  /** Host indexes: 0 is main, worker i is i + 1. */
  hostCount: number;
  /** Sets (or clears, with mask 0) the injected faults of the lane from host `from` to host `to` (host indexes). */
  setLaneFaults(from: number, to: number, config: LaneFaultConfig): void;
  laneFaults(from: number, to: number): LaneFaultConfig;
  /** Slow-consumer fault on a host (index): records read per millisecond, 0 lifts it. */
  setThrottle(host: number, recordsPerMs: number): void;
  /** A fault a worker inflicts on itself (exit, stall, heap exhaustion, crash an actor). */
  inflict(worker: number, fault: WorkerFault): void;
  /** Makes the actor's next message crash it, wherever it runs. */
  crashActor(id: number): boolean;
  /** A cluster node only: cuts it off from the others (no heartbeats, frames or requests either way), or heals. */
  isolateNode(isolated: boolean): void;
}

/** The engine's parts the hooks act on. */
export interface InternalsParts {
  readonly options: ResolvedOptions;
  readonly host: Pick<Host, 'injectRecord' | 'nudge' | 'crashNextMessage'>;
  readonly lanes: (SharedArrayBuffer | undefined)[][];
  readonly hostBlocks: SharedArrayBuffer[];
  readonly pool: Pick<WorkerPool, 'terminate' | 'threadIds' | 'spareReady' | 'send'>;
  readonly link: { isolate(on: boolean): void } | undefined;
}

export function systemInternals({ options, host: main, lanes, hostBlocks, pool, link }: InternalsParts): SystemInternals {
  return {
    injectRecord: (to, kind, target, payload, corruptFrame = false) => {
      const index = to + 1;
      if (!Number.isInteger(to) || index < 1 || index >= hostBlocks.length) throw new InvalidArgumentError(`no worker ${String(to)}`);
      main.injectRecord(index, Kind[kind], target, payload, corruptFrame);
    },
    terminateWorker: (worker) => pool.terminate(worker + 1),
    threadIds: () => pool.threadIds(),
    spareReady: () => pool.spareReady(),
    hostCount: hostBlocks.length,
    setLaneFaults: (from, to, config) => {
      const lane = lanes[from]?.[to];
      if (lane === undefined) throw new InvalidArgumentError(`no lane from host ${from} to host ${to}`);
      setLaneFaults(lane, config);
    },
    laneFaults: (from, to) => {
      const lane = lanes[from]?.[to];
      if (lane === undefined) throw new InvalidArgumentError(`no lane from host ${from} to host ${to}`);
      return laneFaults(lane);
    },
    setThrottle: (host, recordsPerMs) => {
      const block = hostBlocks[host];
      if (block === undefined) throw new InvalidArgumentError(`no host ${host}`);
      setHostThrottle(block, recordsPerMs);
      if (host === 0) main.nudge();
    },
    inflict: (worker, fault) => {
      if (!Number.isInteger(worker) || worker < 0 || worker >= options.workers) throw new InvalidArgumentError(`no worker ${String(worker)}`);
      pool.send(worker + 1, { type: 'chaos', fault });
    },
    crashActor: (id) => main.crashNextMessage(id),
    isolateNode: (isolated) => {
      if (link === undefined) throw new InvalidArgumentError('isolateNode: this system is not a cluster node');
      link.isolate(isolated);
    },
  };
}
