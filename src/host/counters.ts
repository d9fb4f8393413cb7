/**
 * A host's counters and their publication: plain fields bumped on the hot
 * paths, copied into the host's stats block in shared memory at the end of
 * each turn (and by a timer while idle), where the main thread reads them.
 */
import { getHeapStatistics } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { Stat } from '../lane/layout.js';
import { now } from './clock.js';

/** How often a host refreshes its stats while idle, and at most how often it reads its heap. */
export const kStatsEveryMs = 250;

/** What publishing reads besides the counters: figures that live with other parts of the host. */
export interface StatsSources {
  pendingAsks(): number;
  /** Records held in overflow, over every lane. */
  heldRecords(): number;
  /** Their payload bytes. */
  heldBytes(): number;
  /** Messages queued in the mailboxes of this host's cells. */
  mailboxQueued(): number;
}

export class HostCounters {
  messagesIn = 0;
  messagesOut = 0;
  deadLetters = 0;
  errors = 0;
  restarts = 0;
  backpressure = 0;
  spawned = 0;
  stopped = 0;
  /** Cells that reached `running` on this host and have not stopped: not spawned − stopped, which misses restarts of a dead worker's actors. */
  liveActors = 0;
  decodeErrors = 0;
  eventsDropped = 0;
  faultsDropped = 0;
  faultsDuplicated = 0;
  faultsDelayed = 0;
  faultsCorrupted = 0;
  busyMs = 0;
  /** Actors whose async handler has not settled. */
  busyActors = 0;
  turns = 0;
  readonly #stats: Float64Array;
  readonly #sources: StatsSources;
  #lastHeapAt = 0;
  #elu = performance.eventLoopUtilization();

  constructor(stats: Float64Array, sources: StatsSources) {
    this.#stats = stats;
    this.#sources = sources;
  }

  /** Copies the counters into shared memory; `withHeap` adds the costlier figures (mailboxes, heap, event-loop use). */
  publish(withHeap: boolean): void {
    const stats = this.#stats;
    stats[Stat.messagesIn] = this.messagesIn;
    stats[Stat.messagesOut] = this.messagesOut;
    stats[Stat.deadLetters] = this.deadLetters;
    stats[Stat.errors] = this.errors;
    stats[Stat.restarts] = this.restarts;
    stats[Stat.actors] = this.liveActors;
    stats[Stat.busyMs] = this.busyMs;
    stats[Stat.backpressure] = this.backpressure;
    stats[Stat.busyActors] = this.busyActors;
    stats[Stat.turns] = this.turns;
    stats[Stat.spawned] = this.spawned;
    stats[Stat.stopped] = this.stopped;
    stats[Stat.decodeErrors] = this.decodeErrors;
    stats[Stat.eventsDropped] = this.eventsDropped;
    stats[Stat.pendingAsks] = this.#sources.pendingAsks();
    stats[Stat.faultsDropped] = this.faultsDropped;
    stats[Stat.faultsDuplicated] = this.faultsDuplicated;
    stats[Stat.faultsDelayed] = this.faultsDelayed;
    stats[Stat.faultsCorrupted] = this.faultsCorrupted;
    stats[Stat.updatedAt] = now();
    stats[Stat.overflowQueued] = this.#sources.heldRecords();
    stats[Stat.overflowBytes] = this.#sources.heldBytes();
    if (!withHeap) return;
    stats[Stat.mailboxQueued] = this.#sources.mailboxQueued();
    const t = performance.now();
    if (t - this.#lastHeapAt < kStatsEveryMs) return;
    this.#lastHeapAt = t;
    const heap = getHeapStatistics();
    stats[Stat.heapUsed] = heap.used_heap_size;
    stats[Stat.heapTotal] = heap.total_heap_size;
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    stats[Stat.elu] = elu.utilization;
  }
}
