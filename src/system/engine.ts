/**
 * The private engine behind `ActorSystem`: owns the shared blocks, the main
 * thread's host, the worker pool, the name registry and the event stream,
 * and runs the system's life: start, the main thread's duties for its host,
 * the user's calls, and shutdown. A worker's death or stall is handled in
 * worker-failures.ts, names are kept in registry.ts, and the hooks tests
 * and the chaos harness use are built in internals.ts.
 */
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { HostName, SpawnOptions } from '../actor/context.js';
import { processOrigin } from '../actor/process-origin.js';
import type { ActorRef } from '../actor/ref.js';
import { ActorNotFoundError, ActorStoppedError, AskTimeoutError, InvalidArgumentError, SystemStoppedError } from '../errors.js';
import type { WorkerBoot } from '../host/boot.js';
import { Host, hostNameOf, type MainDuties } from '../host/host.js';
import { Kind } from '../codec/envelope.js';
import { allocateSharedMemory } from '../host/shared-memory.js';
import { WorkerPool } from '../host/worker-pool.js';
import { loadOtel, type Otel } from '../host/tracing.js';
import { traceContextBytes, traceContextOf } from '../codec/trace-context.js';
import { JournalService } from '../persistence/journal-service.js';
import { Directory, type ActorId } from '../lane/directory.js';
import { hostState, isParked } from '../lane/host-block.js';
import { HOST_STATS_OFFSET, HostState, STAT_SLOTS, Stat } from '../lane/layout.js';
import { laneCounters } from '../lane/ring.js';
import { StatsReader, type SystemStats } from '../metrics/stats.js';
import { hostOptionsOf, resolveOptions, type ResolvedOptions, type SystemOptions } from '../options.js';
import { SystemEvents, type SystemEvent } from './events.js';
import { systemInternals, type SystemInternals } from './internals.js';
import { reportLeftovers } from './leftovers.js';
import { NameRegistry } from './registry.js';
import { WorkerFailures } from './worker-failures.js';
import { Entities, type EntityOptions } from './entities.js';
import type { EntityRef } from '../actor/entity-ref.js';
import { ClusterLink, type LinkHost } from '../cluster/cluster-link.js';
import { Cluster } from '../cluster/cluster.js';
import { kGatewayLinks } from '../cluster/gateway-links.js';
import type { ClusterBoot } from '../host/node-refs.js';

const kStatsTickMs = 1000;

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
  readonly #names: NameRegistry;
  readonly #failures: WorkerFailures;
  readonly #stats: StatsReader;
  /** The journal thread, when the system has a store. */
  readonly #journal: JournalService | undefined;
  readonly #entities: Entities;
  /** This node's link to the rest of the cluster, when the system has the `cluster` option. */
  #link: ClusterLink | undefined;
  #cluster: Cluster | undefined;
  #clusterBoot: ClusterBoot | undefined;
  #gatewayToken: string | undefined;
  #state: 'running' | 'stopping' | 'stopped' = 'running';
  #shutdown: Promise<void> | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;

  private constructor(options: ResolvedOptions, logger: Logger | undefined, journal: JournalService | undefined, otel: Otel | undefined) {
    this.options = options;
    this.#journal = journal;
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
      journalPort: journal?.connect(),
      otel,
    });
    this.host.attachMain(this, options.supervisor);
    this.#pool = new WorkerPool(
      { execArgv: options.workerExecArgv, resourceLimits: options.workerResourceLimits, preload: options.workerPreload, spare: options.spareWorker && options.workers > 0, hostOptions: hostOptionsOf(options), workersRestart: this.#rootRestarts !== undefined },
      (exit) => this.#failures.onWorkerExit(exit),
    );
    this.#names = new NameRegistry(this.#directory);
    const engine = this;
    this.#failures = new WorkerFailures({
      options,
      log: this.log,
      events: this.events,
      lanes: this.#lanes,
      hostBlocks: this.#hostBlocks,
      directory: this.#directory,
      names: this.#names,
      host: this.host,
      pool: this.#pool,
      get state() {
        return engine.#state;
      },
      replaceWorker: (index, freeSlots) => this.#startWorker(index, freeSlots, true),
    });
    this.#entities = new Entities(this, options.entities);
    this.#stats = new StatsReader({ hostBlocks: this.#hostBlocks, lanes: this.#lanes, hostName: hostNameOf });
  }

  static async start(input: SystemOptions | undefined): Promise<Engine> {
    const options = resolveOptions(input);
    const otel = options.tracing ? await loadOtel() : undefined;
    const journal = options.store === undefined ? undefined : await JournalService.start(options.store, 'journal', options.workerExecArgv);
    const engine = new Engine(options, input?.logger, journal, otel);
    engine.host.start();
    try {
      if (options.cluster !== undefined) await engine.#joinCluster(options.cluster);
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
    engine.#stallTimer = setInterval(() => engine.#failures.checkStalls(), stallCheckMs);
    engine.#stallTimer.unref();
    return engine;
  }

  /** Connects before any worker starts: workers are told the node and the gateway their refs to other nodes use. */
  async #joinCluster(cluster: NonNullable<ResolvedOptions['cluster']>): Promise<void> {
    const link = await ClusterLink.start(cluster, this.#linkHost(), this.options.workerExecArgv);
    this.#link = link;
    this.#cluster = new Cluster(link);
    this.host.nodeRefs = link;
    this.#entities.placement = link;
    link.onPlacementChange(() => this.#entities.rebalance());
    const token = `${this.systemId}-${link.self.incarnation}`;
    kGatewayLinks.set(token, link);
    this.#gatewayToken = token;
    const gateway = await this.host.spawn(new URL('../cluster/gateway-actor.js', import.meta.url), { host: 'main', args: { token } }, 0);
    this.#clusterBoot = { self: link.self, gateway: gateway.id };
  }

  #linkHost(): LinkHost {
    const host = this.host;
    return {
      limits: host.limits,
      maxMessageDepth: this.options.maxMessageDepth,
      overflowBytes: this.options.overflowBytes,
      askTimeoutMs: this.options.askTimeoutMs,
      spawnTimeoutMs: this.options.spawnTimeoutMs,
      log: this.log,
      localRef: (id, name) => host.refFor(id, name),
      deliver: (target, sender, msg) => host.send(Kind.tell, target, sender, 0, 0, host.tracing === undefined ? msg : host.tracing.outgoing(msg, undefined), true),
      traceContext: () => {
        const context = host.tracing?.current(host.runner.current);
        return context === undefined ? undefined : traceContextBytes(context);
      },
      withTraceContext: (raw, deliver) => {
        const tracing = host.tracing;
        if (tracing === undefined) {
          deliver();
          return;
        }
        // No context from the sender: a trace of its own, not whatever this socket's callback happens to run in.
        const context = traceContextOf(raw);
        if (context === undefined) tracing.detached(deliver);
        else tracing.within(context, deliver);
      },
      spawnProxy: (remote) => host.spawn(new URL('../cluster/proxy-actor.js', import.meta.url), { host: 'main', args: { to: remote } }, 0).then((ref) => ref.id),
      currentSender: () => host.currentSender(),
      currentTrace: () => host.currentTrace(),
      traceOf: (options) => host.traceOf(options),
      deadLetter: (target, msg, reason) => host.deadLetters.report(target, 0, msg, reason, undefined),
      spawnLocal: (url, options) => this.spawn(url, options),
      lookupLocal: (name) => this.lookup(name),
      stopLocal: (id) => host.stopActor(id, 'stopped'),
      watchLocal: (watcher, target) => host.watch(watcher, target),
      entityTell: (spec, msg, sender) => this.#entities.tellFromNode(spec, msg, sender),
      entityAsk: (spec, msg, sender, timeoutMs) => this.#entities.askFromNode(spec, msg, sender, timeoutMs),
      unwatchLocal: (watcher, target) => host.unwatch(watcher, target),
    };
  }

  get cluster(): Cluster {
    if (this.#cluster === undefined) throw new InvalidArgumentError('this system is not a cluster node: start it with the cluster option, e.g. { cluster: { servers, name } }');
    return this.#cluster;
  }

  #startWorker(index: number, freeSlots: number[], replacing = false): Promise<void> {
    const boot: WorkerBoot = {
      systemId: this.systemId,
      origin: processOrigin(),
      index,
      lanes: this.#lanes,
      hostBlocks: this.#hostBlocks,
      directory: this.#directorySab,
      options: hostOptionsOf(this.options),
      freeSlots,
      preload: this.options.workerPreload,
      rootRestarts: this.#rootRestarts,
    };
    if (this.#journal !== undefined) boot.journalPort = this.#journal.connect();
    if (this.#clusterBoot !== undefined) boot.cluster = this.#clusterBoot;
    this.#failures.workerStarted(index);
    return replacing ? this.#pool.replace(boot) : this.#pool.start(boot);
  }

  // ------------------------------------------------------------- main duties

  claimName(name: string, id: ActorId): boolean {
    return this.#names.claim(name, id);
  }

  releaseName(name: string, id: number): void {
    this.#names.release(name, id);
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
      const name = event.name ?? this.#names.nameOf(event.id);
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
    const node = options?.node;
    if (node !== undefined) {
      const link = this.#link;
      if (link === undefined) return Promise.reject(new InvalidArgumentError(`spawn option node ${JSON.stringify(node)} needs a cluster: start the system with the cluster option`));
      if (typeof node !== 'string') return Promise.reject(new InvalidArgumentError('spawn option node must be a node name (a string)'));
      const { node: _node, ...rest } = options!;
      if (node !== link.self.node) return link.spawnOn(node, moduleUrl instanceof URL ? moduleUrl.href : String(moduleUrl), rest);
      return this.host.spawn(moduleUrl, rest, 0);
    }
    return this.host.spawn(moduleUrl, options, 0);
  }

  entity(moduleUrl: URL | string, key: string | number, options: EntityOptions | undefined): EntityRef {
    return this.#entities.entity(moduleUrl, key, options);
  }

  lookup(name: string): ActorRef | undefined {
    if (typeof name !== 'string') throw new InvalidArgumentError('lookup(name) takes a string');
    const id = this.#names.idOf(name);
    return id === undefined ? undefined : this.host.refFor(id, name);
  }

  stop(ref: ActorRef): Promise<void> {
    if (ref === null || typeof ref !== 'object' || typeof ref.id !== 'number') {
      return Promise.reject(new InvalidArgumentError('stop(ref) takes an ActorRef'));
    }
    if (ref.address !== undefined) return this.#link === undefined ? Promise.reject(new InvalidArgumentError('a ref to another node reached a system that is not a cluster node')) : this.#link.stopRemote(ref);
    return this.host.stopActor(ref.id, 'stopped');
  }

  stats(): SystemStats {
    const stats: SystemStats = { ...this.#stats.read(), entities: this.#entities.counts() };
    if (this.#link !== undefined) stats.cluster = this.#link.stats();
    return stats;
  }

  /** Running actors registered under a name. */
  names(): { name: string; ref: ActorRef }[] {
    const named: { name: string; ref: ActorRef }[] = [];
    for (const [name, id] of this.#names.running()) named.push({ name, ref: this.host.refFor(id, name) });
    return named;
  }

  restart(ref: ActorRef, timeoutMs: number): Promise<void> {
    if (this.#state !== 'running') return Promise.reject(new SystemStoppedError());
    if (ref.address !== undefined) return Promise.reject(new InvalidArgumentError(`restart(${String(ref)}): an actor on another node is restarted by its own node's supervisors`));
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
    if (ref.address !== undefined) return undefined;
    const host = this.#directory.hostOf(ref.id);
    return host < 0 ? undefined : hostNameOf(host);
  }

  // --------------------------------------------------------------- shutdown

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#state = 'stopping';
    this.#entities.close();
    // Peers learn at once that this node is going (nodeDown, reason 'left'), and stop sending to it.
    await this.#link?.leave();
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
    await this.#link?.close();
    if (this.#gatewayToken !== undefined) kGatewayLinks.delete(this.#gatewayToken);
    this.host.close();
    // After every host: what they sent is committed before the store closes.
    await this.#journal?.close();
    // A worker terminated while handling a record: that record dies with it, as when a worker dies;
    // what it had written and not published is counted with the rest of the lanes.
    for (let index = 1; index < this.#hostBlocks.length; index++) this.#failures.salvageLanes(index, 'system stopped', 'shutdown');
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
    return systemInternals({ options: this.options, host: this.host, lanes: this.#lanes, hostBlocks: this.#hostBlocks, pool: this.#pool, link: this.#link });
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
