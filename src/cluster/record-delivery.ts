/**
 * What the records of a frame from another node become on this node: tells
 * and asks delivered to its actors (with the sender's stand-in as their
 * sender), entity messages handed to its entity table, replies and failures
 * settling its asks, and answers to the other node's asks written back into
 * the frame for it. A record meant for an incarnation of this node that has
 * ended is a dead letter, or a NODE_DOWN answer.
 */
import type { NodeAddress } from '../codec/codec.js';
import { encodeForNode } from '../codec/codec.js';
import { NodeDownError, errorFromWire, errorToWire } from '../errors.js';
import type { PendingTable } from '../host/pending.js';
import type { LinkHost } from './link-host.js';
import { RecordKind, type EntitySpec, type FrameRecord } from './frames.js';
import type { NodeOutbox } from './node-outbox.js';
import type { RemoteWatches } from './remote-watches.js';
import type { StandIns } from './stand-ins.js';

export interface DeliveryDeps {
  readonly host: LinkHost;
  readonly self: NodeAddress;
  readonly pending: PendingTable;
  readonly standIns: StandIns;
  readonly watches: RemoteWatches;
  outbox(): NodeOutbox;
  closed(): boolean;
  isLiveOrSelf(address: NodeAddress): boolean;
}

export class RecordDelivery {
  readonly #deps: DeliveryDeps;

  constructor(deps: DeliveryDeps) {
    this.#deps = deps;
  }

  /** One record of a frame from `from`; `forMe`: meant for this incarnation; `senderLive`: its sender may get a stand-in. */
  record(from: NodeAddress, forMe: boolean, senderLive: boolean, record: FrameRecord): void {
    // The sender's stand-in may have to be started first: the trace context is restored around the delivery itself.
    const host = this.#deps.host;
    const withSender = (sender: number, context: unknown, deliver: (standIn: number) => void): void =>
      this.#deps.standIns.with(from, senderLive ? sender : 0, (standIn) => host.withTraceContext(context, () => deliver(standIn)));
    {
      switch (record[0]) {
        case RecordKind.tell: {
          const [, target, sender, msg, context] = record;
          if (!forMe) this.#deps.host.deadLetter(target, msg, 'nodedown');
          else {
            this.#deps.watches.ended(from, target, msg);
            withSender(sender, context, (proxy) => this.tell(target, proxy, msg));
          }
          break;
        }
        case RecordKind.ask: {
          const [, target, sender, corr, timeoutMs, msg, context] = record;
          if (!forMe) this.#fail(from, corr, new NodeDownError(this.#deps.self.node, 'the incarnation it was sent to has ended'));
          else withSender(sender, context, (proxy) => this.#deliverAsk(from, target, proxy, corr, timeoutMs, msg));
          break;
        }
        case RecordKind.entityTell: {
          const [, sender, [spec, msg], context] = record;
          if (!forMe) this.#deps.host.deadLetter(0, msg, 'nodedown');
          else withSender(sender, context, (proxy) => this.#deliverEntityTell(spec, proxy, msg));
          break;
        }
        case RecordKind.entityAsk: {
          const [, sender, corr, timeoutMs, [spec, msg], context] = record;
          if (!forMe) this.#fail(from, corr, new NodeDownError(this.#deps.self.node, 'the incarnation it was sent to has ended'));
          else withSender(sender, context, (proxy) => this.#answerWith(from, corr, this.#deps.host.entityAsk(spec, msg, proxy, timeoutMs)));
          break;
        }
        case RecordKind.reply:
          if (forMe && !this.#deps.pending.resolve(record[1], record[2])) this.#deps.host.deadLetter(0, record[2], 'reply-expired');
          break;
        case RecordKind.failure:
          if (forMe) this.#deps.pending.reject(record[1], errorFromWire(record[2]));
          break;
      }
    }
  }

  #deliverEntityTell(spec: EntitySpec, sender: number, msg: unknown): void {
    try {
      this.#deps.host.entityTell(spec, msg, sender);
    } catch (error) {
      // Stopping, full, or another node's options for the same entity: a dead letter here, as a failed local send.
      this.#deps.host.deadLetter(0, msg, (error as { code?: string }).code === 'TROUPE_ERR_MAILBOX_FULL' ? 'mailbox-full' : 'undeliverable');
    }
  }

  /** A tell to an actor of this node, from another (or a down this node's link owes a watcher). */
  tell(target: number, sender: number, msg: unknown): void {
    try {
      this.#deps.host.deliver(target, sender, msg);
    } catch (error) {
      // A full mailbox on this node: the message is a dead letter here, as one from another thread would be.
      this.#deps.host.deadLetter(target, msg, (error as { code?: string }).code === 'TROUPE_ERR_MAILBOX_FULL' ? 'mailbox-full' : 'undeliverable');
    }
  }

  #deliverAsk(from: NodeAddress, target: number, sender: number, corr: number, timeoutMs: number, msg: unknown): void {
    let answer: Promise<unknown>;
    try {
      answer = this.#deps.host.localRef(target, undefined).askAs(msg, sender, 0, { timeoutMs });
    } catch (error) {
      answer = Promise.reject(error);
    }
    this.#answerWith(from, corr, answer);
  }

  #answerWith(from: NodeAddress, corr: number, answer: Promise<unknown>): void {
    answer.then(
      (value) => {
        if (this.#deps.closed() || !this.#deps.isLiveOrSelf(from)) return;
        let bytes: Uint8Array;
        try {
          bytes = encodeForNode(value, this.#deps.self);
          // Too large for a frame: the asker gets PAYLOAD_TOO_LARGE instead (replies are not held to overflowBytes).
          if (bytes.length > this.#deps.outbox().maxRecordBytes) this.#deps.outbox().admit(bytes.length);
        } catch (error) {
          this.#fail(from, corr, error);
          return;
        }
        this.#deps.outbox().writerFor(from, bytes.length).answer(RecordKind.reply, corr, bytes);
        this.#deps.outbox().sent(from.node);
      },
      (error: unknown) => this.#fail(from, corr, error),
    );
  }

  #fail(to: NodeAddress, corr: number, error: unknown): void {
    if (this.#deps.closed()) return;
    const bytes = encodeForNode(errorToWire(error), this.#deps.self);
    this.#deps.outbox().writerFor(to, bytes.length).answer(RecordKind.failure, corr, bytes);
    this.#deps.outbox().sent(to.node);
  }
}
