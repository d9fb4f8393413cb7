/**
 * The single-producer/single-consumer ring that carries records between two
 * hosts, and the doorbell a producer rings when the consumer is parked.
 *
 * No locks and no CAS: the producer owns LANE_WRITE_POS, the consumer owns
 * LANE_READ_POS. Positions are free-running uint32 byte counters; `pos & mask`
 * is the offset in the data region. Records are published in batches: writes
 * land in the ring at once but become visible only when `publish()` stores the
 * write position (a release), which the consumer reads with `Atomics.load`
 * (an acquire).
 */
import {
  HOST_DOORBELL,
  HOST_HEARTBEAT,
  HOST_PARKED,
  HOST_STATE,
  HOST_THROTTLE,
  DICT_HEADER_BYTES,
  DICT_LENGTH,
  DICT_VERSION,
  LANE_COMPLETE_POS,
  LANE_CORRUPT_PPM,
  LANE_DELAY_JITTER_US,
  LANE_DELAY_US,
  LANE_DICTIONARY_BYTES,
  LANE_DROP_PPM,
  LANE_DUPLICATE_PPM,
  LANE_FAULTS,
  LANE_FAULT_SEED,
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
  RECORD_HEADER_BYTES,
  RECORD_PAD,
} from './layout.js';
import { crc32 } from './crc32.js';

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
  payloadEnd = 0;
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
      this.kindWord = kindWord;
      this.target = this.#words[w + 2];
      this.sender = this.#words[w + 3];
      this.corr = this.#words[w + 4];
      this.trace = this.#words[w + 5];
      this.recordStart = offset;
      this.recordPosition = read;
      this.payloadStart = offset + RECORD_HEADER_BYTES;
      this.payloadEnd = payloadEnd;
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
    return crc32(this.bytes, this.payloadStart, this.payloadEnd) === this.bytes.readUInt32LE(this.payloadEnd);
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

/** Rings a host's doorbell only if it is parked; an unconditional notify costs the producer ~10 µs. */
export function ringDoorbell(hostBlock: Int32Array): boolean {
  if (Atomics.load(hostBlock, HOST_PARKED) === 0) return false;
  forceDoorbell(hostBlock);
  return true;
}

export function forceDoorbell(hostBlock: Int32Array): void {
  Atomics.add(hostBlock, HOST_DOORBELL, 1);
  Atomics.notify(hostBlock, HOST_DOORBELL);
}

/**
 * Parking protocol (Dekker-style): the consumer stores PARKED=1, then checks
 * its lanes; a producer publishes, then loads PARKED. With sequentially
 * consistent atomics one of the two always sees the other, so no wake-up is
 * lost. The doorbell value is read before the check so a ring in between makes
 * the wait return at once.
 */
export function markParked(hostBlock: Int32Array): number {
  Atomics.store(hostBlock, HOST_PARKED, 1);
  return Atomics.load(hostBlock, HOST_DOORBELL);
}

export function markAwake(hostBlock: Int32Array): void {
  Atomics.store(hostBlock, HOST_PARKED, 0);
}

export function isParked(hostBlock: Int32Array): boolean {
  return Atomics.load(hostBlock, HOST_PARKED) !== 0;
}

/** Resolves when the doorbell moves away from `seen` (or at once if it already has). */
export function waitDoorbell(hostBlock: Int32Array, seen: number): Promise<unknown> | undefined {
  const result = Atomics.waitAsync(hostBlock, HOST_DOORBELL, seen);
  return result.async ? result.value : undefined;
}

export function beat(hostBlock: Int32Array): void {
  Atomics.add(hostBlock, HOST_HEARTBEAT, 1);
}

export function readHeartbeat(hostBlock: Int32Array): number {
  return Atomics.load(hostBlock, HOST_HEARTBEAT);
}

export function setHostState(hostBlock: Int32Array, state: number): void {
  Atomics.store(hostBlock, HOST_STATE, state);
}

export function hostState(hostBlock: Int32Array): number {
  return Atomics.load(hostBlock, HOST_STATE);
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

/**
 * The lane's dictionary (see layout.ts). Written only by the producer, before
 * it publishes any record that needs the new entry, so a consumer that has
 * seen such a record (an acquire of the write position) sees the entry too.
 */
export class LaneDictionary {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(lane: SharedArrayBuffer) {
    const start = lane.byteLength - LANE_DICTIONARY_BYTES;
    this.#words = new Int32Array(lane, start, DICT_HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(lane, start + DICT_HEADER_BYTES, LANE_DICTIONARY_BYTES - DICT_HEADER_BYTES);
  }

  get capacity(): number {
    return this.#bytes.length;
  }

  /** Even when stable; odd while the producer is writing (a seqlock). */
  get version(): number {
    return Atomics.load(this.#words, DICT_VERSION);
  }

  /**
   * A private copy of the contents and the version it belongs to, or
   * undefined if the producer kept writing through every attempt. The
   * producer may add a structure (for a later record) while a consumer reads
   * one it already needs: the version brackets the copy, as in a seqlock.
   */
  read(): { version: number; bytes: Uint8Array } | undefined {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const before = Atomics.load(this.#words, DICT_VERSION);
      if ((before & 1) !== 0) continue;
      const length = Math.min(Atomics.load(this.#words, DICT_LENGTH), this.#bytes.length);
      const bytes = this.#bytes.slice(0, Math.max(0, length));
      if (Atomics.load(this.#words, DICT_VERSION) === before) return { version: before, bytes };
    }
    return undefined;
  }

  write(contents: Uint8Array): boolean {
    if (contents.length > this.#bytes.length) return false;
    Atomics.add(this.#words, DICT_VERSION, 1);
    this.#bytes.set(contents);
    Atomics.store(this.#words, DICT_LENGTH, contents.length);
    Atomics.add(this.#words, DICT_VERSION, 1);
    return true;
  }
}

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
    at = (at + align(length)) >>> 0;
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
  const result = {
    kindWord: words[w + 1],
    target: words[w + 2],
    sender: words[w + 3],
    corr: words[w + 4],
    trace: words[w + 5],
    bytes: new Uint8Array(lane, LANE_HEADER_BYTES, capacity),
    payloadStart: offset + RECORD_HEADER_BYTES,
    payloadEnd: offset + length - (flagged ? RECORD_CHECKSUM_BYTES : 0),
  };
  Atomics.store(header, LANE_READ_POS, end | 0);
  return result;
}

/** Fault injection on one lane (set by the main thread for troupe/chaos). */
export interface LaneFaultConfig {
  mask: number;
  dropPpm: number;
  duplicatePpm: number;
  delayUs: number;
  delayJitterUs: number;
  corruptPpm: number;
  seed: number;
}

function readLaneFaults(header: Int32Array): LaneFaultConfig {
  return {
    mask: Atomics.load(header, LANE_FAULTS),
    dropPpm: header[LANE_DROP_PPM],
    duplicatePpm: header[LANE_DUPLICATE_PPM],
    delayUs: header[LANE_DELAY_US],
    delayJitterUs: header[LANE_DELAY_JITTER_US],
    corruptPpm: header[LANE_CORRUPT_PPM],
    seed: header[LANE_FAULT_SEED],
  };
}

/** Sets (or, with mask 0, clears) the faults of a lane; parameters before the mask, so a producer never sees half a setting. */
export function setLaneFaults(lane: SharedArrayBuffer, config: LaneFaultConfig): void {
  const header = new Int32Array(lane, 0, LANE_HEADER_BYTES / 4);
  header[LANE_DROP_PPM] = config.dropPpm;
  header[LANE_DUPLICATE_PPM] = config.duplicatePpm;
  header[LANE_DELAY_US] = config.delayUs;
  header[LANE_DELAY_JITTER_US] = config.delayJitterUs;
  header[LANE_CORRUPT_PPM] = config.corruptPpm;
  header[LANE_FAULT_SEED] = config.seed;
  Atomics.store(header, LANE_FAULTS, config.mask);
}

export function laneFaults(lane: SharedArrayBuffer): LaneFaultConfig {
  return readLaneFaults(new Int32Array(lane, 0, LANE_HEADER_BYTES / 4));
}

/** Sets a host's slow-consumer throttle (records per millisecond; 0 lifts it). */
export function setHostThrottle(hostBlock: SharedArrayBuffer, recordsPerMs: number): void {
  Atomics.store(new Int32Array(hostBlock, 0, 16), HOST_THROTTLE, recordsPerMs);
}
