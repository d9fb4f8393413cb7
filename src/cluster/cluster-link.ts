/**
 * This node's link to the others, on the main thread: one NATS connection for
 * messages (the heartbeats have their own, on their own thread), one
 * subscription for every frame addressed to this node, frames batched per
 * destination node and sent at the end of the turn (or when one is full), and
 * the asks waiting on other nodes. Refs to other nodes' actors are ordinary
 * `ActorRef`s whose sends come here (remote-refs.ts).
 *
 * Order: records to one node leave in the order they were sent, on one
 * connection and one subject, which NATS keeps in order; the receiver
 * delivers them in frame order. So messages from one sender to one actor on
 * another node arrive in the order sent (per-sender FIFO), as on one node.
 */
import { Worker } from 'node:worker_threads';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { SpawnOptions } from '../actor/context.js';
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import { encodeForNode, type NodeAddress, type RefFactory } from '../codec/codec.js';
import { assertEncodable } from '../codec/validate.js';
import { ClusterUnavailableError, NodeDownError, type WireError } from '../errors.js';
import { PendingTable } from '../host/pending.js';
import type { ActorId } from '../lane/directory.js';
import { connectionOptions, type ResolvedCluster } from './cluster-options.js';
import type { LinkHost } from './link-host.js';
import { ControlClient, serveControl } from './control.js';
import { RecordKind, decodeFrame, type EntitySpec, type FrameWriter } from './frames.js';
import { askTimeoutOf } from '../host/arguments.js';
import { NodeOutbox } from './node-outbox.js';
import { StandIns } from './stand-ins.js';
import { RecordDelivery } from './record-delivery.js';
import { RemoteWatches } from './remote-watches.js';
import { HashRing } from './ring.js';
import type { HeartbeatBoot, HeartbeatCommand, HeartbeatReport } from './heartbeat-protocol.js';
import type { MemberEvent, MemberState } from './membership.js';
import type { ClusterStats } from '../metrics/stats.js';
import { subjectsOf, type Subjects } from './subjects.js';

export type { LinkHost } from './link-host.js';

export interface LiveMember {
  node: string;
  incarnation: number;
  state: Exclude<MemberState, 'down'>;
}

/** This node's own connection to NATS: lost (frames wait, bounded, until it is back) and back. */
export type ConnectionEvent = { type: 'disconnected'; server: string } | { type: 'reconnected'; server: string };

export type ClusterEvent = (MemberEvent | ConnectionEvent) & { at: number };

export class ClusterLink implements RefHost {
  readonly self: NodeAddress;
  readonly subjects: Subjects;
  readonly #options: ResolvedCluster;
  readonly #host: LinkHost;
  readonly #nc: NatsConnection;
  #heartbeats: Worker | undefined;
  readonly #execArgv: string[] | undefined;
  #leaving = false;
  readonly #members = new Map<string, LiveMember>();
  /** A small number per node, the key of its asks in `#pending` (PendingTable keys requests by number). */
  readonly #nodeKeys = new Map<string, number>();
  readonly #pending = new PendingTable();
  readonly #outbox: NodeOutbox;
  readonly #listeners = new Set<(event: ClusterEvent) => void>();
  readonly #control: ControlClient;
  readonly refFactory: RefFactory = (id, name, address) => this.refFor(id, name, address);
  #ring: HashRing;
  readonly #placementListeners: (() => void)[] = [];
  /** Watches of this node's actors on other nodes' actors, by node, then `watcher/target`: what a nodeDown ends. */
  readonly #watches: RemoteWatches;
  readonly #standIns: StandIns;
  readonly #delivery: RecordDelivery;
  #frames: Subscription | undefined;
  #stopControl: (() => void) | undefined;
  #closed = false;
  isolated = false;
  #framesReceived = 0;
  #recordsReceived = 0;
  #framesDropped = 0;

  private constructor(options: ResolvedCluster, host: LinkHost, nc: NatsConnection, incarnation: number, execArgv: string[] | undefined) {
    this.#options = options;
    this.#host = host;
    this.#nc = nc;
    this.#execArgv = execArgv;
    this.self = { node: options.node, incarnation };
    this.subjects = subjectsOf(options.name);
    this.#control = new ControlClient(this);
    this.#ring = new HashRing([options.node]);
    this.#watches = new RemoteWatches({
      isLive: (address) => this.isLive(address),
      down: (watcher, ref, reason) => this.#delivery.tell(watcher, 0, { type: 'down', ref, reason }),
      register: (ref, watcher) => this.#control.watch(ref, watcher, this.self),
      unregister: (ref, watcher) => this.#control.unwatch(ref, watcher, this.self),
    });
    this.#standIns = new StandIns({
      log: host.log,
      remoteRef: (id, from) => this.refFor(id, undefined, from),
      spawn: (remote) => host.spawnProxy(remote),
      stop: (id) => host.stopLocal(id),
    });
    this.#delivery = new RecordDelivery({
      host,
      self: this.self,
      pending: this.#pending,
      standIns: this.#standIns,
      watches: this.#watches,
      outbox: () => this.#outbox,
      closed: () => this.#closed,
      isLiveOrSelf: (address) => this.isLiveOrSelf(address),
    });
    this.#outbox = new NodeOutbox({
      nc,
      subjects: this.subjects,
      self: this.self,
      log: host.log,
      overflowBytes: host.overflowBytes,
      lost: (node, out, reason) => this.#lost(node, out, reason),
      ping: (node) => this.#control.ping(node),
      isMember: (node) => this.#members.has(node),
      isolated: () => this.isolated,
    });
  }

  /** Connects, subscribes and starts the heartbeats; rejects with `TROUPE_ERR_CLUSTER_UNAVAILABLE` when no server answers. */
  static async start(options: ResolvedCluster, host: LinkHost, execArgv: string[] | undefined): Promise<ClusterLink> {
    // Random, not a clock: two starts in one millisecond must still be two incarnations. 0 is never one.
    const incarnation = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
    let nc: NatsConnection;
    try {
      nc = await connect(connectionOptions(options, 'data'));
    } catch (error) {
      throw new ClusterUnavailableError(`no NATS server answered at ${options.servers.join(', ')} within ${options.connectTimeoutMs} ms (${(error as Error).message})`, { cause: error });
    }
    const link = new ClusterLink(options, host, nc, incarnation, execArgv);
    try {
      // Subscribed before the first heartbeat: a peer that hears of this node can reach it at once.
      link.#frames = nc.subscribe(link.subjects.frames(options.node, incarnation), {
        callback: (error, msg) => {
          if (error === null) link.#receive(msg.data);
        },
      });
      link.#stopControl = serveControl(nc, link.subjects.control(options.node), link, host);
      await nc.flush();
      await link.#startHeartbeats();
      void link.#watchConnection();
    } catch (error) {
      await link.#heartbeats?.terminate();
      await nc.close().catch(() => undefined);
      throw error;
    }
    return link;
  }

  /** Starts the heartbeat thread; one that dies later is started again (peers would take the node for dead). */
  #startHeartbeats(): Promise<void> {
    const boot: HeartbeatBoot = { cluster: this.#options, incarnation: this.self.incarnation };
    const heartbeats = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: boot, execArgv: this.#execArgv ?? [] });
    this.#heartbeats = heartbeats;
    return new Promise((resolve, reject) => {
      let ready = false;
      heartbeats.on('message', (report: HeartbeatReport) => {
        if (report.type === 'ready') {
          ready = true;
          resolve();
        } else if (report.type === 'failed') reject(new ClusterUnavailableError(`the heartbeat connection failed: ${report.message}`));
        else if (report.type === 'member') this.#memberChanged(report.event);
      });
      heartbeats.once('error', (error) => {
        if (!ready) reject(new ClusterUnavailableError(`the heartbeat thread failed: ${error.message}`, { cause: error }));
        else this.#host.log.error({ err: error }, 'the cluster heartbeat thread failed');
      });
      heartbeats.once('exit', (code) => {
        if (!ready || this.#leaving || this.#closed) return;
        this.#host.log.error({ code }, 'the cluster heartbeat thread exited; starting it again');
        this.#startHeartbeats().catch((error: unknown) => this.#host.log.error({ err: error }, 'the cluster heartbeat thread could not be started again'));
      });
    });
  }

  async #watchConnection(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect') {
        this.#outbox.disconnected();
        this.#emit({ type: 'disconnected', server: status.server });
      } else if (status.type === 'reconnect') {
        this.#outbox.reconnected(this.#members.keys());
        this.#emit({ type: 'reconnected', server: status.server });
      }
    }
  }

  /**
   * A partition injected by the chaos hooks (system[kInternals].isolateNode): this node stops
   * beating, hearing, sending and receiving, as if its network to the others were cut; the
   * detectors on both sides see silence. Ended with `false`.
   */
  isolate(on: boolean): void {
    this.isolated = on;
    this.#heartbeats?.postMessage({ type: 'mute', muted: on } satisfies HeartbeatCommand);
  }

  stats(): ClusterStats {
    let unreachable = 0;
    for (const member of this.#members.values()) if (member.state === 'unreachable') unreachable++;
    return {
      node: this.self.node,
      members: this.#members.size,
      unreachable,
      framesSent: this.#outbox.framesSent,
      framesReceived: this.#framesReceived,
      recordsSent: this.#outbox.recordsSent,
      recordsReceived: this.#recordsReceived,
      framesDropped: this.#framesDropped,
      heldBytes: this.#outbox.heldBytes,
      standIns: this.#standIns.count,
    };
  }

  // ------------------------------------------------------------ membership

  members(): LiveMember[] {
    return [...this.#members.values()].map((m) => ({ ...m }));
  }

  isLive(address: NodeAddress): boolean {
    return this.#members.get(address.node)?.incarnation === address.incarnation;
  }

  liveIncarnation(node: string): number | undefined {
    return this.#members.get(node)?.incarnation;
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The node that owns an entity's key (its persistence id) by the ring over the live members; undefined: this node. */
  ownerOf(key: string): string | undefined {
    const owner = this.#ring.owner(key);
    return owner === this.self.node ? undefined : owner;
  }

  /** Called when the ring changes (a node came or went): entities this node no longer owns move. */
  onPlacementChange(listener: () => void): void {
    this.#placementListeners.push(listener);
  }

  #rebuildRing(): void {
    const nodes = [this.self.node, ...this.#members.keys()];
    if (nodes.length === this.#ring.nodes.length && nodes.every((n) => this.#ring.nodes.includes(n))) return;
    this.#ring = new HashRing(nodes);
    for (const listener of this.#placementListeners) listener();
  }

  #memberChanged(event: MemberEvent): void {
    switch (event.type) {
      case 'nodeUp':
        this.#members.set(event.node, { node: event.node, incarnation: event.incarnation, state: 'up' });
        this.#rebuildRing();
        break;
      case 'nodeReachable':
      case 'nodeUnreachable': {
        const member = this.#members.get(event.node);
        if (member?.incarnation === event.incarnation) member.state = event.type === 'nodeUnreachable' ? 'unreachable' : 'up';
        break;
      }
      case 'nodeDown':
        if (this.#members.get(event.node)?.incarnation === event.incarnation) this.#members.delete(event.node);
        this.#failNode(event.node, event.incarnation, event.reason);
        this.#rebuildRing();
        break;
    }
    this.#emit(event);
  }

  #emit(event: MemberEvent | ConnectionEvent): void {
    const stamped: ClusterEvent = { ...event, at: performance.timeOrigin + performance.now() };
    for (const listener of [...this.#listeners]) {
      try {
        listener(stamped);
      } catch (error) {
        this.#host.log.error({ err: error }, 'a cluster event listener threw');
      }
    }
  }

  /** Everything waiting on a node that went down fails now, typed, instead of timing out; its watchers get their down. */
  #failNode(node: string, incarnation: number, reason: string): void {
    this.#watches.nodeDown(node, incarnation);
    const key = this.#nodeKeys.get(node);
    if (key !== undefined) this.#pending.rejectEveryOf(key, () => new NodeDownError(node, reason));
    this.#standIns.dropNode(node, incarnation);
    this.#outbox.dropNode(node, incarnation, reason);
  }

  #keyOf(node: string): number {
    let key = this.#nodeKeys.get(node);
    if (key === undefined) this.#nodeKeys.set(node, (key = this.#nodeKeys.size + 1));
    return key;
  }

  // ------------------------------------------------------------------ refs

  /** The live ref for a decoded one: this node's actors through the host, the others' through this link. */
  refFor(id: number, name: string | undefined, address: NodeAddress | undefined): ActorRef {
    if (address === undefined || (address.node === this.self.node && address.incarnation === this.self.incarnation)) return this.#host.localRef(id, name);
    return new ActorRef(this, id as ActorId, name, { node: address.node, incarnation: address.incarnation });
  }

  currentSender(): number {
    return this.#host.currentSender();
  }

  currentTrace(): number {
    return this.#host.currentTrace();
  }

  traceOf(options: TellOptions | undefined): number {
    return this.#host.traceOf(options);
  }

  /** Resolves once what this node sends other nodes is under the high-water mark again. */
  whenWritable(): Promise<void> {
    return this.#outbox.whenWritable();
  }

  tellFrom(target: ActorRef, msg: unknown, sender: number): boolean {
    const address = target.address!;
    return this.#tell(this.isLive(address) ? address : undefined, target.id, msg, msg, (out, payload) => out.tell(target.id, sender, payload, this.#host.traceContext()));
  }

  askFrom(target: ActorRef, msg: unknown, sender: number, _trace: number, options: AskOptions | undefined): Promise<unknown> {
    const address = target.address!;
    return this.#ask(this.isLive(address) ? address : undefined, address.node, String(target), msg, msg, options, (out, corr, timeoutMs, payload) => out.ask(target.id, sender, corr, timeoutMs, payload, this.#host.traceContext()));
  }

  /** A tell to the entity `spec` on the node that owns it. */
  tellEntity(owner: string, spec: EntitySpec, msg: unknown, sender: number): boolean {
    return this.#tell(this.#liveAddress(owner), 0, msg, [spec, msg], (out, payload) => out.entityTell(sender, payload, this.#host.traceContext()));
  }

  askEntity(owner: string, spec: EntitySpec, msg: unknown, sender: number, timeoutMs: number): Promise<unknown> {
    return this.#ask(this.#liveAddress(owner), owner, `entity ${spec.type}/${spec.key}@${owner}`, msg, [spec, msg], { timeoutMs }, (out, corr, t, payload) => out.entityAsk(sender, corr, t, payload, this.#host.traceContext()));
  }

  /** Checks `msg`, encodes `value` (the message, or what carries it) and writes its record; a node not live: a dead letter. */
  #tell(address: NodeAddress | undefined, target: number, msg: unknown, value: unknown, write: (out: FrameWriter, payload: Uint8Array) => void): boolean {
    assertEncodable(msg, this.#host.limits);
    if (this.#closed || address === undefined) {
      this.#host.deadLetter(target, msg, 'nodedown');
      return true;
    }
    const payload = encodeForNode(value, this.self);
    this.#outbox.admit(payload.length);
    write(this.#outbox.writerFor(address, payload.length), payload);
    this.#outbox.sent(address.node);
    return this.#outbox.writable;
  }

  #ask(
    address: NodeAddress | undefined,
    node: string,
    label: string,
    msg: unknown,
    value: unknown,
    options: AskOptions | undefined,
    write: (out: FrameWriter, corr: number, timeoutMs: number, payload: Uint8Array) => void,
  ): Promise<unknown> {
    let timeoutMs: number;
    let payload: Uint8Array;
    try {
      assertEncodable(msg, this.#host.limits);
      if (this.#closed || address === undefined) throw new NodeDownError(node, this.#closed ? 'this node has left the cluster' : 'not a live member of the cluster');
      timeoutMs = askTimeoutOf(options, this.#host.askTimeoutMs);
      payload = encodeForNode(value, this.self);
      this.#outbox.admit(payload.length);
    } catch (error) {
      return Promise.reject(error);
    }
    const { corr, promise } = this.#pending.open(this.#keyOf(node), label, timeoutMs);
    write(this.#outbox.writerFor(address, payload.length), corr, timeoutMs, payload);
    this.#outbox.sent(node);
    return promise;
  }

  // -------------------------------------------------------------- watches

  refused(target: ActorRef, msg: unknown, error: unknown): void {
    this.#host.deadLetter(target.id, msg, (error as { code?: string }).code === 'TROUPE_ERR_MAILBOX_FULL' ? 'mailbox-full' : 'undeliverable');
  }

  /** `ctx.watch` of another node's actor: by the main host (NodeRefs) and by a worker's, through the gateway. */
  watchRemote(watcher: number, ref: ActorRef): Promise<void> {
    return this.#watches.watch(watcher, ref, this.#closed);
  }

  unwatchRemote(watcher: number, ref: ActorRef): void {
    this.#watches.unwatch(watcher, ref);
  }

  watch(watcher: number, ref: ActorRef): Promise<void> {
    return this.watchRemote(watcher, ref);
  }

  unwatch(watcher: number, ref: ActorRef): void {
    this.unwatchRemote(watcher, ref);
  }

  /** The stand-in of `from`'s actor `sender` on this node, started if need be (for a watch request from there). */
  standIn(from: NodeAddress, sender: number): Promise<number> {
    return this.#standIns.of(from, sender);
  }

  #liveAddress(node: string): NodeAddress | undefined {
    const member = this.#members.get(node);
    return member === undefined ? undefined : { node, incarnation: member.incarnation };
  }

  // --------------------------------------------------------------- frames

  /** Reports what a frame that will never be sent held: its tells as dead letters, its asks failed. */
  #lost(node: string, out: FrameWriter, reason: string): void {
    for (let i = 0; i < out.records; i++) {
      const kind = out.kinds[i];
      if (kind === RecordKind.tell || kind === RecordKind.entityTell) this.#host.deadLetter(kind === RecordKind.tell ? out.keys[i] : 0, undefined, 'nodedown');
      else if (kind === RecordKind.ask || kind === RecordKind.entityAsk) this.#pending.reject(out.keys[i], new NodeDownError(node, reason));
    }
  }

  #receive(bytes: Uint8Array): void {
    if (this.isolated) return;
    let frame;
    try {
      frame = decodeFrame(bytes, this.#host.maxMessageDepth, this.refFactory);
    } catch (error) {
      this.#framesDropped++;
      this.#host.log.warn({ err: error }, 'a malformed cluster frame was dropped');
      return;
    }
    this.#framesReceived++;
    this.#recordsReceived += frame.records.length;
    const from: NodeAddress = { node: frame.from, incarnation: frame.fromIncarnation };
    const forMe = frame.toIncarnation === this.self.incarnation;
    // A sender whose incarnation this node has seen end gets no stand-in (nothing would ever stop it).
    const senderLive = this.isLiveOrSelf(from);
    for (const record of frame.records) {
      // One record's failure is that record's: it must never stop the client's read loop, which calls this.
      try {
        this.#delivery.record(from, forMe, senderLive, record);
      } catch (error) {
        this.#host.log.error({ err: error, kind: record[0] }, 'a record from another node could not be handled');
      }
    }
  }

  /** An asker on a node this one has not heard from yet still gets its answer (its heartbeat may be late). */
  isLiveOrSelf(address: NodeAddress): boolean {
    const member = this.#members.get(address.node);
    return member === undefined || member.incarnation === address.incarnation;
  }

  // -------------------------------------------------------------- control

  /** @internal */
  get nc(): NatsConnection {
    return this.#nc;
  }

  get control(): ControlClient {
    return this.#control;
  }

  get selfNode(): string {
    return this.self.node;
  }

  spawnOn(node: string, moduleUrl: string, options: SpawnOptions): Promise<ActorRef> {
    return this.#control.spawn(node, moduleUrl, options, this.#host.spawnTimeoutMs);
  }

  lookup(name: string): Promise<ActorRef | undefined> {
    const local = this.#host.lookupLocal(name);
    return local === undefined ? this.#control.lookup(name) : Promise.resolve(local);
  }

  stopRemote(ref: ActorRef): Promise<void> {
    return this.#control.stop(ref, this.#host.spawnTimeoutMs);
  }

  // ------------------------------------------------------------- shutdown

  /** Says goodbye (peers see `nodeDown` with reason `left` at once, not after the silence), then sends what is queued. */
  async leave(): Promise<void> {
    const heartbeats = this.#heartbeats;
    if (this.#closed || this.#leaving || heartbeats === undefined) return;
    this.#leaving = true;
    // What this node answered reaches the server before the goodbye, which peers act on at once.
    this.#outbox.flush();
    await within(this.#nc.flush(), kLeaveFlushMs);
    const left = new Promise<void>((resolve) => {
      heartbeats.on('message', (report: HeartbeatReport) => report.type === 'left' && resolve());
      heartbeats.once('exit', () => resolve());
    });
    heartbeats.postMessage({ type: 'leave' } satisfies HeartbeatCommand);
    await Promise.race([left, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Still disconnected: what waits for the connection will never go.
    this.#outbox.close('this node left the cluster while its connection to NATS was down');
    this.#closed = true;
    this.#stopControl?.();
    this.#frames?.unsubscribe();
    this.#pending.rejectAll(() => new NodeDownError(this.self.node, 'this node has left the cluster'));
    // A drain waits for the server; with it gone for good, the client would try to reconnect for ever and keep the
    // process alive: bounded, then closed.
    await within(this.#nc.drain(), kDrainMs);
    await this.#nc.close().catch(() => undefined);
    await this.#heartbeats?.terminate();
  }
}

export type { WireError };

const kLeaveFlushMs = 1000;
const kDrainMs = 2000;

/** Waits for `promise` at most `ms`; its outcome does not matter. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
