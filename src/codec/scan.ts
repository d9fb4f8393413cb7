/**
 * A single pass over msgpack bytes that treats them as hostile before msgpackr
 * sees them: every length is checked against the frame, nesting is bounded
 * (no depth bomb reaches the recursive decoder), map keys are strings or
 * numbers and never "__proto__", and only the extension types troupe writes
 * are allowed (msgpackr otherwise decodes Error, RegExp, Set and typed arrays).
 *
 * With `recordLengths`, bytes 0x40-0x5f are msgpackr record references (the
 * lane's shared structures; see LaneDictionary): a record is a container of
 * as many values as its structure has keys.
 *
 * Returns undefined when the bytes are acceptable, else the reason.
 */

/** The reason returned for a record whose structure is not (yet) known: reload the dictionary and scan again. */
export const kUnknownRecord = 'a record of an unknown structure';
/** One-byte record ids msgpackr uses for the first 32 shared structures. */
export const kMaxRecordStructures = 32;

/** msgpackr's encoding of `undefined`: fixext1, type 0, data 0. */
const kUndefinedExt = 0;
/** msgpack timestamp extension (Date). */
const kTimestampExt = 0xff;

const kProtoKey = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

// Values left to read per open container (maps count keys and values).
let remaining = new Int32Array(65);
let isMap = new Uint8Array(65);

export function scanMsgpack(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxDepth: number,
  refExtType: number,
  recordLengths?: Int32Array,
): string | undefined {
  if (remaining.length <= maxDepth) {
    remaining = new Int32Array(maxDepth + 1);
    isMap = new Uint8Array(maxDepth + 1);
  }
  let p = start;
  let depth = 0;
  remaining[0] = 1;
  isMap[0] = 0;
  for (;;) {
    if (remaining[depth] === 0) {
      if (depth === 0) break;
      depth--;
      continue;
    }
    const keyTurn = isMap[depth] === 1 && (remaining[depth] & 1) === 0;
    remaining[depth]--;
    if (p >= end) return 'truncated';
    const token = bytes[p++];
    let count = -1;
    let map = 0;
    let skip = 0;
    let strLength = -1;
    if (token <= 0x3f || token >= 0xe0 || (token <= 0x7f && recordLengths === undefined)) {
      continue;
    } else if (token <= 0x7f) {
      const structure = token - 0x40;
      if (structure >= kMaxRecordStructures) return `an unexpected record id 0x${token.toString(16)}`;
      if (recordLengths![structure] < 0) return kUnknownRecord;
      count = recordLengths![structure];
    } else if (token <= 0x8f) {
      count = token & 0x0f;
      map = 1;
    } else if (token <= 0x9f) {
      count = token & 0x0f;
    } else if (token <= 0xbf) {
      strLength = token & 0x1f;
    } else {
      switch (token) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          if (keyTurn) return 'a map key that is not a string or number';
          continue;
        case 0xc4:
        case 0xc5:
        case 0xc6: {
          const width = token === 0xc4 ? 1 : token === 0xc5 ? 2 : 4;
          if (p + width > end) return 'truncated';
          skip = width + readUint(bytes, p, width);
          if (keyTurn) return 'a map key that is not a string or number';
          break;
        }
        case 0xc7:
        case 0xc8:
        case 0xc9: {
          const width = token === 0xc7 ? 1 : token === 0xc8 ? 2 : 4;
          if (p + width + 1 > end) return 'truncated';
          const length = readUint(bytes, p, width);
          const type = bytes[p + width];
          if (!(type === refExtType || (type === kTimestampExt && length === 12))) return `unexpected extension type ${signed(type)}`;
          if (keyTurn) return 'a map key that is not a string or number';
          skip = width + 1 + length;
          break;
        }
        case 0xca:
          skip = 4;
          break;
        case 0xcb:
          skip = 8;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: {
          const length = 1 << (token - 0xd4);
          if (p + 1 + length > end) return 'truncated';
          const type = bytes[p];
          const ok =
            (type === kUndefinedExt && length === 1 && bytes[p + 1] === 0) ||
            (type === kTimestampExt && (length === 4 || length === 8)) ||
            // msgpackr's Invalid Date: accepted by validation, so it must cross a lane too.
            (type === kTimestampExt && length === 1 && bytes[p + 1] === 0xff) ||
            type === refExtType;
          if (!ok) return `unexpected extension type ${signed(type)}`;
          if (keyTurn) return 'a map key that is not a string or number';
          skip = 1 + length;
          break;
        }
        case 0xd9:
        case 0xda:
        case 0xdb: {
          const width = token === 0xd9 ? 1 : token === 0xda ? 2 : 4;
          if (p + width > end) return 'truncated';
          strLength = readUint(bytes, p, width);
          p += width;
          break;
        }
        case 0xdc:
        case 0xdd:
        case 0xde:
        case 0xdf: {
          const width = token === 0xdc || token === 0xde ? 2 : 4;
          if (p + width > end) return 'truncated';
          count = readUint(bytes, p, width);
          map = token >= 0xde ? 1 : 0;
          p += width;
          break;
        }
        default:
          return `invalid msgpack byte 0x${token.toString(16)}`;
      }
    }
    if (strLength >= 0) {
      if (p + strLength > end) return 'truncated';
      if (keyTurn && strLength === 9 && isProtoKey(bytes, p)) return 'a "__proto__" key';
      p += strLength;
      continue;
    }
    if (count >= 0) {
      if (keyTurn) return 'a map key that is not a string or number';
      const values = map === 1 ? count * 2 : count;
      // Every value takes at least one byte: a claimed count beyond the frame is a lie.
      if (values > end - p) return 'truncated';
      if (values === 0) continue;
      if (depth + 1 > maxDepth) return `nesting deeper than ${maxDepth} levels`;
      depth++;
      remaining[depth] = values;
      isMap[depth] = map;
      continue;
    }
    if (p + skip > end) return 'truncated';
    p += skip;
  }
  return p === end ? undefined : 'trailing bytes after the message';
}

function readUint(bytes: Uint8Array, at: number, width: number): number {
  if (width === 1) return bytes[at];
  if (width === 2) return (bytes[at] << 8) | bytes[at + 1];
  return ((bytes[at] << 24) >>> 0) + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

function isProtoKey(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 9; i++) if (bytes[at + i] !== kProtoKey[i]) return false;
  return true;
}

const signed = (type: number): number => (type > 127 ? type - 256 : type);
