/**
 * Record kinds. A record's kind word is `kind | (srcHost << 16)`; `srcHost`
 * is where replies go. Everything the runtime says between hosts travels as a
 * record in the same lanes as user messages, so control and data keep one
 * order and survive a worker's death together.
 */
export const Kind = {
  tell: 1,
  ask: 2,
  reply: 3,
  replyError: 4,
  spawn: 5,
  stop: 6,
  watch: 7,
  unwatch: 8,
  event: 9,
  spawnViaMain: 10,
  childDown: 11,
} as const;

export const kindOf = (kindWord: number): number => kindWord & 0xff;
export const srcHostOf = (kindWord: number): number => kindWord >>> 16;
export const makeKindWord = (kind: number, srcHost: number): number => (kind | (srcHost << 16)) >>> 0;

/** What a SPAWN record carries. */
export interface SpawnSpec {
  /** Module URL (href). */
  u: string;
  /** Export name. */
  e: string;
  /** init args. */
  a: unknown;
  /** Name, if any. */
  n?: string;
  /** Parent id, 0 for top-level. */
  p: number;
}
