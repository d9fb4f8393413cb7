/**
 * msgpack payloads of records, one encoder per outgoing lane and one decoder
 * per incoming lane. Objects travel as msgpackr records whose structures (key
 * lists) the lane's producer shares with its consumer through the lane's
 * dictionary, so keys are not repeated in every message and decoding is about
 * twice as fast as plain maps. Encoding trusts what `assertEncodable` let
 * through; decoding trusts nothing (see scan.ts): not the payload, and not the
 * dictionary either.
 */
import { Packr, REUSE_BUFFER_MODE, Unpackr, addExtension } from 'msgpackr';
import { DecodeError, UnencodableMessageError } from '../errors.js';
import { LaneDictionary } from '../lane/dictionary.js';
import { kMaxRecordStructures, kUnknownRecord, scanMsgpack } from './scan.js';
import { kRefMarker } from './ref-marker.js';

/**
 * Extension type of an ActorRef inside a payload: u32 id (big-endian) + UTF-8 name for a ref of this
 * node; for a ref that names its node (cluster), four zero bytes (id 0 is never an actor's), then u32
 * id, u32 incarnation, u8 length of the node's name, the node's name and the actor's name, UTF-8.
 */
export const kRefExtType = 0x2a;

/** A node of a cluster, as refs name it: the incarnation tells a node from itself before a restart. */
export interface NodeAddress {
  readonly node: string;
  readonly incarnation: number;
}

export interface RefLike {
  readonly id: number;
  readonly name: string | undefined;
  /** The node it lives on, for a ref to another node of a cluster. */
  readonly address?: NodeAddress | undefined;
}

export type RefFactory = (id: number, name: string | undefined, address?: NodeAddress) => unknown;

/** Longest node name a ref carries (one length byte). */
export const kMaxNodeNameBytes = 255;

// msgpackr's extensions are per thread, not per codec; the factory that turns
// a decoded ref into a live one is the decoding host's, set for the duration of
// each decode (decoding is synchronous, so no other host can interleave).
let activeRefFactory: RefFactory | undefined;
/** While a frame for another node is encoded: the node this one is, stamped on every ref that names none. */
let activeLocalNode: NodeAddress | undefined;
let extensionInstalled = false;

class RefMarkerClass {}

function installRefExtension(): void {
  if (extensionInstalled) return;
  extensionInstalled = true;
  // msgpackr matches extensions by class; every troupe ref carries kRefMarker,
  // so point the extension at a class whose [Symbol.hasInstance] checks it.
  Object.defineProperty(RefMarkerClass, Symbol.hasInstance, {
    value: (value: unknown) => typeof value === 'object' && value !== null && (value as { [kRefMarker]?: unknown })[kRefMarker] === true,
  });
  addExtension({
    Class: RefMarkerClass,
    type: kRefExtType,
    pack(ref: RefLike): Buffer {
      const name = ref.name === undefined ? undefined : Buffer.from(ref.name, 'utf8');
      const address = ref.address ?? activeLocalNode;
      if (address === undefined) {
        const out = Buffer.allocUnsafe(4 + (name?.length ?? 0));
        out.writeUInt32BE(ref.id >>> 0, 0);
        name?.copy(out, 4);
        return out;
      }
      const node = Buffer.from(address.node, 'utf8');
      const out = Buffer.allocUnsafe(13 + node.length + (name?.length ?? 0));
      out.writeUInt32BE(0, 0);
      out.writeUInt32BE(ref.id >>> 0, 4);
      out.writeUInt32BE(address.incarnation >>> 0, 8);
      out[12] = node.length;
      node.copy(out, 13);
      name?.copy(out, 13 + node.length);
      return out;
    },
    unpack(data: Uint8Array): unknown {
      if (data.length < 4) throw new DecodeError('an actor ref shorter than 4 bytes');
      const head = readU32(data, 0);
      if (head !== 0) {
        const name = data.length > 4 ? Buffer.from(data.buffer, data.byteOffset + 4, data.length - 4).toString('utf8') : undefined;
        if (activeRefFactory === undefined) return { id: head, name };
        return activeRefFactory(head, name);
      }
      if (data.length < 13 || data.length < 13 + data[12]) throw new DecodeError('a node-addressed actor ref shorter than its header');
      const id = readU32(data, 4);
      const address: NodeAddress = { node: Buffer.from(data.buffer, data.byteOffset + 13, data[12]).toString('utf8'), incarnation: readU32(data, 8) };
      const rest = 13 + data[12];
      const name = data.length > rest ? Buffer.from(data.buffer, data.byteOffset + rest, data.length - rest).toString('utf8') : undefined;
      if (activeRefFactory === undefined) return { id, name, address };
      return activeRefFactory(id, name, address);
    },
  });
}

function readU32(data: Uint8Array, at: number): number {
  return ((data[at] << 24) >>> 0) + ((data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]);
}

const kNoBytes = new Uint8Array(0);
/** Keys longer than this, or `__proto__`, never become a shared structure (the object travels as a plain map). */
const kMaxSharedKeyLength = 128;
/** The dictionary itself is plain msgpack (no records), decoded like any untrusted payload. */
const kPlainPackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const kPlainUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** Kept copies are plain msgpack: they outlive any lane's dictionary. */
const kKeptPackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
// copyBuffers: the bytes decoded are a small Buffer from Node's shared pool; a binary value viewing
// them would pin that pool slab and let its actor read and write its neighbours.
const kKeptUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, copyBuffers: true });

/**
 * A copy of a value that no later mutation of it reaches (init args kept
 * for restarts: an init that returns its args as state must not change
 * what the next incarnation gets). Only for values that already passed
 * `assertEncodable` or came out of a lane. The bytes are kept as a
 * one-byte string: ~20 B of header against ~100 B for a Uint8Array and its
 * backing store, for each of a million actors.
 */
export function keepCopy(value: unknown): string {
  installRefExtension();
  return kKeptPackr.pack(value).toString('latin1');
}

/** A fresh value from `keepCopy`'s string, its refs made live by `refFactory`. */
export function fromKeptCopy(kept: string, refFactory: RefFactory): unknown {
  const previous = activeRefFactory;
  activeRefFactory = refFactory;
  try {
    return kKeptUnpackr.unpack(Buffer.from(kept, 'latin1'));
  } finally {
    activeRefFactory = previous;
  }
}

/** Frames between nodes are plain msgpack: no dictionary is shared across a network. */
const kNodePackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const kNodeUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, copyBuffers: true });

/**
 * A value's bytes for another node of a cluster: every ref in it names its node, this node (`local`)
 * for refs of this node's actors. Only for values that passed `assertEncodable`.
 */
export function encodeForNode(value: unknown, local: NodeAddress): Uint8Array {
  installRefExtension();
  const previous = activeLocalNode;
  activeLocalNode = local;
  try {
    return kNodePackr.pack(value);
  } catch (error) {
    throw new UnencodableMessageError('message', 'the value could not be encoded (a getter or Proxy trap threw or changed it)', { cause: error });
  } finally {
    activeLocalNode = previous;
  }
}

/** Decodes bytes from another node, trusting none of them; refs become live through `refFactory`. */
export function decodeFromNode(bytes: Uint8Array, maxDepth: number, refFactory: RefFactory): unknown {
  installRefExtension();
  const reason = scanMsgpack(bytes, 0, bytes.length, maxDepth, kRefExtType);
  if (reason !== undefined) throw new DecodeError(reason);
  const previous = activeRefFactory;
  activeRefFactory = refFactory;
  try {
    return kNodeUnpackr.unpack(bytes);
  } catch (error) {
    throw error instanceof DecodeError ? error : new DecodeError('msgpack decoding failed', { cause: error });
  } finally {
    activeRefFactory = previous;
  }
}

/** Plain msgpack, only to measure: records never make a payload larger, so no lane holds more than this. */
const kSizePackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

/**
 * The size of `value`'s plain msgpack encoding, the bound every payload is
 * held to on every host (what a lane holds depends on the keys its
 * dictionary already shares). Only for values that passed the checks of
 * `assertEncodable`, which calls it when its cheap bounds cannot decide.
 */
export function plainEncodedSize(value: unknown): number {
  installRefExtension();
  // msgpackr keeps writing after its last reuse-mode result, so bytes encoded for a lane stay intact.
  const target = kSizePackr.pack(value, REUSE_BUFFER_MODE) as Buffer & { start?: number; end?: number };
  return target.start === undefined ? target.length : target.end! - target.start;
}

/** Copies `source[start, end)` to `target[at...]`; a loop beats a view plus `set` for small payloads. */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  const length = end - start;
  if (length <= 64) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i];
  } else {
    target.set(source.subarray(start, end), at);
  }
}

/** Encodes payloads for one lane; the bytes are `encoded[encodedStart, encodedEnd)` until the next encode. */
export class LaneEncoder {
  readonly #packr: Packr;
  readonly #dictionary: LaneDictionary;
  /** Rough size the dictionary would have, to refuse sharing before it overflows. */
  #dictionaryEstimate = 8;
  encoded: Uint8Array = kNoBytes;
  encodedStart = 0;
  encodedEnd = 0;

  constructor(lane: SharedArrayBuffer) {
    installRefExtension();
    this.#dictionary = new LaneDictionary(lane);
    // A replacement producer continues the numbering its predecessor shared.
    const inherited = trustedStructures(this.#dictionary.read()?.bytes ?? kNoBytes) ?? [];
    for (const keys of inherited) this.#dictionaryEstimate += estimateSize(keys);
    const structures = Object.assign(inherited, { sharedLength: inherited.length });
    this.#packr = new Packr({
      structures,
      maxSharedStructures: kMaxRecordStructures,
      // Once the shared structures are taken, new shapes travel as plain maps
      // (no inline record definitions, which the consumer would have to trust).
      maxOwnStructures: 0,
      moreTypes: false,
      bundleStrings: false,
      shouldShareStructure: (keys: string[]) => this.#shouldShare(keys),
      saveStructures: (shared: string[][]) => this.#dictionary.write(kPlainPackr.pack(shared.map((keys) => [...keys]))),
    });
  }

  #shouldShare(keys: string[]): boolean {
    for (const key of keys) if (key === '__proto__' || key.length > kMaxSharedKeyLength) return false;
    const size = estimateSize(keys);
    if (this.#dictionaryEstimate + size > this.#dictionary.capacity) return false;
    this.#dictionaryEstimate += size;
    return true;
  }

  /** Encodes into msgpackr's own reused buffer: no view allocated per message. */
  encode(value: unknown): void {
    let target: Buffer & { start?: number; end?: number };
    try {
      target = this.#packr.pack(value, REUSE_BUFFER_MODE) as typeof target;
    } catch (error) {
      // Validation read the value once; a getter or Proxy trap can answer differently now.
      throw new UnencodableMessageError('message', 'the value could not be encoded (a getter or Proxy trap threw or changed it)', { cause: error });
    }
    this.encoded = target;
    if (target.start === undefined) {
      // A pack that shared a new structure returns a plain view instead.
      this.encodedStart = 0;
      this.encodedEnd = target.length;
      this.#inPackrBuffer = false;
    } else {
      this.encodedStart = target.start;
      this.encodedEnd = target.end!;
      this.#inPackrBuffer = true;
    }
  }

  /** Whether `encoded` is msgpackr's own buffer, whose bytes past the end are free until the next pack. */
  #inPackrBuffer = false;

  /**
   * Makes room for `n` more bytes right after what was encoded last (a trace
   * context), in msgpackr's buffer when it has them. The next pack writes
   * over them: a record is copied into its lane before that, and one held in
   * overflow must be held as a copy (Outbound does). False when there is no
   * room; the caller copies instead.
   */
  extend(n: number): boolean {
    if (!this.#inPackrBuffer || this.encoded.length - this.encodedEnd < n) return false;
    this.encodedEnd += n;
    return true;
  }

  /** Points `encoded` at bytes that are already a payload (empty records, injection). */
  useEncoded(bytes: Uint8Array, start: number, end: number): void {
    this.#inPackrBuffer = false;
    this.encoded = bytes;
    this.encodedStart = start;
    this.encodedEnd = end;
  }
}

/** Decodes payloads read from one lane. */
export class LaneDecoder {
  readonly #unpackr: Unpackr;
  readonly #dictionary: LaneDictionary;
  readonly #maxDepth: number;
  readonly #refFactory: RefFactory;
  #dictionaryVersion = -1;
  #structures: string[][] = [];
  /** Values per shared structure, -1 where none is known; what the scanner checks records against. */
  readonly #recordLengths = new Int32Array(kMaxRecordStructures).fill(-1);
  // Payloads are copied out of the ring into this reused buffer before
  // decoding: msgpackr's native string extractor is very slow on a view of a
  // SharedArrayBuffer, and a stable source lets msgpackr reuse the DataView it
  // caches on it (a subarray per message costs a DataView per message).
  #scratch = Buffer.allocUnsafeSlow(4096);
  readonly #range = { start: 0, end: 0 };

  constructor(lane: SharedArrayBuffer, maxDepth: number, refFactory: RefFactory) {
    installRefExtension();
    this.#dictionary = new LaneDictionary(lane);
    this.#maxDepth = maxDepth;
    this.#refFactory = refFactory;
    this.#unpackr = new Unpackr({
      structures: [],
      maxSharedStructures: kMaxRecordStructures,
      mapsAsObjects: true,
      moreTypes: false,
      // Binary values would otherwise be views of the reused scratch buffer,
      // overwritten by the next message: the receiver gets its own copy.
      copyBuffers: true,
      // Called by msgpackr for a record id it has not seen; the scanner has
      // already refreshed and checked the structures by then.
      getStructures: () => this.#structures.map((keys) => [...keys]),
    });
    this.#refresh();
  }

  /** Re-reads the lane's dictionary if the producer changed it; returns whether it did. */
  #refresh(): boolean {
    if (this.#dictionary.version === this.#dictionaryVersion) return false;
    const snapshot = this.#dictionary.read();
    if (snapshot === undefined) return false;
    this.#dictionaryVersion = snapshot.version;
    const structures = trustedStructures(snapshot.bytes);
    if (structures === undefined) return false;
    this.#structures = structures;
    this.#recordLengths.fill(-1);
    structures.forEach((keys, i) => (this.#recordLengths[i] = keys.length));
    return true;
  }

  /**
   * Decodes `source[start, end)` (a view of the lane's ring); throws
   * DecodeError for anything not a well-formed troupe payload.
   */
  decode(source: Uint8Array, start: number, end: number): unknown {
    const length = end - start;
    if (length > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(Math.max(length, this.#scratch.length * 2));
    const scratch = this.#scratch;
    copyBytes(source, start, end, scratch, 0);
    let reason = scanMsgpack(scratch, 0, length, this.#maxDepth, kRefExtType, this.#recordLengths);
    if (reason === kUnknownRecord && this.#refresh()) {
      reason = scanMsgpack(scratch, 0, length, this.#maxDepth, kRefExtType, this.#recordLengths);
    }
    if (reason !== undefined) throw new DecodeError(reason);
    const previous = activeRefFactory;
    activeRefFactory = this.#refFactory;
    try {
      this.#range.start = 0;
      this.#range.end = length;
      return this.#unpackr.unpack(scratch, this.#range);
    } catch (error) {
      throw error instanceof DecodeError ? error : new DecodeError('msgpack decoding failed', { cause: error });
    } finally {
      activeRefFactory = previous;
    }
  }
}

/** The dictionary's structures if they are what a troupe producer writes: at most 32 lists of plain string keys. */
function trustedStructures(bytes: Uint8Array): string[][] | undefined {
  if (bytes.length === 0) return [];
  if (scanMsgpack(bytes, 0, bytes.length, 3, -1) !== undefined) return undefined;
  let value: unknown;
  try {
    value = kPlainUnpackr.unpack(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length > kMaxRecordStructures) return undefined;
  for (const keys of value) {
    if (!Array.isArray(keys) || keys.length > 0xffff) return undefined;
    for (const key of keys) if (typeof key !== 'string' || key === '__proto__' || key.length > kMaxSharedKeyLength) return undefined;
  }
  return value as string[][];
}

function estimateSize(keys: string[]): number {
  let size = 5;
  for (const key of keys) size += key.length * 3 + 5;
  return size;
}
