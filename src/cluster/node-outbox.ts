/**
 * What this node sends the others, before NATS has it: one frame being
 * filled per destination (sent at the end of the synchronous run, or when
 * full), frames held while the connection is down and, after a reconnect,
 * per destination until it answers a ping (a server restart ends every
 * client's connection, and one back first would publish to subjects the
 * others have not subscribed again yet, which NATS drops without a word);
 * and the byte bound: `false` from `tell` past the high-water mark,
 * `TROUPE_ERR_MAILBOX_FULL` past `overflowBytes`, released as the server
 * confirms (a flush: all published before it has reached the server).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { NodeAddress } from '../codec/codec.js';
import { MailboxFullError, PayloadTooLargeError } from '../errors.js';
import { FrameWriter, kFrameBytes, kFrameRecords } from './frames.js';
import type { Subjects } from './subjects.js';

/** Unconfirmed bytes past which `tell` answers `false` (accepted; slow down, `await ref.whenWritable()`). */
const kHighWaterBytes = 4 * 1024 * 1024;
/** Bytes published between two confirmations; less than that is confirmed a few ms later, one PING for many frames. */
const kConfirmEveryBytes = 512 * 1024;
const kLazyConfirmMs = 5;
/** NATS's default max_payload, when the server has not said (its INFO does at connect). */
const kDefaultMaxPayload = 1024 * 1024;
/** Room in a NATS message for the frame's headers and one record's. */
const kFrameOverhead = 1024;
const kRecordOverhead = 32;
/** How often a destination that has not answered since a reconnect is pinged again. */
const kGatePingMs = 25;

export interface OutboxDeps {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly self: NodeAddress;
  readonly log: Logger;
  readonly overflowBytes: number;
  /** A frame that will never be sent: its tells are dead letters, its asks fail. */
  lost(node: string, out: FrameWriter, reason: string): void;
  /** Resolves once `node` answers on its control subject (its connection is back and subscribed). */
  ping(node: string): Promise<void>;
  isMember(node: string): boolean;
  /** The node is cut off by an injected partition: what it publishes is lost, as NATS would lose it. */
  isolated(): boolean;
}

export class NodeOutbox {
  readonly #deps: OutboxDeps;
  readonly #filling = new Map<string, FrameWriter>();
  /** The bytes of each frame being filled already counted in #heldBytes. */
  readonly #counted = new Map<string, number>();
  /** Complete frames waiting for the connection, or for their destination after a reconnect; oldest first. */
  #held: [string, FrameWriter][] = [];
  readonly #gated = new Set<string>();
  #disconnected = false;
  #closed = false;
  #flushQueued = false;
  /** Payload bytes in frames, held, or published and not yet confirmed by the server. */
  #heldBytes = 0;
  #confirming = false;
  #lazyConfirm: NodeJS.Timeout | undefined;
  #writableWaiters: (() => void)[] = [];
  framesSent = 0;
  recordsSent = 0;

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  get writable(): boolean {
    return this.#heldBytes < kHighWaterBytes;
  }

  /**
   * Refuses a payload that no frame can carry (NATS's max_payload, less room for the frame's
   * headers) or that would take the held bytes past `overflowBytes`.
   */
  admit(bytes: number): void {
    const limit = this.maxRecordBytes;
    if (bytes > limit) throw new PayloadTooLargeError(bytes, limit, false, 'a frame to another node carries at most', "raise the NATS server's max_payload");
    if (this.#heldBytes + bytes > this.#deps.overflowBytes) throw new MailboxFullError('the cluster link', this.#deps.overflowBytes, 'link-bytes');
  }

  /** The largest payload of one record: the server's max_payload (1 MiB unless configured) less room for headers. */
  get maxRecordBytes(): number {
    return (this.#deps.nc.info?.max_payload ?? kDefaultMaxPayload) - kFrameOverhead;
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  /**
   * The frame being filled for `address`, with room for a record of `bytes`: one for an earlier
   * incarnation of the node, or one the record would take past the frame size, goes first.
   */
  writerFor(address: NodeAddress, bytes: number): FrameWriter {
    let out = this.#filling.get(address.node);
    if (out !== undefined && (out.toIncarnation !== address.incarnation || (out.records > 0 && out.bytes + bytes + kRecordOverhead > kFrameBytes))) {
      this.#complete(address.node, out);
      out = undefined;
    }
    if (out === undefined) this.#filling.set(address.node, (out = new FrameWriter(address.incarnation)));
    return out;
  }

  /** A record went into `node`'s frame: count it; send the frame if full, else at the end of this run. */
  sent(node: string): void {
    const out = this.#filling.get(node)!;
    this.#heldBytes += out.bytes - (this.#counted.get(node) ?? 0);
    this.#counted.set(node, out.bytes);
    if (out.records >= kFrameRecords || out.bytes >= kFrameBytes) {
      this.#complete(node, out);
      return;
    }
    if (!this.#flushQueued) {
      // A microtask: what one synchronous run sends goes in one frame, and an ask waits for no loop turn.
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.#flushQueued = false;
    if (this.#disconnected) return;
    const held = this.#held;
    this.#held = [];
    for (const [node, out] of held) {
      if (this.#gated.has(node)) this.#held.push([node, out]);
      else this.#publish(node, out);
    }
    for (const [node, out] of this.#filling) this.#complete(node, out);
  }

  disconnected(): void {
    this.#disconnected = true;
  }

  /** The connection is back: every member's frames wait for its answer to a ping. */
  reconnected(members: Iterable<string>): void {
    this.#disconnected = false;
    for (const node of members) this.#gate(node);
    this.flush();
  }

  /** `node`'s incarnation is gone: what waits for it is reported lost. */
  dropNode(node: string, incarnation: number, reason: string): void {
    const filling = this.#filling.get(node);
    if (filling !== undefined && filling.toIncarnation === incarnation) {
      this.#filling.delete(node);
      this.#counted.delete(node);
      this.#release(filling.bytes);
      this.#deps.lost(node, filling, reason);
    }
    this.#held = this.#held.filter(([to, out]) => {
      if (to !== node || out.toIncarnation !== incarnation) return true;
      this.#release(out.bytes);
      this.#deps.lost(node, out, reason);
      return false;
    });
  }

  /** Sends what can go; reports what cannot (the connection is still down) as lost. */
  close(reason: string): void {
    if (this.#closed) return;
    this.flush();
    for (const [node, out] of [...this.#held, ...this.#filling]) this.#deps.lost(node, out, reason);
    this.#held = [];
    this.#filling.clear();
    this.#counted.clear();
    this.#closed = true;
    clearTimeout(this.#lazyConfirm);
    this.#release(this.#heldBytes);
  }

  /** Holds `node`'s frames until its control subject answers, or it is no longer a member. */
  #gate(node: string): void {
    if (this.#gated.has(node)) return;
    this.#gated.add(node);
    const release = (): void => {
      if (this.#gated.delete(node)) this.flush();
    };
    const ping = (): void => {
      if (this.#closed || !this.#gated.has(node)) return;
      if (!this.#deps.isMember(node)) {
        release(); // down meanwhile: dropNode reported what was held
        return;
      }
      this.#deps.ping(node).then(release, () => setTimeout(ping, kGatePingMs).unref());
    };
    ping();
  }

  /** The frame for `node` is complete: out now, or held (in order) while the connection or the node is not back. */
  #complete(node: string, out: FrameWriter): void {
    this.#filling.delete(node);
    this.#counted.delete(node);
    if (out.records === 0) return;
    if (this.#disconnected || this.#gated.has(node)) this.#held.push([node, out]);
    else this.#publish(node, out);
  }

  #publish(node: string, out: FrameWriter): void {
    const { nc, subjects, self } = this.#deps;
    if (this.#deps.isolated()) {
      this.#release(out.bytes);
      return;
    }
    try {
      nc.publish(subjects.frames(node, out.toIncarnation), out.finish(self.node, self.incarnation));
      this.framesSent++;
      this.recordsSent += out.records;
      this.#confirmSoon();
    } catch (error) {
      // A closed connection: what was in the frame is lost, as a message to a node that is down is.
      this.#release(out.bytes);
      this.#deps.log.warn({ err: error, node }, 'a cluster frame could not be sent');
      this.#deps.lost(node, out, 'the connection to NATS is closed');
    }
  }

  #confirmSoon(): void {
    if (this.#confirming || this.#closed) return;
    if (this.#published() >= kConfirmEveryBytes) {
      this.#confirmNow();
      return;
    }
    if (this.#lazyConfirm !== undefined) return;
    this.#lazyConfirm = setTimeout(() => {
      this.#lazyConfirm = undefined;
      this.#confirmNow();
    }, kLazyConfirmMs);
    this.#lazyConfirm.unref();
  }

  #confirmNow(): void {
    if (this.#confirming || this.#closed) return;
    this.#confirming = true;
    const covered = this.#published();
    const settle = (): void => {
      this.#confirming = false;
      this.#release(covered);
      if (this.#published() > 0) this.#confirmSoon();
    };
    this.#deps.nc.flush().then(settle, (error: unknown) => {
      // The connection dropped first: the client discards what it had not written, and what it had may
      // not have reached the server. Those frames are gone unreported (at most once); the bytes are free.
      this.#deps.log.warn({ err: error, bytes: covered }, 'frames handed to NATS before its connection dropped may be lost');
      settle();
    });
  }

  /** Bytes handed to the client and not yet confirmed: all held bytes but those still in frames here. */
  #published(): number {
    let queued = 0;
    for (const counted of this.#counted.values()) queued += counted;
    for (const [, out] of this.#held) queued += out.bytes;
    return this.#heldBytes - queued;
  }

  #release(bytes: number): void {
    this.#heldBytes = Math.max(0, this.#heldBytes - bytes);
    if (this.writable && this.#writableWaiters.length > 0) {
      const waiters = this.#writableWaiters;
      this.#writableWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
