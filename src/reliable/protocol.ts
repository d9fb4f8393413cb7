/**
 * The wire form of the reliable channel (troupe/reliable).
 *
 * Both frames are top-level arrays, which is why a reliable consumer reserves
 * top-level arrays for the channel. An array is chosen over an object on
 * purpose: objects travel as msgpackr records whose keys live in the lane's
 * shared dictionary, so one flipped bit in a record id turns a frame into an
 * object of another shape that nothing could tell from a plain message. A
 * flipped bit in an array header changes its length (or leaves trailing
 * bytes, which the runtime's scanner refuses), so a damaged frame still looks
 * like a damaged frame. Every field, and the payload, is covered by a checksum.
 *
 *   data: ['~rd', 'D', channel, session, seq, base, checksum, payload]
 *   ack:  ['~rd', 'A', channel, session, upTo, flags, checksum]
 *
 * `base` is the producer's lowest unconfirmed sequence number when it sent the
 * frame: everything below it was handled by some incarnation of the consumer.
 * A consumer incarnation that knows nothing of the session starts at the first
 * frame whose `seq` equals its `base`; one that is behind `base` jumps to it.
 * That is all a fresh incarnation needs, so the consumer persists nothing.
 */
import { isActorRef } from '../actor/ref.js';

export const kMagic = '~rd';
export const kData = 'D';
export const kAck = 'A';

/** Ack flags. */
export const AckFlag = {
  /** The consumer saw a gap after `upTo`: resend from `upTo + 1`. */
  nak: 1,
  /** The consumer knows nothing of this session (it restarted): resend from your lowest unconfirmed. */
  fresh: 2,
} as const;

export interface DataFrame {
  channel: string;
  session: number;
  seq: number;
  /** The producer's lowest unconfirmed sequence number at sending time. */
  base: number;
  payload: unknown;
}

export interface AckFrame {
  channel: string;
  session: number;
  /** Every sequence number up to this one was handled (0: none). */
  upTo: number;
  flags: number;
}

const kAckSeed = 0x811c9dc5 ^ 0x5bd1e995;

function dataSum(channel: string, session: number, seq: number, base: number, payload: unknown): number {
  return mix(mix(mix(mix(hashString(kFnvOffset, channel), session), seq), base), hashValue(kFnvOffset, payload, 0)) >>> 0;
}

function ackSum(channel: string, session: number, upTo: number, flags: number): number {
  return mix(mix(mix(mix(hashString(kAckSeed, channel), session), upTo), flags), 0x41) >>> 0;
}

export function encodeData(f: DataFrame): unknown[] {
  return [kMagic, kData, f.channel, f.session, f.seq, f.base, dataSum(f.channel, f.session, f.seq, f.base, f.payload), f.payload];
}

export function encodeAck(f: AckFrame): unknown[] {
  return [kMagic, kAck, f.channel, f.session, f.upTo, f.flags, ackSum(f.channel, f.session, f.upTo, f.flags)];
}

/** The data frame in `msg`, or undefined when `msg` is not an intact data frame. */
export function decodeData(msg: unknown[]): DataFrame | undefined {
  if (msg.length !== 8 || msg[0] !== kMagic || msg[1] !== kData) return undefined;
  const [, , channel, session, seq, base, sum, payload] = msg;
  if (typeof channel !== 'string' || !isU32(session) || !isSeq(seq) || !isSeq(base) || base > seq || !isU32(sum)) return undefined;
  if (dataSum(channel, session, seq, base, payload) !== sum) return undefined;
  return { channel, session, seq, base, payload };
}

/** The ack frame in `msg`, or undefined when `msg` is not an intact ack frame. */
export function decodeAck(msg: unknown[]): AckFrame | undefined {
  if (msg.length !== 7 || msg[0] !== kMagic || msg[1] !== kAck) return undefined;
  const [, , channel, session, upTo, flags, sum] = msg;
  if (typeof channel !== 'string' || !isU32(session) || !isSeq(upTo) || !isU32(flags) || !isU32(sum)) return undefined;
  if (ackSum(channel, session, upTo, flags) !== sum) return undefined;
  return { channel, session, upTo, flags };
}

/** True for an ack frame header, intact or not: `['~rd', 'A', …]`. */
export function looksLikeAck(msg: unknown[]): boolean {
  return msg[0] === kMagic && msg[1] === kAck;
}

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A random non-zero 32-bit session id. */
export function randomId(random: () => number): number {
  return (Math.floor(random() * 0xfffffffe) + 1) >>> 0;
}

// ------------------------------------------------------------- checksum ---
// FNV-1a over 32-bit words: each step (xor, multiply by an odd prime) is a
// bijection of the state, so any single changed word changes the sum. The
// value is hashed as decoded, not as bytes, so the producer (which never
// encodes the payload itself) and the consumer (which sees it decoded) agree.

const kFnvOffset = 0x811c9dc5;
const kFnvPrime = 0x01000193;
const kF64 = new Float64Array(1);
const kU32 = new Uint32Array(kF64.buffer);

function mix(h: number, word: number): number {
  return Math.imul(h ^ (word | 0), kFnvPrime);
}

function hashNumber(h: number, n: number): number {
  // msgpack has no -0 and may turn a BigInt into a number or back: hash them in one domain.
  kF64[0] = n === 0 ? 0 : Number.isNaN(n) ? Number.NaN : n;
  return mix(mix(mix(h, 2), kU32[0]), kU32[1]);
}

function hashString(h: number, s: string): number {
  h = mix(mix(h, 3), s.length);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      // UTF-8 has no lone surrogates: the encoder sends U+FFFD for them.
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        h = mix(h, c);
        c = next;
        i++;
      } else {
        c = 0xfffd;
      }
    }
    h = mix(h, c);
  }
  return h;
}

/** The checksum of a message as the runtime's copy rule lets it travel. */
export function hashValue(h: number, value: unknown, depth: number): number {
  switch (typeof value) {
    case 'number':
      return hashNumber(h, value);
    case 'string':
      return hashString(h, value);
    case 'boolean':
      return mix(h, value ? 5 : 4);
    case 'undefined':
      return mix(h, 6);
    case 'bigint':
      if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return hashNumber(h, Number(value));
      return hashString(mix(h, 7), value.toString());
    case 'object': {
      if (value === null) return mix(h, 8);
      if (depth > 256) return mix(h, 9);
      if (Array.isArray(value)) {
        h = mix(mix(h, 10), value.length);
        for (let i = 0; i < value.length; i++) h = hashValue(h, value[i], depth + 1);
        return h;
      }
      if (value instanceof Uint8Array) {
        h = mix(mix(h, 11), value.length);
        for (let i = 0; i < value.length; i++) h = mix(h, value[i]);
        return h;
      }
      if (value instanceof Date) return hashNumber(mix(h, 12), value.getTime());
      if (isActorRef(value)) return mix(mix(h, 13), value.id);
      // Key order is kept by msgpack, but sorting costs little and removes the question.
      const keys = Object.keys(value).sort();
      h = mix(mix(h, 14), keys.length);
      for (const key of keys) h = hashValue(hashString(h, key), (value as Record<string, unknown>)[key], depth + 1);
      return h;
    }
    default:
      return mix(h, 15);
  }
}
