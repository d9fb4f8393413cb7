/** `system.cluster`: the members this node sees, their comings and goings, and names across nodes. */
import type { ActorRef } from '../actor/ref.js';
import { AskTimeoutError } from '../errors.js';
import type { ClusterEvent, ClusterLink } from './cluster-link.js';
import type { MemberState } from './membership.js';

export type ClusterEventType = ClusterEvent['type'];
export type ClusterEventOf<T extends ClusterEventType> = Extract<ClusterEvent, { type: T }>;

export interface ClusterMember {
  node: string;
  /** Changes each time the node starts: refs to an earlier incarnation answer `TROUPE_ERR_NODE_DOWN`. */
  incarnation: number;
  state: Exclude<MemberState, 'down'>;
  /** This node. */
  self: boolean;
}

/**
 * Membership events as this node's detector sees them: `nodeUp` (a new node
 * or a new incarnation), `nodeUnreachable` (silent past `suspectAfterMs`),
 * `nodeReachable` (heard again before it was declared down), `nodeDown`
 * (silent past `downAfterMs`, left, or restarted as a new incarnation).
 */
export class ClusterEvents {
  readonly #link: ClusterLink;

  constructor(link: ClusterLink) {
    this.#link = link;
  }

  /** Calls `listener` for each event of `type`; returns how to stop. */
  on<T extends ClusterEventType>(type: T, listener: (event: ClusterEventOf<T>) => void): () => void {
    return this.#link.onEvent((event) => {
      if (event.type === type) listener(event as ClusterEventOf<T>);
    });
  }

  /** Every event. */
  onAny(listener: (event: ClusterEvent) => void): () => void {
    return this.#link.onEvent(listener);
  }

  /** The next event of `type` that `match` accepts; rejects with `TROUPE_ERR_ASK_TIMEOUT` after `timeoutMs`. */
  waitFor<T extends ClusterEventType>(type: T, match: (event: ClusterEventOf<T>) => boolean = () => true, options: { timeoutMs?: number } = {}): Promise<ClusterEventOf<T>> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new AskTimeoutError(`cluster event ${type}`, timeoutMs));
      }, timeoutMs);
      // A wait must not keep the process alive on its own (the listener is the caller's business).
      timer.unref();
      const off = this.on(type, (event) => {
        if (!match(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }
}

export class Cluster {
  readonly #link: ClusterLink;
  readonly events: ClusterEvents;

  /** @internal */
  constructor(link: ClusterLink) {
    this.#link = link;
    this.events = new ClusterEvents(link);
  }

  /** This node's name. */
  get node(): string {
    return this.#link.self.node;
  }

  /** This node's incarnation: new at every start. */
  get incarnation(): number {
    return this.#link.self.incarnation;
  }

  /** The live members as this node sees them: itself first, then the others by name. */
  nodes(): ClusterMember[] {
    const others = this.#link.members().sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return [{ node: this.#link.self.node, incarnation: this.#link.self.incarnation, state: 'up', self: true }, ...others.map((m) => ({ ...m, self: false }))];
  }

  /** Resolves once `node` is a live member (at once if it is); rejects with `TROUPE_ERR_ASK_TIMEOUT` after `timeoutMs`. */
  async whenUp(node: string, options: { timeoutMs?: number } = {}): Promise<ClusterMember> {
    const live = (): ClusterMember | undefined => this.nodes().find((m) => m.node === node);
    const now = live();
    if (now !== undefined) return now;
    // Membership changes only in callbacks: nothing can come between the check and the listener.
    await this.events.waitFor('nodeUp', (e) => e.node === node, options);
    return live() ?? (await this.whenUp(node, options));
  }

  /** The actor registered under `name` on this node or, if none, on any live member (names are unique per node). */
  lookup<TMsg = any, TReply = any>(name: string): Promise<ActorRef<TMsg, TReply> | undefined> {
    return this.#link.lookup(name) as Promise<ActorRef<TMsg, TReply> | undefined>;
  }
}
