/**
 * What a message may contain, checked on the sender before anything is queued,
 * so the same message is accepted or refused whether its target is on the same
 * host (no encoding) or another (msgpack). Everything accepted here round-trips
 * through msgpack unchanged.
 */
import { UnencodableMessageError } from '../errors.js';

export const kRefMarker = Symbol.for('troupe.ref');

const kInt64Min = -(2n ** 63n);
const kUint64Max = 2n ** 64n - 1n;

class Refusal {
  readonly path: (string | number)[] = [];
  constructor(readonly what: string) {}
}

export function assertEncodable(value: unknown, maxDepth: number): void {
  const type = typeof value;
  // Primitives are the common case; skip the walk for them.
  if (type === 'string' || type === 'number' || type === 'boolean' || value === null || value === undefined) return;
  // Every message pays for this walk, same host or not: a lean yes/no pass
  // first, and the pass that explains a refusal only when there is one.
  if (type === 'object' && isEncodableObject(value as object, maxDepth)) return;
  try {
    check(value, 0, maxDepth);
  } catch (error) {
    if (error instanceof Refusal) {
      const path = error.path.reverse().map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
      throw new UnencodableMessageError(`message${path}`, error.what);
    }
    throw new UnencodableMessageError('message', 'the value could not be inspected', { cause: error });
  }
}

function check(value: unknown, depth: number, maxDepth: number): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
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
        for (let i = 0; i < value.length; i++) {
          try {
            check(value[i], depth + 1, maxDepth);
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
          try {
            check((value as Record<string, unknown>)[key], depth + 1, maxDepth);
          } catch (error) {
            if (error instanceof Refusal) error.path.push(key);
            throw error;
          }
        }
        return;
      }
      if ((value as { [kRefMarker]?: unknown })[kRefMarker] === true) return;
      if (value instanceof Date || value instanceof Uint8Array) return;
      const name = (value as object).constructor?.name ?? 'an object with a foreign prototype';
      throw new Refusal(`a ${name} (send plain objects, arrays, primitives, Date, Uint8Array or ActorRef)`);
    }
    default:
      throw new Refusal(`a ${typeof value}`);
  }
}

function isEncodableObject(value: object, depth: number): boolean {
  if (depth === 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const type = typeof item;
      if (type === 'number' || type === 'string' || type === 'boolean' || type === 'undefined' || item === null) continue;
      if (type === 'object' ? !isEncodableObject(item as object, depth - 1) : !isEncodableBigInt(item)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return (value as { [kRefMarker]?: unknown })[kRefMarker] === true || value instanceof Date || value instanceof Uint8Array;
  }
  for (const key in value) {
    if (key === '__proto__') return false;
    const item: unknown = (value as Record<string, unknown>)[key];
    const type = typeof item;
    if (type === 'number' || type === 'string' || type === 'boolean' || type === 'undefined' || item === null) continue;
    if (type === 'object' ? !isEncodableObject(item as object, depth - 1) : !isEncodableBigInt(item)) return false;
  }
  return true;
}

function isEncodableBigInt(value: unknown): boolean {
  return typeof value === 'bigint' && value >= kInt64Min && value <= kUint64Max;
}
