/**
 * A lane whose producer or consumer thread has died, as the main thread
 * finds it: the complete records a dead producer never published, the
 * record a dead consumer was handling, and how far a consumer had read.
 * Cold paths, apart from the ring's (ring.ts), but bound by the same
 * record format.
 */
import {
  LANE_COMPLETE_POS,
  LANE_HEADER_BYTES,
  LANE_READ_POS,
  LANE_RECORDS_WRITTEN,
  LANE_WRITE_POS,
  RECORD_CHECKSUM_BYTES,
  RECORD_FLAG_CHECKSUM,
  RECORD_FLAG_TRACED,
  RECORD_TRACE_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_PAD,
} from './layout.js';
import { forceDoorbell } from './host-block.js';
import { alignRecord, laneCapacity } from './ring.js';

/**
 * After a producer's thread died: publishes the records it had written in
 * full but not yet published, so its last messages are delivered like the
 * rest (a record whose copy never finished stays out). Returns how many.
 * Only for the main thread, after the producer has exited and before a
 * replacement producer maps the lane.
 */
export function recoverUnpublished(lane: SharedArrayBuffer, consumerHostBlock: SharedArrayBuffer): number {
  const header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
  const published = Atomics.load(header, LANE_WRITE_POS) >>> 0;
  const complete = header[LANE_COMPLETE_POS] >>> 0;
  const capacity = laneCapacity(lane);
  const ahead = (complete - published) >>> 0;
  // Nothing pending, or a stale mark from before the last publish (free-running positions wrap).
  if (ahead === 0 || ahead > capacity) return 0;
  const words = new Uint32Array(lane, LANE_HEADER_BYTES, capacity / 4);
  let records = 0;
  for (let at = published; at !== complete; ) {
    const offset = at & (capacity - 1);
    const length = words[offset >>> 2];
    if (length === RECORD_PAD) {
      at = (at + capacity - offset) >>> 0;
      continue;
    }
    if (length < RECORD_HEADER_BYTES || offset + length > capacity) return 0;
    at = (at + alignRecord(length)) >>> 0;
    if (((complete - at) >>> 0) > capacity) return 0;
    records++;
  }
  Atomics.add(header, LANE_RECORDS_WRITTEN, records);
  Atomics.store(header, LANE_WRITE_POS, complete | 0);
  forceDoorbell(new Int32Array(consumerHostBlock));
  return records;
}

/** Where the consumer of a lane has committed its reads (free-running). */
export function consumedTo(lane: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(lane, 0, LANE_HEADER_BYTES / 4), LANE_READ_POS) >>> 0;
}

/**
 * Takes over a dead consumer's lane for one step: if the record at
 * [start, end) is not yet committed, returns its header and payload and
 * commits the lane up to its end (it died with the consumer; what came
 * before it had been handled). Only for the main thread, after the consumer
 * thread has exited.
 */
export function takeInFlightRecord(
  lane: SharedArrayBuffer,
  start: number,
  end: number,
): { kindWord: number; target: number; sender: number; corr: number; trace: number; bytes: Uint8Array; payloadStart: number; payloadEnd: number } | undefined {
  const header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
  const read = Atomics.load(header, LANE_READ_POS) >>> 0;
  const write = Atomics.load(header, LANE_WRITE_POS) >>> 0;
  // Committed past it already, or not a record the producer published: nothing in flight.
  if (((read - end) | 0) >= 0 || ((end - write) | 0) > 0 || ((start - read) | 0) < 0) return undefined;
  const capacity = laneCapacity(lane);
  const words = new Uint32Array(lane, LANE_HEADER_BYTES, capacity / 4);
  const offset = start & (capacity - 1);
  const length = words[offset >>> 2];
  if (length < RECORD_HEADER_BYTES || offset + length > capacity) return undefined;
  const w = offset >>> 2;
  const flagged = (words[w + 1] & RECORD_FLAG_CHECKSUM) !== 0;
  if (flagged && length < RECORD_HEADER_BYTES + RECORD_CHECKSUM_BYTES) return undefined;
  const traced = (words[w + 1] & RECORD_FLAG_TRACED) !== 0;
  const trailers = (flagged ? RECORD_CHECKSUM_BYTES : 0) + (traced ? RECORD_TRACE_BYTES : 0);
  if (length < RECORD_HEADER_BYTES + trailers) return undefined;
  const result = {
    kindWord: words[w + 1],
    target: words[w + 2],
    sender: words[w + 3],
    corr: words[w + 4],
    trace: words[w + 5],
    bytes: new Uint8Array(lane, LANE_HEADER_BYTES, capacity),
    payloadStart: offset + RECORD_HEADER_BYTES,
    payloadEnd: offset + length - trailers,
  };
  Atomics.store(header, LANE_READ_POS, end | 0);
  return result;
}
