/**
 * The one home of every SharedArrayBuffer layout. Three kinds of shared block:
 *
 * - a **lane** (one per ordered pair of hosts): an SPSC ring of records;
 * - a **host block** (one per host): doorbell, parked flag, heartbeat, stats
 *   and the processing-time histogram's counts;
 * - the **directory** (one per system): where every live actor runs.
 *
 * All of them are allocated by the main thread and outlive any worker, so a
 * replacement worker finds what its predecessor left.
 */

// ---- lane -----------------------------------------------------------------
// Producer and consumer words sit on separate 64-byte lines so the two threads
// do not false-share.
export const LANE_HEADER_BYTES = 256;
/** Producer-owned: free-running byte counter of published writes (uint32, wraps). */
export const LANE_WRITE_POS = 0;
/** Producer-owned: records published, free-running. */
export const LANE_RECORDS_WRITTEN = 1;
/** Producer-owned: deepest the lane has been, in bytes. */
export const LANE_HIGH_WATER = 2;
/** Set by a producer that is holding records in overflow; the consumer rings it when space returns. */
export const LANE_WANTS_SPACE = 3;
/**
 * Producer-owned, on a line of its own (the consumer never reads it): the
 * write position after the last record whose payload the producer has
 * finished copying, published or not. Plain stores; read by the main thread
 * after the producer's thread has died, to publish what it wrote and never
 * published (see recoverUnpublished).
 */
export const LANE_COMPLETE_POS = 48;
/** Consumer-owned: free-running byte counter of consumed bytes. */
export const LANE_READ_POS = 16;
/** Consumer-owned: records consumed, free-running. */
export const LANE_RECORDS_READ = 17;
// Fault injection (troupe/chaos), set by the main thread, read by the producer
// on every send: a single plain load while no fault is on.
/** Bit mask of the faults active on this lane (LaneFault); 0 when healthy. */
export const LANE_FAULTS = 32;
export const LANE_DROP_PPM = 33;
export const LANE_DUPLICATE_PPM = 34;
export const LANE_DELAY_US = 35;
export const LANE_DELAY_JITTER_US = 36;
export const LANE_CORRUPT_PPM = 37;
/** Seed of the producer's fault RNG: the same seed replays the same drops, duplicates and flips. */
export const LANE_FAULT_SEED = 38;

export const LaneFault = { cut: 1, drop: 2, duplicate: 4, delay: 8, corrupt: 16 } as const;

// ---- lane dictionary --------------------------------------------------------
// After the ring: the msgpack record structures (key lists) the producer has
// shared with the consumer. It lives with the lane, not in either thread, so
// a replacement worker decodes what its predecessor left and a replacement
// producer keeps numbering where the last one stopped.
export const LANE_DICTIONARY_BYTES = 16384;
/** Int32 index (from the dictionary's start) of the producer's version counter. */
export const DICT_VERSION = 0;
/** Int32 index of the encoded dictionary's byte length. */
export const DICT_LENGTH = 1;
export const DICT_HEADER_BYTES = 8;

// ---- record ---------------------------------------------------------------
// [u32 length][u8 kind | u8 flags | u16 srcHost][u32 target][u32 sender][u32 corr][u32 trace] payload... [u32 crc]
// `length` covers header + payload (+ crc, when flagged); records start 8-byte aligned. `corr`
// pairs an ask with its reply; `trace` is the user-visible correlation id
// that follows a request through every message it causes.
export const RECORD_HEADER_BYTES = 24;
export const RECORD_ALIGN = 8;
/**
 * Flags byte (bits 8–15 of the kind word): the payload is followed by a u32
 * CRC-32 of it (little-endian, unaligned), counted in `length` (the
 * `checksum` option). A trailer rather than a longer header: the 8-byte
 * alignment padding often has room for it, so it costs 4 bytes a record on
 * average instead of 8, and the payload still starts right after the header.
 */
export const RECORD_FLAG_CHECKSUM = 0x100;
export const RECORD_CHECKSUM_BYTES = 4;
/**
 * Flags byte: the payload ends with a W3C trace context (16-byte trace id,
 * 8-byte parent span id), counted in `length` and in the checksum, before the
 * CRC trailer when there is one (the `tracing` option; see
 * codec/trace-context.ts). Beside the payload, never in it: the user's
 * message decodes the same with or without it, and every path that copies a
 * record's payload bytes (overflow, injected faults, forwarding) keeps it.
 */
export const RECORD_FLAG_TRACED = 0x200;
/** Flags byte, with RECORD_FLAG_TRACED: the trace is sampled (W3C trace-flags bit 0). */
export const RECORD_FLAG_SAMPLED = 0x400;
export const RECORD_TRACE_BYTES = 24;
/** A length word of this value marks padding up to the end of the ring (wrap-around). */
export const RECORD_PAD = 0xffffffff;

// ---- host block -----------------------------------------------------------
export const HOST_DOORBELL = 0;
export const HOST_PARKED = 1;
export const HOST_HEARTBEAT = 2;
export const HOST_STATE = 3;
/**
 * The lane record being handled right now (so the main thread can tell, if
 * this worker dies, which message died with it): producing host + 1 (0: none),
 * and the record's start and end positions in that lane.
 */
export const HOST_INFLIGHT_FROM = 4;
export const HOST_INFLIGHT_START = 5;
export const HOST_INFLIGHT_END = 6;
/** Slow-consumer fault: at most this many records read per millisecond (0: no limit). */
export const HOST_THROTTLE = 7;
/**
 * 1 once the record in HOST_INFLIGHT_* has been dispatched (handled, queued in
 * a mailbox, whose count reports it, or passed on): if the thread dies then,
 * the record is not reported again; 0 while its dispatch is under way.
 */
export const HOST_INFLIGHT_DISPATCHED = 8;
export const HOST_INT_SLOTS = 16;
/** Float64 stats start after the int words. */
export const HOST_STATS_OFFSET = HOST_INT_SLOTS * 4;

export const HostState = { starting: 0, running: 1, stopping: 2, exited: 3 } as const;

/** Float64 slots of a host's stats, written by the host at the end of each turn. */
export const Stat = {
  messagesIn: 0,
  messagesOut: 1,
  deadLetters: 2,
  errors: 3,
  restarts: 4,
  actors: 5,
  busyMs: 6,
  heapUsed: 7,
  heapTotal: 8,
  backpressure: 9,
  overflowQueued: 10,
  mailboxQueued: 11,
  busyActors: 12,
  turns: 13,
  updatedAt: 14,
  spawned: 15,
  stopped: 16,
  decodeErrors: 17,
  eventsDropped: 18,
  pendingAsks: 19,
  elu: 20,
  faultsDropped: 21,
  faultsDuplicated: 22,
  faultsDelayed: 23,
  faultsCorrupted: 24,
  /** Payload bytes held in this host's lane overflows (bounded by overflowBytes per lane). */
  overflowBytes: 25,
} as const;
export const STAT_SLOTS = 32;
export const HOST_HISTOGRAM_OFFSET = HOST_STATS_OFFSET + STAT_SLOTS * 8;

// ---- directory ------------------------------------------------------------
// An actor id is (generation << SLOT_BITS) | slot. A directory entry is
// (generation << 8) | (host + 1); host bits 0 mean "no live actor in this slot".
// Slot 0 is never handed out, so id 0 means "nobody".
export const SLOT_BITS = 21;
export const MAX_SLOTS = 1 << SLOT_BITS;
export const SLOT_MASK = MAX_SLOTS - 1;
export const GENERATION_MASK = (1 << (32 - SLOT_BITS)) - 1;
export const DIRECTORY_HEADER_INTS = 16;
export const DIR_NEXT_SLOT = 0;
/** Bit mask of event types someone listens to on the main thread; hosts skip the rest. */
export const DIR_EVENT_INTEREST = 1;
/** Non-zero once shutdown began. */
export const DIR_SHUTTING_DOWN = 2;
