/**
 * This node's actors' watches of actors on other nodes. Each is registered
 * where its target runs, through the watcher's stand-in there, so the
 * target's end comes back as the `down` any watcher gets; kept here too, so
 * the loss of the target's node is a `down` with reason `nodedown`, from here.
 */
import { ActorRef } from '../actor/ref.js';
import type { NodeAddress } from '../codec/codec.js';

export interface RemoteWatchDeps {
  isLive(address: NodeAddress): boolean;
  /** Tells `watcher` (an actor of this node) its `down`. */
  down(watcher: number, ref: ActorRef, reason: string): void;
  register(ref: ActorRef, watcher: number): Promise<void>;
  unregister(ref: ActorRef, watcher: number): Promise<void>;
}

export class RemoteWatches {
  readonly #deps: RemoteWatchDeps;
  /** By node, then `watcher/target`. */
  readonly #byNode = new Map<string, Map<string, { watcher: number; ref: ActorRef }>>();

  constructor(deps: RemoteWatchDeps) {
    this.#deps = deps;
  }

  async watch(watcher: number, ref: ActorRef, closed: boolean): Promise<void> {
    const address = ref.address!;
    if (closed || !this.#deps.isLive(address)) {
      this.#deps.down(watcher, ref, 'nodedown');
      return;
    }
    let watches = this.#byNode.get(address.node);
    if (watches === undefined) this.#byNode.set(address.node, (watches = new Map()));
    watches.set(`${watcher}/${ref.id}`, { watcher, ref });
    await this.#deps.register(ref, watcher);
  }

  unwatch(watcher: number, ref: ActorRef): void {
    const address = ref.address!;
    if (this.#byNode.get(address.node)?.delete(`${watcher}/${ref.id}`) !== true) return;
    if (this.#deps.isLive(address)) this.#deps.unregister(ref, watcher).catch(() => undefined);
  }

  /** A `down` that came from `from` ends its watch here: no second `down` when its node goes later. */
  ended(from: NodeAddress, watcher: number, msg: unknown): void {
    const watches = this.#byNode.get(from.node);
    if (watches === undefined || typeof msg !== 'object' || msg === null || (msg as { type?: unknown }).type !== 'down') return;
    const ref = (msg as { ref?: unknown }).ref;
    if (ref instanceof ActorRef) watches.delete(`${watcher}/${ref.id}`);
  }

  /** `node`'s incarnation is gone: every watch of its actors gets its `down`, reason `nodedown`. */
  nodeDown(node: string, incarnation: number): void {
    const watches = this.#byNode.get(node);
    if (watches === undefined) return;
    for (const [key, { watcher, ref }] of watches) {
      if (ref.address!.incarnation !== incarnation) continue;
      watches.delete(key);
      this.#deps.down(watcher, ref, 'nodedown');
    }
    if (watches.size === 0) this.#byNode.delete(node);
  }
}
