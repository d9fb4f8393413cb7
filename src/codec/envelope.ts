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
  /** A worker claims a name (payload) for an id it allocated (target); main, the registry, answers. */
  claimName: 10,
  /** A child ended or failed; its supervisor decides (payload: { k: exit kind, r: reason }). */
  childExit: 11,
  /** Supervisor directive: start the child again from the spec in the payload, same id. */
  restart: 12,
  /** Supervisor directive: halt the child (group restart), keeping its mailbox. */
  halt: 13,
  /** An actor watched from this host ended for good (payload: reason); sender is the actor. */
  gone: 14,
  /** Fault injection: the target's next message crashes it (in lane order with what follows). */
  crashNext: 15,
  /** Asks the target to end abnormally so that its supervisor restarts it (system.restart). */
  exitRequest: 16,
  /** Entities: stop the target if it is idle (nothing queued, no handler running); answers 'passivated', 'busy' or 'gone'. */
  passivate: 17,
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
  /** Parent id (its supervisor), 0 for top-level (the root supervisor). */
  p: number;
  /** Restart type; absent means permanent. */
  r?: 'permanent' | 'transient' | 'temporary';
  /** Persistence id, where it is not the name (durable actors). */
  i?: string;
}
