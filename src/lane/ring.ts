/**
 * The single-producer/single-consumer ring that carries records between two
 * hosts: LaneWriter on the producer's thread, LaneReader on the consumer's.
 * The per-message path of every cross-thread send is here, and only here.
 *
 * No locks and no CAS: the producer owns LANE_WRITE_POS, the consumer owns
 * LANE_READ_POS. Positions are free-running uint32 byte counters; `pos & mask`
 * is the offset in the data region. Records are published in batches: writes
 * land in the ring at once but become visible only when `publish()` stores the
 * write position (a release), which the consumer reads with `Atomics.load`
 * (an acquire).
 *
 * The rest of a lane lives beside it: the doorbell and the other host-block
 * signals (host-block.ts), the lane's msgpack dictionary (dictionary.ts), the
 * main thread's recovery of a dead thread's lane (recovery.ts) and injected
 * faults (lane-faults.ts).
 */
import {
  LANE_COMPLETE_POS,
  LANE_FAULTS,
  LANE_HEADER_BYTES,
  LANE_HIGH_WATER,
  LANE_READ_POS,
  LANE_RECORDS_READ,
  LANE_RECORDS_WRITTEN,
  LANE_WANTS_SPACE,
  LANE_WRITE_POS,
  RECORD_ALIGN,
  RECORD_CHECKSUM_BYTES,
  RECORD_FLAG_CHECKSUM,
  RECORD_FLAG_TRACED,
  RECORD_TRACE_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_PAD,
  LANE_DICTIONARY_BYTES,
} from './layout.js';
import { crc32 } from './crc32.js';
import { forceDoorbell, ringDoorbell } from './host-block.js';
import { readLaneFaults, type LaneFaultConfig } from './lane-faults.js';

// Re-exported while host/host.ts imports them from here; their home is host-block.ts.
export { beat, forceDoorbell, markAwake, setHostState } from './host-block.js';

export function allocateLane(capacityBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(LANE_HEADER_BYTES + capacityBytes + LANE_DICTIONARY_BYTES);
}

export function laneCapacity(lane: SharedArrayBuffer): number {
  return lane.byteLength - LANE_HEADER_BYTES - LANE_DICTIONARY_BYTES;
}

/**
 * Largest payload a lane of this capacity accepts: half the ring, so a record always fits after one wrap.
 * Room for a checksum is kept whether or not the lane carries one, so the option never changes which
 * messages are accepted.
 */
export function maxPayloadBytes(capacityBytes: number): number {
  return capacityBytes / 2 - RECORD_HEADER_BYTES - RECORD_CHECKSUM_BYTES;
}

const align = (n: number): number => (n + (RECORD_ALIGN - 1)) & ~(RECORD_ALIGN - 1);

/** A record's length rounded up to the record alignment: how far it moves the lane's position. */
export { align as alignRecord };

export class LaneWriter {
  readonly #header: Int32Array;
  readonly #words: Uint32Array;
  readonly bytes: Uint8Array;
  readonly capacity: number;
  readonly #mask: number;
  readonly #consumerBlock: Int32Array;
  #write: number;
  #knownRead: number;
  #unpublishedRecords = 0;
  /** Lane position (free-running) where the last reserved record starts. */
  lastPosition = 0;
  #highWater: number;
  /** Whether records carry a CRC-32 of their payload (RECORD_FLAG_CHECKSUM). */
  readonly checksum: boolean;
  // Numbers rather than a test of `checksum` on the hot path: with the option
  // off, reserve() costs one add, one or, and one branch more than it did.
  readonly #trailer: number;
  readonly #flag: number;
  /** Payload `[#unsealedStart, #unsealedEnd)` of the last record reserved, whose checksum is still to be written; -1: none. */
  #unsealedStart = -1;
  #unsealedEnd = 0;

  constructor(lane: SharedArrayBuffer, consumerHostBlock: SharedArrayBuffer, checksum = false) {
    this.checksum = checksum;
    this.#trailer = checksum ? RECORD_CHECKSUM_BYTES : 0;
    this.#flag = checksum ? RECORD_FLAG_CHECKSUM : 0;
    this.#header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
    this.capacity = laneCapacity(lane);
    this.#words = new Uint32Array(lane, LANE_HEADER_BYTES, this.capacity / 4);
    this.bytes = new Uint8Array(lane, LANE_HEADER_BYTES, this.capacity);
    this.#mask = this.capacity - 1;
    this.#consumerBlock = new Int32Array(consumerHostBlock);
    // A replacement producer continues where the dead one published: the main
    // thread has published the complete records it left first (recoverUnpublished).
    this.#write = Atomics.load(this.#header, LANE_WRITE_POS) >>> 0;
    this.#knownRead = Atomics.load(this.#header, LANE_READ_POS) >>> 0;
    this.#highWater = this.#header[LANE_HIGH_WATER];
  }

  get unpublished(): number {
    return this.#unpublishedRecords;
  }

  /**
   * Reserves room for a record with `payloadLength` payload bytes, writes its
   * header, and returns the byte offset (in `bytes`) where the payload goes,
   * or -1 when the ring has no room now. The caller copies the payload there
   * before it calls the writer again.
   *
   * With checksums on, `checksum` is the payload's CRC-32 when the caller
   * knows it (a fault-injected copy must carry the sum of the bytes before
   * they were damaged); by default (-1) the writer sums the payload it was
   * given, at the next reserve or publish, so the sum is always of the bytes
   * as they were copied and is written before the consumer can see them.
   */
  reserve(kindWord: number, target: number, sender: number, corr: number, trace: number, payloadLength: number, checksum = -1): number {
    const length = RECORD_HEADER_BYTES + payloadLength + this.#trailer;
    const need = align(length);
    let write = this.#write;
    let offset = write & this.#mask;
    const tail = this.capacity - offset;
    const wrap = need > tail;
    const want = wrap ? tail + need : need;
    if (want > this.capacity - ((write - this.#knownRead) >>> 0)) {
      this.#knownRead = Atomics.load(this.#header, LANE_READ_POS) >>> 0;
      if (want > this.capacity - ((write - this.#knownRead) >>> 0)) return -1;
    }
    if (wrap) {
      this.#words[offset >>> 2] = RECORD_PAD;
      write = (write + tail) >>> 0;
      offset = 0;
    }
    const w = offset >>> 2;
    const words = this.#words;
    this.lastPosition = write;
    words[w] = length;
    words[w + 1] = kindWord | this.#flag;
    words[w + 2] = target;
    words[w + 3] = sender;
    words[w + 4] = corr;
    words[w + 5] = trace;
    this.#write = (write + need) >>> 0;
    this.#unpublishedRecords++;
    const at = offset + RECORD_HEADER_BYTES;
    if (this.#trailer !== 0) this.#sum(at, at + payloadLength, checksum);
    return at;
  }

  /** A record's checksum: written now if known, else once its payload is in (the previous record's is by now). */
  #sum(start: number, end: number, checksum: number): void {
    if (this.#unsealedStart >= 0) this.#seal();
    if (checksum >= 0) {
      putChecksum(this.bytes, end, checksum);
      return;
    }
    this.#unsealedStart = start;
    this.#unsealedEnd = end;
  }

  /** Writes the checksum of the last reserved record's payload, which the caller has copied in by now. */
  #seal(): void {
    putChecksum(this.bytes, this.#unsealedEnd, crc32(this.bytes, this.#unsealedStart, this.#unsealedEnd));
    this.#unsealedStart = -1;
  }

  /**
   * The payload of the last reserved record is in: if this thread dies before
   * it publishes, the main thread still finds every complete record
   * (recoverUnpublished). One plain store on a line only the producer writes.
   */
  completed(): void {
    // Sealed now, not at the next reserve: a record recovered after this thread dies must carry its sum.
    if (this.#unsealedStart >= 0) this.#seal();
    this.#header[LANE_COMPLETE_POS] = this.#write | 0;
  }

  /** Makes reserved records visible; returns whether the consumer was parked and needed its doorbell rung. */
  publish(): boolean {
    if (this.#unpublishedRecords === 0) return false;
    if (this.#unsealedStart >= 0) this.#seal();
    Atomics.add(this.#header, LANE_RECORDS_WRITTEN, this.#unpublishedRecords);
    this.#unpublishedRecords = 0;
    Atomics.store(this.#header, LANE_WRITE_POS, this.#write | 0);
    this.#knownRead = Atomics.load(this.#header, LANE_READ_POS) >>> 0;
    const depth = (this.#write - this.#knownRead) >>> 0;
    if (depth > this.#highWater) {
      this.#highWater = depth;
      this.#header[LANE_HIGH_WATER] = depth;
    }
    return ringDoorbell(this.#consumerBlock);
  }

  /**
   * Whether the consumer has freed enough for a producer that was waiting for
   * space to resume: half the ring, the same mark at which the consumer rings
   * it (see LaneReader#commit), so neither side misses the other.
   */
  hasRoomToResume(payloadLength: number): boolean {
    this.#knownRead = Atomics.load(this.#header, LANE_READ_POS) >>> 0;
    const used = (this.#write - this.#knownRead) >>> 0;
    if (used > this.capacity >>> 1) return false;
    // ...and the record waiting actually fits, wrap-around padding included:
    // a "yes" that reserve() then refuses would spin the pump for nothing.
    const need = align(RECORD_HEADER_BYTES + payloadLength + this.#trailer);
    const tail = this.capacity - (this.#write & this.#mask);
    return (need > tail ? tail + need : need) <= this.capacity - used;
  }

  /** Faults injected on this lane (LaneFault bits); 0 when healthy. One plain load per send. */
  faultMask(): number {
    return this.#header[LANE_FAULTS];
  }

  faultConfig(): LaneFaultConfig {
    return readLaneFaults(this.#header);
  }

  /** Asks the consumer to ring this producer's doorbell when it frees space. */
  requestSpace(): void {
    Atomics.store(this.#header, LANE_WANTS_SPACE, 1);
  }
}

/**
 * Consumer side. A cursor: `next()` loads the next record's header into the
 * public fields; the payload is `bytes[payloadStart, payloadEnd)` and stays
 * valid until `commit()`.
 */
export class LaneReader {
  readonly #header: Int32Array;
  readonly #words: Uint32Array;
  /** The ring as a Buffer, so payloads copy out with `Buffer#copy` (no view allocated per record). */
  readonly bytes: Buffer;
  readonly capacity: number;
  readonly #mask: number;
  readonly #producerBlock: Int32Array;
  /** Every record must carry a checksum: one without it had its flags damaged, or comes from a writer that does not sum. */
  readonly #requireChecksum: boolean;
  #read: number;
  #limit: number;
  #consumedRecords = 0;
  kindWord = 0;
  target = 0;
  sender = 0;
  corr = 0;
  trace = 0;
  recordStart = 0;
  /** Free-running lane positions of the current record's start and of the next record. */
  recordPosition = 0;
  nextPosition = 0;
  payloadStart = 0;
  /** Where the message's bytes end; a trace context (RECORD_FLAG_TRACED) starts there. */
  payloadEnd = 0;
  /** Where everything the checksum covers ends: the message and its trace context. */
  bodyEnd = 0;
  /** Bytes skipped because a record's frame was invalid; reset by the caller. */
  discardedBytes = 0;

  constructor(lane: SharedArrayBuffer, producerHostBlock: SharedArrayBuffer, requireChecksum = false) {
    this.#requireChecksum = requireChecksum;
    this.#header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
    this.capacity = laneCapacity(lane);
    this.#words = new Uint32Array(lane, LANE_HEADER_BYTES, this.capacity / 4);
    this.bytes = Buffer.from(lane, LANE_HEADER_BYTES, this.capacity);
    this.#mask = this.capacity - 1;
    this.#producerBlock = new Int32Array(producerHostBlock);
    this.#read = Atomics.load(this.#header, LANE_READ_POS) >>> 0;
    this.#limit = this.#read;
  }

  /** Whether published records wait to be read (an acquire load of the write position). */
  hasData(): boolean {
    return (Atomics.load(this.#header, LANE_WRITE_POS) >>> 0) !== this.#read;
  }

  /** Bytes published and not yet consumed. */
  depthBytes(): number {
    return ((Atomics.load(this.#header, LANE_WRITE_POS) >>> 0) - (Atomics.load(this.#header, LANE_READ_POS) >>> 0)) >>> 0;
  }

  /** Whether records remain between the cursor and the snapshot `refresh()` took. */
  hasDataAfterCursor(): boolean {
    return this.#limit !== this.#read;
  }

  /** Snapshot the published write position; `next()` reads up to it. */
  refresh(): boolean {
    this.#limit = Atomics.load(this.#header, LANE_WRITE_POS) >>> 0;
    return this.#limit !== this.#read;
  }

  next(): boolean {
    for (;;) {
      const read = this.#read;
      const available = (this.#limit - read) >>> 0;
      if (available === 0) return false;
      const offset = read & this.#mask;
      const w = offset >>> 2;
      const length = this.#words[w];
      const tail = this.capacity - offset;
      if (length === RECORD_PAD) {
        if (tail > available) return this.#discard(available);
        this.#read = (read + tail) >>> 0;
        continue;
      }
      // Bounds first, unsigned: a corrupt length near 2^32 must not wrap align() to a small size.
      if (length < RECORD_HEADER_BYTES || length > tail || length > available || (offset & (RECORD_ALIGN - 1)) !== 0) {
        return this.#discard(available);
      }
      const size = align(length);
      if (size > tail || size > available) {
        // The frame is corrupt: no later boundary can be trusted, so drop what
        // is published (the caller reports it) and resynchronise at the end.
        return this.#discard(available);
      }
      const kindWord = this.#words[w + 1];
      let payloadEnd = offset + length;
      if ((kindWord & RECORD_FLAG_CHECKSUM) !== 0) {
        if (length < RECORD_HEADER_BYTES + RECORD_CHECKSUM_BYTES) return this.#discard(available);
        payloadEnd -= RECORD_CHECKSUM_BYTES;
      }
      const bodyEnd = payloadEnd;
      if ((kindWord & RECORD_FLAG_TRACED) !== 0) {
        if (payloadEnd - offset - RECORD_HEADER_BYTES < RECORD_TRACE_BYTES) return this.#discard(available);
        payloadEnd -= RECORD_TRACE_BYTES;
      }
      this.kindWord = kindWord;
      this.target = this.#words[w + 2];
      this.sender = this.#words[w + 3];
      this.corr = this.#words[w + 4];
      this.trace = this.#words[w + 5];
      this.recordStart = offset;
      this.recordPosition = read;
      this.payloadStart = offset + RECORD_HEADER_BYTES;
      this.payloadEnd = payloadEnd;
      this.bodyEnd = bodyEnd;
      this.#read = (read + size) >>> 0;
      this.nextPosition = this.#read;
      this.#consumedRecords++;
      return true;
    }
  }

  /**
   * Whether the current record's payload is as its producer wrote it: its
   * checksum matches (or it has none, where none is required). Checked before
   * decoding, since a flipped bit can still decode into a different message.
   */
  intact(): boolean {
    if ((this.kindWord & RECORD_FLAG_CHECKSUM) === 0) return !this.#requireChecksum;
    return crc32(this.bytes, this.payloadStart, this.bodyEnd) === this.bytes.readUInt32LE(this.bodyEnd);
  }

  #discard(available: number): false {
    this.discardedBytes += available;
    this.#read = this.#limit;
    return false;
  }

  /** Frees what was read for the producer; rings it if it asked for space. */
  commit(): void {
    if (this.#consumedRecords !== 0) {
      Atomics.add(this.#header, LANE_RECORDS_READ, this.#consumedRecords);
      this.#consumedRecords = 0;
    }
    Atomics.store(this.#header, LANE_READ_POS, this.#read | 0);
    // Ring a producer waiting for space only once half the ring is free: a
    // notify costs ~10 µs, and a producer woken for a sliver refills it at once.
    if (
      Atomics.load(this.#header, LANE_WANTS_SPACE) !== 0 &&
      ((Atomics.load(this.#header, LANE_WRITE_POS) - this.#read) >>> 0) <= this.capacity >>> 1 &&
      Atomics.exchange(this.#header, LANE_WANTS_SPACE, 0) !== 0
    ) {
      forceDoorbell(this.#producerBlock);
    }
  }
}

/** Little-endian at any offset: the trailer follows the payload, unaligned. */
function putChecksum(bytes: Uint8Array, at: number, checksum: number): void {
  bytes[at] = checksum;
  bytes[at + 1] = checksum >>> 8;
  bytes[at + 2] = checksum >>> 16;
  bytes[at + 3] = checksum >>> 24;
}

/** Read-only view of one lane's counters, for stats. */
export function laneCounters(lane: SharedArrayBuffer): { depthBytes: number; highWaterBytes: number; records: number; written: number; read: number } {
  const header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
  const write = Atomics.load(header, LANE_WRITE_POS) >>> 0;
  const read = Atomics.load(header, LANE_READ_POS) >>> 0;
  const written = Atomics.load(header, LANE_RECORDS_WRITTEN) >>> 0;
  const consumed = Atomics.load(header, LANE_RECORDS_READ) >>> 0;
  return {
    depthBytes: (write - read) >>> 0,
    highWaterBytes: header[LANE_HIGH_WATER] >>> 0,
    records: (written - consumed) >>> 0,
    written,
    read: consumed,
  };
}

