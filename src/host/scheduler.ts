/**
 * A host's scheduler: the run queue of ready cells and the pump that turns
 * it. One round reads the lanes, runs ready actors, moves held records and
 * publishes the lanes; rounds follow each other as microtasks within a time
 * slice, then yield to the event loop. With nothing to do the host polls its
 * lanes briefly (while another thread talks to it) and then parks on its
 * doorbell (Atomics.waitAsync), so its event loop stays free.
 */
import { performance } from 'node:perf_hooks';
import type { Cell } from '../actor/cell.js';
import { beat, markAwake, markParked, waitDoorbell } from '../lane/host-block.js';
import type { HostOptions } from '../options.js';
import type { HostCounters } from './counters.js';
import type { Inbound } from './inbound.js';
import type { Outbound } from './outbound.js';

/** What the scheduler needs of its host. */
export interface SchedulerHost {
  readonly closed: boolean;
  readonly options: HostOptions;
  readonly counters: HostCounters;
  readonly out: Outbound;
  /** The host's control block (heartbeat, parked flag, doorbell). */
  readonly block: Int32Array;
  /** Lifecycle work (exits, starts, stops) running as promises: a spin now would hold it. */
  readonly detachedWork: number;
  readonly inbound: Inbound;
  readonly runner: {
    /** Runs up to `budget` queued messages of one cell; returns how many. */
    drainMailbox(cell: Cell, budget: number): number;
  };
}

const kMinSpinUs = 5;
const kInitialSpinUs = 50;
/** Messages a round may handle for cells its own handlers made ready, before the lanes are read again. */
const kRoundBudget = 256;

export class Scheduler {
  readonly #host: SchedulerHost;
  #runQueue: Cell[] = [];
  #runHead = 0;
  #inPump = false;
  #pumpScheduled = false;
  /** Pump rounds so far: tells a deferred idle that a round has run since it was asked for. */
  #rounds = 0;
  #waitPending = false;
  #parked = false;
  /** When a record last arrived from another host; only cross-thread traffic earns a spin. */
  #lastLaneTraffic = 0;
  #laneRecordsThisRound = 0;
  /** Longest poll before parking on this host (spinMicros, or mainSpinMicros on the main thread). */
  readonly #maxSpinUs: number;
  /** Current poll length before parking, adapted between kMinSpinUs and #maxSpinUs. */
  #spinUs: number;
  #parkedAt = 0;
  #parkedAfterSpin = false;
  #sliceStart = 0;

  constructor(host: SchedulerHost, maxSpinUs: number) {
    this.#host = host;
    this.#maxSpinUs = maxSpinUs;
    this.#spinUs = Math.min(maxSpinUs, kInitialSpinUs);
  }

  /** Queues a ready cell for the next round (once: a queued cell stays queued). */
  schedule(cell: Cell): void {
    if (cell.scheduled) return;
    cell.scheduled = true;
    this.#runQueue.push(cell);
    this.wake();
  }

  /** Makes sure a round runs soon. */
  wake(): void {
    if (this.#pumpScheduled || this.#inPump || this.#host.closed) return;
    this.#pumpScheduled = true;
    queueMicrotask(this.#pumpTask);
  }

  get hasReadyCells(): boolean {
    return this.#runHead < this.#runQueue.length;
  }

  /** Whether a parked wait is outstanding (a closing host rings its own doorbell to end it). */
  get waitPending(): boolean {
    return this.#waitPending;
  }

  readonly #pumpTask = (): void => {
    this.#pumpScheduled = false;
    this.#pump();
  };

  readonly #onDoorbell = (): void => {
    this.#waitPending = false;
    if (!this.#parked) return;
    if (this.#parkedAfterSpin) this.#adaptSpin((performance.now() - this.#parkedAt) * 1000);
    this.wake();
  };

  #pump(): void {
    const host = this.#host;
    if (this.#inPump || host.closed) return;
    this.#inPump = true;
    this.#rounds++;
    if (this.#parked) {
      markAwake(host.block);
      this.#parked = false;
    }
    beat(host.block);
    const startedAt = performance.now();
    if (this.#sliceStart === 0) this.#sliceStart = startedAt;
    let handled: number;
    try {
      handled = this.#round();
    } finally {
      this.#inPump = false;
    }
    const endedAt = performance.now();
    if (handled > 0) {
      host.counters.busyMs += endedAt - startedAt;
      if (this.#laneRecordsThisRound > 0) this.#lastLaneTraffic = endedAt;
      host.counters.turns++;
      if (host.inbound.throttled) {
        this.#sliceStart = 0;
        this.#pumpScheduled = true;
        setTimeout(this.#pumpTask, 1);
      } else if (endedAt - this.#sliceStart < host.options.sliceMs) {
        // Another round as a microtask: continuations of awaiting handlers and
        // callers run first, in order, without a trip through the event loop.
        this.wake();
      } else {
        this.#sliceStart = 0;
        this.#pumpScheduled = true;
        setImmediate(this.#pumpTask);
      }
      return;
    }
    this.#sliceStart = 0;
    this.#idleAfterContinuations();
  }

  /**
   * The poll before parking is a synchronous loop: started from inside this
   * round, it would hold every promise continuation the round queued (the
   * rest of a crash's exit, a restart's init, a handler's await) until it
   * gave up, ~200 µs per step of a restart. While such work is under way it
   * starts from the next event-loop turn, once those have run; a round they
   * trigger meanwhile makes it moot.
   */
  #idleAfterContinuations(): void {
    // Without lifecycle work or async handlers under way nothing is held:
    // spin at once (a request arriving in the next microseconds is served
    // by the poll, not after an event-loop turn).
    if ((this.#host.detachedWork === 0 && this.#host.counters.busyActors === 0) || !this.#wouldSpin()) {
      this.#idle();
      return;
    }
    const rounds = this.#rounds;
    setImmediate(() => {
      if (this.#rounds === rounds && !this.#inPump && !this.#pumpScheduled && !this.#parked && !this.#host.closed) this.#idle();
    });
  }

  /** One pass: lanes in, ready actors, overflow, publish. Returns messages handled. */
  #round(): number {
    const host = this.#host;
    let handled = host.inbound.readLanes();
    this.#laneRecordsThisRound = handled;
    const queue = this.#runQueue;
    const end = queue.length;
    const throughput = host.options.throughput;
    // Cells made ready by this round's own handlers run in it too, up to a
    // budget: a chatty pair on one host (one message in flight) then costs a
    // handler call per message, not a whole round (lane poll, stats, flush,
    // microtask) each; the budget bounds how long the lanes wait.
    const budget = handled + kRoundBudget;
    while (this.#runHead < end || (this.#runHead < queue.length && handled < budget)) {
      const cell = queue[this.#runHead];
      queue[this.#runHead++] = undefined as unknown as Cell;
      cell.scheduled = false;
      handled += host.runner.drainMailbox(cell, throughput);
      if (cell.queued > 0 && cell.status === 'running' && !cell.busy) this.schedule(cell);
    }
    if (this.#runHead === queue.length) {
      this.#runQueue = [];
      this.#runHead = 0;
    } else if (this.#runHead > 4096) {
      this.#runQueue = queue.slice(this.#runHead);
      this.#runHead = 0;
    }
    host.out.drainHeld();
    // Stats first: whoever sees this turn's records also sees its counters.
    if (handled > 0 || host.out.hasUnpublished) host.counters.publish(false);
    host.out.flush();
    return handled;
  }

  #hasInput(): boolean {
    return this.#runHead < this.#runQueue.length || this.#host.inbound.hasData() || this.#host.out.canDrain();
  }

  /** Whether an idle now would poll: this host polls at all, and another thread talked to it lately. */
  #wouldSpin(): boolean {
    return this.#maxSpinUs > 0 && performance.now() - this.#lastLaneTraffic < this.#host.options.spinWindowMs;
  }

  /**
   * Nothing to do. While another thread has been talking to us, poll the lanes
   * before parking: waking a parked thread costs 30-40 µs, so a round trip
   * whose reply lands during the poll is ten times faster. The poll adapts
   * (as adaptive mutexes do): it grows when a record arrives soon after we
   * parked, and shrinks when the gaps are longer than the longest poll.
   * Local traffic earns no poll (it would only delay this thread's own timers
   * and immediates, which are what it waits for), and an idle host never polls.
   */
  #idle(): void {
    const maxSpin = this.#maxSpinUs;
    if (this.#wouldSpin()) {
      const startedAt = performance.now();
      const deadline = startedAt + this.#spinUs / 1000;
      for (let i = 1; ; i++) {
        if (this.#hasInput()) {
          const waitedUs = (performance.now() - startedAt) * 1000;
          if (2 * waitedUs > this.#spinUs) this.#spinUs = Math.min(maxSpin, 2 * waitedUs);
          this.wake();
          return;
        }
        if ((i & 31) === 0 && performance.now() > deadline) break;
      }
      this.#parkedAfterSpin = true;
    } else {
      this.#parkedAfterSpin = false;
    }
    this.#park();
  }

  /** Tunes the next poll from how long after parking the doorbell rang. */
  #adaptSpin(gapUs: number): void {
    const maxSpin = this.#maxSpinUs;
    if (gapUs < maxSpin) this.#spinUs = Math.min(maxSpin, Math.max(2 * this.#spinUs, 1.5 * gapUs));
    else this.#spinUs = Math.max(kMinSpinUs, this.#spinUs / 2);
  }

  #park(): void {
    const host = this.#host;
    if (host.closed) return;
    const seen = markParked(host.block);
    this.#parked = true;
    this.#parkedAt = performance.now();
    if (this.#hasInput()) {
      this.wake();
      return;
    }
    host.counters.publish(false);
    if (this.#waitPending) return;
    const wait = waitDoorbell(host.block, seen);
    if (wait === undefined) {
      this.wake();
      return;
    }
    this.#waitPending = true;
    void wait.then(this.#onDoorbell);
  }
}
