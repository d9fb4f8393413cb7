/**
 * msgpack payloads of records. Encoding trusts what `assertEncodable` let
 * through; decoding trusts nothing (see scan.ts).
 */
import { Packr, REUSE_BUFFER_MODE, Unpackr, addExtension } from 'msgpackr';
import { DecodeError } from '../errors.js';
import { scanMsgpack } from './scan.js';
import { kRefMarker } from './validate.js';

/** Extension type of an ActorRef inside a payload: u32 id (big-endian) + UTF-8 name. */
export const kRefExtType = 0x2a;

export interface RefLike {
  readonly id: number;
  readonly name: string | undefined;
}

export type RefFactory = (id: number, name: string | undefined) => unknown;

// msgpackr's extensions are per thread, not per codec; the factory that turns
// a decoded ref into a live one is the decoding host's, set for the duration of
// each decode (decoding is synchronous, so no other host can interleave).
let activeRefFactory: RefFactory | undefined;
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
      const out = Buffer.allocUnsafe(4 + (name?.length ?? 0));
      out.writeUInt32BE(ref.id >>> 0, 0);
      name?.copy(out, 4);
      return out;
    },
    unpack(data: Uint8Array): unknown {
      if (data.length < 4) throw new DecodeError('an actor ref shorter than 4 bytes');
      const id = ((data[0] << 24) >>> 0) + ((data[1] << 16) | (data[2] << 8) | data[3]);
      const name = data.length > 4 ? Buffer.from(data.buffer, data.byteOffset + 4, data.length - 4).toString('utf8') : undefined;
      if (activeRefFactory === undefined) return { id, name };
      return activeRefFactory(id, name);
    },
  });
}

const kNoBytes = new Uint8Array(0);

/** Copies `source[start, end)` to `target[at...]`; a loop beats a view plus `set` for small payloads. */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  const length = end - start;
  if (length <= 64) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i];
  } else {
    target.set(source.subarray(start, end), at);
  }
}

export class Codec {
  readonly #packr: Packr;
  readonly #unpackr: Unpackr;
  readonly #maxDepth: number;
  readonly #refFactory: RefFactory;
  // Payloads are copied out of the ring into this reused buffer before
  // decoding: msgpackr's native string extractor is very slow on a view of a
  // SharedArrayBuffer, and a stable source lets msgpackr reuse the DataView it
  // caches on it (a subarray per message costs a DataView per message).
  #scratch = Buffer.allocUnsafeSlow(4096);
  readonly #range = { start: 0, end: 0 };

  constructor(maxDepth: number, refFactory: RefFactory) {
    installRefExtension();
    this.#maxDepth = maxDepth;
    this.#refFactory = refFactory;
    this.#packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
    this.#unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
  }

  /** Where the last `encode` put its bytes: `encoded[encodedStart, encodedEnd)`. */
  encoded: Uint8Array = kNoBytes;
  encodedStart = 0;
  encodedEnd = 0;

  /**
   * Encodes into msgpackr's own reused buffer (no view allocated per message);
   * the bytes are `encoded[encodedStart, encodedEnd)` until the next encode.
   */
  encode(value: unknown): void {
    const target = this.#packr.pack(value, REUSE_BUFFER_MODE) as Buffer & { start: number; end: number };
    this.encoded = target;
    this.encodedStart = target.start;
    this.encodedEnd = target.end;
  }

  /** Points `encoded` at bytes that are already msgpack (forwarding, injection). */
  useEncoded(bytes: Uint8Array, start: number, end: number): void {
    this.encoded = bytes;
    this.encodedStart = start;
    this.encodedEnd = end;
  }

  /**
   * Decodes `source[start, end)`; throws DecodeError for anything not a
   * well-formed troupe payload. `source` is a Buffer over the lane's ring.
   */
  decode(source: Uint8Array, start: number, end: number): unknown {
    const length = end - start;
    if (length > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(Math.max(length, this.#scratch.length * 2));
    const scratch = this.#scratch;
    copyBytes(source, start, end, scratch, 0);
    const reason = scanMsgpack(scratch, 0, length, this.#maxDepth, kRefExtType);
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
