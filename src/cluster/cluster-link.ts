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
import type { Logger } from 'pino';
import type { SpawnOptions } from '../actor/context.js';
import { ActorRef, type AskOptions, type RefHost, type TellOptions } from '../actor/ref.js';
import { decodeFromNode, encodeForNode, type NodeAddress, type RefFactory } from '../codec/codec.js';
import { assertEncodable, type MessageLimits } from '../codec/validate.js';
import { ClusterUnavailableError, DecodeError, NodeDownError, errorToWire, errorFromWire, type WireError } from '../errors.js';
import { PendingTable } from '../host/pending.js';
import type { ActorId } from '../lane/directory.js';
import type { ResolvedCluster } from './cluster-options.js';
import { ControlClient, serveControl, type ControlHost } from './control.js';
import { RecordKind, decodeFrame, encodeFrame, kFrameBytes, kFrameRecords, type FrameRecord } from './frames.js';
import type { HeartbeatBoot, HeartbeatCommand, HeartbeatReport } from './heartbeat-protocol.js';
import type { MemberEvent, MemberState } from './membership.js';
import { subjectsOf, type Subjects } from './subjects.js';

/** What the link needs of this node's runtime (the engine gives it). */
export interface LinkHost extends ControlHost {
  readonly limits: MessageLimits;
  readonly maxMessageDepth: number;
  readonly askTimeoutMs: number;
  readonly log: Logger;
  /** A ref to an actor of this node. */
  localRef(id: number, name: string | undefined): ActorRef;
  currentSender(): number;
  currentTrace(): number;
  traceOf(options: TellOptions | undefined): number;
  /** A message that cannot reach its actor on another node: a dead letter, as on one node. */
  deadLetter(target: number, msg: unknown, reason: string): void;
}

export interface LiveMember {
  node: string;
  incarnation: number;
  state: Exclude<MemberState, 'down'>;
}

export type ClusterEvent = MemberEvent & { at: number };

interface Outgoing {
  incarnation: number;
  records: FrameRecord[];
  bytes: number;
}

export class ClusterLink implements RefHost {
  readonly self: NodeAddress;
  readonly subjects: Subjects;
  readonly #options: ResolvedCluster;
  readonly #host: LinkHost;
  readonly #nc: NatsConnection;
  readonly #heartbeats: Worker;
  readonly #members = new Map<string, LiveMember>();
  /** A small number per node, the key of its asks in `#pending` (PendingTable keys requests by number). */
  readonly #nodeKeys = new Map<string, number>();
  readonly #pending = new PendingTable();
  readonly #outgoing = new Map<string, Outgoing>();
  readonly #listeners = new Set<(event: ClusterEvent) => void>();
  readonly #control: ControlClient;
  readonly refFactory: RefFactory = (id, name, address) => this.refFor(id, name, address);
  #flushQueued = false;
  #frames: Subscription | undefined;
  #stopControl: (() => void) | undefined;
  #closed = false;

  private constructor(options: ResolvedCluster, host: LinkHost, nc: NatsConnection, heartbeats: Worker, incarnation: number) {
    this.#options = options;
    this.#host = host;
    this.#nc = nc;
    this.#heartbeats = heartbeats;
    this.self = { node: options.node, incarnation };
    this.subjects = subjectsOf(options.name);
    this.#control = new ControlClient(this);
  }

  /** Connects, subscribes and starts the heartbeats; rejects with `TROUPE_ERR_CLUSTER_UNAVAILABLE` when no server answers. */
  static async start(options: ResolvedCluster, host: LinkHost, execArgv: string[] | undefined): Promise<ClusterLink> {
    // Random, not a clock: two starts in one millisecond must still be two incarnations. 0 is never one.
    const incarnation = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers, name: `troupe-${options.node}`, timeout: options.connectTimeoutMs, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (error) {
      throw new ClusterUnavailableError(`no NATS server answered at ${options.servers.join(', ')} within ${options.connectTimeoutMs} ms (${(error as Error).message})`, { cause: error });
    }
    const boot: HeartbeatBoot = { cluster: options, incarnation };
    const heartbeats = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: boot, execArgv: execArgv ?? [] });
    const link = new ClusterLink(options, host, nc, heartbeats, incarnation);
    try {
      await link.#startHeartbeats();
      link.#frames = nc.subscribe(link.subjects.frames(options.node), {
        callback: (error, msg) => {
          if (error === null) link.#receive(msg.data);
        },
      });
      link.#stopControl = serveControl(nc, link.subjects.control(options.node), link, host);
      await nc.flush();
    } catch (error) {
      await heartbeats.terminate();
      await nc.close().catch(() => undefined);
      throw error;
    }
    return link;
  }

  #startHeartbeats(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#heartbeats.on('message', (report: HeartbeatReport) => {
        if (report.type === 'ready') resolve();
        else if (report.type === 'failed') reject(new ClusterUnavailableError(`the heartbeat connection failed: ${report.message}`));
        else if (report.type === 'member') this.#memberChanged(report.event);
      });
      this.#heartbeats.once('error', (error) => reject(new ClusterUnavailableError(`the heartbeat thread failed: ${error.message}`, { cause: error })));
    });
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

  #memberChanged(event: MemberEvent): void {
    switch (event.type) {
      case 'nodeUp':
        this.#members.set(event.node, { node: event.node, incarnation: event.incarnation, state: 'up' });
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
        break;
    }
    const stamped: ClusterEvent = { ...event, at: performance.timeOrigin + performance.now() };
    for (const listener of [...this.#listeners]) {
      try {
        listener(stamped);
      } catch (error) {
        this.#host.log.error({ err: error }, 'a cluster event listener threw');
      }
    }
  }

  /** Everything waiting on a node that went down fails now, typed, instead of timing out. */
  #failNode(node: string, incarnation: number, reason: string): void {
    const key = this.#nodeKeys.get(node);
    if (key !== undefined) this.#pending.rejectEveryOf(key, () => new NodeDownError(node, reason));
    const queued = this.#outgoing.get(node);
    if (queued !== undefined && queued.incarnation === incarnation) {
      this.#outgoing.delete(node);
      for (const record of queued.records) if (record[0] === RecordKind.tell) this.#host.deadLetter(record[1], undefined, 'nodedown');
    }
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

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  tellFrom(target: ActorRef, msg: unknown): boolean {
    assertEncodable(msg, this.#host.limits);
    const address = target.address!;
    if (this.#closed || !this.isLive(address)) {
      this.#host.deadLetter(target.id, msg, 'nodedown');
      return true;
    }
    const payload = encodeForNode(msg, this.self);
    this.#enqueue(address, [RecordKind.tell, target.id, payload], payload.length);
    return true;
  }

  askFrom(target: ActorRef, msg: unknown, _sender: number, _trace: number, options: AskOptions | undefined): Promise<unknown> {
    try {
      assertEncodable(msg, this.#host.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    const address = target.address!;
    if (this.#closed || !this.isLive(address)) return Promise.reject(new NodeDownError(address.node, this.#closed ? 'this node has left the cluster' : 'not a live member of the cluster'));
    const timeoutMs = options?.timeoutMs ?? this.#host.askTimeoutMs;
    const { corr, promise } = this.#pending.open(this.#keyOf(address.node), String(target), timeoutMs);
    const payload = encodeForNode(msg, this.self);
    this.#enqueue(address, [RecordKind.ask, target.id, corr, timeoutMs, payload], payload.length);
    return promise;
  }

  // --------------------------------------------------------------- frames

  #enqueue(address: NodeAddress, record: FrameRecord, bytes: number): void {
    let out = this.#outgoing.get(address.node);
    if (out !== undefined && out.incarnation !== address.incarnation) {
      this.#flushNode(address.node, out);
      out = undefined;
    }
    if (out === undefined) this.#outgoing.set(address.node, (out = { incarnation: address.incarnation, records: [], bytes: 0 }));
    out.records.push(record);
    out.bytes += bytes;
    if (out.records.length >= kFrameRecords || out.bytes >= kFrameBytes) {
      this.#flushNode(address.node, out);
      return;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    for (const [node, out] of this.#outgoing) this.#flushNode(node, out);
  }

  #flushNode(node: string, out: Outgoing): void {
    this.#outgoing.delete(node);
    if (out.records.length === 0) return;
    try {
      this.#nc.publish(this.subjects.frames(node), encodeFrame({ f: this.self.node, i: this.self.incarnation, t: out.incarnation, r: out.records }));
    } catch (error) {
      // Closed connection: what was in the frame is lost like a message to a node that is down.
      this.#host.log.warn({ err: error, node }, 'a cluster frame could not be sent');
      for (const record of out.records) {
        if (record[0] === RecordKind.tell) this.#host.deadLetter(record[1], undefined, 'nodedown');
        else if (record[0] === RecordKind.ask) this.#pending.reject(record[2], new NodeDownError(node, 'the connection to NATS is closed'));
      }
    }
  }

  #receive(bytes: Uint8Array): void {
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch (error) {
      this.#host.log.warn({ err: error }, 'a malformed cluster frame was dropped');
      return;
    }
    const from: NodeAddress = { node: frame.f, incarnation: frame.i };
    const forMe = frame.t === this.self.incarnation;
    for (const record of frame.r) {
      switch (record[0]) {
        case RecordKind.tell:
          if (forMe) this.#deliverTell(record[1], record[2]);
          else this.#host.deadLetter(record[1], undefined, 'nodedown');
          break;
        case RecordKind.ask:
          if (forMe) this.#deliverAsk(from, record[1], record[2], record[3], record[4]);
          else this.#answer(from, [RecordKind.failure, record[2], errorToWire(new NodeDownError(this.self.node, 'the incarnation it was sent to has ended'))]);
          break;
        case RecordKind.reply:
          if (forMe) this.#settle(record[1], record[2]);
          break;
        case RecordKind.failure:
          if (forMe) this.#pending.reject(record[1], errorFromWire(record[2]));
          break;
      }
    }
  }

  #decode(payload: Uint8Array): unknown {
    return decodeFromNode(payload, this.#host.maxMessageDepth + 2, this.refFactory);
  }

  #deliverTell(target: number, payload: Uint8Array): void {
    let msg: unknown;
    try {
      msg = this.#decode(payload);
      this.#host.localRef(target, undefined).tellAs(msg, 0, 0);
    } catch (error) {
      this.#host.deadLetter(target, msg, error instanceof DecodeError ? 'decode-failed' : 'undeliverable');
    }
  }

  #deliverAsk(from: NodeAddress, target: number, corr: number, timeoutMs: number, payload: Uint8Array): void {
    let answer: Promise<unknown>;
    try {
      answer = this.#host.localRef(target, undefined).askAs(this.#decode(payload), 0, 0, { timeoutMs });
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => {
        let reply: FrameRecord;
        try {
          reply = [RecordKind.reply, corr, encodeForNode(value, this.self)];
        } catch (error) {
          reply = [RecordKind.failure, corr, errorToWire(error)];
        }
        this.#answer(from, reply);
      },
      (error: unknown) => this.#answer(from, [RecordKind.failure, corr, errorToWire(error)]),
    );
  }

  #answer(to: NodeAddress, record: FrameRecord): void {
    if (this.#closed) return;
    this.#enqueue(to, record, record[0] === RecordKind.reply ? record[2].length : 64);
  }

  #settle(corr: number, payload: Uint8Array): void {
    let value: unknown;
    try {
      value = this.#decode(payload);
    } catch (error) {
      this.#pending.reject(corr, error);
      return;
    }
    if (!this.#pending.resolve(corr, value)) this.#host.deadLetter(0, value, 'reply-expired');
  }

  // -------------------------------------------------------------- control

  /** @internal */
  get nc(): NatsConnection {
    return this.#nc;
  }

  get control(): ControlClient {
    return this.#control;
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
    if (this.#closed) return;
    this.#flush();
    const left = new Promise<void>((resolve) => {
      this.#heartbeats.on('message', (report: HeartbeatReport) => report.type === 'left' && resolve());
      this.#heartbeats.once('exit', () => resolve());
    });
    this.#heartbeats.postMessage({ type: 'leave' } satisfies HeartbeatCommand);
    await Promise.race([left, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#stopControl?.();
    this.#frames?.unsubscribe();
    this.#pending.rejectAll(() => new NodeDownError(this.self.node, 'this node has left the cluster'));
    await this.#nc.drain().catch(() => undefined);
    await this.#heartbeats.terminate();
  }
}

export type { WireError };
