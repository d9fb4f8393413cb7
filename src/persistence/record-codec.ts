/**
 * How events and snapshots are stored: plain msgpack (maps with their keys,
 * no shared record structures, so a row decodes alone, years later, in
 * another process), with a CRC-32 beside it, checked before decoding.
 */
import { Packr, Unpackr } from 'msgpackr';
import { assertEncodable, type MessageLimits } from '../codec/validate.js';
import { PersistenceCorruptError } from '../errors.js';
import { crc32 } from '../lane/crc32.js';
import type { StoredRecord } from './journal-protocol.js';

/** Largest event or snapshot, encoded: bigger state belongs in a blob store, with its key in the event. */
export const kMaxRecordBytes = 16 * 1024 * 1024;

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export interface EncodedRecord {
  data: Uint8Array;
  crc: number;
}

/** Encodes an event or a state; throws the message codec's typed errors for what cannot be stored. */
export function encodeRecord(value: unknown, limits: MessageLimits): EncodedRecord {
  assertEncodable(value, limits);
  const data = packr.pack(value);
  return { data, crc: crc32(data, 0, data.length) };
}

/** Decodes a stored record, or throws PersistenceCorruptError naming the journal and sequence number. */
export function decodeRecord(pid: string, what: 'event' | 'snapshot', stored: StoredRecord): unknown {
  const { data } = stored;
  const crc = crc32(data, 0, data.length);
  if (crc !== stored.crc) throw new PersistenceCorruptError(pid, stored.seq, what, `checksum ${crc.toString(16)} where ${stored.crc.toString(16)} was written`);
  try {
    return unpackr.unpack(data);
  } catch (error) {
    throw new PersistenceCorruptError(pid, stored.seq, what, `not msgpack: ${(error as Error).message}`, { cause: error });
  }
}
