/**
 * Whether a message certainly encodes to at most `budget` bytes, without
 * encoding it: a walk that sums an upper bound of each part's msgpack size
 * (a string at most 3 bytes per UTF-16 unit, a number 9, a key its string)
 * and gives up as soon as the sum passes the budget. For deciding cheaply
 * whether a copy of a message may ride along in an event: a 20 KB string is
 * refused at its length, before a byte of it is copied.
 */
const kHeaderBytes = 5;

export function fitsWithin(value: unknown, budget: number): boolean {
  return sizeUpTo(value, budget, 0) <= budget;
}

/** The running upper bound after `value`, or `budget + 1` once it is over. */
function sizeUpTo(value: unknown, budget: number, used: number): number {
  if (used > budget) return used;
  switch (typeof value) {
    case 'string':
      return used + kHeaderBytes + value.length * 3;
    case 'number':
    case 'bigint':
      return used + 9;
    case 'boolean':
    case 'undefined':
      return used + 1;
    case 'object': {
      if (value === null) return used + 1;
      if (value instanceof Uint8Array) return used + kHeaderBytes + value.byteLength;
      if (value instanceof Date) return used + 15;
      used += kHeaderBytes;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length && used <= budget; i++) used = sizeUpTo(value[i], budget, used);
        return used;
      }
      for (const key in value) {
        used = sizeUpTo((value as Record<string, unknown>)[key], budget, used + kHeaderBytes + key.length * 3);
        if (used > budget) return used;
      }
      return used;
    }
    default:
      return budget + 1;
  }
}
