/**
 * The frames one node sends another on the destination's subject: many
 * records per NATS message. Each message is encoded once, when it is sent
 * (encodeForNode: the value is copied then, as on a lane, and its refs name
 * their node), and a frame is those bytes laid end to end behind msgpack
 * headers written here, so the receiver decodes (and checks) a whole frame
 * in one pass. A frame says who sent it (node and incarnation: where replies
 * go) and which incarnation of the destination it is for: a frame for an
 * incarnation that is gone is answered `nodedown`, never delivered to its
 * successor.
 *
 * Layout (msgpack): [from node, from incarnation, to incarnation, [record...]]
 *   tell    [1, target id, sender id, message]
 *   ask     [2, target id, sender id, correlation, timeout ms, message]
 * (the sender is an actor of the sending node, 0 for none)
 *   reply   [3, correlation, value]
 *   failure [4, correlation, WireError]
 *   entity tell [5, sender id, [entity, message]]
 *   entity ask  [6, sender id, correlation, timeout ms, [entity, message]]
 * (an entity message names the entity, not an actor: the owner's entity table activates it)
 * With the `tracing` option, a tell, ask or entity record may end with one
 * more field: the W3C context it was sent in (bin, 25 bytes: trace id, span
 * id, trace-flags); one that is not valid is ignored.
 */
import { decodeFromNode, type RefFactory } from '../codec/codec.js';
import { DecodeError, type WireError } from '../errors.js';

export const enum RecordKind {
  tell = 1,
  ask = 2,
  reply = 3,
  failure = 4,
  entityTell = 5,
  entityAsk = 6,
}

/** An entity as a message to its owner names it: what `system.entity(module, key, options)` took. */
export interface EntitySpec {
  module: string;
  export: string;
  key: string;
  type: string;
  args: unknown;
  idleMs: number;
}

export type FrameRecord =
  | [RecordKind.tell, number, number, unknown, Uint8Array?]
  | [RecordKind.ask, number, number, number, number, unknown, Uint8Array?]
  | [RecordKind.reply, number, unknown]
  | [RecordKind.failure, number, WireError]
  | [RecordKind.entityTell, number, [EntitySpec, unknown], Uint8Array?]
  | [RecordKind.entityAsk, number, number, number, [EntitySpec, unknown], Uint8Array?];

export interface Frame {
  from: string;
  fromIncarnation: number;
  toIncarnation: number;
  records: FrameRecord[];
}

/** Records before a frame is sent without waiting for the end of the turn. */
export const kFrameRecords = 1024;
/** Payload bytes before a frame is sent at once: well under NATS's 1 MiB default max_payload. */
export const kFrameBytes = 256 * 1024;

/** A frame being filled for one destination; `finish` lays it out in one buffer. */
export class FrameWriter {
  readonly toIncarnation: number;
  readonly #chunks: Uint8Array[] = [];
  /** Each record's kind, and its tell's target or its ask's correlation: what to report if the frame cannot go. */
  readonly kinds: number[] = [];
  readonly keys: number[] = [];
  bytes = 0;

  constructor(toIncarnation: number) {
    this.toIncarnation = toIncarnation;
  }

  get records(): number {
    return this.kinds.length;
  }

  /** `context`: the trace context it was sent in (traceContextBytes), if any. */
  tell(target: number, sender: number, message: Uint8Array, context?: Uint8Array): void {
    this.#record(RecordKind.tell, [target, sender], message, context);
  }

  ask(target: number, sender: number, corr: number, timeoutMs: number, message: Uint8Array, context?: Uint8Array): void {
    this.#record(RecordKind.ask, [target, sender, corr, timeoutMs], message, context);
  }

  /** `entityAndMessage`: `[EntitySpec, message]`, encoded. */
  entityTell(sender: number, entityAndMessage: Uint8Array, context?: Uint8Array): void {
    this.#record(RecordKind.entityTell, [sender], entityAndMessage, context);
  }

  entityAsk(sender: number, corr: number, timeoutMs: number, entityAndMessage: Uint8Array, context?: Uint8Array): void {
    this.#record(RecordKind.entityAsk, [sender, corr, timeoutMs], entityAndMessage, context);
  }

  /** A reply's value, or (kind failure) a WireError, already encoded. */
  answer(kind: RecordKind.reply | RecordKind.failure, corr: number, value: Uint8Array): void {
    this.#record(kind, [corr], value);
  }

  #record(kind: RecordKind, fields: number[], value: Uint8Array, context?: Uint8Array): void {
    const head = Buffer.allocUnsafe(2 + 5 * fields.length);
    head[0] = 0x92 + fields.length + (context === undefined ? 0 : 1); // fixarray: kind, the fields, the value (, the context)
    head[1] = kind;
    let at = 2;
    for (const field of fields) {
      head[at] = 0xce; // uint32
      head.writeUInt32BE(field >>> 0, at + 1);
      at += 5;
    }
    this.#chunks.push(head, value);
    if (context !== undefined) {
      const bin = Buffer.allocUnsafe(2 + context.length);
      bin[0] = 0xc4; // bin8
      bin[1] = context.length;
      bin.set(context, 2);
      this.#chunks.push(bin);
      this.bytes += bin.length;
    }
    this.kinds.push(kind);
    // What to report if the frame cannot go: a tell's target, an ask's correlation.
    this.keys.push(kind === RecordKind.ask ? fields[2] : kind === RecordKind.entityAsk ? fields[1] : fields[0]);
    this.bytes += head.length + value.length;
  }

  finish(from: string, fromIncarnation: number): Uint8Array {
    const name = Buffer.from(from, 'utf8');
    const head = Buffer.allocUnsafe(1 + 2 + name.length + 5 + 5 + 5);
    let at = 0;
    head[at++] = 0x94;
    head[at++] = 0xd9; // str8: node names are at most 64 characters of [A-Za-z0-9_-]
    head[at++] = name.length;
    name.copy(head, at);
    at += name.length;
    head[at] = 0xce;
    head.writeUInt32BE(fromIncarnation >>> 0, at + 1);
    head[at + 5] = 0xce;
    head.writeUInt32BE(this.toIncarnation >>> 0, at + 6);
    head[at + 10] = 0xdd; // array32 of records
    head.writeUInt32BE(this.kinds.length, at + 11);
    return Buffer.concat([head, ...this.#chunks], head.length + this.bytes);
  }
}

/**
 * A frame from the network, decoded and checked in one pass (scanMsgpack
 * first, as for a lane: nothing in it is trusted); refs in its messages
 * become live through `refFactory`. Anything else is a DecodeError.
 */
export function decodeFrame(bytes: Uint8Array, maxMessageDepth: number, refFactory: RefFactory): Frame {
  // Frame, records, record, then an entity record's [entity, message] and the entity's args: five levels above a message.
  const value = decodeFromNode(bytes, maxMessageDepth + 5, refFactory);
  if (!Array.isArray(value) || value.length !== 4) throw new DecodeError('not a troupe cluster frame');
  const [from, fromIncarnation, toIncarnation, records] = value as unknown[];
  if (typeof from !== 'string' || !isU32(fromIncarnation) || !isU32(toIncarnation) || !Array.isArray(records)) throw new DecodeError('not a troupe cluster frame');
  for (const record of records) if (!wellFormed(record)) throw new DecodeError('a malformed record in a cluster frame');
  return { from, fromIncarnation, toIncarnation, records: records as FrameRecord[] };
}

function wellFormed(record: unknown): record is FrameRecord {
  if (!Array.isArray(record)) return false;
  switch (record[0]) {
    case RecordKind.tell:
      return fieldsThenContext(record, 4) && isU32(record[1]) && isU32(record[2]);
    case RecordKind.reply:
      return record.length === 3 && isU32(record[1]);
    case RecordKind.ask:
      return fieldsThenContext(record, 6) && isU32(record[1]) && isU32(record[2]) && isU32(record[3]) && isU32(record[4]);
    case RecordKind.failure:
      return record.length === 3 && isU32(record[1]) && isWireError(record[2], 0);
    case RecordKind.entityTell:
      return fieldsThenContext(record, 3) && isU32(record[1]) && isEntityMessage(record[2]);
    case RecordKind.entityAsk:
      return fieldsThenContext(record, 5) && isU32(record[1]) && isU32(record[2]) && isU32(record[3]) && isEntityMessage(record[4]);
    default:
      return false;
  }
}

/** A record of `fields` fields, or of one more: its trace context, as bytes (checked when it is used). */
function fieldsThenContext(record: unknown[], fields: number): boolean {
  return record.length === fields || (record.length === fields + 1 && record[fields] instanceof Uint8Array);
}

/** What errorFromWire reads: code, name and message strings, and a cause of the same shape (at most three deep). */
function isWireError(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth > 3) return false;
  const wire = value as Partial<WireError>;
  if (typeof wire.code !== 'string' || typeof wire.name !== 'string' || typeof wire.message !== 'string') return false;
  if (wire.stack !== undefined && typeof wire.stack !== 'string') return false;
  return wire.cause === undefined || isWireError(wire.cause, depth + 1);
}

function isEntityMessage(value: unknown): boolean {
  if (!Array.isArray(value) || value.length !== 2) return false;
  const spec = value[0] as Partial<EntitySpec> | null;
  return (
    typeof spec === 'object' && spec !== null && typeof spec.module === 'string' && typeof spec.export === 'string' && typeof spec.key === 'string' && typeof spec.type === 'string' && isU32(spec.idleMs)
  );
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
