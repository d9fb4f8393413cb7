import { kRefMarker } from '../codec/validate.js';
import type { ActorId } from '../lane/directory.js';
import type { NodeAddress } from '../codec/codec.js';

export interface TellOptions {
  /**
   * A correlation id (integer 1 to 2^32-1) the message carries in its record
   * header, and every message its handler causes after it; it shows in
   * `ctx.correlationId` and in `ctx.log`. Default: the one of the message
   * being handled, if any.
   */
  correlationId?: number;
}

export interface AskOptions extends TellOptions {
  /** Reject with `TROUPE_ERR_ASK_TIMEOUT` after this long. @default 5000 (the system's askTimeoutMs) */
  timeoutMs?: number;
}

/** @internal What a ref forwards to: the host of the thread that holds it. */
export interface RefHost {
  tellFrom(target: ActorRef, msg: unknown, sender: number, trace: number): boolean;
  askFrom(target: ActorRef, msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown>;
  currentSender(): number;
  currentTrace(): number;
  traceOf(options: TellOptions | undefined): number;
  whenWritable(target: ActorRef): Promise<void>;
}

/**
 * The address of an actor. Plain data underneath (id and name): it can travel
 * inside messages and replies to any host, where it arrives as a live ref.
 * A restart keeps the ref: messages reach the new incarnation.
 */
export class ActorRef<TMsg = any, TReply = any> {
  readonly id: ActorId;
  readonly name: string | undefined;
  /** @internal The node it lives on, for a ref to an actor on another node of a cluster. */
  readonly address: NodeAddress | undefined;
  readonly #host: RefHost;
  /** @internal The target's cell when it runs on this ref's own host: saves the directory lookup per send. */
  localCell: unknown = undefined;

  /** @internal */
  constructor(host: RefHost, id: ActorId, name: string | undefined, address?: NodeAddress) {
    this.#host = host;
    this.id = id;
    this.name = name;
    this.address = address;
  }

  /** The cluster node the actor lives on, when that is another node; undefined for this node's actors. */
  get node(): string | undefined {
    return this.address?.node;
  }

  /**
   * Fire and forget. Returns `true` when the message went straight into the
   * target's lane or mailbox, `false` when the lane was full and the message
   * waits in this host's bounded overflow (accepted; slow down, e.g.
   * `await ref.whenWritable()`). Throws
   * `TROUPE_ERR_MAILBOX_FULL` when the overflow is full too (not accepted),
   * `TROUPE_ERR_UNENCODABLE` / `TROUPE_ERR_PAYLOAD_TOO_LARGE` for bad messages.
   * A message to a stopped actor is a dead letter.
   */
  tell(msg: TMsg, options?: TellOptions): boolean {
    const trace = options === undefined ? this.#host.currentTrace() : this.#host.traceOf(options);
    return this.#host.tellFrom(this, msg, this.#host.currentSender(), trace);
  }

  /**
   * Resolves when a `tell` to this actor would go straight into its lane
   * again (this host's overflow towards it is empty): await it after `tell`
   * returned `false`, as with a stream's 'drain'.
   */
  whenWritable(): Promise<void> {
    return this.#host.whenWritable(this);
  }

  /** Request/response. Rejects at once if the actor is known to be dead. */
  ask<TAnswer = TReply>(msg: TMsg, options?: AskOptions): Promise<TAnswer> {
    const trace = options?.correlationId === undefined ? this.#host.currentTrace() : this.#host.traceOf(options);
    return this.#host.askFrom(this, msg, this.#host.currentSender(), trace, options) as Promise<TAnswer>;
  }

  /** @internal */
  tellAs(msg: unknown, sender: number, trace: number): boolean {
    return this.#host.tellFrom(this, msg, sender, trace);
  }

  /** @internal */
  askAs(msg: unknown, sender: number, trace: number, options: AskOptions | undefined): Promise<unknown> {
    const explicit = options?.correlationId === undefined ? trace : this.#host.traceOf(options);
    return this.#host.askFrom(this, msg, sender, explicit, options);
  }

  get [kRefMarker](): true {
    return true;
  }

  toString(): string {
    const at = this.address === undefined ? '' : `@${this.address.node}`;
    return this.name === undefined ? `actor#${this.id}${at}` : `actor#${this.id}(${this.name})${at}`;
  }

  toJSON(): { id: number; name?: string; node?: string } {
    const json: { id: number; name?: string; node?: string } = { id: this.id };
    if (this.name !== undefined) json.name = this.name;
    if (this.address !== undefined) json.node = this.address.node;
    return json;
  }
}

export function isActorRef(value: unknown): value is ActorRef {
  return typeof value === 'object' && value !== null && (value as { [kRefMarker]?: unknown })[kRefMarker] === true;
}
