/**
 * A host: one thread's runtime. The main thread and every worker run one.
 * It reads the lanes addressed to it, runs the actors placed on it (M actors
 * on this one thread), writes records to other hosts, and parks on its
 * doorbell when there is nothing to do so its event loop stays free.
 *
 * This class is the coordinator and the send path (tell, ask, forward,
 * replies). Every other job is a part in a file named for it, reaching the
 * host through a narrow interface of its own. The parts on the per-message
 * path (runner, scheduler, inbound, outbound) are concrete objects called
 * directly, one property load away, never behind an interface with several
 * implementations (no per-message allocation or closure was added by the split).
 *
 *   runner.ts            accept, invoke, drain a mailbox: running messages
 *   scheduler.ts         run queue, pump, spin and park
 *   inbound.ts           lane reading, decoding, dispatch of messages
 *   control-records.ts   what each other record kind does (one table)
 *   outbound.ts          encoders, outboxes, publishing, events to main
 *   faulted-links.ts     the send path of a lane with injected faults
 *   starting.ts          spawn, placement, start and restart of actors
 *   stopping.ts          crash, exit, halt, stop, terminate
 *   supervision-link.ts  supervisors' directives and exits between threads
 *   watches.ts           watch / unwatch and `down` messages
 *   dead-letters.ts      messages that reached nobody
 *   definitions.ts       actor modules loaded once, interned strings
 *   counters.ts          counters and their publication to shared memory
 */
import type { Logger } from 'pino';
import type { Cell, CellHost } from '../actor/cell.js';
import type { HostName, ReplyHandle, SpawnOptions } from '../actor/context.js';
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import { LaneEncoder, type RefFactory } from '../codec/codec.js';
import { Kind, kindOf, makeKindWord, srcHostOf } from '../codec/envelope.js';
import { assertEncodable, messageLimits, type MessageLimits } from '../codec/validate.js';
import { ActorNotFoundError, MailboxFullError, SystemStoppedError, WorkerExitedError, errorToWire } from '../errors.js';
import { Directory, type ActorId } from '../lane/directory.js';
import { HOST_STATS_OFFSET, HOST_HISTOGRAM_OFFSET, HostState, STAT_SLOTS } from '../lane/layout.js';
import { LaneReader, LaneWriter, beat, forceDoorbell, markAwake, maxPayloadBytes, setHostState } from '../lane/ring.js';
import { RestartLedger } from '../lane/restart-ledger.js';
import { HistogramWriter, histogramCountsLength } from '../metrics/shared-histogram.js';
import type { HostOptions } from '../options.js';
import type { ResolvedSupervisor } from '../supervision/strategy.js';
import type { ChildExit } from '../supervision/supervisor.js';
import { kEventBits, type SystemEvent, type SystemEventType } from './lifecycle-events.js';
import { askTimeoutOf, traceOf } from './arguments.js';
import type { WorkerBoot } from './boot.js';
import { HostCounters, kStatsEveryMs } from './counters.js';
import { DeadLetters } from './dead-letters.js';
import { crashNextMessage, requestRestart } from './fault-injection.js';
import { Definitions } from './definitions.js';
import { hostNameOf } from './host-name.js';
import { Inbound } from './inbound.js';
import type { MainDuties } from './main-duties.js';
import { Outbound } from './outbound.js';
import { Outbox } from './outbox.js';
import { Runner } from './runner.js';
import { PendingTable } from './pending.js';
import { deferReply } from './replies.js';
import { Scheduler } from './scheduler.js';
import { JournalClient } from '../persistence/journal-client.js';
import { Journaling } from './journaling.js';
import { Starting } from './starting.js';
import { Stopping, type PassivateOutcome } from './stopping.js';
import { SupervisionLink } from './supervision-link.js';
import { Watches } from './watches.js';
import { GatewayRefs, kNoCluster, spawnOnNode, type NodeRefs } from './node-refs.js';
import { HostTracing, type Otel } from './tracing.js';
import { TracedMessage } from '../codec/trace-context.js';

export { hostNameOf } from './host-name.js';
export type { MainDuties } from './main-duties.js';

export type HostInit = Omit<WorkerBoot, 'systemId' | 'origin' | 'preload'> & {
  logger: Logger;
  /** Actor modules this thread imported before it became a host (a spare's warm-up), by URL. */
  loadedModules?: ReadonlyMap<string, Record<string, unknown>>;
  /** `@opentelemetry/api`, loaded by whoever builds the host, with the `tracing` option. */
  otel?: Otel;
};

export class Host implements RefHost, CellHost {
  readonly index: number;
  readonly hostName: HostName;
  readonly hostCount: number;
  readonly log: Logger;
  readonly directory: Directory;
  readonly options: HostOptions;
  /** What every message, reply and spawn args are held to on this host, whatever their target's host. */
  readonly limits: MessageLimits;
  readonly cells = new Map<number, Cell>();
  readonly pending = new PendingTable();
  readonly freeSlots: number[];
  /** The directory's count of messages in each slot's mailbox (Directory.queued): what dies with this thread. */
  readonly queuedBySlot: Int32Array;
  /** This host's control block: state, heartbeat, doorbell, the record in hand. */
  readonly block: Int32Array;
  readonly counters: HostCounters;
  readonly refFactory: RefFactory = (id, name, address) => (address === undefined ? this.refFor(id, name) : this.nodeRefs.refFor(id, name, address));
  /** Refs to other nodes' actors: the cluster link's on main, the gateway's on a worker; none without a cluster. */
  nodeRefs: NodeRefs;
  readonly out: Outbound;
  readonly inbound: Inbound;
  readonly scheduler: Scheduler;
  readonly definitions: Definitions;
  readonly supervision: SupervisionLink;
  readonly watches: Watches;
  readonly starting: Starting;
  readonly stopping: Stopping;
  readonly deadLetters: DeadLetters;
  readonly runner: Runner;
  /** With the `tracing` option: spans of the messages handled here, trace context on what is sent. */
  readonly tracing: HostTracing | undefined;
  /** This host's port to the journal thread, when the system has a store. */
  readonly journal: JournalClient | undefined;
  readonly journaling: Journaling;
  main: MainDuties | undefined;
  closed = false;
  /** Shutdown began: messages from outside any actor are refused; actors still talk while lanes drain. */
  refusingOutside = false;
  /** Lifecycle work (exits, starts, stops) running as promises: the scheduler will not spin over it. */
  detachedWork = 0;
  #statsTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(init: HostInit) {
    this.index = init.index;
    this.hostName = hostNameOf(init.index);
    this.hostCount = init.hostBlocks.length;
    this.options = init.options;
    this.log = init.logger;
    this.directory = new Directory(init.directory);
    this.queuedBySlot = this.directory.queued;
    this.freeSlots = init.freeSlots;
    const block = init.hostBlocks[init.index];
    this.block = new Int32Array(block, 0, HOST_STATS_OFFSET / 4);
    const maxPayload = maxPayloadBytes(init.options.laneBytes);
    this.limits = messageLimits(init.options.maxMessageDepth, init.options.maxMessageNodes, maxPayload);
    const outboxes: (Outbox | undefined)[] = [];
    const encoders: (LaneEncoder | undefined)[] = [];
    const incoming: { reader: LaneReader; lane: SharedArrayBuffer; from: number }[] = [];
    for (let other = 0; other < this.hostCount; other++) {
      if (other === this.index) {
        outboxes.push(undefined);
        encoders.push(undefined);
        continue;
      }
      const lane = init.lanes[this.index][other]!;
      outboxes.push(new Outbox(new LaneWriter(lane, init.hostBlocks[other], init.options.checksum), other));
      encoders.push(new LaneEncoder(lane));
      const from = init.lanes[other][this.index]!;
      incoming.push({ reader: new LaneReader(from, init.hostBlocks[other], init.options.checksum), lane: from, from: other });
    }
    this.out = new Outbound(this, outboxes, encoders, maxPayload);
    this.counters = new HostCounters(new Float64Array(block, HOST_STATS_OFFSET, STAT_SLOTS), {
      pendingAsks: () => this.pending.size,
      heldRecords: () => this.out.heldRecords(),
      heldBytes: () => this.out.heldBytes(),
      mailboxQueued: () => {
        let queued = 0;
        for (const cell of this.cells.values()) queued += cell.queued;
        return queued;
      },
    });
    this.inbound = new Inbound(this, incoming, this.refFactory);
    this.scheduler = new Scheduler(this, init.index === 0 ? init.options.mainSpinMicros : init.options.spinMicros);
    this.definitions = new Definitions(init.loadedModules);
    this.supervision = new SupervisionLink(this, init.rootRestarts === undefined ? undefined : new RestartLedger(init.rootRestarts, init.index));
    this.watches = new Watches(this);
    this.stopping = new Stopping(this);
    this.starting = new Starting(this);
    this.deadLetters = new DeadLetters(this);
    this.tracing = init.otel === undefined ? undefined : new HostTracing(init.otel, this.definitions, this.hostName, (error) => this.log.error({ err: error }, 'the tracing SDK threw; that span is left out'));
    this.runner = new Runner(this, new HistogramWriter(new Uint32Array(block, HOST_HISTOGRAM_OFFSET, histogramCountsLength())));
    this.journal = init.journalPort === undefined ? undefined : new JournalClient(init.journalPort);
    this.journaling = new Journaling(this);
    this.nodeRefs = init.cluster === undefined ? kNoCluster : new GatewayRefs(init.cluster, { refFor: (id, name) => this.refFor(id, name), currentSender: () => this.currentSender(), currentTrace: () => this.currentTrace(), traceOf: (o) => this.traceOf(o), askTimeoutMs: this.options.askTimeoutMs, spawnTimeoutMs: this.options.spawnTimeoutMs });
  }

  persist(cell: Cell, events: unknown): Promise<void> {
    return this.journaling.persist(cell, events);
  }

  /** @internal main thread only */
  attachMain(main: MainDuties, rootSupervisor: ResolvedSupervisor): void {
    this.main = main;
    this.supervision.attachRoot(rootSupervisor);
  }

  start(): void {
    // A replacement inherits the block of a worker that may have died parked.
    markAwake(this.block);
    setHostState(this.block, HostState.running);
    this.counters.publish(true);
    this.#statsTimer = setInterval(() => this.counters.publish(true), kStatsEveryMs);
    this.#statsTimer.unref();
    // The heartbeat runs on a timer, not in the pump: a thread stuck in any
    // synchronous loop (a handler, an async continuation, a timer callback)
    // stops it, parked or not.
    this.#heartbeatTimer = setInterval(() => beat(this.block), Math.max(5, Math.floor(this.options.stallTimeoutMs / 4)));
    this.#heartbeatTimer.unref();
    this.scheduler.wake();
  }

  // ---------------------------------------------------------------- refs ---

  refFor(id: number, name: string | undefined): ActorRef {
    return new ActorRef(this, id as ActorId, name);
  }

  currentSender(): number {
    return this.runner.current === undefined ? 0 : this.runner.current.id;
  }

  currentTrace(): number {
    return this.runner.current === undefined ? 0 : this.runner.current.curTrace;
  }

  traceOf(options: TellOptions | undefined): number {
    return traceOf(options, this.currentTrace());
  }

  // --------------------------------------------------------- the send path ---

  tellFrom(target: ActorRef, msg: unknown, sender: number, trace: number): boolean {
    if (this.closed || (sender === 0 && this.refusingOutside)) throw new SystemStoppedError();
    assertEncodable(msg, this.limits);
    if (this.tracing !== undefined) msg = this.tracing.outgoing(msg, this.#cellOf(sender));
    // Same-host fast path: a cell, once stopped, never runs again (a restart
    // elsewhere or a reused slot is a new cell), so a cached live one is valid.
    const cached = target.localCell as Cell | undefined;
    if (cached !== undefined && cached.status !== 'stopped') {
      this.#deliverLocal(cached, Kind.tell, sender, 0, trace, msg, true);
      return true;
    }
    return this.send(Kind.tell, target.id, sender, 0, trace, msg, true, this.index, target);
  }

  whenWritable(target: ActorRef): Promise<void> {
    const host = this.directory.hostOf(target.id);
    if (host < 0 || host === this.index) return Promise.resolve();
    return this.out.whenWritable(host);
  }

  askFrom(target: ActorRef, msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown> {
    const timeoutMs = askTimeoutOf(options, this.options.askTimeoutMs);
    assertEncodable(msg, this.limits);
    if (this.closed || (sender === 0 && this.refusingOutside)) return Promise.reject(new SystemStoppedError());
    const host = this.directory.hostOf(target.id);
    if (host < 0) return Promise.reject(new ActorNotFoundError(String(target)));
    const { corr, promise } = this.pending.open(host, String(target), timeoutMs);
    if (this.tracing !== undefined) msg = this.tracing.outgoing(msg, this.#cellOf(sender));
    try {
      this.send(Kind.ask, target.id, sender, corr, trace, msg, true);
    } catch (error) {
      this.pending.forget(corr);
      throw error;
    }
    return promise;
  }

  /**
   * Routes one message-like record. Same host: straight into the mailbox, no
   * encoding. Other host: msgpack into the lane. Unknown target: dead letter.
   */
  send(kind: number, target: number, sender: number, corr: number, trace: number, msg: unknown, bounded: boolean, replyHost = this.index, ref?: ActorRef): boolean {
    const host = this.directory.hostOf(target);
    if (host === this.index) {
      const cell = this.cells.get(target) ?? this.runner.placeholder(target as ActorId);
      if (ref !== undefined && cell.status === 'running') ref.localCell = cell;
      this.#deliverLocal(cell, kind, sender, corr, trace, msg, bounded, replyHost);
      return true;
    }
    if (host < 0) {
      this.deadLetters.undeliverable(kind, target, sender, corr, trace, msg, 'no-actor', replyHost);
      return true;
    }
    const out = this.out;
    const flags = msg instanceof TracedMessage ? out.encode(host, msg.message, msg.context) : out.encode(host, msg);
    // If injected faults drop the record, its dead letter carries the message.
    out.faultedMessage = msg;
    const written = out.sendRemote(host, kind, target, sender, corr, bounded, replyHost, trace, flags);
    out.faultedMessage = undefined;
    return written;
  }

  /** The sending actor while it handles a message here: whose span context a send carries where no context manager says. */
  #cellOf(sender: number): Cell | undefined {
    const current = this.runner.current;
    if (current !== undefined && current.id === sender) return current;
    if (sender === 0) return undefined;
    const cell = this.cells.get(sender);
    return cell !== undefined && cell.busy ? cell : undefined;
  }

  #deliverLocal(cell: Cell, kind: number, sender: number, corr: number, trace: number, msg: unknown, bounded: boolean, replyHost = this.index): void {
    if (bounded && cell.queued >= this.options.mailboxLimit) {
      this.counters.backpressure++;
      throw new MailboxFullError(`actor ${cell.label}`, this.options.mailboxLimit, 'mailbox');
    }
    this.counters.messagesOut++;
    this.runner.accept(cell, makeKindWord(kind, replyHost), sender, corr, trace, msg);
  }

  // --------------------------------------------------------------- replies ---

  reply(cell: Cell, value: unknown): void {
    const kind = kindOf(cell.curKindWord);
    if (kind === Kind.ask && !cell.replied) {
      assertEncodable(value, this.limits);
      // Marked answered only once the reply is on its way: if it cannot be
      // sent (too large), the handler's throw reaches the asker as a crash.
      this.replyTo(srcHostOf(cell.curKindWord), cell.curCorr, value, cell);
      cell.replied = true;
      return;
    }
    if (kind === Kind.tell && cell.curSender !== 0) {
      this.refFor(cell.curSender, undefined).tellAs(value, cell.id, cell.curTrace);
      return;
    }
    this.deadLetters.report(cell.curSender, cell.id, value, 'no-reply-target', undefined);
  }

  isHandling(cell: Cell): boolean {
    return this.runner.current === cell;
  }

  answerAfterHandler(cell: Cell, what: 'reply' | 'forward', value: unknown): void {
    // A dead letter, not a throw: the late call usually runs in a timer, where
    // a throw would take the whole thread down with it.
    this.deadLetters.report(0, cell.id, value, what === 'reply' ? 'reply-after-handler' : 'forward-after-handler', undefined);
  }

  deferReply(cell: Cell): ReplyHandle<any> {
    return deferReply(this, cell);
  }

  /** Passes the current message on, keeping its original sender and, for an ask, who awaits the reply. */
  forward(cell: Cell, target: ActorRef, msg: unknown): boolean {
    assertEncodable(msg, this.limits);
    const kind = kindOf(cell.curKindWord);
    if (target.address !== undefined) {
      // To another node: the same sender; an ask's answer comes back through a deferred reply.
      if (kind === Kind.ask && !cell.replied) {
        const answer = deferReply(this, cell);
        target.askAs(msg, cell.curSender, cell.curTrace, undefined).then(
          (value) => answer.send(value),
          (error: unknown) => answer.fail(error),
        );
        return true;
      }
      return target.tellAs(msg, cell.curSender, cell.curTrace);
    }
    const sent = this.tracing === undefined ? msg : this.tracing.outgoing(msg, cell);
    if (kind === Kind.ask && !cell.replied) {
      cell.replied = true;
      return this.send(Kind.ask, target.id, cell.curSender, cell.curCorr, cell.curTrace, sent, true, srcHostOf(cell.curKindWord));
    }
    return this.send(Kind.tell, target.id, cell.curSender, 0, cell.curTrace, sent, true);
  }

  /** `from`: the replying actor, whose span context the reply carries (with the `tracing` option). */
  replyTo(host: number, corr: number, value: unknown, from?: Cell): void {
    if (corr === 0) return;
    if (host === this.index) {
      if (!this.pending.resolve(corr, value)) this.deadLetters.report(0, 0, value, 'reply-expired', undefined);
      return;
    }
    this.out.sendValue(host, Kind.reply, 0, 0, corr, value, this.tracing?.current(from));
  }

  replyErrorTo(host: number, corr: number, error: unknown): void {
    if (corr === 0) return;
    if (host === this.index) {
      this.pending.reject(corr, error);
      return;
    }
    this.out.sendValue(host, Kind.replyError, 0, 0, corr, errorToWire(error));
  }

  // ------------------------------------------- what the parts reach through ---

  wants(type: SystemEventType): boolean {
    return (this.directory.eventInterest & kEventBits[type]) !== 0;
  }

  emit(event: SystemEvent): void {
    if (this.index === 0) {
      this.main!.onEvent(event);
      return;
    }
    try {
      if (!this.out.sendEvent(event)) this.counters.eventsDropped++;
    } catch (error) {
      this.counters.eventsDropped++;
      this.log.warn({ err: error, event: event.type }, 'event could not be sent to the main thread');
    }
  }

  /**
   * Runs lifecycle work in the background. Its failure is the runtime's own
   * (a bug, or a record that cannot be sent): logged and counted, never an
   * unhandled rejection that would end the thread and every actor on it.
   */
  detach(work: Promise<unknown>, what: string): void {
    this.detachedWork++;
    work.then(
      () => this.detachedWork--,
      (error: unknown) => {
        this.detachedWork--;
        this.counters.errors++;
        this.log.error({ err: error, what }, 'runtime work failed');
      },
    );
  }

  wake(): void {
    this.scheduler.wake();
  }

  // ------------------------------------------------- CellHost and the engine ---

  spawn(moduleUrl: URL | string, options: SpawnOptions | undefined, parent: number): Promise<ActorRef> {
    return this.starting.spawn(moduleUrl, options, parent);
  }
  spawnChild(cell: Cell, moduleUrl: URL | string, options: SpawnOptions | undefined): Promise<ActorRef> {
    if (options?.node === undefined) return this.starting.spawn(moduleUrl, options, cell.id);
    return spawnOnNode(this.nodeRefs, cell.id, moduleUrl, options, (url, rest) => this.starting.spawn(url, rest, cell.id));
  }
  stopActor(id: number, reason: string): Promise<void> {
    return this.stopping.stopActor(id, reason);
  }

  /** Stops `id` if it is idle where it runs (entities' passivation). */
  passivate(id: number): Promise<PassivateOutcome> {
    return this.stopping.passivate(id);
  }
  exitActor(cell: Cell): void {
    // Halting starts now (no further message is taken) but waits for the
    // handler that called exit() to finish, async or not.
    if (cell.status === 'running') this.detach(this.stopping.exit(cell, 'normal', 'exited'), 'exit');
  }
  watch(watcher: number, target: number): Promise<void> {
    return this.watches.watch(watcher, target);
  }
  unwatch(watcher: number, target: number): void {
    this.watches.unwatch(watcher, target);
  }
  watchRemote(watcher: number, ref: ActorRef): Promise<void> {
    try {
      return this.nodeRefs.watch(watcher, ref);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  unwatchRemote(watcher: number, ref: ActorRef): void {
    this.nodeRefs.unwatch(watcher, ref);
  }
  /** @internal the main thread announces actors that died with a worker. */
  announceGone(id: number, reason: string): void {
    this.watches.announceGone(id, undefined, reason, undefined);
  }
  /** @internal the main thread reports the exits of the actors a dead worker hosted, those of one supervisor together. */
  childrenExitedRemotely(supervisor: number, children: readonly number[], exit: ChildExit, reason: string, at: number): void {
    this.supervision.childrenExitedRemotely(supervisor, children, exit, reason, at);
  }
  /** Main reports a dead worker's mailboxes: `count` messages that were queued for `target`. */
  reportLostMailbox(host: number, target: number, count: number): void {
    this.deadLetters.reportLostMailbox(host, target, count);
  }
  /** Children of the root supervisor (top-level actors), in start order. */
  rootChildren(): number[] {
    return this.supervision.rootChildren();
  }

  /** Another host died, having consumed our lane to it up to `consumedTo`: what it took will not be answered. */
  hostDown(host: number, detail: string, consumedTo: number): void {
    // Before anything asks the root's window: a claim the dead worker held would keep every thread waiting.
    this.supervision.hostDown(host);
    this.pending.rejectHost(host, consumedTo, (label) => new WorkerExitedError(String(hostNameOf(host)), `${detail}; pending: ${label}`));
  }

  /** Top-level actors living here, for shutdown. */
  topLevelActors(): number[] {
    const ids: number[] = [];
    for (const cell of this.cells.values()) if (cell.parent === 0 && cell.status !== 'pending') ids.push(cell.id);
    return ids;
  }

  /** Whether this host has no work: nothing queued, held, running or unpublished. */
  isQuiet(): boolean {
    if (this.counters.busyActors > 0 || this.out.isHolding || this.out.hasUnpublished) return false;
    return !this.scheduler.hasReadyCells && !this.inbound.hasData();
  }

  refuseOutsideMessages(): void {
    this.refusingOutside = true;
  }

  /** Stops scheduling and settles everything still pending. */
  close(): void {
    if (this.closed) return;
    this.out.flush();
    this.closed = true;
    if (this.#statsTimer !== undefined) clearInterval(this.#statsTimer);
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    // Records that never made it into a lane are not lost silently: each is a dead letter.
    for (const record of this.out.takeLeftovers()) this.deadLetters.report(record.target, record.sender, undefined, 'system-stopped', undefined, record.trace);
    this.out.close();
    this.counters.publish(true);
    setHostState(this.block, HostState.exited);
    // A waiter left parked would outlive the host (held by the isolate until it dies).
    if (this.scheduler.waitPending) forceDoorbell(this.block);
    this.pending.rejectAll(() => new SystemStoppedError());
    this.journal?.close();
  }

  /** Raw bytes straight into the lane to `host` (tests and the chaos harness: see Outbound#injectRecord). */
  injectRecord(host: number, kind: number, target: number, payload: Uint8Array, corruptFrame: boolean): void {
    this.out.injectRecord(host, kind, target, payload, corruptFrame);
  }

  /** Fault injection (troupe/chaos): see fault-injection.ts. */
  crashNextMessage(id: number): boolean {
    return crashNextMessage(this, id);
  }

  requestRestart(id: number): boolean {
    return requestRestart(this, id);
  }

  /** Makes sure a pump runs soon (after a control message, for instance). */
  nudge(): void {
    this.scheduler.wake();
  }
}
