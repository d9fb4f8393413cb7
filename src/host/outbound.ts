/**
 * The sending side of a host: one encoder and one outbox per other host,
 * records written into the lanes (or held in their bounded overflow), lanes
 * published at the end of a turn, and the events a worker sends to main.
 * Part of the per-message path: the host calls it directly, once per record.
 */
import type { LaneEncoder } from '../codec/codec.js';
import { Kind, makeKindWord } from '../codec/envelope.js';
import { fitsWithin } from '../codec/size-hint.js';
import { InvalidArgumentError, MailboxFullError, PayloadTooLargeError } from '../errors.js';
import { RECORD_FLAG_TRACED, RECORD_HEADER_BYTES, RECORD_TRACE_BYTES } from '../lane/layout.js';
import { TraceContextWriter, type WireSpanContext } from '../codec/trace-context.js';
import type { LaneWriter } from '../lane/ring.js';
import type { HostOptions } from '../options.js';
import type { SystemEvent, SystemEventType } from './lifecycle-events.js';
import type { HostCounters } from './counters.js';
import type { DeadLetters } from './dead-letters.js';
import { FaultedLinks } from './faulted-links.js';
import type { HeldRecord, Outbox } from './outbox.js';
import type { PendingTable } from './pending.js';
import { hostNameOf } from './host-name.js';
import { now } from './clock.js';

/** What the sending side needs of its host. */
export interface OutboundHost {
  readonly index: number;
  readonly options: HostOptions;
  readonly counters: HostCounters;
  readonly pending: PendingTable;
  /** Makes sure a pump runs soon: a record waits to be published, or held records to move. */
  wake(): void;
  wants(type: SystemEventType): boolean;
  emit(event: SystemEvent): void;
  readonly deadLetters: DeadLetters;
}

export class Outbound {
  /** Encoder of the lane to each other host (undefined for this host). */
  readonly encoders: (LaneEncoder | undefined)[];
  readonly #outboxes: (Outbox | undefined)[];
  /** Outboxes with records written but not yet published this turn. */
  readonly #dirty: Outbox[] = [];
  /** Outboxes with records in overflow. */
  readonly #holding = new Set<Outbox>();
  readonly #host: OutboundHost;
  readonly #maxPayload: number;
  readonly #faults: FaultedLinks;
  /** The message being sent into a lane with injected faults, for the dead letter if they drop it. */
  faultedMessage: unknown = undefined;

  constructor(host: OutboundHost, outboxes: (Outbox | undefined)[], encoders: (LaneEncoder | undefined)[], maxPayload: number) {
    this.#host = host;
    this.#outboxes = outboxes;
    this.encoders = encoders;
    this.#maxPayload = maxPayload;
    this.#faults = new FaultedLinks(host, (out, r, bounded, awaitsReply) => this.#writeRecord(out, r.kindWord, r.target, r.sender, r.corr, r.trace, r.payload, 0, r.payload.length, bounded, awaitsReply, r.checksum ?? -1));
  }

  whenWritable(host: number): Promise<void> {
    return this.#outboxes[host]!.whenWritable();
  }

  /** A record with no payload (watch, unwatch, child-down). */
  sendEmpty(host: number, kind: number, target: number, sender: number, corr: number, bounded: boolean): boolean {
    this.encoders[host]!.useEncoded(kEmpty, 0, 0);
    return this.sendRemote(host, kind, target, sender, corr, bounded);
  }

  /** Encodes `payload` and sends it as a record to `host` (control records and replies: the hot path encodes itself). */
  sendValue(host: number, kind: number, target: number, sender: number, corr: number, payload: unknown, context?: WireSpanContext): boolean {
    const encoder = this.encoders[host]!;
    encoder.encode(payload);
    // A reply that fits only without its context goes without it: the context is a courtesy, the value is owed.
    const flags = context !== undefined && encoder.encodedEnd - encoder.encodedStart + RECORD_TRACE_BYTES <= this.#maxPayload ? this.appendTraceContext(host, context) : 0;
    return this.sendRemote(host, kind, target, sender, corr, false, this.#host.index, 0, flags);
  }

  /** Encodes a message for the lane to `host`, its trace context after it when it has one; returns the record flags to send it with. */
  encode(host: number, msg: unknown, context?: WireSpanContext): number {
    this.encoders[host]!.encode(msg);
    return context === undefined ? 0 : this.appendTraceContext(host, context);
  }

  /**
   * Puts a trace context after what the lane's encoder encoded last (in its
   * buffer, or in a scratch buffer of this host's: the record is copied out
   * of either before the next send) and returns the record flags that say so.
   */
  appendTraceContext(host: number, context: WireSpanContext): number {
    const encoder = this.encoders[host]!;
    const end = encoder.encodedEnd;
    if (encoder.extend(RECORD_TRACE_BYTES)) return this.#traceContexts.write(encoder.encoded as Buffer, end, context);
    const length = end - encoder.encodedStart;
    if (this.#traceScratch.length < length + RECORD_TRACE_BYTES) this.#traceScratch = Buffer.allocUnsafe(Math.max(2 * this.#traceScratch.length, length + RECORD_TRACE_BYTES));
    const scratch = this.#traceScratch;
    const encoded = encoder.encoded;
    const start = encoder.encodedStart;
    // Most messages are a few dozen bytes: a loop beats the native copy's call cost.
    if (length <= 64) for (let i = 0; i < length; i++) scratch[i] = encoded[start + i]!;
    else scratch.set(encoded.subarray(start, encoder.encodedEnd), 0);
    const flags = this.#traceContexts.write(scratch, length, context);
    encoder.useEncoded(scratch, 0, length + RECORD_TRACE_BYTES);
    return flags;
  }

  #traceScratch = Buffer.allocUnsafe(1024);
  readonly #traceContexts = new TraceContextWriter();

  /** Sends what the lane's encoder encoded last (see LaneEncoder#encode) as a record to `host`; `flags` go in the record's flags byte. */
  sendRemote(host: number, kind: number, target: number, sender: number, corr: number, bounded: boolean, replyHost = this.#host.index, trace = 0, flags = 0): boolean {
    const encoder = this.encoders[host]!;
    const bytes = encoder.encoded;
    const start = encoder.encodedStart;
    const end = encoder.encodedEnd;
    if (end - start > this.#maxPayload) throw new PayloadTooLargeError(end - start, this.#maxPayload);
    const out = this.#outboxes[host]!;
    const kindWord = (makeKindWord(kind, replyHost) | flags) >>> 0;
    const awaitsReply = corr !== 0 && replyHost === this.#host.index && kind !== Kind.reply && kind !== Kind.replyError;
    if (out.writer.faultMask() !== 0 || (out.faults !== undefined && out.faults.delayed.length > 0)) {
      this.#host.counters.messagesOut++;
      return this.#faults.send(out, kindWord, target, sender, corr, trace, bytes, start, end, bounded, awaitsReply, this.faultedMessage);
    }
    this.#host.counters.messagesOut++;
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
    const host = this.#host;
    if (out.tryWrite(kindWord, target, sender, corr, trace, bytes, start, end, checksum)) {
      if (awaitsReply) host.pending.track(corr, out.writer.lastPosition);
      if (out.writer.unpublished >= host.options.batchRecords) out.writer.publish();
      else if (!out.dirty) {
        out.dirty = true;
        this.#dirty.push(out);
        host.wake();
      }
      return true;
    }
    const { options, counters } = host;
    if (bounded && (out.held >= options.overflowLimit || out.heldBytes + (end - start) > options.overflowBytes)) {
      counters.messagesOut--;
      counters.backpressure++;
      if (host.wants('backpressure')) {
        host.emit({ type: 'backpressure', at: now(), host: hostNameOf(host.index), toHost: hostNameOf(out.toHost), target: target as never, held: out.held });
      }
      const byCount = out.held >= options.overflowLimit;
      throw new MailboxFullError(`host ${String(hostNameOf(out.toHost))}`, byCount ? options.overflowLimit : options.overflowBytes, byCount ? 'lane' : 'lane-bytes');
    }
    // Publish what is in the ring so the consumer can make room.
    out.writer.publish();
    if ((kindWord & RECORD_FLAG_TRACED) !== 0) {
      // A held payload is a view of the encoder's buffer, safe because msgpackr never writes over what it packed;
      // a trace context was written past that, where the next pack starts: it is held as a copy.
      bytes = new Uint8Array(bytes.subarray(start, end));
      start = 0;
      end = bytes.length;
    }
    out.hold(kindWord, target, sender, corr, trace, bytes, start, end, awaitsReply, checksum);
    this.#holding.add(out);
    // A pump must run after the hold: if the consumer freed space before it
    // saw our request, only our own check before parking (hasInput) notices.
    host.wake();
    return false;
  }

  /**
   * A worker's event for the main thread, bounded: past the bound, the events
   * that come in floods are dropped and counted. False when dropped here.
   */
  sendEvent(event: SystemEvent): boolean {
    const out = this.#outboxes[0]!;
    if ((event.type === 'deadLetter' || event.type === 'backpressure') && (out.heldBytes > kEventOverflowBytes || out.held > kEventOverflowRecords)) {
      // Main is not reading: events wait in the overflow. Past the bound the ones
      // that come in floods are dropped (stats eventsDropped) instead of filling
      // the heap; lifecycle events, which the runtime itself acts on, are always sent.
      return false;
    }
    if (event.type === 'deadLetter' && event.message !== undefined && !fitsWithin(event.message, kEventMessageBytes)) {
      // A large dead letter travels without its message: the event says so.
      const { message: _left, ...rest } = event;
      this.encoders[0]!.encode({ ...rest, messageOmitted: true });
    } else {
      this.encoders[0]!.encode(event);
    }
    this.sendRemote(0, Kind.event, 0, 0, 0, false);
    return true;
  }

  /** Moves held records into the rings where there is room now; marks their lanes for publishing. */
  drainHeld(): void {
    if (this.#holding.size === 0) return;
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

  readonly #trackPosition = (corr: number, position: number): void => this.#host.pending.track(corr, position);

  /** Publishes every lane written this turn. */
  flush(): void {
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      dirty[i].dirty = false;
      dirty[i].writer.publish();
    }
    dirty.length = 0;
  }

  get hasUnpublished(): boolean {
    return this.#dirty.length > 0;
  }

  get isHolding(): boolean {
    return this.#holding.size > 0;
  }

  /** A consumer may have freed space (and rung) between our last drain and now. */
  canDrain(): boolean {
    if (this.#holding.size > 0) for (const out of this.#holding) if (out.canDrain()) return true;
    return false;
  }

  heldRecords(): number {
    let held = 0;
    if (this.#holding.size > 0) for (const out of this.#holding) held += out.held;
    return held;
  }

  heldBytes(): number {
    let bytes = 0;
    if (this.#holding.size > 0) for (const out of this.#holding) bytes += out.heldBytes;
    return bytes;
  }

  /** Closing: every record that never made it into a lane (overflow, delayed by a fault), taken out. */
  takeLeftovers(): HeldRecord[] {
    const left: HeldRecord[] = [];
    for (const out of this.#outboxes) {
      if (out === undefined) continue;
      left.push(...out.takeHeld(), ...(out.faults?.delayed.splice(0) ?? []));
    }
    return left;
  }

  /**
   * Closing, once the leftovers are reported (their dead-letter events may
   * have been held or delayed again on the way to main): nothing is held or
   * released any more.
   */
  close(): void {
    this.#holding.clear();
    this.#faults.close();
  }

  /**
   * Writes a record with raw payload bytes straight into the lane to `host`,
   * bypassing validation and encoding: how tests and the chaos harness put
   * hostile bytes where a real peer's would be. `corruptFrame` also breaks the
   * record's length word.
   */
  injectRecord(host: number, kind: number, target: number, payload: Uint8Array, corruptFrame: boolean): void {
    const out = this.#outboxes[host];
    if (out === undefined) throw new InvalidArgumentError(`no lane from host ${this.#host.index} to host ${host}`);
    const writer: LaneWriter = out.writer;
    const at = writer.reserve(makeKindWord(kind, this.#host.index), target, 0, 0, 0, payload.length);
    if (at < 0) throw new MailboxFullError(`host ${String(hostNameOf(host))}`, 0, 'lane');
    writer.bytes.set(payload, at);
    if (corruptFrame) new DataView(writer.bytes.buffer, writer.bytes.byteOffset).setUint32(at - RECORD_HEADER_BYTES, 3, true);
    writer.publish();
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
