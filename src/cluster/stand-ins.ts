/**
 * Local stand-ins of actors on other nodes that sent this node a message
 * (proxy-actor.ts): a message from another node is delivered with its
 * stand-in as the sender, so `ctx.sender`, `ctx.reply` to a tell and a
 * reliable channel's acks reach the real sender through it. One per remote
 * sender and incarnation of its node, started on its first message (which,
 * and every later one until then, waits for it: per-sender order), stopped
 * when its node goes down.
 */
import type { Logger } from 'pino';
import type { ActorRef } from '../actor/ref.js';
import type { NodeAddress } from '../codec/codec.js';

export interface StandInDeps {
  readonly log: Logger;
  /** The ref of `id` on node `from`. */
  remoteRef(id: number, from: NodeAddress): ActorRef;
  spawn(remote: ActorRef): Promise<number>;
  stop(id: number): Promise<void>;
}

interface StandIn {
  /** 0 while it starts. */
  id: number;
  waiting: ((standIn: number) => void)[];
}

export class StandIns {
  readonly #deps: StandInDeps;
  /** By node, then `incarnation/id`. */
  readonly #byNode = new Map<string, Map<string, StandIn>>();

  constructor(deps: StandInDeps) {
    this.#deps = deps;
  }

  /** Runs `deliver` with the stand-in of `from`'s actor `sender` (0 for no sender), at once or once it has started. */
  with(from: NodeAddress, sender: number, deliver: (standIn: number) => void): void {
    if (sender === 0) {
      deliver(0);
      return;
    }
    let ofNode = this.#byNode.get(from.node);
    if (ofNode === undefined) this.#byNode.set(from.node, (ofNode = new Map()));
    const key = `${from.incarnation}/${sender}`;
    const known = ofNode.get(key);
    if (known !== undefined) {
      if (known.id !== 0) deliver(known.id);
      else known.waiting.push(deliver);
      return;
    }
    const standIn: StandIn = { id: 0, waiting: [deliver] };
    ofNode.set(key, standIn);
    this.#deps.spawn(this.#deps.remoteRef(sender, from)).then(
      (id) => {
        standIn.id = id;
        const waiting = standIn.waiting;
        standIn.waiting = [];
        for (const run of waiting) run(id);
      },
      (error: unknown) => {
        // No stand-in (the system is stopping, or out of actor slots): the messages go without a sender.
        this.#deps.log.warn({ err: error, node: from.node, sender }, 'no local stand-in for a remote sender');
        ofNode.delete(key);
        for (const run of standIn.waiting) run(0);
      },
    );
  }

  get count(): number {
    let count = 0;
    for (const ofNode of this.#byNode.values()) count += ofNode.size;
    return count;
  }

  /** The stand-in's id, once started. */
  of(from: NodeAddress, sender: number): Promise<number> {
    return new Promise((resolve) => this.with(from, sender, resolve));
  }

  /** `node`'s incarnation is gone: its actors' stand-ins stop. */
  dropNode(node: string, incarnation: number): void {
    const ofNode = this.#byNode.get(node);
    if (ofNode === undefined) return;
    const prefix = `${incarnation}/`;
    for (const [key, standIn] of ofNode) {
      if (!key.startsWith(prefix)) continue;
      ofNode.delete(key);
      if (standIn.id !== 0) this.#deps.stop(standIn.id).catch(() => undefined);
    }
    if (ofNode.size === 0) this.#byNode.delete(node);
  }
}
