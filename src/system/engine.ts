/**
 * The private engine behind `ActorSystem`: owns the shared blocks, the main
 * thread's host, the worker pool, the name registry and the event stream.
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { HostName, SpawnOptions } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { Kind } from '../codec/envelope.js';
import { ActorNotFoundError, ActorStoppedError, AskTimeoutError, InvalidArgumentError, SystemStoppedError, errorFromWire } from '../errors.js';
import type { WorkerBoot, WorkerFault } from '../host/boot.js';
import { Host, hostNameOf, type MainDuties } from '../host/host.js';
import { allocateSharedMemory } from '../host/shared-memory.js';
import { WorkerPool, type WorkerExit } from '../host/worker-pool.js';
import { Directory, generationOf, slotOf, type ActorId } from '../lane/directory.js';
import { GENERATION_MASK, HOST_INFLIGHT_DISPATCHED, HOST_INFLIGHT_END, HOST_INFLIGHT_FROM, HOST_INFLIGHT_START, HOST_STATS_OFFSET, HostState, STAT_SLOTS, Stat } from '../lane/layout.js';
import { hostState, isParked, readHeartbeat, setHostThrottle } from '../lane/host-block.js';
import { laneFaults, setLaneFaults, type LaneFaultConfig } from '../lane/lane-faults.js';
import { consumedTo, recoverUnpublished, takeInFlightRecord } from '../lane/recovery.js';
import { laneCounters } from '../lane/ring.js';
import { LaneDecoder } from '../codec/codec.js';
import { StatsReader, type SystemStats } from '../metrics/stats.js';
import { hostOptionsOf, resolveOptions, type ResolvedOptions, type SystemOptions } from '../options.js';
import { SystemEvents, type SystemEvent } from './events.js';
import { reportLeftovers } from './leftovers.js';

const kStatsTickMs = 1000;
/** A worker that dies again within this window of its last death is in a loop: its replacement waits (workerBackoff). */
const kDeathWindowMs = 5000;

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
}

export class Engine implements MainDuties {
  readonly systemId = randomBytes(4).toString('hex');
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly events: SystemEvents;
  readonly host: Host;
  readonly #lanes: (SharedArrayBuffer | undefined)[][];
  readonly #hostBlocks: SharedArrayBuffer[];
  readonly #directorySab: SharedArrayBuffer;
  readonly #rootRestarts: SharedArrayBuffer | undefined;
  readonly #directory: Directory;
  readonly #pool: WorkerPool;
  readonly #names = new Map<string, number>();
  /** The reverse of #names, so a dead worker's names are dropped without scanning them all. */
  readonly #nameOf = new Map<number, string>();
  /** Deaths per host index, for backing off a worker that keeps dying. */
  readonly #deaths = new Map<number, { count: number; at: number }>();
  readonly #stats: StatsReader;
  readonly #heartbeats = new Map<number, { beat: number; since: number; reported: boolean }>();
  #state: 'running' | 'stopping' | 'stopped' = 'running';
  #shutdown: Promise<void> | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;

  private constructor(options: ResolvedOptions, logger: Logger | undefined) {
    this.options = options;
    this.log = (logger ?? pino({ level: options.logLevel })).child({ system: this.systemId, host: 'main' });
    const memory = allocateSharedMemory(options.workers + 1, options.laneBytes, options.supervisor);
    this.#lanes = memory.lanes;
    this.#hostBlocks = memory.hostBlocks;
    this.#directorySab = memory.directory;
    this.#directory = new Directory(this.#directorySab);
    this.#rootRestarts = memory.rootRestarts;
    this.events = new SystemEvents((mask) => (this.#directory.eventInterest = mask));
    this.host = new Host({
      index: 0,
      lanes: this.#lanes,
      hostBlocks: this.#hostBlocks,
      directory: this.#directorySab,
      options: hostOptionsOf(options),
      freeSlots: [],
      rootRestarts: this.#rootRestarts,
      logger: this.log,
    });
    this.host.attachMain(this, options.supervisor);
    this.#pool = new WorkerPool(
      { execArgv: options.workerExecArgv, resourceLimits: options.workerResourceLimits, preload: options.workerPreload, spare: options.spareWorker && options.workers > 0, hostOptions: hostOptionsOf(options), workersRestart: this.#rootRestarts !== undefined },
      (exit) => this.#onWorkerExit(exit),
    );
    this.#stats = new StatsReader({ hostBlocks: this.#hostBlocks, lanes: this.#lanes, hostName: hostNameOf });
  }

  static async start(input: SystemOptions | undefined): Promise<Engine> {
    const options = resolveOptions(input);
    const engine = new Engine(options, input?.logger);
    engine.host.start();
    try {
      await Promise.all(Array.from({ length: options.workers }, (_, i) => engine.#startWorker(i + 1, [])));
    } catch (error) {
      await engine.shutdown();
      throw error;
    }
    engine.#pool.prepareSpare(engine.systemId);
    engine.#stats.sample();
    engine.#ticker = setInterval(() => {
      engine.#stats.sample();
      // diagnostics_channel subscribers appear without telling us; refresh the mask.
      engine.#directory.eventInterest = engine.events.interestMask();
    }, kStatsTickMs);
    engine.#ticker.unref();
    const stallCheckMs = Math.max(5, Math.min(1000, Math.floor(options.stallTimeoutMs / 4)));
    engine.#stallTimer = setInterval(() => engine.#checkStalls(), stallCheckMs);
    engine.#stallTimer.unref();
    return engine;
  }

  #startWorker(index: number, freeSlots: number[], replacing = false): Promise<void> {
    const boot: WorkerBoot = {
      systemId: this.systemId,
      index,
      lanes: this.#lanes,
      hostBlocks: this.#hostBlocks,
      directory: this.#directorySab,
      options: hostOptionsOf(this.options),
      freeSlots,
      preload: this.options.workerPreload,
      rootRestarts: this.#rootRestarts,
    };
    this.#heartbeats.delete(index);
    return replacing ? this.#pool.replace(boot) : this.#pool.start(boot);
  }

  // ------------------------------------------------------------- main duties

  claimName(name: string, id: ActorId): boolean {
    const holder = this.#names.get(name);
    if (holder !== undefined) {
      if (this.#directory.hostOf(holder) >= 0) return false;
      this.#nameOf.delete(holder);
    }
    this.#names.set(name, id);
    this.#nameOf.set(id, name);
    return true;
  }

  releaseName(name: string, id: number): void {
    if (this.#names.get(name) === id) {
      this.#names.delete(name);
      this.#nameOf.delete(id);
    }
  }

  moduleUsed(url: string): void {
    this.#pool.warm(url);
  }

  /**
   * The root's decision, not its escalation, is when the system stops being
   * `running`: stopping the root's children comes first and takes a while,
   * and probes and callers must not take the system for healthy meanwhile.
   */
  rootGivingUp(): void {
    if (this.#state === 'running') this.#state = 'stopping';
  }

  escalated(reason: string): void {
    this.log.error({ reason }, 'the root supervisor gave up; stopping the system');
    this.events.emit({ type: 'system.escalated', at: now(), host: 'main', reason });
    void this.shutdown();
  }

  onEvent(event: SystemEvent): void {
    if (event.type === 'actor.stopped') {
      // An actor that ended without a cell (its worker died first) is reported without its name.
      const name = event.name ?? this.#nameOf.get(event.id);
      if (name !== undefined) {
        event.name = name;
        this.releaseName(name, event.id);
      }
    }
    this.events.emit(event);
  }

  // ------------------------------------------------------------- user calls

  spawn(moduleUrl: URL | string, options: SpawnOptions | undefined): Promise<ActorRef> {
    if (this.#state !== 'running') return Promise.reject(new SystemStoppedError());
    return this.host.spawn(moduleUrl, options, 0);
  }

  lookup(name: string): ActorRef | undefined {
    if (typeof name !== 'string') throw new InvalidArgumentError('lookup(name) takes a string');
    const id = this.#names.get(name);
    if (id === undefined || this.#directory.hostOf(id) < 0) return undefined;
    return this.host.refFor(id, name);
  }

  stop(ref: ActorRef): Promise<void> {
    if (ref === null || typeof ref !== 'object' || typeof ref.id !== 'number') {
      return Promise.reject(new InvalidArgumentError('stop(ref) takes an ActorRef'));
    }
    return this.host.stopActor(ref.id, 'stopped');
  }

  stats(): SystemStats {
    return this.#stats.read();
  }

  /** Running actors registered under a name. */
  names(): { name: string; ref: ActorRef }[] {
    const named: { name: string; ref: ActorRef }[] = [];
    for (const [name, id] of this.#names) if (this.#directory.hostOf(id) >= 0) named.push({ name, ref: this.host.refFor(id, name) });
    return named;
  }

  restart(ref: ActorRef, timeoutMs: number): Promise<void> {
    if (this.#state !== 'running') return Promise.reject(new SystemStoppedError());
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        offRestarted();
        offDecided();
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(() => settle(new AskTimeoutError(`restart of ${String(ref)}`, timeoutMs)), timeoutMs);
      const offRestarted = this.events.on('actor.restarted', (e) => {
        if (e.id === ref.id) settle();
      });
      // Its supervisor may decide otherwise: remove it, or give up itself.
      const offDecided = this.events.on('supervisor.decided', (e) => {
        if (e.child === ref.id && e.directive !== 'restart') settle(new ActorStoppedError(String(ref), `its supervisor chose to ${e.directive} instead of restarting it`));
      });
      if (!this.host.requestRestart(ref.id)) settle(new ActorNotFoundError(String(ref)));
    });
  }

  get state(): 'running' | 'stopping' | 'stopped' {
    return this.#state;
  }

  hostOf(ref: ActorRef): HostName | undefined {
    const host = this.#directory.hostOf(ref.id);
    return host < 0 ? undefined : hostNameOf(host);
  }

  // --------------------------------------------------------- worker faults

  /**
   * A worker died. The lanes are the system's, so nothing queued for it is
   * lost; what it held in its own memory is. In order: dead-letter the record
   * it was handling, fail the requests it had taken, hand every actor it ran
   * to its supervisor (or let it go with a supervisor that died too), stop
   * the orphans it leaves elsewhere, then start a replacement on the same
   * lanes, backing off if it keeps dying.
   */
  #onWorkerExit(exit: WorkerExit): void {
    if (exit.expected || this.#state === 'stopped') return;
    const index = exit.index;
    const host = hostNameOf(index);
    const detail = exit.error === undefined ? `exit code ${exit.exitCode}` : `${exit.error.message} (exit code ${exit.exitCode})`;
    this.log.error({ worker: host, exitCode: exit.exitCode, err: exit.error === undefined ? undefined : errorFromWire(exit.error) }, 'worker exited');
    const exited: SystemEvent = { type: 'worker.exited', at: now(), host, exitCode: exit.exitCode };
    if (exit.error !== undefined) exited.error = exit.error;
    this.events.emit(exited);

    const diedAt = now();
    // What it wrote into its lanes in full but had not published yet goes out now, like the rest.
    this.#recoverUnpublished(index);
    this.#deadLetterInFlight(index, detail);
    const consumed = this.#lanes.map((row) => (row[index] === undefined ? 0 : consumedTo(row[index]!)));
    this.host.hostDown(index, detail, consumed[0]);
    for (let other = 1; other < this.#hostBlocks.length; other++) {
      if (other !== index) this.#pool.send(other, { type: 'host-down', host: index, detail, consumedTo: consumed[other] });
    }

    const dead = this.#directory.idsOn(index);
    const deadSet = new Set<number>(dead);
    // Messages already moved from the lanes into its actors' mailboxes died with
    // its heap: each is reported (one dead letter event per actor, with a count).
    for (const id of dead) {
      const lost = this.#directory.takeQueued(id);
      if (lost > 0) this.host.reportLostMailbox(index, id, lost);
    }
    // The dead worker's free list died with it: its slots are marked in the directory.
    const freed: number[] = this.#directory.keptBy(index);
    /** The dead worker's actors whose supervisors live on, by supervisor: each supervisor judges its own in one batch. */
    const exitsBySupervisor = new Map<number, number[]>();
    for (const id of dead) {
      // A spawn still queued in its lane: the replacement will start it.
      if (!this.#directory.isStarted(id)) continue;
      const parent = this.#directory.parentOf(id);
      if (parent !== 0 && (deadSet.has(parent) || this.#directory.hostOf(parent) < 0)) {
        // Its supervisor died with it: when that supervisor is restarted, its
        // init starts the children it needs. This one is gone for good.
        if (this.#directory.release(id) && generationOf(id) < GENERATION_MASK) {
          freed.push(slotOf(id));
          this.#directory.keep(slotOf(id), index);
        }
        const name = this.#nameOf.get(id);
        if (name !== undefined) this.releaseName(name, id);
        this.host.announceGone(id, 'worker-exited');
        this.events.emit({ type: 'actor.stopped', at: now(), host, id: id as ActorId, reason: 'worker-exited' });
      } else {
        let siblings = exitsBySupervisor.get(parent);
        if (siblings === undefined) exitsBySupervisor.set(parent, (siblings = []));
        siblings.push(id);
      }
    }
    for (const [parent, children] of exitsBySupervisor) this.host.childrenExitedRemotely(parent, children, 'abnormal', 'worker-exited', diedAt);
    // Children elsewhere of actors that died here would outlive their supervisor.
    for (let other = 0; other < this.#hostBlocks.length; other++) {
      if (other === index) continue;
      for (const id of this.#directory.idsOn(other)) {
        if (deadSet.has(this.#directory.parentOf(id))) void this.host.stopActor(id, 'supervisor-exited').catch(() => undefined);
      }
    }
    if (this.#state !== 'running') return;
    const previous = this.#deaths.get(index);
    const recent = previous !== undefined && performance.now() - previous.at < kDeathWindowMs;
    const count = recent ? previous.count + 1 : 1;
    this.#deaths.set(index, { count, at: performance.now() });
    const { minMs, maxMs } = this.options.workerBackoff;
    const delayMs = count <= 1 ? 0 : Math.min(maxMs, minMs * 2 ** (count - 2));
    const replace = (): void => {
      if (this.#state !== 'running') return;
      this.#startWorker(index, freed, true).then(
        () => this.events.emit({ type: 'worker.replaced', at: now(), host }),
        (error: unknown) => this.log.error({ worker: host, err: error }, 'replacement worker failed to start'),
      );
    };
    if (delayMs === 0) replace();
    else setTimeout(replace, delayMs).unref();
  }

  #recoverUnpublished(index: number): void {
    const row = this.#lanes[index];
    for (let to = 0; to < row.length; to++) {
      const lane = row[to];
      if (lane !== undefined) recoverUnpublished(lane, this.#hostBlocks[to]);
    }
  }

  /** The lane record the dead worker was handling goes to dead letters; the lane resumes after it. */
  #deadLetterInFlight(index: number, detail: string, reason = 'worker-exited'): void {
    const block = new Int32Array(this.#hostBlocks[index], 0, HOST_STATS_OFFSET / 4);
    const from = block[HOST_INFLIGHT_FROM] - 1;
    if (from < 0 || from >= this.#hostBlocks.length || from === index) return;
    const lane = this.#lanes[from][index]!;
    const record = takeInFlightRecord(lane, block[HOST_INFLIGHT_START] >>> 0, block[HOST_INFLIGHT_END] >>> 0);
    block[HOST_INFLIGHT_FROM] = 0;
    // Dispatched already: handled, or queued in a mailbox (reported with the mailbox counts), or passed on.
    if (record === undefined || block[HOST_INFLIGHT_DISPATCHED] === 1) return;
    let message: unknown;
    try {
      message = new LaneDecoder(lane, this.options.maxMessageDepth, (id, name) => this.host.refFor(id, name)).decode(record.bytes, record.payloadStart, record.payloadEnd);
    } catch {
      message = undefined;
    }
    const event: SystemEvent = { type: 'deadLetter', at: now(), host: hostNameOf(index), target: record.target as ActorId, reason };
    if (record.sender !== 0) event.sender = record.sender as ActorId;
    if (message !== undefined) event.message = message;
    if (record.trace !== 0) event.correlationId = record.trace;
    event.error = { code: 'TROUPE_ERR_WORKER_EXITED', name: 'WorkerExitedError', message: `worker ${String(hostNameOf(index))} exited while handling it (${detail})` };
    this.events.emit(event);
  }

  #checkStalls(): void {
    const at = performance.now();
    for (let index = 1; index < this.#hostBlocks.length; index++) {
      const block = new Int32Array(this.#hostBlocks[index], 0, HOST_STATS_OFFSET / 4);
      if (hostState(block) !== HostState.running) continue;
      const beat = readHeartbeat(block);
      const seen = this.#heartbeats.get(index);
      if (seen === undefined || seen.beat !== beat) {
        this.#heartbeats.set(index, { beat, since: at, reported: false });
        continue;
      }
      const stalledForMs = at - seen.since;
      if (stalledForMs < this.options.stallTimeoutMs || seen.reported) continue;
      seen.reported = true;
      this.log.error({ worker: index - 1, stalledForMs }, 'worker stalled; terminating it');
      this.events.emit({
        type: 'worker.stalled',
        at: now(),
        host: hostNameOf(index),
        stalledForMs: Math.round(stalledForMs),
        stallTimeoutMs: this.options.stallTimeoutMs,
      });
      void this.#pool.terminate(index);
    }
  }

  // --------------------------------------------------------------- shutdown

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#state = 'stopping';
    this.host.refuseOutsideMessages();
    this.#directory.beginShutdown();
    const deadline = performance.now() + this.options.shutdownTimeoutMs;
    let forced = !(await this.#drained(deadline));
    // Top-level actors in reverse start order; each stops its children first.
    const stops = this.host.rootChildren().reverse().map((id) => this.host.stopActor(id, 'shutdown'));
    forced = !(await settleBy(Promise.allSettled(stops), deadline)) || forced;
    // Whatever is left (orphans of crashed parents, actors started by hand).
    const rest: Promise<void>[] = [];
    for (let index = 0; index < this.#hostBlocks.length; index++) {
      for (const id of this.#directory.idsOn(index)) rest.push(this.host.stopActor(id, 'shutdown'));
    }
    forced = !(await settleBy(Promise.allSettled(rest), deadline)) || forced;
    this.#state = 'stopped';
    clearInterval(this.#ticker);
    clearInterval(this.#stallTimer);
    await this.#pool.closeAll(Math.max(100, deadline - performance.now()));
    this.host.close();
    // A worker terminated while handling a record: that record dies with it, as when a worker dies;
    // what it had written and not published is counted with the rest of the lanes.
    for (let index = 1; index < this.#hostBlocks.length; index++) {
      this.#recoverUnpublished(index);
      this.#deadLetterInFlight(index, 'system stopped', 'shutdown');
    }
    const undelivered = reportLeftovers({
      lanes: this.#lanes,
      hostBlocks: this.#hostBlocks,
      directory: this.#directory,
      maxMessageDepth: this.options.maxMessageDepth,
      refFactory: (id, name) => this.host.refFor(id, name),
      hostName: hostNameOf,
      now,
      emit: (event) => this.events.emit(event),
    });
    this.events.emit({ type: 'system.stopped', at: now(), host: 'main', forced, undelivered });
    this.log.flush();
  }

  /** Waits until no lane holds a record and every host is idle, twice in a row, or the deadline. */
  async #drained(deadline: number): Promise<boolean> {
    let quietChecks = 0;
    while (performance.now() < deadline) {
      if (this.#quiet()) {
        if (++quietChecks >= 2) return true;
      } else {
        quietChecks = 0;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return false;
  }

  #quiet(): boolean {
    if (!this.host.isQuiet()) return false;
    for (let index = 1; index < this.#hostBlocks.length; index++) {
      const block = new Int32Array(this.#hostBlocks[index], 0, HOST_STATS_OFFSET / 4);
      if (hostState(block) === HostState.running && !isParked(block)) return false;
      const stats = new Float64Array(this.#hostBlocks[index], HOST_STATS_OFFSET, STAT_SLOTS);
      if (stats[Stat.busyActors] > 0 || stats[Stat.overflowQueued] > 0) return false;
    }
    for (const row of this.#lanes) for (const lane of row) if (lane !== undefined && laneCounters(lane).depthBytes > 0) return false;
    return true;
  }

  /** Hooks for tests and the chaos harness; not part of the public contract. */
  internals(): SystemInternals {
    return {
      injectRecord: (to, kind, target, payload, corruptFrame = false) => {
        const index = to + 1;
        if (!Number.isInteger(to) || index < 1 || index >= this.#hostBlocks.length) throw new InvalidArgumentError(`no worker ${String(to)}`);
        this.host.injectRecord(index, Kind[kind], target, payload, corruptFrame);
      },
      terminateWorker: (worker) => this.#pool.terminate(worker + 1),
      threadIds: () => this.#pool.threadIds(),
      spareReady: () => this.#pool.spareReady(),
      hostCount: this.#hostBlocks.length,
      setLaneFaults: (from, to, config) => {
        const lane = this.#lanes[from]?.[to];
        if (lane === undefined) throw new InvalidArgumentError(`no lane from host ${from} to host ${to}`);
        setLaneFaults(lane, config);
      },
      laneFaults: (from, to) => {
        const lane = this.#lanes[from]?.[to];
        if (lane === undefined) throw new InvalidArgumentError(`no lane from host ${from} to host ${to}`);
        return laneFaults(lane);
      },
      setThrottle: (host, recordsPerMs) => {
        const block = this.#hostBlocks[host];
        if (block === undefined) throw new InvalidArgumentError(`no host ${host}`);
        setHostThrottle(block, recordsPerMs);
        if (host === 0) this.host.nudge();
      },
      inflict: (worker, fault) => {
        if (!Number.isInteger(worker) || worker < 0 || worker >= this.options.workers) throw new InvalidArgumentError(`no worker ${String(worker)}`);
        this.#pool.send(worker + 1, { type: 'chaos', fault });
      },
      crashActor: (id) => this.host.crashNextMessage(id),
    };
  }

  get workers(): number {
    return this.options.workers;
  }

  get running(): boolean {
    return this.#state === 'running';
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function settleBy(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), remaining)))]);
  clearTimeout(timer);
  return result;
}
