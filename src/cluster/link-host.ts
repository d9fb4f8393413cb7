/** What a cluster link needs of its node's runtime: the engine gives it (system/engine.ts). */
import type { Logger } from 'pino';
import type { ActorRef, TellOptions } from '../actor/ref.js';
import type { MessageLimits } from '../codec/validate.js';
import type { ControlHost } from './control.js';
import type { EntitySpec } from './frames.js';

/** What the link needs of this node's runtime (the engine gives it). */
export interface LinkHost extends ControlHost {
  readonly limits: MessageLimits;
  readonly maxMessageDepth: number;
  /** Bytes the link holds unconfirmed by the server before `tell` throws `TROUPE_ERR_MAILBOX_FULL` (the system's overflowBytes). */
  readonly overflowBytes: number;
  readonly askTimeoutMs: number;
  readonly log: Logger;
  /** A ref to an actor of this node. */
  localRef(id: number, name: string | undefined): ActorRef;
  /** Delivers a message that came from another node (checked when it was sent, and decoded here) to an actor of this node. */
  deliver(target: number, sender: number, msg: unknown): void;
  /** A message from another node for an entity this node owns: its entity table activates it if need be. */
  entityTell(spec: EntitySpec, msg: unknown, sender: number): void;
  entityAsk(spec: EntitySpec, msg: unknown, sender: number, timeoutMs: number): Promise<unknown>;
  /** Starts the local stand-in of a remote sender (proxy-actor.ts); resolves with its id. */
  spawnProxy(remote: ActorRef): Promise<number>;
  currentSender(): number;
  currentTrace(): number;
  traceOf(options: TellOptions | undefined): number;
  /** With the `tracing` option: the trace context a message sent to another node now carries (traceContextBytes). */
  traceContext(): Uint8Array | undefined;
  /** Runs `deliver` (a message from another node reaching this one) as sent in `context` (a frame's field, unchecked). */
  withTraceContext(context: unknown, deliver: () => void): void;
  /** A message that cannot reach its actor on another node: a dead letter, as on one node. */
  deadLetter(target: number, msg: unknown, reason: string): void;
}
