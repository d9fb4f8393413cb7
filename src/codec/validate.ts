/**
 * What a message may contain and how large it may be, checked on the sender
 * before anything is queued, so that a message is accepted or refused, and
 * arrives as the same value, whether its target is on the same host (no
 * encoding) or another (msgpack). Everything accepted here round-trips through
 * msgpack unchanged and fits a lane.
 *
 * The walk is bounded: it counts the values and keys it visits, a sub-object
 * shared by several parents once per parent (msgpack writes it once per parent
 * too), so `x = [x, x]` nested 40 deep is refused after `maxNodes` steps
 * instead of walking 2^40 nodes. The same tallies bound the encoded size from
 * below and above; only a message whose bounds straddle the limit is encoded
 * to know.
 */
import { PayloadTooLargeError, UnencodableMessageError } from '../errors.js';
import { kDefaults } from '../options.js';
import { plainEncodedSize } from './codec.js';
import { kRefMarker } from './ref-marker.js';

export { kRefMarker };

/** The bounds every message is held to; built once per host. */
export interface MessageLimits {
  readonly maxDepth: number;
  /** Values and keys the walk may visit (a shared sub-object each time it is reached). */
  readonly maxNodes: number;
  /** Largest plain msgpack encoding (keys written out, as a lane holds at most); Infinity for none. */
  readonly maxBytes: number;
}

export function messageLimits(maxDepth: number, maxNodes: number, maxBytes: number): MessageLimits {
  return Object.freeze({ maxDepth, maxNodes, maxBytes });
}

const kInt64Min = -(2n ** 63n);
const kUint64Max = 2n ** 64n - 1n;
/** Most bytes msgpack spends on one value or key besides string and binary contents (a float64: 9). */
const kNodeBytes = 9;
/** What a Date (timestamp 96: 15 bytes) or a ref (ext header and u32 id: 10 bytes) may take beyond kNodeBytes. */
const kExtraBytes = 6;
const kLoneSurrogate = 'a lone UTF-16 surrogate (UTF-8 cannot carry it: it would arrive altered across threads)';
// Brand checks that cannot be fooled by Object.create(Date.prototype) and the like, which msgpackr
// would take for the real thing and fail on.
const kTypedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;
const kGetTime = Date.prototype.getTime;

// Tallies of the walk in progress, in one object of fixed shape so the lean
// pass allocates nothing (module-level lets would pay a hole check per use).
// A getter or Proxy trap inside a message can send a message itself, which
// starts a walk of its own: `walk` tells the outer one that its tallies are gone.
const tally = {
  walk: 0,
  /** Values and keys visited; each takes at least one byte and at most kNodeBytes, contents aside. */
  nodes: 0,
  /** UTF-16 units of strings, keys and ref names: 1 to 3 bytes each in UTF-8. */
  chars: 0,
  /** Bytes of Uint8Arrays, written as they are. */
  binary: 0,
  /** Header bytes of Dates and refs beyond kNodeBytes. */
  extra: 0,
  /** The walk stops past this many nodes: min(maxNodes, byte limit), as every node takes a byte. */
  cap: 0,
  /** Keys met so far in this walk: their position, for `kSeenKeys`. */
  keys: 0,
};

/**
 * The keys last found well-formed, by their position in a message's walk.
 * Messages of one shape repeat their keys at the same positions, and keys
 * from `for...in` are internalized, so comparing one with the key seen there
 * is a pointer comparison, a fraction of an `isWellFormed` call (values are
 * checked every time: comparing two equal-length strings reads them both).
 */
const kSeenKeys: string[] = new Array<string>(64).fill('');
/** Longer keys are checked every time: they are rare, and not worth keeping. */
const kSeenKeyLength = 32;

function isWellFormedKey(key: string): boolean {
  const at = tally.keys++ & 63;
  if (key === kSeenKeys[at]) return true;
  if (!key.isWellFormed()) return false;
  if (key.length <= kSeenKeyLength) kSeenKeys[at] = key;
  return true;
}

class Refusal {
  readonly path: (string | number)[] = [];
  constructor(readonly what: string) {}
}

class TooLarge {
  constructor(
    readonly bytes: number,
    readonly exact: boolean,
  ) {}
}

/**
 * Throws `TROUPE_ERR_UNENCODABLE` for a value that is not plain data (or is
 * too deep, too many nodes, or cannot be inspected) and
 * `TROUPE_ERR_PAYLOAD_TOO_LARGE` for one whose plain msgpack encoding, plus
 * `reserve` bytes of what the runtime wraps around it, exceeds the limit.
 * A number for `limits` is a depth alone, with the default node budget and
 * no size limit.
 */
export function assertEncodable(value: unknown, limits: MessageLimits | number, reserve = 0): void {
  const type = typeof value;
  if (type === 'number' || type === 'boolean' || value === null || value === undefined) return;
  const { maxDepth, maxNodes, maxBytes } = typeof limits === 'number' ? depthOnly(limits) : limits;
  const byteLimit = maxBytes - reserve;
  if (type === 'string') {
    if (!(value as string).isWellFormed()) throw new UnencodableMessageError('message', kLoneSurrogate);
    const length = (value as string).length;
    if (5 + 3 * length > byteLimit) sizeOf(value as string, 1 + length, byteLimit, reserve, maxBytes);
    return;
  }
  const walk = ++tally.walk;
  tally.nodes = 1;
  tally.chars = tally.binary = tally.extra = 0;
  tally.cap = Math.min(maxNodes, byteLimit);
  tally.keys = 0;
  try {
    // Every message pays for this walk, same host or not: a lean yes/no pass
    // first, and the pass that explains a refusal only when there is one.
    if (!(type === 'object' && isEncodableObject(value as object, maxDepth))) {
      tally.nodes = 1;
      tally.chars = tally.binary = tally.extra = 0;
      check(value, 0, maxDepth, maxNodes);
    }
    if (tally.walk !== walk) throw new Refusal('a getter or Proxy trap that sends messages while the message is inspected');
    const { nodes, chars, binary } = tally;
    if (kNodeBytes * nodes + 3 * chars + binary + tally.extra > byteLimit) checkSize(value, nodes + chars + binary, byteLimit);
  } catch (error) {
    if (error instanceof Refusal) {
      const path = error.path.reverse().map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
      throw new UnencodableMessageError(`message${path}`, error.what);
    }
    if (error instanceof TooLarge) throw new PayloadTooLargeError(error.bytes + reserve, maxBytes, !error.exact);
    throw new UnencodableMessageError('message', 'the value could not be inspected (a getter or Proxy trap threw)', { cause: error });
  }
}

function depthOnly(maxDepth: number): MessageLimits {
  return { maxDepth, maxNodes: kDefaults.maxMessageNodes, maxBytes: Infinity };
}

/** Only for a message whose size bounds straddle the limit (or are past it): encodes it once to know. */
function checkSize(value: unknown, lower: number, limit: number): void {
  if (lower > limit) throw new TooLarge(lower, false);
  const size = plainEncodedSize(value);
  if (size > limit) throw new TooLarge(size, true);
}

function sizeOf(value: string, lower: number, limit: number, reserve: number, maxBytes: number): void {
  try {
    checkSize(value, lower, limit);
  } catch (error) {
    if (error instanceof TooLarge) throw new PayloadTooLargeError(error.bytes + reserve, maxBytes, !error.exact);
    throw error;
  }
}

// Counts go to locals first and to the tally in one step, before any descent:
// the node budget must stop a walk of shared sub-objects before it runs away,
// and a flat message costs no stores per value.
function isEncodableObject(value: object, depth: number): boolean {
  if (depth === 0) return false;
  let chars = 0;
  if (Array.isArray(value)) {
    const length = value.length;
    if ((tally.nodes += length) > tally.cap) return false;
    for (let i = 0; i < length; i++) {
      const item: unknown = value[i];
      const type = typeof item;
      if (type === 'number' || type === 'boolean' || type === 'undefined' || item === null) continue;
      if (type === 'string') {
        if (!(item as string).isWellFormed()) return false;
        chars += (item as string).length;
      } else if (type === 'object' ? !isEncodableObject(item as object, depth - 1) : !isEncodableBigInt(item)) {
        return false;
      }
    }
    tally.chars += chars;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return isEncodableLeaf(value);
  let nodes = 0;
  for (const key in value) {
    if (key === '__proto__' || !isWellFormedKey(key)) return false;
    nodes += 2;
    chars += key.length;
    const item: unknown = (value as Record<string, unknown>)[key];
    const type = typeof item;
    if (type === 'number' || type === 'boolean' || type === 'undefined' || item === null) continue;
    if (type === 'string') {
      if (!(item as string).isWellFormed()) return false;
      chars += (item as string).length;
      continue;
    }
    if ((tally.nodes += nodes) > tally.cap) return false;
    nodes = 0;
    if (type === 'object' ? !isEncodableObject(item as object, depth - 1) : !isEncodableBigInt(item)) return false;
  }
  tally.chars += chars;
  return (tally.nodes += nodes) <= tally.cap;
}

/** An object that is not plain but travels: an ActorRef, a Uint8Array (a Buffer too) or a Date (an invalid one too). */
function isEncodableLeaf(value: object): boolean {
  if ((value as { [kRefMarker]?: unknown })[kRefMarker] === true) {
    const name: unknown = (value as { name?: unknown }).name;
    if (typeof name === 'string') tally.chars += name.length;
    tally.extra += kExtraBytes;
    return true;
  }
  if (kTypedArrayTag.call(value) === 'Uint8Array') {
    tally.binary += (value as Uint8Array).byteLength;
    return true;
  }
  if (isDate(value)) {
    tally.extra += kExtraBytes;
    return true;
  }
  return false;
}

function isDate(value: object): boolean {
  try {
    kGetTime.call(value);
    return true;
  } catch {
    return false;
  }
}

function isEncodableBigInt(value: unknown): boolean {
  return typeof value === 'bigint' && value >= kInt64Min && value <= kUint64Max;
}

/** The same rules as the lean pass, in the same order, saying what is wrong and where. */
function check(value: unknown, depth: number, maxDepth: number, maxNodes: number): void {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return;
    case 'string':
      if (!value.isWellFormed()) throw new Refusal(kLoneSurrogate);
      tally.chars += value.length;
      return;
    case 'bigint':
      if (value < kInt64Min || value > kUint64Max) throw new Refusal('a BigInt outside the 64-bit range');
      return;
    case 'function':
      throw new Refusal('a function');
    case 'symbol':
      throw new Refusal('a symbol');
    case 'object': {
      if (value === null) return;
      if (depth >= maxDepth) throw new Refusal(`nesting deeper than ${maxDepth} levels (or a cycle)`);
      if (Array.isArray(value)) {
        if ((tally.nodes += value.length) > tally.cap) overBudget(maxNodes);
        for (let i = 0; i < value.length; i++) {
          try {
            check(value[i], depth + 1, maxDepth, maxNodes);
          } catch (error) {
            if (error instanceof Refusal) error.path.push(i);
            throw error;
          }
        }
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        for (const key in value) {
          if (key === '__proto__') throw new Refusal('a "__proto__" key');
          if (!key.isWellFormed()) throw new Refusal(`a key with ${kLoneSurrogate}`);
          if ((tally.nodes += 2) > tally.cap) overBudget(maxNodes);
          tally.chars += key.length;
          try {
            check((value as Record<string, unknown>)[key], depth + 1, maxDepth, maxNodes);
          } catch (error) {
            if (error instanceof Refusal) error.path.push(key);
            throw error;
          }
        }
        return;
      }
      if (isEncodableLeaf(value)) return;
      if (value instanceof Date || value instanceof Uint8Array) {
        throw new Refusal(`an object that inherits from ${value instanceof Date ? 'Date' : 'Uint8Array'} without being one`);
      }
      const name = (value as object).constructor?.name ?? 'an object with a foreign prototype';
      throw new Refusal(`a ${name} (send plain objects, arrays, primitives, Date, Uint8Array or ActorRef)`);
    }
    default:
      throw new Refusal(`a ${typeof value}`);
  }
}

/** Past the cap: too large when the byte limit set it (a byte per node at least), else past the node budget. */
function overBudget(maxNodes: number): never {
  if (tally.cap >= maxNodes) {
    throw new Refusal(`more than ${maxNodes} values and keys (maxMessageNodes; a sub-object counts each time it appears)`);
  }
  throw new TooLarge(tally.nodes + tally.chars + tally.binary, false);
}
