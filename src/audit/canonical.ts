/**
 * The canonical encoding an audit entry's hash is computed over: JSON with
 * object keys sorted by UTF-16 code units, no whitespace, numbers as
 * ECMAScript prints them, no `undefined` members (RFC 8785, JCS, for the
 * values an audit entry may hold). Two programs that agree on the entry
 * agree on its bytes, whatever order they built its fields in.
 */
import { InvalidArgumentError } from '../errors.js';

/** What an audit entry's `detail` may hold: JSON, with finite numbers. */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [key: string]: AuditValue | undefined };

const kMaxDepth = 32;

/** The canonical JSON text of `value`; throws InvalidArgumentError naming the path of what JSON cannot hold. */
export function canonicalJson(value: unknown, path = 'detail'): string {
  return encode(value, path, 0);
}

function encode(value: unknown, path: string, depth: number): string {
  if (depth > kMaxDepth) throw new InvalidArgumentError(`${path}: nested deeper than ${kMaxDepth} levels`);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${path}: ${String(value)} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        // An index loop, not map: map skips holes and join would write them as nothing, which is not JSON.
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new InvalidArgumentError(`${path}[${i}]: a hole in a sparse array is not JSON`);
          items.push(encode(value[i], `${path}[${i}]`, depth + 1));
        }
        return `[${items.join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new InvalidArgumentError(`${path}: a ${(value as object).constructor?.name ?? 'non-plain object'} is not plain JSON; pass its fields`);
      }
      const members: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${encode(member, `${path}.${key}`, depth + 1)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new InvalidArgumentError(`${path}: a ${typeof value} is not JSON`);
  }
}
