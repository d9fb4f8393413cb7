/**
 * The frames one node sends another on the destination's subject: many
 * records per NATS message, each record's payload the msgpack bytes of one
 * message (encodeForNode: refs name their node). A frame says who sent it
 * (node and incarnation, where replies go) and which incarnation of the
 * destination it was meant for: a frame for an incarnation that is gone is
 * answered `nodedown`, never delivered to its successor.
 */
import { Packr } from 'msgpackr';
import { decodeFromNode } from '../codec/codec.js';
import { DecodeError, type WireError } from '../errors.js';

export const enum RecordKind {
  tell = 1,
  ask = 2,
  reply = 3,
  failure = 4,
}

export type FrameRecord =
  /** [kind, target id, payload] */
  | [RecordKind.tell, number, Uint8Array]
  /** [kind, target id, correlation, timeout ms, payload] */
  | [RecordKind.ask, number, number, number, Uint8Array]
  /** [kind, correlation, payload] */
  | [RecordKind.reply, number, Uint8Array]
  /** [kind, correlation, error] */
  | [RecordKind.failure, number, WireError];

export interface Frame {
  /** Sender node and incarnation. */
  f: string;
  i: number;
  /** The destination's incarnation the records are for. */
  t: number;
  r: FrameRecord[];
}

const kFramePackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
/** Records before a frame is sent without waiting for the end of the turn. */
export const kFrameRecords = 512;
/** Payload bytes before a frame is sent at once: well under NATS's 1 MiB default max_payload. */
export const kFrameBytes = 256 * 1024;

export function encodeFrame(frame: Frame): Uint8Array {
  return kFramePackr.pack(frame);
}

/** A frame from the network: its shape is checked record by record; a bad one throws DecodeError. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const value = decodeFromNode(bytes, 6, () => {
    throw new DecodeError('a frame header holds no actor refs');
  }) as Partial<Frame>;
  if (value === null || typeof value !== 'object' || typeof value.f !== 'string' || !isU32(value.i) || !isU32(value.t) || !Array.isArray(value.r)) {
    throw new DecodeError('not a troupe cluster frame');
  }
  for (const record of value.r) if (!wellFormed(record)) throw new DecodeError('a malformed record in a cluster frame');
  return value as Frame;
}

function wellFormed(record: unknown): record is FrameRecord {
  if (!Array.isArray(record)) return false;
  switch (record[0]) {
    case RecordKind.tell:
      return record.length === 3 && isU32(record[1]) && record[2] instanceof Uint8Array;
    case RecordKind.ask:
      return record.length === 5 && isU32(record[1]) && isU32(record[2]) && isU32(record[3]) && record[4] instanceof Uint8Array;
    case RecordKind.reply:
      return record.length === 3 && isU32(record[1]) && record[2] instanceof Uint8Array;
    case RecordKind.failure:
      return record.length === 3 && isU32(record[1]) && typeof record[2] === 'object' && record[2] !== null && typeof (record[2] as WireError).code === 'string';
    default:
      return false;
  }
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
