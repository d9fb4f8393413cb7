/**
 * What the main thread does when a worker dies or stalls. The lanes and the
 * directory are the system's, in shared memory, so a dead worker's queued
 * messages and its actors' places survive it; what it held in its own heap
 * (the record it was handling, its mailboxes, its requests) is reported or
 * recovered here, its actors go to their supervisors, and a replacement is
 * started on the same lanes, backing off if it keeps dying. Cold paths, kept
 * out of the engine so that the engine reads as the system's life cycle.
 */
import type { Logger } from 'pino';
import { hostNameOf, type Host } from '../host/host.js';
import type { WorkerExit, WorkerPool } from '../host/worker-pool.js';
import { LaneDecoder } from '../codec/codec.js';
import { errorFromWire } from '../errors.js';
import { generationOf, slotOf, type ActorId, type Directory } from '../lane/directory.js';
import { hostState, readHeartbeat } from '../lane/host-block.js';
import { GENERATION_MASK, HOST_INFLIGHT_DISPATCHED, HOST_INFLIGHT_END, HOST_INFLIGHT_FROM, HOST_INFLIGHT_START, HOST_STATS_OFFSET, HostState } from '../lane/layout.js';
import { consumedTo, recoverUnpublished, takeInFlightRecord } from '../lane/recovery.js';
import type { ResolvedOptions } from '../options.js';
import type { SystemEvent, SystemEvents } from './events.js';
import type { NameRegistry } from './registry.js';

/** A worker that dies again within this window of its last death is in a loop: its replacement waits (workerBackoff). */
const kDeathWindowMs = 5000;

/** What worker failures need of the engine: its shared blocks, its main-thread host, its pool and its names. */
export interface FailureContext {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly events: Pick<SystemEvents, 'emit'>;
  readonly lanes: (SharedArrayBuffer | undefined)[][];
  readonly hostBlocks: SharedArrayBuffer[];
  readonly directory: Directory;
  readonly names: NameRegistry;
  readonly host: Pick<Host, 'hostDown' | 'reportLostMailbox' | 'announceGone' | 'childrenExitedRemotely' | 'stopActor' | 'refFor'>;
  readonly pool: Pick<WorkerPool, 'send' | 'terminate'>;
  readonly state: 'running' | 'stopping' | 'stopped';
  /** Starts a replacement for the worker of host `index`, on its lanes, with the directory slots it kept. */
  replaceWorker(index: number, freeSlots: number[]): Promise<void>;
}

export class WorkerFailures {
  readonly #system: FailureContext;
  /** Deaths per host index, for backing off a worker that keeps dying. */
  readonly #deaths = new Map<number, { count: number; at: number }>();
  readonly #heartbeats = new Map<number, { beat: number; since: number; reported: boolean }>();

  constructor(system: FailureContext) {
    this.#system = system;
  }

  /** A worker (re)started on host `index`: its heartbeat is watched afresh. */
  workerStarted(index: number): void {
    this.#heartbeats.delete(index);
  }

  /**
   * A worker died. In order: publish what it wrote and had not published,
   * dead-letter the record it was handling, fail the requests it had taken,
   * hand every actor it ran to its supervisor (or let it go with a supervisor
   * that died too), stop the orphans it leaves elsewhere, then start a
   * replacement on the same lanes, backing off if it keeps dying.
   */
  onWorkerExit(exit: WorkerExit): void {
    const system = this.#system;
    if (exit.expected || system.state === 'stopped') return;
    const { directory, host: main, events, names } = system;
    const index = exit.index;
    const host = hostNameOf(index);
    const detail = exit.error === undefined ? `exit code ${exit.exitCode}` : `${exit.error.message} (exit code ${exit.exitCode})`;
    system.log.error({ worker: host, exitCode: exit.exitCode, err: exit.error === undefined ? undefined : errorFromWire(exit.error) }, 'worker exited');
    const exited: SystemEvent = { type: 'worker.exited', at: now(), host, exitCode: exit.exitCode };
    if (exit.error !== undefined) exited.error = exit.error;
    events.emit(exited);

    const diedAt = now();
    this.salvageLanes(index, detail, 'worker-exited');
    const consumed = system.lanes.map((row) => (row[index] === undefined ? 0 : consumedTo(row[index]!)));
    main.hostDown(index, detail, consumed[0]);
    for (let other = 1; other < system.hostBlocks.length; other++) {
      if (other !== index) system.pool.send(other, { type: 'host-down', host: index, detail, consumedTo: consumed[other] });
    }

    const dead = directory.idsOn(index);
    const deadSet = new Set<number>(dead);
    // Messages already moved from the lanes into its actors' mailboxes died with
    // its heap: each is reported (one dead letter event per actor, with a count).
    for (const id of dead) {
      const lost = directory.takeQueued(id);
      if (lost > 0) main.reportLostMailbox(index, id, lost);
    }
    // The dead worker's free list died with it: its slots are marked in the directory.
    const freed: number[] = directory.keptBy(index);
    /** The dead worker's actors whose supervisors live on, by supervisor: each supervisor judges its own in one batch. */
    const exitsBySupervisor = new Map<number, number[]>();
    for (const id of dead) {
      // A spawn still queued in its lane: the replacement will start it.
      if (!directory.isStarted(id)) continue;
      const parent = directory.parentOf(id);
      if (parent !== 0 && (deadSet.has(parent) || directory.hostOf(parent) < 0)) {
        // Its supervisor died with it: when that supervisor is restarted, its
        // init starts the children it needs. This one is gone for good.
        if (directory.release(id) && generationOf(id) < GENERATION_MASK) {
          freed.push(slotOf(id));
          directory.keep(slotOf(id), index);
        }
        const name = names.nameOf(id);
        if (name !== undefined) names.release(name, id);
        main.announceGone(id, 'worker-exited');
        events.emit({ type: 'actor.stopped', at: now(), host, id: id as ActorId, reason: 'worker-exited' });
      } else {
        let siblings = exitsBySupervisor.get(parent);
        if (siblings === undefined) exitsBySupervisor.set(parent, (siblings = []));
        siblings.push(id);
      }
    }
    for (const [parent, children] of exitsBySupervisor) main.childrenExitedRemotely(parent, children, 'abnormal', 'worker-exited', diedAt);
    // Children elsewhere of actors that died here would outlive their supervisor.
    for (let other = 0; other < system.hostBlocks.length; other++) {
      if (other === index) continue;
      for (const id of directory.idsOn(other)) {
        if (deadSet.has(directory.parentOf(id))) void main.stopActor(id, 'supervisor-exited').catch(() => undefined);
      }
    }
    if (system.state !== 'running') return;
    const previous = this.#deaths.get(index);
    const recent = previous !== undefined && performance.now() - previous.at < kDeathWindowMs;
    const count = recent ? previous.count + 1 : 1;
    this.#deaths.set(index, { count, at: performance.now() });
    const { minMs, maxMs } = system.options.workerBackoff;
    const delayMs = count <= 1 ? 0 : Math.min(maxMs, minMs * 2 ** (count - 2));
    const replace = (): void => {
      if (system.state !== 'running') return;
      system.replaceWorker(index, freed).then(
        () => events.emit({ type: 'worker.replaced', at: now(), host }),
        (error: unknown) => system.log.error({ worker: host, err: error }, 'replacement worker failed to start'),
      );
    };
    if (delayMs === 0) replace();
    else setTimeout(replace, delayMs).unref();
  }

  /**
   * What a dead (or terminated) worker left in its lanes: the records it
   * wrote in full but had not published go out now, like the rest, and the
   * record it was handling becomes a dead letter (the lane resumes after it).
   */
  salvageLanes(index: number, detail: string, reason: 'worker-exited' | 'shutdown'): void {
    const { lanes, hostBlocks } = this.#system;
    const row = lanes[index];
    for (let to = 0; to < row.length; to++) {
      const lane = row[to];
      if (lane !== undefined) recoverUnpublished(lane, hostBlocks[to]);
    }
    this.#deadLetterInFlight(index, detail, reason);
  }

  #deadLetterInFlight(index: number, detail: string, reason: string): void {
    const { lanes, hostBlocks, host, options, events } = this.#system;
    const block = new Int32Array(hostBlocks[index], 0, HOST_STATS_OFFSET / 4);
    const from = block[HOST_INFLIGHT_FROM] - 1;
    if (from < 0 || from >= hostBlocks.length || from === index) return;
    const lane = lanes[from][index]!;
    const record = takeInFlightRecord(lane, block[HOST_INFLIGHT_START] >>> 0, block[HOST_INFLIGHT_END] >>> 0);
    block[HOST_INFLIGHT_FROM] = 0;
    // Dispatched already: handled, or queued in a mailbox (reported with the mailbox counts), or passed on.
    if (record === undefined || block[HOST_INFLIGHT_DISPATCHED] === 1) return;
    let message: unknown;
    try {
      message = new LaneDecoder(lane, options.maxMessageDepth, (id, name) => host.refFor(id, name)).decode(record.bytes, record.payloadStart, record.payloadEnd);
    } catch {
      message = undefined;
    }
    const event: SystemEvent = { type: 'deadLetter', at: now(), host: hostNameOf(index), target: record.target as ActorId, reason };
    if (record.sender !== 0) event.sender = record.sender as ActorId;
    if (message !== undefined) event.message = message;
    if (record.trace !== 0) event.correlationId = record.trace;
    event.error = { code: 'TROUPE_ERR_WORKER_EXITED', name: 'WorkerExitedError', message: `worker ${String(hostNameOf(index))} exited while handling it (${detail})` };
    events.emit(event);
  }

  /** A running worker whose heartbeat has not moved for stallTimeoutMs is reported and terminated (its exit then runs onWorkerExit). */
  checkStalls(): void {
    const { hostBlocks, options, log, events, pool } = this.#system;
    const at = performance.now();
    for (let index = 1; index < hostBlocks.length; index++) {
      const block = new Int32Array(hostBlocks[index], 0, HOST_STATS_OFFSET / 4);
      if (hostState(block) !== HostState.running) continue;
      const beat = readHeartbeat(block);
      const seen = this.#heartbeats.get(index);
      if (seen === undefined || seen.beat !== beat) {
        this.#heartbeats.set(index, { beat, since: at, reported: false });
        continue;
      }
      const stalledForMs = at - seen.since;
      if (stalledForMs < options.stallTimeoutMs || seen.reported) continue;
      seen.reported = true;
      log.error({ worker: index - 1, stalledForMs }, 'worker stalled; terminating it');
      events.emit({
        type: 'worker.stalled',
        at: now(),
        host: hostNameOf(index),
        stalledForMs: Math.round(stalledForMs),
        stallTimeoutMs: options.stallTimeoutMs,
      });
      void pool.terminate(index);
    }
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}
