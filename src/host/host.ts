/**
 * A host: one thread's scheduler. The main thread and every worker run one.
 * It reads the lanes addressed to it, runs the actors placed on it (M actors
 * on this one thread), writes records to other hosts, and parks on its
 * doorbell when there is nothing to do so its event loop stays free.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Cell, Context, ContextCache, type CellHost, type CellStatus } from '../actor/cell.js';
import type { HostName, ReplyHandle, SpawnOptions } from '../actor/context.js';
import { isActorDefinition, type ActorDefinition } from '../actor/define-actor.js';
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import { LaneDecoder, LaneEncoder, fromKeptCopy, keepCopy, type RefFactory } from '../codec/codec.js';
import { Kind, kindOf, makeKindWord, srcHostOf, type SpawnSpec } from '../codec/envelope.js';
import { assertEncodable, messageLimits, type MessageLimits } from '../codec/validate.js';
import { fitsWithin } from '../codec/size-hint.js';
import {
  ActorCrashedError,
  ActorInitError,
  ActorNotFoundError,
  ActorStoppedError,
  ChaosFaultError,
  DecodeError,
  InvalidArgumentError,
  MailboxFullError,
  ModuleLoadError,
  NameTakenError,
  NotAnActorError,
  PayloadTooLargeError,
  SystemStoppedError,
  TooManyActorsError,
  TroupeError,
  WorkerExitedError,
  errorFromWire,
  errorToWire,
  type WireError,
} from '../errors.js';
import { Directory, generationOf, slotOf, type ActorId } from '../lane/directory.js';
import {
  HOST_HISTOGRAM_OFFSET,
  HOST_INFLIGHT_DISPATCHED,
  HOST_INFLIGHT_END,
  HOST_INFLIGHT_FROM,
  GENERATION_MASK,
  HOST_INFLIGHT_START,
  HOST_STATS_OFFSET,
  HOST_THROTTLE,
  HostState,
  MAX_SLOTS,
  RECORD_HEADER_BYTES,
  SLOT_MASK,
  STAT_SLOTS,
  Stat,
} from '../lane/layout.js';
import { LaneReader, LaneWriter, beat, forceDoorbell, markAwake, markParked, maxPayloadBytes, setHostState, waitDoorbell } from '../lane/ring.js';
import { crc32 } from '../lane/crc32.js';
import { HistogramWriter, histogramCountsLength } from '../metrics/shared-histogram.js';
import { kEventBits, type ActorRestartedEvent, type ActorStartedEvent, type DeadLetterEvent, type SystemEvent, type SystemEventType } from '../system/events.js';
import type { HostOptions } from '../options.js';
import type { WorkerBoot } from './boot.js';
import { Supervisor, type ChildExit, type DecisionReport } from '../supervision/supervisor.js';
import { RestartLedger } from '../lane/restart-ledger.js';
import { monotonicMs, type RestartWindow } from '../supervision/restart-window.js';
import { isRestartable, resolveRestartType, resolveSupervisor, type ExitKind, type ResolvedSupervisor } from '../supervision/strategy.js';
import { LinkFaults } from './link-faults.js';
import { Outbox } from './outbox.js';
import { PendingTable } from './pending.js';

export type HostInit = Omit<WorkerBoot, 'systemId' | 'preload'> & {
  logger: Logger;
  /** Actor modules this thread imported before it became a host (a spare's warm-up), by URL. */
  loadedModules?: ReadonlyMap<string, Record<string, unknown>>;
};

/** Duties only the main thread performs; worker hosts reach them through records to host 0. */
export interface MainDuties {
  onEvent(event: SystemEvent): void;
  claimName(name: string, id: ActorId): boolean;
  releaseName(name: string, id: number): void;
  /** The root supervisor gave up. */
  escalated(reason: string): void;
  /** The root supervisor decided to give up; `escalated` follows once it has stopped its children. */
  rootGivingUp?(): void;
  /** A spawn from the main thread places an actor from this module on a worker (the spare imports it ahead). */
  moduleUsed(url: string): void;
}

/** Host of worker `i` is `i + 1`; host 0 is the main thread. */
export const hostNameOf = (index: number): HostName => (index === 0 ? 'main' : index - 1);

const kLaneBudget = 4096;
const kMinSpinUs = 5;
const kInitialSpinUs = 50;
const kStatsEveryMs = 250;

export class Host implements RefHost, CellHost {
  readonly index: number;
  readonly hostName: HostName;
  readonly hostCount: number;
  readonly log: Logger;
  readonly directory: Directory;
  readonly #options: HostOptions;
  /** Encoder of the lane to each other host (undefined for this host). */
  readonly #encoders: (LaneEncoder | undefined)[] = [];
  /** Decoder of each reader's lane, same order as #readers. */
  readonly #decoders: LaneDecoder[] = [];
  /** The decoder of the lane being read right now. */
  #decoder!: LaneDecoder;
  readonly #block: Int32Array;
  readonly #stats: Float64Array;
  readonly #histogram: HistogramWriter;
  readonly #outboxes: (Outbox | undefined)[] = [];
  readonly #readers: LaneReader[] = [];
  readonly #readerHosts: number[] = [];
  readonly #dirty: Outbox[] = [];
  readonly #holding = new Set<Outbox>();
  readonly #cells = new Map<number, Cell>();
  readonly #pending = new PendingTable();
  readonly #freeSlots: number[];
  readonly #interned = new Map<string, string>();
  /** Kept init args (Cell.keptArgs), one copy of each: actors spawned alike share their args' copy. */
  readonly #internedArgs = new Map<string, string>();
  readonly #loadedModules: ReadonlyMap<string, Record<string, unknown>> | undefined;
  readonly #definitions = new Map<string, Promise<ActorDefinition>>();
  /** Where each loaded definition came from: a top-level actor restarted here is started from it again. */
  readonly #sources = new Map<ActorDefinition, { u: string; e: string }>();
  /**
   * The root supervisor's restart window, when it is shared (one_for_one, no
   * backoff): a worker then restarts its crashed top-level actors itself.
   */
  readonly #rootWindow: RestartLedger | undefined;
  readonly #refFactory: RefFactory = (id, name) => this.refFor(id, name);
  /**
   * Starts under way, settling when each has finished either way: a directive
   * that reaches an actor mid-start waits for it. Kept here, not on the cell,
   * so that a spawn touches no per-cell lifecycle object.
   */
  readonly #starts = new Map<number, Promise<void>>();
  readonly #maxPayload: number;
  /** What every message, reply and spawn args are held to on this host, whatever their target's host. */
  readonly #limits: MessageLimits;
  /** The directory's count of messages in each slot's mailbox (Directory.queued): what dies with this thread. */
  readonly #queuedBySlot: Int32Array;
  #runQueue: Cell[] = [];
  #runHead = 0;
  #current: Cell | undefined = undefined;
  #roundRobin = 0;
  #main: MainDuties | undefined;
  /** The root supervisor (main thread only): supervises every actor started by system.spawn. */
  #root: Supervisor | undefined;
  /** What actors of this host watch: target id → watcher ids (see watch()). */
  readonly #watching = new Map<number, Map<number, number>>();

  // scheduling
  #inPump = false;
  #pumpScheduled = false;
  /** Pump rounds so far: tells a deferred idle that a round has run since it was asked for. */
  #rounds = 0;
  /** Lifecycle work (exits, starts, stops) running as promises: a spin now would hold it. */
  #detachedWork = 0;
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
  #closed = false;
  /** Shutdown began: messages from outside any actor are refused; actors still talk while lanes drain. */
  #refusingOutside = false;
  #statsTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #lastHeapAt = 0;
  #elu = performance.eventLoopUtilization();

  // counters, published to shared memory at the end of each turn
  #messagesIn = 0;
  #messagesOut = 0;
  #deadLetters = 0;
  #errors = 0;
  #restarts = 0;
  #backpressure = 0;
  #spawned = 0;
  #stopped = 0;
  /** Cells that reached `running` on this host and have not stopped: not spawned − stopped, which misses restarts of a dead worker's actors. */
  #liveActors = 0;
  #decodeErrors = 0;
  #eventsDropped = 0;
  #faultsDropped = 0;
  #faultsDuplicated = 0;
  #faultsDelayed = 0;
  #faultsCorrupted = 0;
  readonly #delayedOutboxes = new Set<Outbox>();
  /** The message being sent into a lane with injected faults, for the dead letter if they drop it. */
  #faultedMessage: unknown = undefined;
  #releaseTimer: NodeJS.Timeout | undefined = undefined;
  #releaseAt = 0;
  /** The slow-consumer fault stopped the last round short: the next one waits a millisecond. */
  #throttled = false;
  #busyMs = 0;
  #busyActors = 0;
  #turns = 0;
  #sampleCountdown: number;

  constructor(init: HostInit) {
    this.index = init.index;
    this.hostName = hostNameOf(init.index);
    this.hostCount = init.hostBlocks.length;
    this.#options = init.options;
    this.log = init.logger;
    this.#loadedModules = init.loadedModules;
    this.directory = new Directory(init.directory);
    this.#queuedBySlot = this.directory.queued;
    this.#freeSlots = init.freeSlots;
    const block = init.hostBlocks[init.index];
    this.#block = new Int32Array(block, 0, HOST_STATS_OFFSET / 4);
    this.#stats = new Float64Array(block, HOST_STATS_OFFSET, STAT_SLOTS);
    this.#histogram = new HistogramWriter(new Uint32Array(block, HOST_HISTOGRAM_OFFSET, histogramCountsLength()));
    this.#sampleCountdown = init.options.statsSampleEvery;
    this.#maxSpinUs = init.index === 0 ? init.options.mainSpinMicros : init.options.spinMicros;
    this.#spinUs = Math.min(this.#maxSpinUs, kInitialSpinUs);
    this.#maxPayload = maxPayloadBytes(init.options.laneBytes);
    this.#limits = messageLimits(init.options.maxMessageDepth, init.options.maxMessageNodes, this.#maxPayload);
    this.#rootWindow = init.rootRestarts === undefined ? undefined : new RestartLedger(init.rootRestarts, init.index);
    for (let other = 0; other < this.hostCount; other++) {
      if (other === this.index) {
        this.#outboxes.push(undefined);
        this.#encoders.push(undefined);
        continue;
      }
      const outgoing = init.lanes[this.index][other]!;
      const incoming = init.lanes[other][this.index]!;
      this.#outboxes.push(new Outbox(new LaneWriter(outgoing, init.hostBlocks[other], init.options.checksum), other));
      this.#encoders.push(new LaneEncoder(outgoing));
      this.#readers.push(new LaneReader(incoming, init.hostBlocks[other], init.options.checksum));
      // Two levels of headroom: the runtime wraps a user message (a dead-letter event carries one whole).
      this.#decoders.push(new LaneDecoder(incoming, init.options.maxMessageDepth + 2, this.#refFactory));
      this.#readerHosts.push(other);
    }
  }

  /** @internal main thread only */
  attachMain(main: MainDuties, rootSupervisor: ResolvedSupervisor): void {
    this.#main = main;
    this.#root = this.#newSupervisor(rootSupervisor, undefined, this.#rootWindow);
  }

  start(): void {
    // A replacement inherits the block of a worker that may have died parked.
    markAwake(this.#block);
    setHostState(this.#block, HostState.running);
    this.#publishStats(true);
    this.#statsTimer = setInterval(() => this.#publishStats(true), kStatsEveryMs);
    this.#statsTimer.unref();
    // The heartbeat runs on a timer, not in the pump: a thread stuck in any
    // synchronous loop (a handler, an async continuation, a timer callback)
    // stops it, parked or not.
    this.#heartbeatTimer = setInterval(() => beat(this.#block), Math.max(5, Math.floor(this.#options.stallTimeoutMs / 4)));
    this.#heartbeatTimer.unref();
    this.#wake();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------- refs ---

  refFor(id: number, name: string | undefined): ActorRef {
    return new ActorRef(this, id as ActorId, name);
  }

  currentSender(): number {
    return this.#current === undefined ? 0 : this.#current.id;
  }

  currentTrace(): number {
    return this.#current === undefined ? 0 : this.#current.curTrace;
  }

  traceOf(options: TellOptions | undefined): number {
    if (options === undefined) return this.currentTrace();
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('tell/ask options must be an object');
    const id = options.correlationId;
    if (id === undefined) return this.currentTrace();
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 0xffffffff) {
      throw new InvalidArgumentError(`option "correlationId" must be an integer from 1 to 2^32-1, received ${String(id)}`);
    }
    return id;
  }

  tellFrom(target: ActorRef, msg: unknown, sender: number, trace: number): boolean {
    if (this.#closed || (sender === 0 && this.#refusingOutside)) throw new SystemStoppedError();
    assertEncodable(msg, this.#limits);
    // Same-host fast path: a cell, once stopped, never runs again (a restart
    // elsewhere or a reused slot is a new cell), so a cached live one is valid.
    const cached = target.localCell as Cell | undefined;
    if (cached !== undefined && cached.status !== 'stopped') {
      this.#deliverLocal(cached, Kind.tell, sender, 0, trace, msg, true);
      return true;
    }
    return this.#send(Kind.tell, target.id, sender, 0, trace, msg, true, this.index, target);
  }

  whenWritable(target: ActorRef): Promise<void> {
    const host = this.directory.hostOf(target.id);
    if (host < 0 || host === this.index) return Promise.resolve();
    return this.#outboxes[host]!.whenWritable();
  }

  askFrom(target: ActorRef, msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown> {
    const timeoutMs = askTimeoutOf(options, this.#options.askTimeoutMs);
    assertEncodable(msg, this.#limits);
    if (this.#closed || (sender === 0 && this.#refusingOutside)) return Promise.reject(new SystemStoppedError());
    const host = this.directory.hostOf(target.id);
    if (host < 0) return Promise.reject(new ActorNotFoundError(String(target)));
    const { corr, promise } = this.#pending.open(host, String(target), timeoutMs);
    try {
      this.#send(Kind.ask, target.id, sender, corr, trace, msg, true);
    } catch (error) {
      this.#pending.forget(corr);
      throw error;
    }
    return promise;
  }

  /**
   * Routes one message-like record. Same host: straight into the mailbox, no
   * encoding. Other host: msgpack into the lane. Unknown target: dead letter.
   */
  #send(
    kind: number,
    target: number,
    sender: number,
    corr: number,
    trace: number,
    msg: unknown,
    bounded: boolean,
    replyHost = this.index,
    ref?: ActorRef,
  ): boolean {
    const host = this.directory.hostOf(target);
    if (host === this.index) {
      const cell = this.#cells.get(target) ?? this.#placeholder(target as ActorId);
      if (ref !== undefined && cell.status === 'running') ref.localCell = cell;
      this.#deliverLocal(cell, kind, sender, corr, trace, msg, bounded, replyHost);
      return true;
    }
    if (host < 0) {
      this.#undeliverable(kind, target, sender, corr, trace, msg, 'no-actor', replyHost);
      return true;
    }
    this.#encoders[host]!.encode(msg);
    // If injected faults drop the record, its dead letter carries the message.
    this.#faultedMessage = msg;
    const written = this.#sendRemote(host, kind, target, sender, corr, bounded, replyHost, trace);
    this.#faultedMessage = undefined;
    return written;
  }

  #deliverLocal(cell: Cell, kind: number, sender: number, corr: number, trace: number, msg: unknown, bounded: boolean, replyHost = this.index): void {
    if (bounded && cell.queued >= this.#options.mailboxLimit) {
      this.#backpressure++;
      throw new MailboxFullError(`actor ${cell.label}`, this.#options.mailboxLimit, 'mailbox');
    }
    this.#messagesOut++;
    this.#accept(cell, makeKindWord(kind, replyHost), sender, corr, trace, msg);
  }

  readonly #trackPosition = (corr: number, position: number): void => this.#pending.track(corr, position);

  /** A record with no payload (watch, unwatch, child-down). */
  #sendEmpty(host: number, kind: number, target: number, sender: number, corr: number, bounded: boolean): boolean {
    this.#encoders[host]!.useEncoded(kEmpty, 0, 0);
    return this.#sendRemote(host, kind, target, sender, corr, bounded);
  }

  /** Sends what the lane's encoder encoded last (see LaneEncoder#encode) as a record to `host`. */
  #sendRemote(host: number, kind: number, target: number, sender: number, corr: number, bounded: boolean, replyHost = this.index, trace = 0): boolean {
    const encoder = this.#encoders[host]!;
    const bytes = encoder.encoded;
    const start = encoder.encodedStart;
    const end = encoder.encodedEnd;
    if (end - start > this.#maxPayload) throw new PayloadTooLargeError(end - start, this.#maxPayload);
    const out = this.#outboxes[host]!;
    const kindWord = makeKindWord(kind, replyHost);
    const awaitsReply = corr !== 0 && replyHost === this.index && kind !== Kind.reply && kind !== Kind.replyError;
    if (out.writer.faultMask() !== 0 || (out.faults !== undefined && out.faults.delayed.length > 0)) {
      return this.#sendThroughFaults(out, kindWord, target, sender, corr, trace, bytes, start, end, bounded, awaitsReply);
    }
    this.#messagesOut++;
    return this.#writeRecord(out, kindWord, target, sender, corr, trace, bytes, start, end, bounded, awaitsReply);
  }

  /** Into the ring if it has room, else into the lane's bounded overflow. */
  #writeRecord(
    out: Outbox,
    kindWord: number,
    target: number,
    sender: number,
    corr: number,
    trace: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    bounded: boolean,
    awaitsReply: boolean,
    checksum = -1,
  ): boolean {
    if (out.tryWrite(kindWord, target, sender, corr, trace, bytes, start, end, checksum)) {
      if (awaitsReply) this.#pending.track(corr, out.writer.lastPosition);
      if (out.writer.unpublished >= this.#options.batchRecords) out.writer.publish();
      else if (!out.dirty) {
        out.dirty = true;
        this.#dirty.push(out);
        this.#wake();
      }
      return true;
    }
    if (bounded && (out.held >= this.#options.overflowLimit || out.heldBytes + (end - start) > this.#options.overflowBytes)) {
      this.#messagesOut--;
      this.#backpressure++;
      if (this.#wants('backpressure')) {
        this.#emit({ type: 'backpressure', at: now(), host: this.hostName, toHost: hostNameOf(out.toHost), target: target as ActorId, held: out.held });
      }
      const byCount = out.held >= this.#options.overflowLimit;
      throw new MailboxFullError(
        `host ${String(hostNameOf(out.toHost))}`,
        byCount ? this.#options.overflowLimit : this.#options.overflowBytes,
        byCount ? 'lane' : 'lane-bytes',
      );
    }
    // Publish what is in the ring so the consumer can make room.
    out.writer.publish();
    out.hold(kindWord, target, sender, corr, trace, bytes, start, end, awaitsReply, checksum);
    this.#holding.add(out);
    // A pump must run after the hold: if the consumer freed space before it
    // saw our request, only our own check before parking (#hasInput) notices.
    this.#wake();
    return false;
  }

  /** The lane has injected faults (troupe/chaos): lose, corrupt, duplicate or delay the record as they say. */
  #sendThroughFaults(
    out: Outbox,
    kindWord: number,
    target: number,
    sender: number,
    corr: number,
    trace: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    bounded: boolean,
    awaitsReply: boolean,
  ): boolean {
    const faults = (out.faults ??= new LinkFaults());
    // Summed before the fault can damage it, and carried with every copy: a
    // sum of the damaged bytes would match them, as a corrupting link's never would.
    const checksum = out.writer.checksum ? crc32(bytes, start, end) : -1;
    const verdict = faults.judge(out.writer.faultConfig(), bytes.subarray(start, end));
    this.#messagesOut++;
    if (verdict.copies === 0) {
      this.#faultsDropped++;
      // The fault layer knows what it lost: a message it drops is reported like
      // any other that reaches nobody (control records are not messages).
      const kind = kindOf(kindWord);
      if (kind === Kind.tell || kind === Kind.ask) this.#deadLetter(target, sender, this.#faultedMessage, 'link-fault', undefined, trace);
      // An ask that becomes a dead letter is rejected at once, as anywhere else.
      if (kind === Kind.ask && awaitsReply) this.#pending.reject(corr, new ChaosFaultError(`ask to #${target} dropped by an injected link fault`));
      return true;
    }
    let payload = bytes.subarray(start, end);
    if (verdict.corrupted !== undefined) {
      payload = verdict.corrupted;
      this.#faultsCorrupted++;
    }
    if (verdict.copies === 2) this.#faultsDuplicated++;
    if (verdict.delayUntil > 0) {
      if (bounded && faults.delayed.length >= this.#options.overflowLimit) {
        throw new MailboxFullError(`host ${String(hostNameOf(out.toHost))}`, this.#options.overflowLimit, 'lane');
      }
      const record = { kindWord, target, sender, corr, trace, payload: payload.slice(), releaseAt: verdict.delayUntil, checksum };
      for (let copy = 0; copy < verdict.copies; copy++) faults.delayed.push(record);
      this.#faultsDelayed++;
      this.#delayedOutboxes.add(out);
      this.#armRelease();
      return true;
    }
    if (verdict.copies === 2) this.#writeRecord(out, kindWord, target, sender, corr, trace, payload, 0, payload.length, false, false, checksum);
    return this.#writeRecord(out, kindWord, target, sender, corr, trace, payload, 0, payload.length, bounded, awaitsReply, checksum);
  }

  /** One timer for the earliest delayed record of any lane. */
  #armRelease(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const out of this.#delayedOutboxes) earliest = Math.min(earliest, out.faults!.delayed[0]?.releaseAt ?? Number.POSITIVE_INFINITY);
    if (earliest === Number.POSITIVE_INFINITY) return;
    if (this.#releaseTimer !== undefined && this.#releaseAt <= earliest) return;
    clearTimeout(this.#releaseTimer);
    this.#releaseAt = earliest;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      const t = performance.now();
      for (const out of this.#delayedOutboxes) {
        const delayed = out.faults!.delayed;
        while (delayed.length > 0 && delayed[0].releaseAt <= t) {
          const r = delayed.shift()!;
          this.#writeRecord(out, r.kindWord, r.target, r.sender, r.corr, r.trace, r.payload, 0, r.payload.length, false, false, r.checksum);
        }
        if (delayed.length === 0) this.#delayedOutboxes.delete(out);
      }
      this.#armRelease();
    }, Math.max(0, Math.ceil(earliest - performance.now())));
  }

  // ------------------------------------------------------------- delivery ---

  #placeholder(id: ActorId): Cell {
    const cell = new Cell(id);
    // A placeholder for an actor that had started means its worker died and
    // this is the replacement: who watched it is not known here.
    if (this.directory.isStarted(id)) cell.watchersUnknown = true;
    this.#cells.set(id, cell);
    return cell;
  }

  /** Queues a message for a local cell, or runs it now when the cell is free and we are in the pump. */
  #accept(cell: Cell, kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    if (cell.status === 'stopped') {
      this.#undeliverable(kindOf(kindWord), cell.id, sender, corr, trace, msg, 'stopped', srcHostOf(kindWord));
      return;
    }
    cell.enqueue(kindWord, sender, corr, trace, msg);
    this.#queuedBySlot[cell.id & SLOT_MASK]++;
    if (cell.status === 'running' && !cell.busy) this.#schedule(cell);
  }

  #schedule(cell: Cell): void {
    if (cell.scheduled) return;
    cell.scheduled = true;
    this.#runQueue.push(cell);
    this.#wake();
  }

  #invoke(cell: Cell, kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    cell.curKindWord = kindWord;
    cell.curSender = sender;
    cell.curCorr = corr;
    cell.curTrace = trace;
    cell.curMessage = msg;
    cell.replied = false;
    this.#messagesIn++;
    const sample = --this.#sampleCountdown === 0;
    let startedAt = 0;
    if (sample) {
      this.#sampleCountdown = this.#options.statsSampleEvery;
      startedAt = performance.now();
    }
    const previous = this.#current;
    this.#current = cell;
    // A ctx per message, so a reply is bound to it (see Context).
    const ctx = new Context(this, cell, (cell.ctx ??= new ContextCache()), true);
    let result: unknown;
    try {
      if (cell.crashNext) {
        cell.crashNext = false;
        throw new ChaosFaultError(`actor ${cell.label} crashed by fault injection`);
      }
      result = cell.def!.receive(cell.state, msg, ctx);
    } catch (error) {
      ctx.finish();
      this.#current = previous;
      this.#crashedSafely(cell, error);
      return;
    }
    this.#current = previous;
    if (result !== undefined && result !== null && typeof (result as PromiseLike<void>).then === 'function') {
      cell.busy = true;
      this.#busyActors++;
      // Not handled until it settles: if this thread dies first, it is reported with the mailbox.
      const slot = cell.id & SLOT_MASK;
      this.#queuedBySlot[slot]++;
      const incarnation = cell.incarnation;
      (result as PromiseLike<void>).then(
        () => {
          ctx.finish();
          this.#queuedBySlot[slot]--;
          if (cell.incarnation === incarnation) this.#settled(cell, startedAt);
        },
        (error: unknown) => {
          ctx.finish();
          this.#queuedBySlot[slot]--;
          // Left behind by a restart or stop that gave up waiting for it: its
          // failure is no longer this actor's.
          if (cell.incarnation !== incarnation) return;
          this.#busyActors--;
          cell.markIdle();
          this.#crashedSafely(cell, error);
        },
      );
      return;
    }
    ctx.finish();
    if (sample) this.#histogram.recordNs((performance.now() - startedAt) * 1e6);
  }

  #settled(cell: Cell, startedAt: number): void {
    this.#busyActors--;
    if (startedAt !== 0) this.#histogram.recordNs((performance.now() - startedAt) * 1e6);
    cell.markIdle();
    if (cell.status === 'running' && cell.queued > 0) this.#schedule(cell);
  }

  /** Runs up to `budget` queued messages of one cell. */
  #drainMailbox(cell: Cell, budget: number): number {
    const mailbox = cell.mailbox;
    if (mailbox === undefined) return 0;
    let handled = 0;
    while (handled < budget && mailbox.length > 0 && cell.status === 'running' && !cell.busy) {
      const kindWord = mailbox.headKindWord();
      const sender = mailbox.headSender();
      const corr = mailbox.headCorr();
      const trace = mailbox.headTrace();
      const msg = mailbox.headMessage();
      mailbox.shift();
      this.#invoke(cell, kindWord, sender, corr, trace, msg);
      // Counted until its handler has run: a thread that dies inside it reports it with the mailbox.
      this.#queuedBySlot[cell.id & SLOT_MASK]--;
      handled++;
    }
    return handled;
  }

  /** A message that reached nobody: a dead letter, and an error reply if someone awaits it. */
  #undeliverable(kind: number, target: number, sender: number, corr: number, trace: number, msg: unknown, reason: string, replyHost = this.index): void {
    if (kind === Kind.ask) {
      const error = reason === 'no-actor' ? new ActorNotFoundError(`#${target}`) : new ActorStoppedError(`#${target}`, reason);
      this.#replyErrorTo(replyHost, corr, error);
    }
    this.#deadLetter(target, sender, msg, reason, undefined, trace);
  }

  #deadLetter(target: number, sender: number, msg: unknown, reason: string, error: WireError | undefined, trace = 0, count = 1): void {
    this.#deadLetters += count;
    if (this.log.isLevelEnabled('debug')) this.log.debug({ target, sender, reason, count, correlationId: trace === 0 ? undefined : trace }, 'dead letter');
    // A worker's own subscribers to `troupe:deadLetter` hear of its dead letters
    // at once, on its thread, with the message itself: nothing a lane fault or a
    // busy main thread can lose (the chaos checker counts losses through it).
    const local = this.index !== 0 && kDeadLetterChannel.hasSubscribers;
    if (!local && !this.#wants('deadLetter')) return;
    const event: DeadLetterEvent = { type: 'deadLetter', at: now(), host: this.hostName, target: target as ActorId, reason };
    if (sender !== 0) event.sender = sender as ActorId;
    if (trace !== 0) event.correlationId = trace;
    if (msg !== undefined) event.message = msg;
    if (error !== undefined) event.error = error;
    if (count !== 1) event.count = count;
    if (local) kDeadLetterChannel.publish(event);
    if (this.#wants('deadLetter')) this.#emit(event);
  }

  /** Main reports a dead worker's mailboxes: `count` messages that were queued for `target` (see MailboxShadow). */
  reportLostMailbox(host: number, target: number, count: number): void {
    this.#deadLetters += count;
    if (!this.#wants('deadLetter')) return;
    this.#emit({ type: 'deadLetter', at: now(), host: hostNameOf(host), target: target as ActorId, reason: 'worker-exited', count });
  }

  // --------------------------------------------------------------- replies ---

  reply(cell: Cell, value: unknown): void {
    const kind = kindOf(cell.curKindWord);
    if (kind === Kind.ask && !cell.replied) {
      assertEncodable(value, this.#limits);
      // Marked answered only once the reply is on its way: if it cannot be
      // sent (too large), the handler's throw reaches the asker as a crash.
      this.#replyTo(srcHostOf(cell.curKindWord), cell.curCorr, value);
      cell.replied = true;
      return;
    }
    if (kind === Kind.tell && cell.curSender !== 0) {
      this.refFor(cell.curSender, undefined).tellAs(value, cell.id, cell.curTrace);
      return;
    }
    this.#deadLetter(cell.curSender, cell.id, value, 'no-reply-target', undefined);
  }

  isHandling(cell: Cell): boolean {
    return this.#current === cell;
  }

  answerAfterHandler(cell: Cell, what: 'reply' | 'forward', value: unknown): void {
    // A dead letter, not a throw: the late call usually runs in a timer, where
    // a throw would take the whole thread down with it.
    this.#deadLetter(0, cell.id, value, what === 'reply' ? 'reply-after-handler' : 'forward-after-handler', undefined);
  }

  deferReply(cell: Cell): ReplyHandle<any> {
    const kindWord = cell.curKindWord;
    const sender = cell.curSender;
    const corr = cell.curCorr;
    const trace = cell.curTrace;
    const wasReplied = cell.replied;
    cell.replied = true;
    let used = wasReplied || kindOf(kindWord) !== Kind.ask;
    const take = (): boolean => {
      if (used) return false;
      used = true;
      return true;
    };
    return {
      send: (value: unknown) => {
        if (kindOf(kindWord) === Kind.tell && sender !== 0 && !wasReplied) {
          this.refFor(sender, undefined).tellAs(value, cell.id, trace);
          return;
        }
        if (!take()) return;
        assertEncodable(value, this.#limits);
        this.#replyTo(srcHostOf(kindWord), corr, value);
      },
      fail: (error: unknown) => {
        if (take()) this.#replyErrorTo(srcHostOf(kindWord), corr, error);
      },
    };
  }

  /** Passes the current message on, keeping its original sender and, for an ask, who awaits the reply. */
  forward(cell: Cell, target: ActorRef, msg: unknown): boolean {
    assertEncodable(msg, this.#limits);
    const kind = kindOf(cell.curKindWord);
    if (kind === Kind.ask && !cell.replied) {
      cell.replied = true;
      return this.#send(Kind.ask, target.id, cell.curSender, cell.curCorr, cell.curTrace, msg, true, srcHostOf(cell.curKindWord));
    }
    return this.#send(Kind.tell, target.id, cell.curSender, 0, cell.curTrace, msg, true);
  }

  #replyTo(host: number, corr: number, value: unknown): void {
    if (corr === 0) return;
    if (host === this.index) {
      if (!this.#pending.resolve(corr, value)) this.#deadLetter(0, 0, value, 'reply-expired', undefined);
      return;
    }
    this.#encoders[host]!.encode(value);
    this.#sendRemote(host, Kind.reply, 0, 0, corr, false);
  }

  #replyErrorTo(host: number, corr: number, error: unknown): void {
    if (corr === 0) return;
    if (host === this.index) {
      this.#pending.reject(corr, error);
      return;
    }
    this.#encoders[host]!.encode(errorToWire(error));
    this.#sendRemote(host, Kind.replyError, 0, 0, corr, false);
  }

  // ---------------------------------------------------------------- spawn ---

  /** system.spawn and ctx.spawn land here. */
  spawn(moduleUrl: URL | string, options: SpawnOptions | undefined, parent: number): Promise<ActorRef> {
    let request: { spec: SpawnSpec; host: number };
    try {
      request = this.#spawnRequest(moduleUrl, options, parent);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed || (parent === 0 && this.#refusingOutside)) return Promise.reject(new SystemStoppedError());
    // Only modules bound for a worker: one kept on the main thread may do there, at import, what must not run twice.
    if (request.host !== 0) this.#main?.moduleUsed(request.spec.u);
    if (request.spec.n !== undefined && this.index !== 0) {
      // Names are registered on the main thread: claim it there for an id
      // allocated here, then spawn from here as usual (so the supervisor knows
      // its child before the child can exist, let alone exit).
      const name = request.spec.n;
      const id = this.directory.allocate(this.#freeSlots);
      if (id === undefined) return Promise.reject(new TooManyActorsError(MAX_SLOTS - 1));
      const { corr, promise } = this.#pending.open(0, `claim name ${name}`, this.#options.spawnTimeoutMs);
      this.#encoders[0]!.encode(name);
      this.#sendRemote(0, Kind.claimName, id, parent, corr, false);
      return promise.then(
        (claimed) => {
          if (claimed === true) return this.#spawnAt(request.spec, request.host, id);
          this.#returnSlot(slotOf(id));
          throw new NameTakenError(name);
        },
        (error: unknown) => {
          this.#returnSlot(slotOf(id));
          throw error;
        },
      );
    }
    return this.#spawnAt(request.spec, request.host);
  }

  spawnChild(cell: Cell, moduleUrl: URL | string, options: SpawnOptions | undefined): Promise<ActorRef> {
    return this.spawn(moduleUrl, options, cell.id);
  }

  #spawnRequest(moduleUrl: URL | string, options: SpawnOptions | undefined, parent: number): { spec: SpawnSpec; host: number } {
    const url = moduleHref(moduleUrl);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new InvalidArgumentError('spawn options must be an object');
    }
    const name = options?.name;
    if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 256)) {
      throw new InvalidArgumentError(`spawn option "name" must be a non-empty string of at most 256 characters, received ${typeof name}`);
    }
    const exportName = options?.export ?? 'default';
    if (typeof exportName !== 'string') throw new InvalidArgumentError('spawn option "export" must be a string');
    const restart = resolveRestartType(options?.restart);
    // Held to what is left of a lane once the spec around the args (url, export, name: ASCII or not) is written.
    assertEncodable(options?.args, this.#limits, 64 + 3 * (url.length + exportName.length + (name?.length ?? 0)));
    const spec: SpawnSpec = { u: this.#intern(url), e: this.#intern(exportName), a: options?.args, p: parent };
    if (name !== undefined) spec.n = name;
    if (restart !== 'permanent') spec.r = restart;
    return { spec, host: this.#placement(options?.host) };
  }

  /** -1 means "round robin over workers", decided where the spawn is executed. */
  #placement(host: SpawnOptions['host']): number {
    if (host === undefined) return -1;
    if (host === 'main') return 0;
    if (host === 'local') return this.index;
    if (typeof host === 'number' && Number.isInteger(host) && host >= 0 && host < this.hostCount - 1) return host + 1;
    throw new InvalidArgumentError(`spawn option "host" must be 'main', 'local' or a worker index from 0 to ${this.hostCount - 2}, received ${String(host)}`);
  }

  /** Places and starts an actor; `claimed` is an id whose name main already registered. */
  #spawnAt(spec: SpawnSpec, requestedHost: number, claimed?: ActorId): Promise<ActorRef> {
    let host = requestedHost;
    if (host < 0) {
      host = this.hostCount === 1 ? 0 : 1 + (this.#roundRobin++ % (this.hostCount - 1));
    }
    const id = claimed ?? this.directory.allocate(this.#freeSlots);
    if (id === undefined) return Promise.reject(new TooManyActorsError(MAX_SLOTS - 1));
    if (claimed === undefined && spec.n !== undefined && !this.#main!.claimName(spec.n, id)) {
      this.#returnSlot(slotOf(id));
      return Promise.reject(new NameTakenError(spec.n));
    }
    this.directory.place(id, host, spec.p);
    this.#supervisorOf(spec.p)?.add(id, spec);
    const { corr, promise } = this.#pending.open(host, `spawn ${spec.u}`, this.#options.spawnTimeoutMs);
    if (host === this.index) this.#detach(this.#startActor(id, this.#withOwnArgs(spec), corr, this.index, false), 'spawn');
    else {
      this.#encoders[host]!.encode(spec);
      this.#sendRemote(host, Kind.spawn, id, spec.p, corr, false);
    }
    return promise.then(
      () => this.refFor(id, spec.n),
      (error: unknown) => {
        if (spec.n !== undefined) this.#main?.releaseName(spec.n, id);
        this.#supervisorOf(spec.p)?.forget(id);
        // Its worker died with the spawn in hand, or init outlasted spawnTimeoutMs:
        // free the id (a start still under way sees it and aborts), or stop what did start.
        if (!this.directory.isStarted(id)) {
          // A start still under way (or a spawn record still queued) finds the
          // slot no longer its own, whatever generation comes next, and aborts.
          if (this.directory.release(id)) this.#recycle(id);
        } else this.#detach(this.stopActor(id, 'spawn-failed'), 'stop');
        throw error;
      },
    );
  }

  /**
   * Starts (or, for a supervisor's restart, starts again) the actor `id` on
   * this host from its spec. A restart keeps the cell, hence the mailbox.
   */
  #startActor(id: ActorId, spec: SpawnSpec, corr: number, replyHost: number, restart: boolean): Promise<void> {
    const run = this.#start(id, spec, corr, replyHost, restart);
    // A restart is registered from its first step (it may halt the running incarnation
    // before it starts): the next restart order for the same actor waits for all of it.
    if (restart || this.#cells.get(id)?.status === 'starting') {
      const settled = (): void => {
        if (this.#starts.get(id) === done) this.#starts.delete(id);
      };
      const done: Promise<void> = run.then(settled, settled);
      this.#starts.set(id, done);
    }
    return run;
  }

  async #start(id: ActorId, spec: SpawnSpec, corr: number, replyHost: number, restart: boolean): Promise<void> {
    let cell = this.#cells.get(id);
    if (!restart && cell !== undefined && cell.status !== 'pending') {
      // The same spawn record twice (a duplicating link): the actor exists.
      this.#replyTo(replyHost, corr, null);
      return;
    }
    if (this.directory.hostOf(id) !== this.index) {
      // Stopped (or given up on by its spawner) before it could start: its
      // slot may already serve someone else. A stop that overtook this
      // record left the released directory entry as its tombstone.
      if (cell !== undefined && cell.status === 'pending') this.#terminate(cell, 'stopped before it started', false);
      this.#replyErrorTo(replyHost, corr, new ActorStoppedError(`#${id}`, 'stopped before it could start'));
      return;
    }
    // Restarted where no cell was left (its worker died): watchers are unknown here.
    const recreated = restart && (cell === undefined || cell.status === 'pending');
    cell ??= this.#placeholder(id);
    if (restart && (cell.status === 'running' || cell.status === 'halting')) await this.#halt(cell);
    if (cell.status === 'stopping' || cell.status === 'stopped') {
      this.#replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'stopped before it could start'));
      return;
    }
    if (recreated) cell.watchersUnknown = true;
    cell.name = spec.n;
    cell.parent = spec.p;
    cell.restartType = spec.r ?? 'permanent';
    cell.status = 'starting';
    try {
      // Kept before init can change them; a restart this worker ordered itself passes its own copy back.
      if (this.#restartsTopLevel() && spec.p === 0 && !(restart && cell.keptArgs !== undefined)) cell.keptArgs = this.#keptArgsOf(spec);
      cell.def = await this.#definition(spec.u, spec.e);
      // init gets a ctx that is not kept: the cell makes its own with its first
      // message, so an actor that has only been spawned costs no Context (~56 B).
      const state = cell.def.init === undefined ? undefined : await cell.def.init(spec.a, this.#outsideContext(cell));
      if ((cell.status as CellStatus) === 'stopping' || (cell.status as CellStatus) === 'stopped') {
        // Stopped while init ran (a shutdown, or its supervisor giving up, during a restart): nothing
        // will run it, but onStop gets the state init built, to undo what init started.
        await withTimeout(this.#runOnStop(cell, state), this.#options.shutdownTimeoutMs);
      } else {
        cell.state = state;
      }
    } catch (error) {
      const typed = error instanceof TroupeError ? error : new ActorInitError(cell.label, error);
      if (cell.status !== 'starting') {
        this.#replyErrorTo(replyHost, corr, typed);
        return;
      }
      this.#replyErrorTo(replyHost, corr, typed);
      if (restart) {
        // A restart that fails is one more exit for the supervisor to judge.
        cell.status = 'halted';
        this.#reportExit(cell, 'abnormal', `init-failed: ${errorToWire(error).message}`, now());
      } else {
        this.#terminate(cell, 'spawn-failed', false);
      }
      return;
    }
    if (cell.status !== 'starting') {
      this.#replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'stopped while starting'));
      return;
    }
    if (this.directory.hostOf(id) !== this.index) {
      // Its spawner gave up (spawnTimeoutMs) while init ran: it never runs,
      // but onStop gets the state init built, to undo what init started.
      cell.status = 'stopping';
      await withTimeout(this.#runOnStop(cell, cell.state), this.#options.shutdownTimeoutMs);
      this.#terminate(cell, 'spawn-abandoned', false);
      this.#replyErrorTo(replyHost, corr, new ActorStoppedError(cell.label, 'abandoned by its spawner while starting'));
      return;
    }
    cell.status = 'running';
    this.directory.markStarted(id);
    if (restart) this.#restarts++;
    else this.#spawned++;
    // Live on this host from now on, also when it is a restart of an actor
    // whose worker died (a new cell here): stats().actors counts these.
    if (!cell.started) {
      cell.started = true;
      this.#liveActors++;
    }
    this.#replyTo(replyHost, corr, null);
    const type = restart ? 'actor.restarted' : 'actor.started';
    if (this.#wants(type)) {
      const event: ActorStartedEvent | ActorRestartedEvent = { type, at: now(), host: this.hostName, id };
      if (cell.name !== undefined) event.name = cell.name;
      this.#emit(event);
    }
    if (cell.queued > 0) this.#schedule(cell);
  }

  #definition(url: string, exportName: string): Promise<ActorDefinition> {
    const key = `${exportName}@${url}`;
    let loading = this.#definitions.get(key);
    if (loading === undefined) {
      // A module the spare imported ahead is used as is: import() of it would
      // still wait for a turn of an event loop busy with a takeover's restarts.
      const loaded = this.#loadedModules?.get(url);
      loading = (loaded === undefined ? import(url) : Promise.resolve(loaded)).then(
        (module: Record<string, unknown>) => {
          const definition = module[exportName];
          if (!isActorDefinition(definition)) throw new NotAnActorError(url, exportName);
          this.#sources.set(definition, { u: url, e: exportName });
          return definition;
        },
        (error: unknown) => {
          throw new ModuleLoadError(url, error);
        },
      );
      // A failed load is not cached: the file may be fixed and spawned again.
      loading.catch(() => this.#definitions.delete(key));
      this.#definitions.set(key, loading);
    }
    return loading;
  }

  // ----------------------------------------------------------- supervision ---

  /** The supervisor of actor `id` if it lives on this host (the root, for 0, on the main thread). */
  #supervisorOf(id: number): Supervisor | undefined {
    if (id === 0) return this.#root;
    const cell = this.#cells.get(id);
    if (cell === undefined || cell.status === 'stopped' || cell.def === undefined) return undefined;
    return (cell.supervisor ??= this.#newSupervisor(resolveSupervisor(cell.def.supervisor, 'supervisor'), cell));
  }

  /** A supervisor whose directives travel as records; `owner` undefined is the root. */
  #newSupervisor(options: ResolvedSupervisor, owner: Cell | undefined, window?: RestartWindow): Supervisor {
    return new Supervisor(
      options,
      {
        halt: (child) => this.#directive(Kind.halt, child, undefined),
        restart: (child, spec) => this.#directive(Kind.restart, child, spec),
        remove: (child, reason) => this.stopActor(child, reason),
        escalate: (reason) => {
          if (owner === undefined) this.#main!.escalated(reason);
          else this.#detach(this.#exit(owner, 'abnormal', `escalated: ${reason}`), 'escalation');
        },
        givingUp: owner === undefined ? () => this.#main!.rootGivingUp?.() : undefined,
        decided: (report) => this.#emitDecided(owner?.id ?? 0, report),
        now: monotonicMs,
        epochNow: now,
      },
      window,
    );
  }

  #emitDecided(supervisor: number, report: DecisionReport): void {
    if (!this.#wants('supervisor.decided')) return;
    const { decision } = report;
    this.#emit({
      type: 'supervisor.decided',
      at: now(),
      host: this.hostName,
      supervisor: supervisor as ActorId,
      child: report.child as ActorId,
      exit: report.exit,
      reason: report.reason,
      directive: decision.escalate ? 'escalate' : decision.restart.length > 0 ? 'restart' : 'remove',
      restarted: decision.restart as ActorId[],
      removed: decision.remove as ActorId[],
      delayMs: report.delayMs,
    });
  }

  /** Sends a halt or restart directive to a child wherever it runs; resolves when the child has carried it out. */
  #directive(kind: number, child: number, spec: SpawnSpec | undefined): Promise<void> {
    const host = this.directory.hostOf(child);
    if (host < 0) return Promise.resolve();
    const { corr, promise } = this.#pending.open(host, `${kind === Kind.halt ? 'halt' : 'restart'} #${child}`, this.#options.spawnTimeoutMs);
    if (host === this.index) {
      this.#onDirective(kind, child as ActorId, spec === undefined ? spec : this.#withOwnArgs(spec), corr, this.index);
    } else {
      this.#encoders[host]!.encode(spec ?? null);
      this.#sendRemote(host, kind, child, 0, corr, false);
    }
    return promise.then(() => undefined);
  }

  #onDirective(kind: number, id: ActorId, spec: SpawnSpec | undefined, corr: number, replyHost: number): void {
    const cell = this.#cells.get(id);
    const starting = this.#starts.get(id);
    if (kind === Kind.restart) {
      // Restart orders can queue up for a worker that keeps dying (one per death):
      // the next waits for the start before it, then halts what that started, so
      // two inits never run side by side (each would leave an incarnation behind).
      if (starting !== undefined) {
        this.#detach(starting.then(() => this.#onDirective(kind, id, spec, corr, replyHost)), 'restart');
      } else {
        this.#detach(this.#startActor(id, spec!, corr, replyHost, true), 'restart');
      }
      return;
    }
    if (cell?.status === 'starting' && starting !== undefined) {
      // A group restart reached it mid-start: let the start finish, then halt it,
      // rather than run a second init beside the first.
      this.#detach(starting.then(() => this.#onDirective(kind, id, spec, corr, replyHost)), 'halt');
      return;
    }
    if (cell === undefined || cell.status !== 'running') {
      const halting = cell?.halting;
      if (halting === undefined) this.#replyTo(replyHost, corr, null);
      else void halting.then(() => this.#replyTo(replyHost, corr, null));
      return;
    }
    this.#detach(this.#halt(cell).then(() => this.#replyTo(replyHost, corr, null)), 'halt');
  }

  /**
   * The actor ended or failed (crash, exit(), escalation, failed restart):
   * it halts (children stopped, onStop run, state dropped, mailbox kept) and
   * its supervisor decides what happens next.
   */
  async #exit(cell: Cell, kind: ExitKind, reason: string): Promise<void> {
    if (cell.status !== 'running') return;
    const at = now();
    await this.#halt(cell);
    if ((cell.status as CellStatus) === 'halted') this.#reportExit(cell, kind, reason, at);
  }

  exitActor(cell: Cell): void {
    // Halting starts now (no further message is taken) but waits for the
    // handler that called exit() to finish, async or not.
    if (cell.status === 'running') this.#detach(this.#exit(cell, 'normal', 'exited'), 'exit');
  }

  #halt(cell: Cell): Promise<void> {
    if (cell.halting !== undefined) return cell.halting;
    cell.status = 'halting';
    cell.halting = (async () => {
      await this.#stopChildren(cell, 'parent-restarting');
      await this.#awaitHandler(cell);
      if (cell.def?.onStop !== undefined) await withTimeout(this.#runOnStop(cell, cell.state), this.#options.shutdownTimeoutMs);
      cell.state = undefined;
      cell.supervisor = undefined;
      if (cell.status === 'halting') cell.status = 'halted';
    })();
    void cell.halting.finally(() => (cell.halting = undefined));
    return cell.halting;
  }

  /** Tells an actor's supervisor how it ended, wherever that supervisor runs. */
  #reportExit(cell: Cell, exit: ChildExit, reason: string, at: number): void {
    const parent = cell.parent;
    if (parent === 0 && exit !== 'stopped' && this.#restartHere(cell, exit, reason)) return;
    const supervisorHost = parent === 0 ? 0 : this.directory.hostOf(parent);
    if (supervisorHost < 0) {
      // Its supervisor is gone (it died with its worker, say): an orphan ends.
      if (exit !== 'stopped') this.#detach(this.#stopLocal(cell.id, 'supervisor-gone'), 'stop');
      return;
    }
    if (supervisorHost === this.index) {
      const supervisor = this.#supervisorOf(parent);
      if (supervisor === undefined) {
        if (exit !== 'stopped') this.#detach(this.#stopLocal(cell.id, 'supervisor-gone'), 'stop');
        return;
      }
      this.#detach(supervisor.childExited(cell.id, exit, reason, at), 'supervision');
      return;
    }
    this.#encoders[supervisorHost]!.encode({ k: exit, r: reason, t: at });
    this.#sendRemote(supervisorHost, Kind.childExit, parent, cell.id, 0, false);
  }

  /**
   * A spec for a start on this host whose args are a copy, not the object its
   * supervisor keeps: an init that changes its args (returns them as its
   * state, say) must not change the next incarnation's. A start on another
   * host gets its copy from the lane.
   */
  #withOwnArgs(spec: SpawnSpec): SpawnSpec {
    // A temporary actor is never restarted: no next incarnation to protect.
    if (typeof spec.a !== 'object' || spec.a === null || spec.r === 'temporary') return spec;
    return { ...spec, a: fromKeptCopy(keepCopy(spec.a), this.#refFactory) };
  }

  /** Whether this worker restarts its crashed top-level actors itself (see #restartHere). */
  #restartsTopLevel(): boolean {
    return this.#rootWindow !== undefined && this.index !== 0;
  }

  /**
   * The copy of a top-level actor's args this worker restarts it with. Equal
   * small args share one copy (a million actors spawned alike cost one); a
   * large one is its actor's own, so the table stays small.
   */
  #keptArgsOf(spec: SpawnSpec): string | undefined {
    if (spec.r === 'temporary' || spec.a === undefined) return undefined;
    const copy = keepCopy(spec.a);
    return copy.length <= kInternedArgsLength ? this.#intern(copy, this.#internedArgs) : copy;
  }

  /**
   * A top-level actor that the root would restart (one_for_one, no backoff:
   * its own restart, now) is restarted here, on its worker, when the root's
   * shared window admits it: the decision the main thread would take, without
   * the two thread hand-offs of a round trip. Otherwise (past the limit, a
   * removal, no spec here) it returns false and the exit goes to the root,
   * which decides as it always does: past the limit, it gives up.
   */
  #restartHere(cell: Cell, exit: ExitKind, reason: string): boolean {
    if (!this.#restartsTopLevel()) return false;
    const restart = cell.restartType;
    if (!isRestartable(restart, exit)) return false;
    const source = cell.def === undefined ? undefined : this.#sources.get(cell.def);
    if (source === undefined || this.directory.hostOf(cell.id) !== this.index) return false;
    const kept = cell.keptArgs;
    let args: unknown;
    try {
      args = kept === undefined ? undefined : fromKeptCopy(kept, this.#refFactory);
    } catch {
      // Bytes this host wrote itself; should they not decode, the root still has the spec.
      return false;
    }
    const spec: SpawnSpec = { u: source.u, e: source.e, a: args, p: 0 };
    if (cell.name !== undefined) spec.n = cell.name;
    if (restart === 'transient') spec.r = restart;
    // Refused (past the limit), or another thread holds the window: the root decides.
    if (this.#rootWindow!.tryAdmit(monotonicMs()) !== true) return false;
    this.#emitDecided(0, { child: cell.id, exit, reason, decision: { restart: [cell.id], remove: [], escalate: false }, delayMs: 0 });
    this.#detach(this.#confirmRestart(cell, this.#startActor(cell.id, spec, 0, this.index, true)), 'restart');
    return true;
  }

  /**
   * The root counts a restart order unanswered within spawnTimeoutMs as one
   * more abnormal exit, so a restarted child is never forgotten; a restart a
   * worker ordered itself is held to the same, or an init that never ends
   * would leave its actor starting for good.
   */
  async #confirmRestart(cell: Cell, started: Promise<void>): Promise<void> {
    const timeoutMs = this.#options.spawnTimeoutMs;
    // unref'd: a closed worker's thread must not wait for it to end
    const inTime = await withTimeout(started, timeoutMs, false);
    if (!inTime && !this.#closed && cell.status === 'starting' && this.#cells.get(cell.id) === cell) {
      this.#reportExit(cell, 'abnormal', `restart-unconfirmed: init did not finish within spawnTimeoutMs (${timeoutMs} ms)`, now());
    }
  }

  /** @internal the main thread reports the exits of the actors a dead worker hosted, those of one supervisor together. */
  childrenExitedRemotely(supervisor: number, children: readonly number[], exit: ChildExit, reason: string, at: number): void {
    const host = supervisor === 0 ? 0 : this.directory.hostOf(supervisor);
    if (host < 0) return;
    if (host === this.index) {
      const local = this.#supervisorOf(supervisor);
      if (local !== undefined) this.#detach(local.childrenExited(children, exit, reason, at), 'supervision');
      return;
    }
    for (const child of children) {
      this.#encoders[host]!.encode({ k: exit, r: reason, t: at });
      this.#sendRemote(host, Kind.childExit, supervisor, child, 0, false);
    }
  }

  /**
   * Runs lifecycle work in the background. Its failure is the runtime's own
   * (a bug, or a record that cannot be sent): logged and counted, never an
   * unhandled rejection that would end the thread and every actor on it.
   */
  #detach(work: Promise<unknown>, what: string): void {
    this.#detachedWork++;
    work.then(
      () => this.#detachedWork--,
      (error: unknown) => {
        this.#detachedWork--;
        this.#errors++;
        this.log.error({ err: error, what }, 'runtime work failed');
      },
    );
  }

  // --------------------------------------------------------------- crashes ---

  #crashedSafely(cell: Cell, error: unknown): void {
    try {
      this.#crashed(cell, error);
    } catch (failure) {
      this.#errors++;
      this.log.error({ actor: cell.id, err: failure }, 'reporting a crash failed');
    }
  }

  #crashed(cell: Cell, error: unknown): void {
    this.#errors++;
    const wire = errorToWire(error);
    this.log.warn({ actor: cell.id, actorName: cell.name, correlationId: cell.curTrace === 0 ? undefined : cell.curTrace, err: error }, 'actor crashed');
    const kindWord = cell.curKindWord;
    if (kindOf(kindWord) === Kind.ask && !cell.replied) {
      cell.replied = true;
      this.#replyErrorTo(srcHostOf(kindWord), cell.curCorr, new ActorCrashedError(cell.label, error));
    }
    this.#deadLetter(cell.id, cell.curSender, cell.curMessage, 'crashed', wire, cell.curTrace);
    cell.curMessage = undefined;
    if (this.#wants('actor.crashed')) {
      const event: SystemEvent = { type: 'actor.crashed', at: now(), host: this.hostName, id: cell.id, error: wire };
      if (cell.name !== undefined) event.name = cell.name;
      this.#emit(event);
    }
    this.#detach(this.#exit(cell, 'abnormal', `crashed: ${wire.message}`), 'exit');
  }

  /**
   * The ctx of init and onStop: the actor's own, answering no message. Its
   * cache is not kept if the cell has none yet: an actor that has only been
   * spawned keeps no ctx state (a million idle actors stay small).
   */
  #outsideContext(cell: Cell): Context {
    return new Context(this, cell, cell.ctx ?? new ContextCache(), false);
  }

  async #runOnStop(cell: Cell, state: unknown): Promise<void> {
    const onStop = cell.def?.onStop;
    if (onStop === undefined) return;
    try {
      await onStop(state, this.#outsideContext(cell));
    } catch (error) {
      this.log.warn({ actor: cell.id, err: error }, 'onStop threw');
    }
  }

  // ------------------------------------------------------------------ stop ---

  stopActor(id: number, reason: string): Promise<void> {
    const host = this.directory.hostOf(id);
    if (host < 0) return Promise.resolve();
    if (host === this.index) return this.#stopLocal(id as ActorId, reason);
    const { corr, promise } = this.#pending.open(host, `stop #${id}`, 2 * this.#options.shutdownTimeoutMs + this.#options.askTimeoutMs);
    this.#encoders[host]!.encode(reason);
    this.#sendRemote(host, Kind.stop, id, 0, corr, false);
    return promise.then(() => undefined);
  }

  /** Stops an actor for good: children first, then onStop (each bounded by shutdownTimeoutMs, OTP's shutdown), then gone. */
  #stopLocal(id: ActorId, reason: string): Promise<void> {
    const cell = this.#cells.get(id);
    if (cell === undefined) {
      // Placed here but no cell: its worker died before this replacement heard of it.
      const started = this.directory.isStarted(id);
      if (this.directory.release(id)) this.#recycle(id);
      if (started) {
        this.#announceGone(id, undefined, reason, undefined);
        // Its name, if it had one, is known on the main thread, which adds it.
        if (this.#wants('actor.stopped')) this.#emit({ type: 'actor.stopped', at: now(), host: this.hostName, id, reason });
      }
      return Promise.resolve();
    }
    if (cell.stopping !== undefined) return cell.stopping;
    if (cell.status === 'stopped') return Promise.resolve();
    const wasRunning = cell.status === 'running';
    const halting = cell.halting;
    cell.status = 'stopping';
    cell.stopping = (async () => {
      if (halting !== undefined) await halting;
      if (wasRunning) {
        await this.#stopChildren(cell, 'parent-stopped');
        await this.#awaitHandler(cell);
        if (cell.def?.onStop !== undefined) await withTimeout(this.#runOnStop(cell, cell.state), this.#options.shutdownTimeoutMs);
      }
      this.#terminate(cell, reason, true);
    })();
    return cell.stopping;
  }

  /**
   * Waits (up to shutdownTimeoutMs, OTP's shutdown) for a running async
   * handler, then leaves it behind: the incarnation moves on, so whatever
   * that handler does when it finally settles is ignored.
   */
  async #awaitHandler(cell: Cell): Promise<void> {
    if (cell.busy) await withTimeout(cell.whenIdle(), this.#options.shutdownTimeoutMs);
    if (cell.busy) {
      this.#busyActors--;
      cell.markIdle();
    }
    cell.incarnation++;
  }

  async #stopChildren(cell: Cell, reason: string): Promise<void> {
    const supervisor = cell.supervisor;
    if (supervisor === undefined || supervisor.size === 0) return;
    // Reverse start order, as OTP stops a supervisor's children.
    for (const child of supervisor.childIds().reverse()) {
      supervisor.forget(child);
      try {
        await this.stopActor(child, reason);
      } catch (error) {
        this.log.warn({ actor: cell.id, child, err: error }, 'child did not stop cleanly');
      }
    }
  }

  /** The end of an actor: slot freed, queued messages dead-lettered, watchers and supervisor told. */
  #terminate(cell: Cell, reason: string, tellSupervisor: boolean): void {
    if (cell.status === 'stopped') return;
    const wasLive = cell.started;
    cell.status = 'stopped';
    this.#cells.delete(cell.id);
    if (this.directory.release(cell.id)) this.#recycle(cell.id);
    if (wasLive) {
      this.#stopped++;
      this.#liveActors--;
    }
    const mailbox = cell.mailbox;
    if (mailbox !== undefined) {
      while (mailbox.length > 0) {
        const kindWord = mailbox.headKindWord();
        const sender = mailbox.headSender();
        const corr = mailbox.headCorr();
        const trace = mailbox.headTrace();
        const msg = mailbox.headMessage();
        mailbox.shift();
        this.#undeliverable(kindOf(kindWord), cell.id, sender, corr, trace, msg, 'stopped', srcHostOf(kindWord));
      }
      this.#queuedBySlot[cell.id & SLOT_MASK] = 0;
    }
    this.#announceGone(cell.id, cell.name, reason, cell.watchersUnknown ? undefined : cell.watchers);
    // Its own watches end with it, on both sides.
    if (cell.watching !== undefined) for (const target of [...cell.watching]) this.unwatch(cell.id, target);
    if (tellSupervisor) this.#reportExit(cell, 'stopped', reason, now());
    if (cell.name !== undefined && this.index === 0) this.#main!.releaseName(cell.name, cell.id);
    if (wasLive && (this.#wants('actor.stopped') || (cell.name !== undefined && this.index !== 0))) {
      const event: SystemEvent = { type: 'actor.stopped', at: now(), host: this.hostName, id: cell.id, reason };
      if (cell.name !== undefined) event.name = cell.name;
      this.#emit(event);
    }
  }

  /**
   * Returns a freed id's slot for reuse, unless its generation is the last:
   * then the slot retires, so a stale ref can never wrap around to a stranger.
   */
  #recycle(id: number): void {
    if (generationOf(id) < GENERATION_MASK) this.#returnSlot(slotOf(id));
  }

  #returnSlot(slot: number): void {
    this.#freeSlots.push(slot);
    this.directory.keep(slot, this.index);
  }

  // ----------------------------------------------------------------- watch ---

  /**
   * Watches are kept on both sides: the target's cell lists its watchers (to
   * tell them directly), and the watcher's host indexes what it watches (so a
   * target whose list died with its worker can be announced to every host).
   */
  watch(watcher: number, target: number): Promise<void> {
    // Counted: a watch made after the target died (a noproc at once) must not
    // swallow the down an earlier watch is still owed.
    let watchers = this.#watching.get(target);
    if (watchers === undefined) this.#watching.set(target, (watchers = new Map()));
    watchers.set(watcher, (watchers.get(watcher) ?? 0) + 1);
    const watcherCell = this.#cells.get(watcher);
    if (watcherCell !== undefined) (watcherCell.watching ??= new Set()).add(target);
    const host = this.directory.hostOf(target);
    if (host < 0) {
      this.#onGone(watcher, target as ActorId, undefined, 'noproc', true);
      return Promise.resolve();
    }
    if (host === this.index) {
      const cell = this.#cells.get(target) ?? this.#placeholder(target as ActorId);
      (cell.watchers ??= new Set()).add(watcher);
      return Promise.resolve();
    }
    // Acknowledged once registered where the target runs: from then on its end
    // (whoever causes it) reaches the watcher with the real reason.
    const { corr, promise } = this.#pending.open(host, `watch #${target}`, this.#options.askTimeoutMs);
    this.#sendEmpty(host, Kind.watch, target, watcher, corr, false);
    return promise.then(
      () => undefined,
      () => undefined,
    );
  }

  unwatch(watcher: number, target: number): void {
    const watchers = this.#watching.get(target);
    watchers?.delete(watcher);
    if (watchers?.size === 0) this.#watching.delete(target);
    this.#cells.get(watcher)?.watching?.delete(target);
    const host = this.directory.hostOf(target);
    if (host === this.index) this.#cells.get(target)?.watchers?.delete(watcher);
    else if (host >= 0) this.#sendEmpty(host, Kind.unwatch, target, watcher, 0, false);
  }

  /** Tells watchers that `id` ended for good: each one directly, or every host when the list is unknown. */
  #announceGone(id: number, name: string | undefined, reason: string, watchers: Set<number> | undefined): void {
    const notice = name === undefined ? { r: reason } : { r: reason, n: name };
    if (watchers === undefined) {
      for (let host = 0; host < this.hostCount; host++) this.#sendGone(host, 0, id, notice);
      return;
    }
    for (const watcher of watchers) {
      const host = this.directory.hostOf(watcher);
      if (host >= 0) this.#sendGone(host, watcher, id, notice);
    }
  }

  /** @internal the main thread announces actors that died with a worker. */
  announceGone(id: number, reason: string): void {
    this.#announceGone(id, undefined, reason, undefined);
  }

  #sendGone(host: number, watcher: number, id: number, notice: { r: string; n?: string }): void {
    if (host === this.index) {
      this.#onGone(watcher, id as ActorId, notice.n, notice.r);
      return;
    }
    this.#encoders[host]!.encode(notice);
    this.#sendRemote(host, Kind.gone, watcher, id, 0, false);
  }

  /**
   * Delivers the down message for `id` to `watcher` (0: every local watcher).
   * A notice from the target's side settles all of a watcher's watches of it;
   * the immediate noproc of one late watch settles only that one (`one`).
   */
  #onGone(watcher: number, id: ActorId, name: string | undefined, reason: string, one = false): void {
    const watchers = this.#watching.get(id);
    if (watchers === undefined) return;
    const targets = watcher === 0 ? [...watchers.keys()] : watchers.has(watcher) ? [watcher] : [];
    for (const w of targets) {
      const left = one ? watchers.get(w)! - 1 : 0;
      if (left > 0) watchers.set(w, left);
      else {
        watchers.delete(w);
        this.#cells.get(w)?.watching?.delete(id);
      }
      const down = { type: 'down', ref: this.refFor(id, name), reason };
      this.#send(Kind.tell, w, id, 0, 0, down, false);
    }
    if (watchers.size === 0) this.#watching.delete(id);
  }

  // ---------------------------------------------------------------- events ---

  #wants(type: SystemEventType): boolean {
    return (this.directory.eventInterest & kEventBits[type]) !== 0;
  }

  #emit(event: SystemEvent): void {
    if (this.index === 0) {
      this.#main!.onEvent(event);
      return;
    }
    try {
      const out = this.#outboxes[0]!;
      if ((event.type === 'deadLetter' || event.type === 'backpressure') && (out.heldBytes > kEventOverflowBytes || out.held > kEventOverflowRecords)) {
        // Main is not reading: events wait in the overflow. Past the bound the ones
        // that come in floods are dropped and counted (stats eventsDropped) instead of
        // filling the heap; lifecycle events, which the runtime itself acts on, are always sent.
        this.#eventsDropped++;
        return;
      }
      if (event.type === 'deadLetter' && event.message !== undefined && !fitsWithin(event.message, kEventMessageBytes)) {
        // A large dead letter travels without its message: the event says so.
        const { message: _left, ...rest } = event;
        this.#encoders[0]!.encode({ ...rest, messageOmitted: true });
      } else {
        this.#encoders[0]!.encode(event);
      }
      this.#sendRemote(0, Kind.event, 0, 0, 0, false);
    } catch (error) {
      this.#eventsDropped++;
      this.log.warn({ err: error, event: event.type }, 'event could not be sent to the main thread');
    }
  }

  // -------------------------------------------------------------- records ---

  #readLanes(): number {
    let handled = 0;
    const readers = this.#readers;
    const throttle = this.#block[HOST_THROTTLE];
    let allowance = throttle > 0 ? throttle : Number.POSITIVE_INFINITY;
    this.#throttled = false;
    for (let i = 0; i < readers.length; i++) {
      const reader = readers[i];
      if (allowance <= 0) {
        this.#throttled ||= reader.hasData();
        continue;
      }
      if (!reader.refresh()) continue;
      this.#decoder = this.#decoders[i];
      let budget = Math.min(kLaneBudget, allowance);
      const block = this.#block;
      const from = this.#readerHosts[i] + 1;
      while (budget-- > 0 && reader.next()) {
        // Marks the record in hand: if this thread dies handling it, the main
        // thread dead-letters it and the replacement resumes after it.
        block[HOST_INFLIGHT_FROM] = from;
        block[HOST_INFLIGHT_START] = reader.recordPosition;
        block[HOST_INFLIGHT_END] = reader.nextPosition;
        block[HOST_INFLIGHT_DISPATCHED] = 0;
        try {
          if (this.#options.checksum && !reader.intact()) this.#rejectDamaged(reader, from - 1);
          else this.#dispatch(reader);
        } catch (error) {
          // A fault of the runtime while handling one record (an answer too
          // large to send, say) costs that record, never the host.
          this.#errors++;
          this.log.error({ err: error, target: reader.target }, 'a record could not be handled');
          this.#deadLetter(reader.target, reader.sender, undefined, 'runtime-error', errorToWire(error), reader.trace);
        }
        block[HOST_INFLIGHT_DISPATCHED] = 1;
        handled++;
        allowance--;
      }
      if (allowance <= 0 && reader.hasDataAfterCursor()) this.#throttled = true;
      if (reader.discardedBytes !== 0) {
        this.#decodeErrors++;
        this.#deadLetter(0, 0, undefined, 'lane-corrupt', errorToWire(new DecodeError(`${reader.discardedBytes} bytes of a corrupt lane from host ${String(hostNameOf(this.#readerHosts[i]))} discarded`)));
        reader.discardedBytes = 0;
      }
      reader.commit();
      block[HOST_INFLIGHT_FROM] = 0;
    }
    return handled;
  }

  #dispatch(reader: LaneReader): void {
    const kindWord = reader.kindWord;
    const kind = kindOf(kindWord);
    const target = reader.target;
    const sender = reader.sender;
    const corr = reader.corr;
    const src = srcHostOf(kindWord);
    if (kind === Kind.tell || kind === Kind.ask) {
      const host = this.directory.hostOf(target);
      if (host !== this.index) {
        if (host >= 0) {
          this.#forward(host, reader);
          return;
        }
        this.#undeliverable(kind, target, sender, corr, reader.trace, this.#tryDecode(reader), 'no-actor', src);
        return;
      }
      let msg: unknown;
      try {
        msg = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
      } catch (error) {
        this.#rejectRecord(kind, target, sender, corr, src, error);
        return;
      }
      const cell = this.#cells.get(target) ?? this.#placeholder(target as ActorId);
      const trace = reader.trace;
      if (cell.status === 'running' && !cell.busy && !cell.scheduled && cell.queued === 0) {
        this.#invoke(cell, kindWord, sender, corr, trace, msg);
      } else if (cell.queued >= this.#options.mailboxLimit) {
        this.#backpressure++;
        this.#undeliverable(kind, target, sender, corr, trace, msg, 'mailbox-full', src);
      } else {
        this.#accept(cell, kindWord, sender, corr, trace, msg);
      }
      return;
    }
    switch (kind) {
      case Kind.reply:
      case Kind.replyError: {
        if (!this.#pending.has(corr)) {
          this.#deadLetter(0, 0, this.#tryDecode(reader), 'reply-expired', undefined);
          return;
        }
        let value: unknown;
        try {
          value = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
        } catch (error) {
          this.#decodeErrors++;
          this.#pending.reject(corr, error);
          return;
        }
        if (kind === Kind.reply) this.#pending.resolve(corr, value);
        else this.#pending.reject(corr, errorFromWire(value as WireError));
        return;
      }
      case Kind.spawn: {
        const spec = this.#decodeSpawnSpec(reader, src, corr);
        if (spec !== undefined) this.#detach(this.#startActor(target as ActorId, spec, corr, src, false), 'spawn');
        return;
      }
      case Kind.stop: {
        const reason = this.#tryDecode(reader);
        this.#stopLocal(target as ActorId, typeof reason === 'string' ? reason : 'stopped').then(
          () => this.#replyTo(src, corr, null),
          (error: unknown) => this.#replyErrorTo(src, corr, error),
        );
        return;
      }
      case Kind.watch: {
        const cell = this.#cells.get(target);
        if (this.directory.hostOf(target) === this.index && cell?.status !== 'stopped') {
          ((cell ?? this.#placeholder(target as ActorId)).watchers ??= new Set()).add(sender);
        } else {
          this.#sendGone(src, sender, target, { r: 'noproc' });
        }
        this.#replyTo(src, corr, null);
        return;
      }
      case Kind.unwatch:
        this.#cells.get(target)?.watchers?.delete(sender);
        return;
      case Kind.childExit: {
        const exit = this.#tryDecode(reader) as { k?: unknown; r?: unknown; t?: unknown } | undefined;
        if (exit === undefined || (exit.k !== 'normal' && exit.k !== 'abnormal' && exit.k !== 'stopped')) {
          this.#decodeErrors++;
          return;
        }
        const supervisor = this.#supervisorOf(target);
        if (supervisor !== undefined) this.#detach(supervisor.childExited(sender, exit.k, String(exit.r), typeof exit.t === 'number' ? exit.t : now()), 'supervision');
        return;
      }
      case Kind.restart: {
        const spec = this.#decodeSpawnSpec(reader, src, corr);
        if (spec !== undefined) this.#onDirective(Kind.restart, target as ActorId, spec, corr, src);
        return;
      }
      case Kind.halt:
        this.#onDirective(Kind.halt, target as ActorId, undefined, corr, src);
        return;
      case Kind.crashNext:
        this.crashNextMessage(target);
        return;
      case Kind.exitRequest:
        this.requestRestart(target);
        return;
      case Kind.gone: {
        const notice = this.#tryDecode(reader) as { r?: unknown; n?: unknown } | undefined;
        this.#onGone(target, sender as ActorId, typeof notice?.n === 'string' ? notice.n : undefined, String(notice?.r ?? 'gone'));
        return;
      }
      case Kind.event: {
        const event = this.#tryDecode(reader);
        if (this.index === 0 && event !== undefined) this.#main!.onEvent(event as SystemEvent);
        else this.#eventsDropped++;
        return;
      }
      case Kind.claimName: {
        const name = this.#tryDecode(reader);
        if (this.index !== 0 || typeof name !== 'string') {
          this.#replyErrorTo(src, corr, new DecodeError('a name claim without a name'));
          return;
        }
        this.#replyTo(src, corr, this.#main!.claimName(name, target as ActorId));
        return;
      }
      default:
        this.#decodeErrors++;
        this.#deadLetter(target, sender, undefined, 'decode-failed', errorToWire(new DecodeError(`unknown record kind ${kind}`)));
    }
  }

  #rejectRecord(kind: number, target: number, sender: number, corr: number, src: number, error: unknown): void {
    this.#decodeErrors++;
    this.#errors++;
    if (kind === Kind.ask) this.#replyErrorTo(src, corr, error);
    this.#deadLetter(target, sender, undefined, 'decode-failed', errorToWire(error));
  }

  /**
   * A record whose payload does not match its checksum (the `checksum`
   * option): it is not decoded, since a damaged payload may well decode, into
   * a different message. Whoever waits on it hears at once: the asker or the
   * requester (spawn, stop, watch, name claim, directive) gets the error, a
   * damaged reply rejects its ask.
   */
  #rejectDamaged(reader: LaneReader, fromHost: number): void {
    const kind = kindOf(reader.kindWord);
    const corr = reader.corr;
    const error = new DecodeError(`payload checksum mismatch (damaged on the lane from host ${String(hostNameOf(fromHost))})`);
    this.#decodeErrors++;
    this.#errors++;
    if (kind === Kind.reply || kind === Kind.replyError) {
      if (this.#pending.has(corr)) this.#pending.reject(corr, error);
    } else if (kind === Kind.ask || kind === Kind.spawn || kind === Kind.stop || kind === Kind.watch || kind === Kind.claimName || kind === Kind.restart || kind === Kind.halt) {
      this.#replyErrorTo(srcHostOf(reader.kindWord), corr, error);
    }
    this.#deadLetter(reader.target, reader.sender, undefined, 'checksum-failed', errorToWire(error), reader.trace);
  }

  /** A spawn request's spec, or undefined after answering the requester with why not. */
  #decodeSpawnSpec(reader: LaneReader, src: number, corr: number): SpawnSpec | undefined {
    let spec: unknown;
    try {
      spec = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch (error) {
      this.#decodeErrors++;
      this.#replyErrorTo(src, corr, error);
      return undefined;
    }
    const candidate = spec as Partial<SpawnSpec> | null;
    if (candidate === null || typeof candidate !== 'object' || typeof candidate.u !== 'string' || typeof candidate.e !== 'string' || typeof candidate.p !== 'number') {
      this.#decodeErrors++;
      this.#replyErrorTo(src, corr, new DecodeError('a spawn record without module, export and parent'));
      return undefined;
    }
    candidate.u = this.#intern(candidate.u);
    candidate.e = this.#intern(candidate.e);
    return candidate as SpawnSpec;
  }

  /**
   * One copy of each module URL and export name, however many actors are
   * spawned from it: a decoded spec would otherwise carry its own copy into
   * every cell and every supervisor's child spec (~100 B an actor); kept
   * args the same, in their own table. Bounded (kInternedStrings entries),
   * so a flood of distinct strings cannot grow one without end.
   */
  #intern(text: string, table = this.#interned): string {
    const known = table.get(text);
    if (known !== undefined) return known;
    // Full: start over rather than keep the first ones for good (args keep coming in new shapes, ids in
    // them say); copies already shared stay shared.
    if (table.size >= kInternedStrings) table.clear();
    table.set(text, text);
    return text;
  }

  /** Decodes a payload only for reporting; undefined when it is empty or broken. */
  #tryDecode(reader: LaneReader): unknown {
    if (reader.payloadEnd === reader.payloadStart) return undefined;
    try {
      return this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch {
      return undefined;
    }
  }

  /**
   * The actor runs elsewhere now (restarted on another host): pass the record
   * on, in order. Each lane has its own record structures, so it is decoded
   * and encoded again rather than copied.
   */
  #forward(host: number, reader: LaneReader): void {
    const kindWord = reader.kindWord;
    let msg: unknown;
    try {
      msg = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch (error) {
      this.#rejectRecord(kindOf(kindWord), reader.target, reader.sender, reader.corr, srcHostOf(kindWord), error);
      return;
    }
    this.#encoders[host]!.encode(msg);
    this.#faultedMessage = msg;
    this.#sendRemote(host, kindOf(kindWord), reader.target, reader.sender, reader.corr, false, srcHostOf(kindWord), reader.trace);
    this.#faultedMessage = undefined;
  }

  // ------------------------------------------------------------- the pump ---

  #wake(): void {
    if (this.#pumpScheduled || this.#inPump || this.#closed) return;
    this.#pumpScheduled = true;
    queueMicrotask(this.#pumpTask);
  }

  readonly #pumpTask = (): void => {
    this.#pumpScheduled = false;
    this.#pump();
  };

  readonly #onDoorbell = (): void => {
    this.#waitPending = false;
    if (!this.#parked) return;
    if (this.#parkedAfterSpin) this.#adaptSpin((performance.now() - this.#parkedAt) * 1000);
    this.#wake();
  };

  #pump(): void {
    if (this.#inPump || this.#closed) return;
    this.#inPump = true;
    this.#rounds++;
    if (this.#parked) {
      markAwake(this.#block);
      this.#parked = false;
    }
    beat(this.#block);
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
      this.#busyMs += endedAt - startedAt;
      if (this.#laneRecordsThisRound > 0) this.#lastLaneTraffic = endedAt;
      this.#turns++;
      if (this.#throttled) {
        this.#sliceStart = 0;
        this.#pumpScheduled = true;
        setTimeout(this.#pumpTask, 1);
      } else if (endedAt - this.#sliceStart < this.#options.sliceMs) {
        // Another round as a microtask: continuations of awaiting handlers and
        // callers run first, in order, without a trip through the event loop.
        this.#wake();
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
    if ((this.#detachedWork === 0 && this.#busyActors === 0) || !this.#wouldSpin()) {
      this.#idle();
      return;
    }
    const rounds = this.#rounds;
    setImmediate(() => {
      if (this.#rounds === rounds && !this.#inPump && !this.#pumpScheduled && !this.#parked && !this.#closed) this.#idle();
    });
  }

  /** One pass: lanes in, ready actors, overflow, publish. Returns messages handled. */
  #round(): number {
    let handled = this.#readLanes();
    this.#laneRecordsThisRound = handled;
    const queue = this.#runQueue;
    const end = queue.length;
    const throughput = this.#options.throughput;
    // Cells made ready by this round's own handlers run in it too, up to a
    // budget: a chatty pair on one host (one message in flight) then costs a
    // handler call per message, not a whole round (lane poll, stats, flush,
    // microtask) each; the budget bounds how long the lanes wait.
    const budget = handled + kRoundBudget;
    while (this.#runHead < end || (this.#runHead < queue.length && handled < budget)) {
      const cell = queue[this.#runHead];
      queue[this.#runHead++] = undefined as unknown as Cell;
      cell.scheduled = false;
      handled += this.#drainMailbox(cell, throughput);
      if (cell.queued > 0 && cell.status === 'running' && !cell.busy) this.#schedule(cell);
    }
    if (this.#runHead === queue.length) {
      this.#runQueue = [];
      this.#runHead = 0;
    } else if (this.#runHead > 4096) {
      this.#runQueue = queue.slice(this.#runHead);
      this.#runHead = 0;
    }
    if (this.#holding.size > 0) {
      for (const out of this.#holding) {
        out.drainHeld(this.#trackPosition);
        if (out.held === 0) {
          this.#holding.delete(out);
          out.notifyWritable();
        }
        if (out.writer.unpublished > 0 && !out.dirty) {
          out.dirty = true;
          this.#dirty.push(out);
        }
      }
    }
    // Stats first: whoever sees this turn's records also sees its counters.
    if (handled > 0 || this.#dirty.length > 0) this.#publishStats(false);
    this.#flush();
    return handled;
  }

  #flush(): void {
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      dirty[i].dirty = false;
      dirty[i].writer.publish();
    }
    dirty.length = 0;
  }

  #hasInput(): boolean {
    if (this.#runHead < this.#runQueue.length) return true;
    const readers = this.#readers;
    for (let i = 0; i < readers.length; i++) if (readers[i].hasData()) return true;
    // A consumer may have freed space (and rung) between our last drain and now.
    if (this.#holding.size > 0) for (const out of this.#holding) if (out.canDrain()) return true;
    return false;
  }

  /** Whether an idle now would poll: this host polls at all, and another thread talked to it lately. */
  #wouldSpin(): boolean {
    return this.#maxSpinUs > 0 && performance.now() - this.#lastLaneTraffic < this.#options.spinWindowMs;
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
          this.#wake();
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
    if (this.#closed) return;
    const seen = markParked(this.#block);
    this.#parked = true;
    this.#parkedAt = performance.now();
    if (this.#hasInput()) {
      this.#wake();
      return;
    }
    this.#publishStats(false);
    if (this.#waitPending) return;
    const wait = waitDoorbell(this.#block, seen);
    if (wait === undefined) {
      this.#wake();
      return;
    }
    this.#waitPending = true;
    void wait.then(this.#onDoorbell);
  }

  // ----------------------------------------------------------------- stats ---

  #publishStats(withHeap: boolean): void {
    const stats = this.#stats;
    stats[Stat.messagesIn] = this.#messagesIn;
    stats[Stat.messagesOut] = this.#messagesOut;
    stats[Stat.deadLetters] = this.#deadLetters;
    stats[Stat.errors] = this.#errors;
    stats[Stat.restarts] = this.#restarts;
    stats[Stat.actors] = this.#liveActors;
    stats[Stat.busyMs] = this.#busyMs;
    stats[Stat.backpressure] = this.#backpressure;
    stats[Stat.busyActors] = this.#busyActors;
    stats[Stat.turns] = this.#turns;
    stats[Stat.spawned] = this.#spawned;
    stats[Stat.stopped] = this.#stopped;
    stats[Stat.decodeErrors] = this.#decodeErrors;
    stats[Stat.eventsDropped] = this.#eventsDropped;
    stats[Stat.pendingAsks] = this.#pending.size;
    stats[Stat.faultsDropped] = this.#faultsDropped;
    stats[Stat.faultsDuplicated] = this.#faultsDuplicated;
    stats[Stat.faultsDelayed] = this.#faultsDelayed;
    stats[Stat.faultsCorrupted] = this.#faultsCorrupted;
    stats[Stat.updatedAt] = now();
    let held = 0;
    let heldBytes = 0;
    if (this.#holding.size > 0) {
      for (const out of this.#holding) {
        held += out.held;
        heldBytes += out.heldBytes;
      }
    }
    stats[Stat.overflowQueued] = held;
    stats[Stat.overflowBytes] = heldBytes;
    if (withHeap) {
      let queued = 0;
      for (const cell of this.#cells.values()) queued += cell.queued;
      stats[Stat.mailboxQueued] = queued;
      const t = performance.now();
      if (t - this.#lastHeapAt >= kStatsEveryMs) {
        this.#lastHeapAt = t;
        const heap = getHeapStatistics();
        stats[Stat.heapUsed] = heap.used_heap_size;
        stats[Stat.heapTotal] = heap.total_heap_size;
        const elu = performance.eventLoopUtilization(this.#elu);
        this.#elu = performance.eventLoopUtilization();
        stats[Stat.elu] = elu.utilization;
      }
    }
  }

  // ------------------------------------------------------------- lifecycle ---

  /** Another host died, having consumed our lane to it up to `consumedTo`: what it took will not be answered. */
  hostDown(host: number, detail: string, consumedTo: number): void {
    // Before anything asks the root's window: a claim the dead worker held would keep every thread waiting.
    this.#rootWindow?.releaseHeldBy(host);
    this.#pending.rejectHost(host, consumedTo, (label) => new WorkerExitedError(String(hostNameOf(host)), `${detail}; pending: ${label}`));
  }

  /** Children of the root supervisor (top-level actors), in start order. */
  rootChildren(): number[] {
    return this.#root?.childIds() ?? [];
  }

  /** Top-level actors living here, for shutdown. */
  topLevelActors(): number[] {
    const ids: number[] = [];
    for (const cell of this.#cells.values()) if (cell.parent === 0 && cell.status !== 'pending') ids.push(cell.id);
    return ids;
  }

  /** Whether this host has no work: nothing queued, held, running or unpublished. */
  isQuiet(): boolean {
    if (this.#busyActors > 0 || this.#holding.size > 0 || this.#dirty.length > 0) return false;
    if (this.#runHead < this.#runQueue.length) return false;
    for (const reader of this.#readers) if (reader.hasData()) return false;
    return true;
  }

  refuseOutsideMessages(): void {
    this.#refusingOutside = true;
  }

  /** Stops scheduling and settles everything still pending. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    if (this.#statsTimer !== undefined) clearInterval(this.#statsTimer);
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#releaseTimer);
    // Records that never made it into a lane are not lost silently: each is a dead letter.
    for (const out of this.#outboxes) {
      if (out === undefined) continue;
      const left = [...out.takeHeld(), ...(out.faults?.delayed.splice(0) ?? [])];
      for (const record of left) this.#deadLetter(record.target, record.sender, undefined, 'system-stopped', undefined, record.trace);
    }
    this.#holding.clear();
    this.#delayedOutboxes.clear();
    this.#publishStats(true);
    setHostState(this.#block, HostState.exited);
    // A waiter left parked would outlive the host (held by the isolate until it dies).
    if (this.#waitPending) forceDoorbell(this.#block);
    this.#pending.rejectAll(() => new SystemStoppedError());
  }

  /**
   * Writes a record with raw payload bytes straight into the lane to `host`,
   * bypassing validation and encoding: how tests and the chaos harness put
   * hostile bytes where a real peer's would be. `corruptFrame` also breaks the
   * record's length word.
   */
  injectRecord(host: number, kind: number, target: number, payload: Uint8Array, corruptFrame: boolean): void {
    const out = this.#outboxes[host];
    if (out === undefined) throw new InvalidArgumentError(`no lane from host ${this.index} to host ${host}`);
    const at = out.writer.reserve(makeKindWord(kind, this.index), target, 0, 0, 0, payload.length);
    if (at < 0) throw new MailboxFullError(`host ${String(hostNameOf(host))}`, 0, 'lane');
    out.writer.bytes.set(payload, at);
    if (corruptFrame) new DataView(out.writer.bytes.buffer, out.writer.bytes.byteOffset).setUint32(at - RECORD_HEADER_BYTES, 3, true);
    out.writer.publish();
  }

  /**
   * Fault injection: the next message `id` handles throws instead (troupe/chaos).
   * Sent as a record, so it lands in order with the messages sent after it.
   */
  crashNextMessage(id: number): boolean {
    const host = this.directory.hostOf(id);
    if (host < 0) return false;
    if (host !== this.index) {
      this.#sendEmpty(host, Kind.crashNext, id, 0, 0, false);
      return true;
    }
    const cell = this.#cells.get(id);
    if (cell === undefined || cell.status === 'stopped') return false;
    cell.crashNext = true;
    return true;
  }

  /**
   * Asks an actor's supervisor to restart it, as if it had failed: it halts
   * after its current message and its supervisor applies its strategy (and
   * counts the restart against its intensity).
   */
  requestRestart(id: number): boolean {
    const host = this.directory.hostOf(id);
    if (host < 0) return false;
    if (host !== this.index) {
      this.#sendEmpty(host, Kind.exitRequest, id, 0, 0, false);
      return true;
    }
    const cell = this.#cells.get(id);
    if (cell === undefined || cell.status !== 'running') return false;
    this.#detach(this.#exit(cell, 'abnormal', 'restart-requested'), 'exit');
    return true;
  }

  /** Makes sure a pump runs soon (after a control message, for instance). */
  nudge(): void {
    this.#wake();
  }
}

const kEmpty = new Uint8Array(0);
/**
 * Events a worker holds for a main thread that is not reading, in bytes and
 * in records (each held record costs ~200 B of heap besides its payload),
 * before it drops them (counted in stats eventsDropped).
 */
const kEventOverflowBytes = 4 * 1024 * 1024;
const kEventOverflowRecords = 8192;
/** A dead letter's message travels to main with the event when it certainly encodes to at most this many bytes. */
const kEventMessageBytes = 4096;
/** `troupe:deadLetter` on this thread (diagnostics_channel is per thread): a worker publishes its own dead letters there. */
const kDeadLetterChannel = channel('troupe:deadLetter');

// performance.timeOrigin is a getter into C++: read it once.
const kTimeOrigin = performance.timeOrigin;

/** Distinct module URLs and export names a host keeps one copy of. */
const kInternedStrings = 4096;
/** Longest kept args copy shared between actors: the table of them holds at most 4096 × 128 characters. */
const kInternedArgsLength = 128;

/** Messages a round may handle for cells its own handlers made ready, before the lanes are read again. */
const kRoundBudget = 256;

function now(): number {
  return kTimeOrigin + performance.now();
}

function askTimeoutOf(options: AskOptions | undefined, fallback: number): number {
  if (options === undefined) return fallback;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('ask options must be an object');
  const timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined) return fallback;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`ask option "timeoutMs" must be a positive number of milliseconds, received ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

function moduleHref(moduleUrl: URL | string): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== 'string' || moduleUrl.length === 0) {
    throw new InvalidArgumentError('spawn needs the actor module as a URL or an absolute path');
  }
  if (isAbsolute(moduleUrl)) return pathToFileURL(moduleUrl).href;
  try {
    return new URL(moduleUrl).href;
  } catch {
    throw new InvalidArgumentError(`actor module "${moduleUrl}" is neither a URL nor an absolute path (resolve it with new URL('./x.js', import.meta.url))`);
  }
}

/** Waits for `promise`, at most `ms`; true when it settled in time. `keepAlive` false: the wait holds no event loop open. */
async function withTimeout(promise: Promise<void>, ms: number, keepAlive = true): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        if (!keepAlive) timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
