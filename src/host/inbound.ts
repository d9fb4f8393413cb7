/**
 * The receiving side of a host: one reader and decoder per lane into it.
 * Each round reads every lane once (a budget per lane, and the slow-consumer
 * fault's allowance), checks a record's checksum when the option is on, and
 * dispatches it: messages (tell, ask) on the per-message path here, control
 * records through the table in control-records.ts. A record in hand is marked
 * in the host's block, so a thread that dies handling it has it reported.
 */
import { LaneDecoder, type RefFactory } from '../codec/codec.js';
import { Kind, kindOf, srcHostOf, type SpawnSpec } from '../codec/envelope.js';
import { DecodeError, errorToWire } from '../errors.js';
import type { Directory } from '../lane/directory.js';
import { HOST_INFLIGHT_DISPATCHED, HOST_INFLIGHT_END, HOST_INFLIGHT_FROM, HOST_INFLIGHT_START, HOST_THROTTLE, RECORD_FLAG_TRACED } from '../lane/layout.js';
import { TraceContextReader, TracedMessage } from '../codec/trace-context.js';
import type { LaneReader } from '../lane/ring.js';
import type { Logger } from 'pino';
import type { Cell } from '../actor/cell.js';
import type { ActorId } from '../lane/directory.js';
import type { HostOptions } from '../options.js';
import { kControlRecords, type ControlHost, type RecordIn } from './control-records.js';
import type { HostCounters } from './counters.js';
import { hostNameOf } from './host-name.js';
import type { Outbound } from './outbound.js';
import type { Runner } from './runner.js';

/** What the receiving side needs of its host. */
export interface InboundHost extends ControlHost {
  readonly index: number;
  readonly options: HostOptions;
  readonly counters: HostCounters;
  readonly log: Logger;
  readonly directory: Directory;
  readonly block: Int32Array;
  readonly cells: Map<number, Cell>;
  readonly out: Outbound;
  readonly runner: Runner;
  /** Set with the `tracing` option: a traced record's message reaches its handler with its trace context. */
  readonly tracing: unknown;
}

const kLaneBudget = 4096;

export class Inbound implements RecordIn {
  readonly #host: InboundHost;
  readonly #readers: LaneReader[];
  /** Decoder of each reader's lane, same order as #readers. */
  readonly #decoders: LaneDecoder[];
  /** The host each reader's lane comes from. */
  readonly #fromHosts: number[];
  readonly #traceContexts = new TraceContextReader();
  /** The lane being read right now, and its decoder. */
  #reader!: LaneReader;
  #decoder!: LaneDecoder;
  /** The last read stopped short for the slow-consumer fault: the next round waits a millisecond. */
  throttled = false;

  constructor(host: InboundHost, lanes: { reader: LaneReader; lane: SharedArrayBuffer; from: number }[], refFactory: RefFactory) {
    this.#host = host;
    this.#readers = lanes.map((l) => l.reader);
    // Two levels of headroom: the runtime wraps a user message (a dead-letter event carries one whole).
    this.#decoders = lanes.map((l) => new LaneDecoder(l.lane, host.options.maxMessageDepth + 2, refFactory));
    this.#fromHosts = lanes.map((l) => l.from);
  }

  hasData(): boolean {
    const readers = this.#readers;
    for (let i = 0; i < readers.length; i++) if (readers[i].hasData()) return true;
    return false;
  }

  readLanes(): number {
    const host = this.#host;
    let handled = 0;
    const readers = this.#readers;
    const block = host.block;
    const throttle = block[HOST_THROTTLE];
    let allowance = throttle > 0 ? throttle : Number.POSITIVE_INFINITY;
    const checksum = host.options.checksum;
    this.throttled = false;
    for (let i = 0; i < readers.length; i++) {
      const reader = readers[i];
      if (allowance <= 0) {
        this.throttled ||= reader.hasData();
        continue;
      }
      if (!reader.refresh()) continue;
      this.#reader = reader;
      this.#decoder = this.#decoders[i];
      let budget = Math.min(kLaneBudget, allowance);
      const from = this.#fromHosts[i] + 1;
      while (budget-- > 0 && reader.next()) {
        // Marks the record in hand: if this thread dies handling it, the main
        // thread dead-letters it and the replacement resumes after it.
        block[HOST_INFLIGHT_FROM] = from;
        block[HOST_INFLIGHT_START] = reader.recordPosition;
        block[HOST_INFLIGHT_END] = reader.nextPosition;
        block[HOST_INFLIGHT_DISPATCHED] = 0;
        try {
          if (checksum && !reader.intact()) this.#rejectDamaged(reader, from - 1);
          else this.#dispatch(reader);
        } catch (error) {
          // A fault of the runtime while handling one record (an answer too
          // large to send, say) costs that record, never the host.
          host.counters.errors++;
          host.log.error({ err: error, target: reader.target }, 'a record could not be handled');
          host.deadLetters.report(reader.target, reader.sender, undefined, 'runtime-error', errorToWire(error), reader.trace);
        }
        block[HOST_INFLIGHT_DISPATCHED] = 1;
        handled++;
        allowance--;
      }
      if (allowance <= 0 && reader.hasDataAfterCursor()) this.throttled = true;
      if (reader.discardedBytes !== 0) {
        host.counters.decodeErrors++;
        host.deadLetters.report(0, 0, undefined, 'lane-corrupt', errorToWire(new DecodeError(`${reader.discardedBytes} bytes of a corrupt lane from host ${String(hostNameOf(this.#fromHosts[i]))} discarded`)));
        reader.discardedBytes = 0;
      }
      reader.commit();
      block[HOST_INFLIGHT_FROM] = 0;
    }
    return handled;
  }

  #dispatch(reader: LaneReader): void {
    const kind = kindOf(reader.kindWord);
    if (kind === Kind.tell || kind === Kind.ask) {
      this.#message(reader, kind);
      return;
    }
    const handle = kControlRecords[kind];
    if (handle !== undefined) {
      handle(this.#host, this);
      return;
    }
    this.#host.counters.decodeErrors++;
    this.#host.deadLetters.report(reader.target, reader.sender, undefined, 'decode-failed', errorToWire(new DecodeError(`unknown record kind ${kind}`)));
  }

  /** A tell or ask: to the actor's cell here, or on to where it runs now. */
  #message(reader: LaneReader, kind: number): void {
    const host = this.#host;
    const kindWord = reader.kindWord;
    const target = reader.target;
    const sender = reader.sender;
    const corr = reader.corr;
    const placed = host.directory.hostOf(target);
    if (placed !== host.index) {
      if (placed >= 0) {
        this.#forward(placed, reader);
        return;
      }
      host.deadLetters.undeliverable(kind, target, sender, corr, reader.trace, this.tryDecode(), 'no-actor', srcHostOf(kindWord));
      return;
    }
    let msg: unknown;
    try {
      msg = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch (error) {
      this.#rejectRecord(kind, target, sender, corr, srcHostOf(kindWord), error);
      return;
    }
    if ((kindWord & RECORD_FLAG_TRACED) !== 0 && host.tracing !== undefined) msg = new TracedMessage(msg, this.#traceContexts.read(reader.bytes, reader.payloadEnd, kindWord));
    const cell = host.cells.get(target) ?? host.runner.placeholder(target as ActorId);
    const trace = reader.trace;
    if (cell.status === 'running' && !cell.busy && !cell.scheduled && cell.queued === 0) {
      host.runner.invoke(cell, kindWord, sender, corr, trace, msg);
    } else if (cell.queued >= host.options.mailboxLimit) {
      host.counters.backpressure++;
      host.deadLetters.undeliverable(kind, target, sender, corr, trace, msg, 'mailbox-full', srcHostOf(kindWord));
    } else {
      host.runner.accept(cell, kindWord, sender, corr, trace, msg);
    }
  }

  // The record in hand, as control records read it (RecordIn).
  get kind(): number {
    return kindOf(this.#reader.kindWord);
  }
  get target(): number {
    return this.#reader.target;
  }
  get sender(): number {
    return this.#reader.sender;
  }
  get corr(): number {
    return this.#reader.corr;
  }
  get src(): number {
    return srcHostOf(this.#reader.kindWord);
  }

  decode(): unknown {
    const reader = this.#reader;
    return this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
  }

  /** Decodes a payload only for reporting; undefined when it is empty or broken. */
  tryDecode(): unknown {
    const reader = this.#reader;
    if (reader.payloadEnd === reader.payloadStart) return undefined;
    try {
      return this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch {
      return undefined;
    }
  }

  /** A spawn or restart record's spec, or undefined after answering the requester with why not. */
  spawnSpec(intern: (text: string) => string): SpawnSpec | undefined {
    const host = this.#host;
    let spec: unknown;
    try {
      spec = this.decode();
    } catch (error) {
      host.counters.decodeErrors++;
      host.replyErrorTo(this.src, this.corr, error);
      return undefined;
    }
    const candidate = spec as Partial<SpawnSpec> | null;
    if (candidate === null || typeof candidate !== 'object' || typeof candidate.u !== 'string' || typeof candidate.e !== 'string' || typeof candidate.p !== 'number') {
      host.counters.decodeErrors++;
      host.replyErrorTo(this.src, this.corr, new DecodeError('a spawn record without module, export and parent'));
      return undefined;
    }
    candidate.u = intern(candidate.u);
    candidate.e = intern(candidate.e);
    return candidate as SpawnSpec;
  }

  #rejectRecord(kind: number, target: number, sender: number, corr: number, src: number, error: unknown): void {
    const host = this.#host;
    host.counters.decodeErrors++;
    host.counters.errors++;
    if (kind === Kind.ask) host.replyErrorTo(src, corr, error);
    host.deadLetters.report(target, sender, undefined, 'decode-failed', errorToWire(error));
  }

  /**
   * A record whose payload does not match its checksum (the `checksum`
   * option): it is not decoded, since a damaged payload may well decode, into
   * a different message. Whoever waits on it hears at once: the asker or the
   * requester (spawn, stop, watch, name claim, directive) gets the error, a
   * damaged reply rejects its ask.
   */
  #rejectDamaged(reader: LaneReader, fromHost: number): void {
    const host = this.#host;
    const kind = kindOf(reader.kindWord);
    const corr = reader.corr;
    const error = new DecodeError(`payload checksum mismatch (damaged on the lane from host ${String(hostNameOf(fromHost))})`);
    host.counters.decodeErrors++;
    host.counters.errors++;
    if (kind === Kind.reply || kind === Kind.replyError) {
      if (host.pending.has(corr)) host.pending.reject(corr, error);
    } else if (kind === Kind.ask || kind === Kind.spawn || kind === Kind.stop || kind === Kind.watch || kind === Kind.claimName || kind === Kind.restart || kind === Kind.halt) {
      host.replyErrorTo(srcHostOf(reader.kindWord), corr, error);
    }
    host.deadLetters.report(reader.target, reader.sender, undefined, 'checksum-failed', errorToWire(error), reader.trace);
  }

  /**
   * The actor runs elsewhere now (restarted on another host): pass the record
   * on, in order. Each lane has its own record structures, so it is decoded
   * and encoded again rather than copied.
   */
  #forward(to: number, reader: LaneReader): void {
    const kindWord = reader.kindWord;
    let msg: unknown;
    try {
      msg = this.#decoder.decode(reader.bytes, reader.payloadStart, reader.payloadEnd);
    } catch (error) {
      this.#rejectRecord(kindOf(kindWord), reader.target, reader.sender, reader.corr, srcHostOf(kindWord), error);
      return;
    }
    const out = this.#host.out;
    const flags = out.encode(to, msg, (kindWord & RECORD_FLAG_TRACED) === 0 ? undefined : this.#traceContexts.read(reader.bytes, reader.payloadEnd, kindWord));
    out.faultedMessage = msg;
    out.sendRemote(to, kindOf(kindWord), reader.target, reader.sender, reader.corr, false, srcHostOf(kindWord), reader.trace, flags);
    out.faultedMessage = undefined;
  }
}
