/**
 * msgpack payloads of records. Encoding trusts what `assertEncodable` let
 * through; decoding trusts nothing (see scan.ts).
 */
import { Packr, Unpackr, addExtension } from 'msgpackr';
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

export class Codec {
  readonly #packr: Packr;
  readonly #unpackr: Unpackr;
  readonly #maxDepth: number;
  readonly #refFactory: RefFactory;

  constructor(maxDepth: number, refFactory: RefFactory) {
    installRefExtension();
    this.#maxDepth = maxDepth;
    this.#refFactory = refFactory;
    this.#packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
    this.#unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
  }

  /** The payload bytes; valid until the next `encode` on this codec. */
  encode(value: unknown): Uint8Array {
    return this.#packr.pack(value);
  }

  /** Decodes `bytes[start, end)`; throws DecodeError for anything not a well-formed troupe payload. */
  decode(bytes: Uint8Array, start: number, end: number): unknown {
    const reason = scanMsgpack(bytes, start, end, this.#maxDepth, kRefExtType);
    if (reason !== undefined) throw new DecodeError(reason);
    const previous = activeRefFactory;
    activeRefFactory = this.#refFactory;
    try {
      return this.#unpackr.unpack(bytes.subarray(start, end));
    } catch (error) {
      throw error instanceof DecodeError ? error : new DecodeError('msgpack decoding failed', { cause: error });
    } finally {
      activeRefFactory = previous;
    }
  }
}
